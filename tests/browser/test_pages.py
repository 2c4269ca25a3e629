"""Browser tests of the public pages in headless Chromium (see run.sh).

What a resident would check on their phone and at a desk: the profile page of 孙建伟 with its
timeline renders without console errors at 375 px and 1280 px; an objection filed through the
form on a 公示 arrives in the database; a citation holding <script> and javascript: links runs no
script. Prints 'N passed, N failed' last.
"""

import base64
import json
import os
import sys
import traceback
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

URL = os.environ["YOUDE_URL"]
TOKEN = os.environ["YOUDE_TOKEN"]
ARTIFACTS = os.environ.get("ARTIFACTS", "target/browser-artifacts")


def api(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(URL + path, data=data, method=method)
    req.add_header("Authorization", "Bearer " + TOKEN)
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req) as resp:
        return json.loads(resp.read() or b"null")


def browser(width):
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for arg in [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        "--no-first-run",
        f"--window-size={max(width, 600)},900",
    ]:
        options.add_argument(arg)
    if width < 600:
        # Desktop windows have a minimum width; a phone is emulated (WeChat's browser on an iPhone).
        options.add_experimental_option("mobileEmulation", {"deviceMetrics": {"width": width, "height": 812, "pixelRatio": 2}})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def console_errors(driver):
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def screenshot(driver, name, width):
    """The whole page, not just the first screen."""
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
    os.makedirs(ARTIFACTS, exist_ok=True)
    path = os.path.join(ARTIFACTS, name)
    with open(path, "wb") as f:
        f.write(base64.b64decode(shot["data"]))
    return path


def profile_at(width):
    driver = browser(width)
    try:
        driver.get(URL + "/people/sun-jianwei")
        WebDriverWait(driver, 20).until(expected_conditions.presence_of_element_located((By.TAG_NAME, "h1")))
        assert driver.find_element(By.TAG_NAME, "h1").text == "孙建伟"
        headline = driver.find_element(By.CSS_SELECTOR, ".headline").text
        assert "无偿服务 12 年" in headline and "接待参访 52 批次" in headline, headline
        svg = driver.find_element(By.CSS_SELECTOR, "figure.timeline svg")
        assert svg.is_displayed() and svg.size["width"] > 200, svg.size
        assert len(driver.find_elements(By.CSS_SELECTOR, "figure.timeline rect")) >= 2
        overflow = driver.execute_script("return document.documentElement.scrollWidth")
        assert overflow <= width + 1, f"page is {overflow}px wide at {width}px"
        errors = console_errors(driver)
        assert not errors, errors
        print("  screenshot:", screenshot(driver, f"profile-{width}.png", width))
    finally:
        driver.quit()


def test_profile_on_a_phone():
    profile_at(375)


def test_profile_on_a_desk():
    profile_at(1280)


def test_objection_through_the_form_arrives():
    notice = api("GET", "/api/v1/notices")["items"][0]
    driver = browser(375)
    content = "浏览器测试：请核实材料中的数据。"
    try:
        driver.get(f"{URL}/notices/{notice['id']}")
        driver.find_element(By.ID, "name").send_keys("张三")
        driver.find_element(By.ID, "contact").send_keys("13800001111")
        driver.find_element(By.ID, "content").send_keys(content)
        driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        # The form posts and the browser navigates: wait for the confirmation page.
        receipt = (
            WebDriverWait(driver, 20)
            .until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".receipt strong")))
            .text
        )
        body = driver.find_element(By.TAG_NAME, "body").text
        assert "回执编号" in body, body
        assert not console_errors(driver)
        print("  screenshot:", screenshot(driver, "objection-received.png", 375))
    finally:
        driver.quit()
    objections = api("GET", f"/api/v1/notices/{notice['id']}/objections")
    stored = [o for o in objections if o["receipt_code"] == receipt]
    assert stored and stored[0]["content"] == content and stored[0]["objector_name"] == "张三", objections


def test_a_citation_with_script_runs_nothing():
    community = api("GET", "/api/v1/communities")["items"][-1]["id"]
    citation = (
        "热心居民<script>document.title='pwned'</script> "
        "[点我](javascript:document.title='pwned') "
        "<img src=x onerror=\"document.title='pwned'\"> <a href=\"javascript:alert(1)\">再点</a>"
    )
    resident = api("POST", "/api/v1/residents", {"name": "脚本测试", "community_id": community, "citation": citation})
    api(
        "POST",
        f"/api/v1/residents/{resident['id']}/consents",
        {"scope": "profile", "text_version": "test", "signed_on": "2026-01-01"},
    )
    driver = browser(1280)
    try:
        driver.get(f"{URL}/people/{resident['slug']}")
        title = driver.title
        for link in driver.find_elements(By.CSS_SELECTOR, ".citation a"):
            link.click()
        assert driver.title == title and "pwned" not in driver.title, driver.title
        try:
            alert = driver.switch_to.alert
            raise AssertionError(f"an alert ran: {alert.text}")
        except NoAlertPresentException:
            pass
        html = driver.find_element(By.CSS_SELECTOR, ".citation").get_attribute("innerHTML")
        assert "javascript:" not in html and "onerror" not in html and "<script" not in html, html
    finally:
        driver.quit()


def run(namespace):
    """Run every test_ function of a module's namespace; 0 when all passed."""
    tests = [(name, fn) for name, fn in namespace.items() if name.startswith("test_") and callable(fn)]
    passed = failed = 0
    for name, fn in tests:
        try:
            fn()
            passed += 1
            print(f"ok   {name}")
        except Exception:  # a failed assertion or a browser error: report it and go on
            failed += 1
            print(f"FAIL {name}")
            traceback.print_exc()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(run(globals()))
