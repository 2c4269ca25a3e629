"""Browser test of roster imports in the console, in headless Chromium (see run.sh).

A registry editor uploads a residents roster (a GBK CSV, as WPS saves it on Chinese Windows),
reads the report, confirms, and finds the residents in the list; then uploads a sign-in sheet for
them with hours, confirms, and sees the activity and each participant's hours. Screenshots of the
reports go to ARTIFACTS.
"""

import os
import secrets
import sys
import tempfile
import time
import urllib.parse

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from test_console import click_button, make_user, sign_in, submit, wait_for
from test_pages import URL, api, browser, console_errors, run, screenshot


def write(name, text, encoding):
    path = os.path.join(tempfile.mkdtemp(), name)
    with open(path, "wb") as f:
        f.write(text.encode(encoding))
    return path


def upload(driver, kind_label, path):
    """Choose the kind and the file on the import form, check it, and return the report's text."""
    driver.get(URL + "/admin/imports/new")
    wait_for(driver, "#f-file")
    Select(driver.find_element(By.ID, "f-kind")).select_by_visible_text(kind_label)
    driver.find_element(By.ID, "f-file").send_keys(path)
    return submit(driver)


def test_a_roster_and_a_sign_in_sheet_are_uploaded_checked_confirmed_and_found():
    suffix = secrets.token_hex(3)
    make_user("imp-" + suffix, "陆敏", ["nominator"])
    community = next(
        c["name"] for c in api("GET", "/api/v1/communities?limit=200")["items"] if c["kind"] == "compound"
    )
    # Names unlikely to be in the demo, unique to this run.
    people = ["柏嘉怡", "龚书恒"]
    roster = "姓名,小区,手机号码,出生年份\n" + "".join(
        f"{name},{community},1380000{i:04d},195{i}年\n" for i, name in enumerate(people)
    )
    driver = browser(1280)
    try:
        sign_in(driver, "imp-" + suffix)
        body = upload(driver, "居民名册", write("roster.csv", roster, "gbk"))
        assert "检查通过" in body and "确认导入" in body, body
        for name in people:
            assert name in body, f"{name} not in the report: {body}"
        print("  screenshot:", screenshot(driver, "import-report.png", 1280))
        body = click_button(driver, "确认导入")
        assert "已导入：新建 2 位" in body, body
        # Found through the console's search, once the index has caught up with the outbox.
        for name in people:
            for _ in range(40):
                driver.get(URL + "/admin/residents?q=" + urllib.parse.quote(name))
                if name in driver.find_element(By.TAG_NAME, "main").text:
                    break
                time.sleep(0.5)
            else:
                raise AssertionError(f"{name} not found by the console's search")

        sheet = "活动,日期,默认时长（小时）,姓名,小区,时长（小时）\n" + "".join(
            f"楼道清洁{suffix},2019年8月28日,{'2' if i == 0 else ''},{name},{community},{'' if i == 0 else '3.5'}\n"
            for i, name in enumerate(people)
        )
        body = upload(driver, "活动签到表", write("sign-in.csv", "\ufeff" + sheet, "utf-8"))
        assert "检查通过" in body and "3.5 小时" in body and "新活动" in body, body
        body = click_button(driver, "确认导入")
        assert "已导入：新建 2 条" in body, body
        print("  screenshot:", screenshot(driver, "import-sign-in.png", 1280))
        activity = next(
            a for a in api("GET", "/api/v1/activities?limit=200")["items"] if a["title"] == f"楼道清洁{suffix}"
        )
        assert sorted(p["hours"] for p in activity["participants"]) == [2.0, 3.5], activity
        assert not console_errors(driver)
    finally:
        driver.quit()


if __name__ == "__main__":
    sys.exit(run(globals()))
