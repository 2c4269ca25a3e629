"""Browser test of certificates in headless Chromium (see run.sh).

An admin uploads the seal; a reviewer issues a 荣誉证书 for the demo's honour and a 志愿服务记录证明
for a volunteer's 2019 hours in the console, opens each printable certificate, reads its QR code
from the rendered page (as a phone would), follows it to the verify page and sees the certificate
valid; the PDF of each is turned into a PNG (poppler's pdftoppm), its QR code read again and its
text checked; then the honour's certificate is revoked and the verify page says so.
Kept in ARTIFACTS: certificate-honour.png and certificate-record.png (from the PDFs, with the
PDFs), screenshots of the printable pages and of the verify pages.
Needs pyzbar (with Debian's libzbar0), Pillow and poppler-utils.
"""

import io
import os
import secrets
import subprocess
import sys
import urllib.request

from PIL import Image
from pyzbar.pyzbar import decode
from selenium.webdriver.common.by import By

from test_console import click_button, make_user, sign_in, wait_for
from test_pages import ARTIFACTS, TOKEN, URL, api, browser, console_errors, run, screenshot

ID_NUMBER = "11010519491231002X"
MASKED = "1101**********002X"


def open_link(driver, text):
    link = driver.find_element(By.LINK_TEXT, text)
    driver.get(link.get_attribute("href"))


def qr_url(driver):
    """The QR code of the printed certificate, as rendered, decoded."""
    svg = driver.find_element(By.CSS_SELECTOR, ".certificate-foot .qr svg")
    return read_qr(Image.open(io.BytesIO(svg.screenshot_as_png)))


def read_qr(image):
    """The one QR code in a picture, read with a white margin and at 4x (zbar likes crisp modules)."""
    image = image.convert("L")
    big = Image.new("L", (image.width + 40, image.height + 40), 255)
    big.paste(image, (20, 20))
    big = big.resize((big.width * 4, big.height * 4), Image.NEAREST)
    found = decode(big)
    assert len(found) == 1, f"one QR code, found {len(found)}"
    return found[0].data.decode()


def upload_seal():
    """A red ring on a transparent square, as the admin's seal."""
    side = 300
    seal = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    for y in range(side):
        for x in range(side):
            d = ((x - 150) ** 2 + (y - 150) ** 2) ** 0.5
            if 112 < d < 135:
                seal.putpixel((x, y), (200, 20, 20, 255))
    data = io.BytesIO()
    seal.save(data, "PNG")
    req = urllib.request.Request(URL + "/api/v1/certificates/seal", data=data.getvalue(), method="PUT")
    req.add_header("Authorization", "Bearer " + TOKEN)
    req.add_header("Content-Type", "image/png")
    with urllib.request.urlopen(req) as resp:
        assert resp.status == 200


def pdf_as_png(verify_url, name):
    """The certificate's PDF, kept as NAME.pdf and, rendered at 110 dpi, as NAME.png; its text."""
    code = verify_url.rstrip("/").rsplit("/", 1)[1]
    with urllib.request.urlopen(f"{URL}/verify/{code}/certificate.pdf") as resp:
        assert resp.headers["Content-Type"] == "application/pdf", resp.headers["Content-Type"]
        pdf = resp.read()
    os.makedirs(ARTIFACTS, exist_ok=True)
    base = os.path.join(ARTIFACTS, name)
    with open(base + ".pdf", "wb") as f:
        f.write(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "110", "-singlefile", base + ".pdf", base], check=True)
    text = subprocess.run(["pdftotext", base + ".pdf", "-"], check=True, capture_output=True, text=True).stdout
    print("  from the PDF:", base + ".png")
    return Image.open(base + ".png"), text


def check_verify_page(driver, url, expected, shot):
    assert url.startswith(URL + "/verify/"), url
    driver.get(url)
    verdict = wait_for(driver, "section.verdict").text
    assert expected in verdict, verdict
    print("  screenshot:", screenshot(driver, shot, 1280))
    return driver.find_element(By.TAG_NAME, "main").text


def volunteer_with_hours():
    """李梅, with an ID number and 6.5 hours of activities in 2019 (and 4 in 2020)."""
    communities = api("GET", "/api/v1/communities?limit=200")["items"]
    compound = next(c for c in communities if c["kind"] == "compound")
    name = "李梅"
    resident = api("POST", "/api/v1/residents", {"name": name, "community_id": compound["id"], "id_number": ID_NUMBER})
    for title, date, hours in [("敬老院助老服务", "2019-03-01", 2.5), ("垃圾分类宣传", "2019-08-28", 4), ("迎新春义写春联", "2020-01-05", 4)]:
        api("POST", "/api/v1/activities", {"title": title, "date": date, "participant_ids": [resident["id"]], "hours": hours})
    return resident["id"]


def test_a_certificate_issued_in_the_console_verifies_from_its_qr_code_until_revoked():
    upload_seal()
    reviewer = "cert-" + secrets.token_hex(3)
    make_user(reviewer, "赵敏", ["reviewer"])
    driver = browser(1280)
    try:
        sign_in(driver, reviewer)
        driver.get(URL + "/admin/certificates")
        buttons = [b.text for b in driver.find_elements(By.CSS_SELECTOR, "main button[type=submit]")]
        label = next(b for b in buttons if b.startswith("为孙建伟颁发证书"))
        body = click_button(driver, label)
        assert "状态：有效" in body, body
        certificate_page = driver.current_url

        open_link(driver, "预览并打印证书")
        sheet = wait_for(driver, ".certificate-sheet.landscape").text
        assert "荣誉证书" in sheet and "孙建伟" in sheet, sheet
        assert driver.find_elements(By.CSS_SELECTOR, ".certificate-foot img.seal"), "the seal"
        print("  screenshot:", screenshot(driver, "certificate-honour-page.png", 1280))
        verify_url = qr_url(driver)
        image, text = pdf_as_png(verify_url, "certificate-honour")
        assert read_qr(image) == verify_url, "the PDF's QR code leads to the same address"
        assert "孙建伟" in text and "2019年度长寿路街道有德之士" in text, text
        check_verify_page(driver, verify_url, "此证书有效", "verify-honour-valid.png")

        # Revoke it in the console, with a reason; the same address now says revoked.
        driver.get(certificate_page)
        driver.find_element(By.ID, "f-reason").send_keys("证书信息登记有误，收回重发")
        body = click_button(driver, "撤销证书")
        assert "状态：已撤销" in body, body
        text = check_verify_page(driver, verify_url, "此证书已撤销", "verify-honour-revoked.png")
        assert "登记有误" not in text, "the reason is for staff"
        assert not console_errors(driver)
    finally:
        driver.quit()


def test_a_record_certificate_is_issued_from_the_residents_page_and_verifies_from_its_qr_code():
    resident = volunteer_with_hours()
    reviewer = "rec-" + secrets.token_hex(3)
    make_user(reviewer, "钱进", ["reviewer"])
    driver = browser(1280)
    try:
        sign_in(driver, reviewer)
        driver.get(f"{URL}/admin/residents/{resident}")
        open_link(driver, "志愿服务记录证明")
        for field, value in [("f-from", "2019-01-01"), ("f-to", "2019-12-31")]:
            element = driver.find_element(By.ID, field)
            driver.execute_script("arguments[0].value = arguments[1]", element, value)
        body = click_button(driver, "预览")
        assert "6.5 小时" in body and MASKED in body and "迎新春义写春联" not in body, body
        body = click_button(driver, "出具志愿服务记录证明")
        assert "状态：有效" in body and MASKED in body, body

        open_link(driver, "预览并打印证书")
        sheet = wait_for(driver, ".certificate-sheet.portrait").text
        assert "志愿服务记录证明" in sheet and "6.5" in sheet and MASKED in sheet, sheet
        assert ID_NUMBER not in driver.page_source, "never the full ID number"
        print("  screenshot:", screenshot(driver, "certificate-record-page.png", 1280))
        verify_url = qr_url(driver)
        image, text = pdf_as_png(verify_url, "certificate-record")
        assert read_qr(image) == verify_url, "the PDF's QR code leads to the same address"
        assert MASKED in text and "6.5 小时" in text and ID_NUMBER not in text, text
        text = check_verify_page(driver, verify_url, "此证书有效", "verify-record-valid.png")
        assert MASKED in text and "6.5 小时" in text, text
        assert ID_NUMBER not in driver.page_source
        assert not console_errors(driver)
    finally:
        driver.quit()


if __name__ == "__main__":
    sys.exit(run(globals()))
