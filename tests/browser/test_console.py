"""Browser test of the staff console in headless Chromium (see run.sh).

A nominator and a reviewer take a new resident from creation, through a service record, consent,
a photo, a nomination, a 公示 and a dismissed objection, to a recognition that then shows on the
public honour roll — only through the console's forms, clicking buttons as staff would.
Screenshots of the dashboard, the resident form and the review queue go to ARTIFACTS.
"""

import os
import secrets
import sys
import tempfile
import urllib.request

from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from test_pages import URL, api, browser, console_errors, run, screenshot

PASSWORD = "console-" + secrets.token_hex(8)


def make_user(username, name, roles):
    api("POST", "/api/v1/users", {"username": username, "display_name": name, "roles": roles, "password": PASSWORD})


def wait_for(driver, css):
    return WebDriverWait(driver, 20).until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css)))


def sign_in(driver, username):
    driver.get(URL + "/admin/login")
    driver.find_element(By.ID, "f-username").send_keys(username)
    driver.find_element(By.ID, "f-password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form.form button[type=submit]").click()
    wait_for(driver, "header.console form.who")


def fill(driver, values):
    for name, value in values.items():
        element = driver.find_element(By.ID, "f-" + name)
        if element.tag_name == "select":
            Select(element).select_by_visible_text(value)
        elif element.get_attribute("type") == "checkbox":
            if element.is_selected() != bool(value):
                element.click()
        else:
            element.clear()
            element.send_keys(value)


def replaced(old):
    """The page `old` belonged to has been replaced by the next one. (Chrome may also answer that
    the node no longer belongs to the document while it navigates.)"""

    def check(_driver):
        try:
            old.is_enabled()
            return False
        except (StaleElementReferenceException, WebDriverException):
            return True

    return check


def submit(driver, form_css="main form.form"):
    """Click the form's button and wait for the next page."""
    old = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.CSS_SELECTOR, form_css + " button[type=submit]").click()
    WebDriverWait(driver, 20).until(replaced(old))
    body = driver.find_element(By.TAG_NAME, "body").text
    assert "表单已失效" not in body and "无权访问" not in body and "操作未能完成" not in body, body
    return body


def click_button(driver, label):
    old = driver.find_element(By.TAG_NAME, "html")
    buttons = [b for b in driver.find_elements(By.CSS_SELECTOR, "main button[type=submit]") if b.text == label]
    assert buttons, f"no button {label}: " + driver.find_element(By.TAG_NAME, "main").text
    buttons[0].click()
    WebDriverWait(driver, 20).until(replaced(old))
    return driver.find_element(By.TAG_NAME, "body").text


def demo_jpeg():
    """A real JPEG for the upload: one of the demo's public photos."""
    photo = api("GET", "/api/v1/photos?limit=1")["items"][0]
    with urllib.request.urlopen(URL + photo["derivatives"]["page"]["url"]) as resp:
        data = resp.read()
    path = os.path.join(tempfile.mkdtemp(), "portrait.jpg")
    with open(path, "wb") as f:
        f.write(data)
    return path


def test_a_new_resident_reaches_the_honour_roll_through_the_console():
    suffix = secrets.token_hex(3)
    make_user("nom-" + suffix, "王丽", ["nominator"])
    make_user("rev-" + suffix, "赵敏", ["reviewer"])
    name = "顾文清"
    driver = browser(1280)
    try:
        sign_in(driver, "nom-" + suffix)
        assert "等待评审的提名" in driver.find_element(By.TAG_NAME, "main").text
        print("  screenshot:", screenshot(driver, "console-dashboard.png", 1280))
        # A new resident.
        driver.get(URL + "/admin/residents/new")
        fill(driver, {"name": name, "citation": "退休教师，义务辅导楼里的孩子十年。", "phone": "13511112222"})
        Select(driver.find_element(By.ID, "f-community_id")).select_by_index(1)
        print("  screenshot:", screenshot(driver, "console-resident-form.png", 1280))
        body = submit(driver)
        assert name in body and "13511112222" in body, body
        resident_url = driver.current_url
        # A service record with a partial date and an approximate quantity.
        driver.find_element(By.LINK_TEXT, "添加服务记录").click()
        wait_for(driver, "#f-title")
        Select(driver.find_element(By.ID, "f-kind")).select_by_value("volunteer_hours")
        fill(driver, {"title": "义务辅导", "start_year": "2016", "unpaid": True, "m0_value": "500", "evidence": "居委会台账"})
        Select(driver.find_element(By.ID, "f-m0_unit")).select_by_value("hours")
        Select(driver.find_element(By.ID, "f-m0_qualifier")).select_by_value("at_least")
        body = submit(driver)
        assert "义务辅导" in body and "500余小时" in body, body
        # Consent for the profile and for photos.
        for scope in ["profile", "photo"]:
            Select(driver.find_element(By.ID, "f-scope")).select_by_value(scope)
            body = submit(driver, "form.form[action$='/consents']")
        assert "已同意公开资料" in body, body
        print("  screenshot:", screenshot(driver, "console-resident.png", 1280))
        # A photo.
        driver.find_element(By.LINK_TEXT, "上传照片").click()
        driver.find_element(By.ID, "f-file").send_keys(demo_jpeg())
        preview = driver.find_element(By.CSS_SELECTOR, "#f-file + img.preview")
        WebDriverWait(driver, 10).until(lambda d: preview.is_displayed() and preview.size["width"] > 50)
        fill(driver, {"caption": name + "在辅导功课", "credit": "记者 周晶", "alt": "一位老人和两个孩子在桌边"})
        body = submit(driver)
        assert "这张照片现在公开可见" in body, body
        # The nomination, submitted.
        driver.get(resident_url)
        driver.find_element(By.LINK_TEXT, "提名此人").click()
        wait_for(driver, "#f-citation")
        Select(driver.find_element(By.ID, "f-category_id")).select_by_index(1)
        fill(driver, {"citation": "十年义务辅导，风雨无阻。", "s0_author": "李阿姨", "s0_relation": "邻居", "s0_body": "孩子们都叫她顾奶奶。"})
        body = submit(driver)
        assert "草稿" in body, body
        nomination_url = driver.current_url
        body = click_button(driver, "提交评审")
        assert "已提交" in body or "待评审" in body, body
        assert not console_errors(driver)
        driver.delete_all_cookies()
        # The reviewer.
        sign_in(driver, "rev-" + suffix)
        driver.get(URL + "/admin")
        driver.find_element(By.LINK_TEXT, "评审队列").click()
        wait_for(driver, "main table")
        assert name in driver.find_element(By.TAG_NAME, "main").text
        print("  screenshot:", screenshot(driver, "console-review-queue.png", 1280))
        driver.find_element(By.LINK_TEXT, name).click()
        wait_for(driver, "main .buttons")
        click_button(driver, "开始评审")
        body = click_button(driver, "开启公示")
        assert "公示中" in body, body
        # Someone objects on the public page; the reviewer dismisses it.
        notice_link = driver.find_element(By.LINK_TEXT, "查看公示页面").get_attribute("href")
        driver.get(notice_link)
        driver.find_element(By.ID, "name").send_keys("楼下邻居")
        driver.find_element(By.ID, "contact").send_keys("13800002222")
        driver.find_element(By.ID, "content").send_keys("请核实辅导年限。")
        driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        wait_for(driver, ".receipt strong")
        driver.get(URL + "/admin")
        assert "请核实辅导年限。" not in driver.page_source  # the dashboard lists receipt codes only
        assert "待处理的异议" in driver.find_element(By.TAG_NAME, "main").text
        print("  screenshot:", screenshot(driver, "console-dashboard-reviewer.png", 1280))
        driver.get(nomination_url)
        assert "请核实辅导年限。" in driver.find_element(By.TAG_NAME, "main").text
        note = driver.find_element(By.CSS_SELECTOR, "form[action*='/objections/'] textarea")
        note.send_keys("经核实，自 2016 年起义务辅导，有台账可查。")
        Select(driver.find_element(By.CSS_SELECTOR, "form[action*='/objections/'] select")).select_by_value("dismissed")
        body = click_button(driver, "记录核查结果")
        assert "异议不成立" in body, body
        # Approval waits for the window to end; the server's clock cannot be moved from outside, so
        # the test moves the window's end into the past in the database.
        end_notice_window(int(notice_link.rstrip("/").rsplit("/", 1)[1]))
        driver.get(nomination_url)
        click_button(driver, "批准")
        body = click_button(driver, "授予表彰")
        assert "已表彰" in body, body
        assert not console_errors(driver)
        driver.get(URL + "/")
        assert name in driver.find_element(By.TAG_NAME, "main").text, "on the public honour roll"
        print("  screenshot:", screenshot(driver, "console-honour-roll.png", 1280))
    finally:
        driver.quit()


def end_notice_window(notice_id):
    """Set the notice's closing time to a minute ago, in the format the server stored it."""
    import datetime
    import sqlite3

    db = sqlite3.connect(os.environ["YOUDE_DB"])
    try:
        (closes,) = db.execute("SELECT closes_at FROM public_notices WHERE id = ?", (notice_id,)).fetchone()
        past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=1)
        if "T" in closes:
            value = past.strftime("%Y-%m-%dT%H:%M:%S") + closes[19:].lstrip("0123456789.")
        else:
            value = past.strftime("%Y-%m-%d %H:%M:%S") + closes[19:].lstrip("0123456789.")
        db.execute("UPDATE public_notices SET closes_at = ? WHERE id = ?", (value, notice_id))
        db.commit()
    finally:
        db.close()


if __name__ == "__main__":
    sys.exit(run(globals()))
