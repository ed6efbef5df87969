"""The customer and reviewer pages, end to end in headless Chromium (Playwright).

Each test serves a fresh app (SQLite in a temporary folder) on a free port; the reader is a stand-in
(tests/web/webtools.py) so the draft is the one the test asks for, whatever the recognizer reads today.
"""
from __future__ import annotations

import re

import httpx
import pytest

from webtools import PASSWORD, SAMPLES, find_chromium, sign_in

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')")
expect = playwright_api.expect

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(find_chromium() is None, reason="no Chromium found (set MR_CHROMIUM or install chromium)"),
]

PHOTO = SAMPLES / "meter_7_00002.jpg"  # drum counter 0003.27 (red fraction drums); the meter is 4+2 digits
NOT_SURE = "Not sure of the reading: please check it."


def digit_values(page, editor="#digit-editor") -> str:
    return "".join(page.locator(f"{editor} input.digit").evaluate_all("els => els.map(e => e.value)"))


def expect_digits(page, value: str, editor="#digit-editor") -> None:
    """Wait until the digit boxes of ``editor`` hold ``value`` (digits only, "" = all empty)."""
    try:
        page.wait_for_function(
            "([sel, want]) => { const els = document.querySelectorAll(sel + ' input.digit');"
            " return els.length > 0 && Array.from(els, (e) => e.value).join('') === want; }",
            arg=[editor, value], timeout=10_000,
        )
    except Exception:
        raise AssertionError(f"digits are {digit_values(page, editor)!r}, expected {value!r}") from None


def customer_ready(page) -> None:
    """The customer page has chosen the meter: the photo inputs are enabled."""
    expect(page.locator("#photo-pick")).to_be_enabled()
    expect(page.locator("#photo-camera")).to_be_enabled()


def image_loaded(locator) -> bool:
    return locator.evaluate("img => img.complete && img.naturalWidth > 0")


# ---- API shortcuts for setting the scene ------------------------------------------------------------------


def token(world, email) -> dict:
    r = httpx.post(f"{world.base_url}/api/auth/token", data={"username": email, "password": PASSWORD})
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def send_photo(world, headers, value=None) -> dict:
    """Upload the sample photo (the stand-in reader answers) and confirm it, as the customer page does."""
    with PHOTO.open("rb") as f:
        r = httpx.post(f"{world.base_url}/api/meters/{world.meter}/photos", headers=headers,
                       files={"file": ("meter.jpg", f, "image/jpeg")})
    r.raise_for_status()
    draft = r.json()
    r = httpx.post(f"{world.base_url}{draft['confirm_url']}", headers=headers, json={"value": value} if value else {})
    r.raise_for_status()
    return r.json()


def manual(world, headers, value) -> dict:
    r = httpx.post(f"{world.base_url}/api/meters/{world.meter}/readings", headers=headers, json={"value": value})
    r.raise_for_status()
    return r.json()


# ---- the customer, then the reviewer ----------------------------------------------------------------------


def test_customer_fixes_a_digit_confirms_sees_history_and_reviewer_approves(world, phone, desk):
    # the reader misreads the 4th drum (8 for 3) and is unsure of it; it takes a second, to see the progress
    world.reader.set(reading="0008.27", unsure={3: 0.41}, status="needs_review", reason=NOT_SURE, delay=1.0)

    page = phone
    sign_in(page, world.base_url, world.customer, landing="/customer")
    customer_ready(page)
    expect(page.locator("#meter-select")).to_have_text(re.compile("Electricity meter E-4711"))
    camera = page.locator("#photo-camera")
    assert camera.get_attribute("accept") == "image/*" and camera.get_attribute("capture") == "environment"
    expect(page.locator("#history-table tbody")).to_contain_text("No readings yet.")

    page.set_input_files("#photo-pick", str(PHOTO))
    expect(page.locator("#progress")).to_be_visible()
    expect(page.locator("#progress-text")).to_have_text("Reading the digits…")
    expect(page.locator("#draft-card")).to_be_visible()
    expect(page.locator("#progress")).to_be_hidden()

    # the crop and one box per digit, the unsure one highlighted
    crop = page.locator("#crop-img")
    expect(crop).to_be_visible()
    assert image_loaded(crop)
    expect(page.locator("#draft-notice")).to_contain_text("Some digits are uncertain")
    boxes = page.locator("#digit-editor input.digit")
    expect(boxes).to_have_count(6)
    expect_digits(page, "000827")
    expect(boxes.nth(3)).to_have_class(re.compile(r"\bunsure\b"))
    assert page.locator("#digit-editor input.digit.unsure").count() == 1
    expect(boxes.nth(4)).to_have_class(re.compile(r"\bfrac\b"))

    # fix it: tap the box, type the digit
    boxes.nth(3).click()
    page.keyboard.press("3")
    expect_digits(page, "000327")
    expect(boxes.nth(3)).to_have_class(re.compile(r"\bedited\b"))
    expect(page.locator("#whole-value")).to_have_value("0003.27")

    page.click("#confirm")
    result = page.locator("#result-notice")
    expect(result).to_contain_text("Reading 0003.27 sent — a reviewer will check it")
    expect(result).to_contain_text("You corrected the digits we read")
    expect(page.locator("#draft-card")).to_be_hidden()
    row = page.locator("#history-table tbody tr").first
    expect(row).to_contain_text("0003.27")
    expect(row.locator(".badge")).to_have_text("In review")
    expect(row).to_contain_text("photo")

    # the reviewer: photo, crop and overlay side by side; approve with one key
    sign_in(desk, world.base_url, world.reviewer, landing="/reviewer")
    item = desk.locator("#item")
    expect(item).to_be_visible()
    expect(desk.locator("#item-title")).to_contain_text("E-4711")
    expect(desk.locator("#queue-count")).to_have_text("1 item")
    expect(desk.locator("#item-reason")).to_contain_text("The customer changed the read value 0008.27 to 0003.27")
    for name in ("photo", "crop", "debug"):
        img = desk.locator(f"#img-{name}")
        expect(img).to_be_visible()
        assert image_loaded(img), name
    boxes = [b.bounding_box() for b in (desk.locator(f"#img-{n}") for n in ("photo", "crop", "debug"))]
    assert boxes[0]["x"] < boxes[1]["x"] < boxes[2]["x"] and abs(boxes[0]["y"] - boxes[2]["y"]) < 5  # side by side
    expect_digits(desk, "000327", "#review-digits")
    expect(desk.locator("#review-digits input.digit:focus")).to_have_count(1)  # keyboard-ready

    desk.keyboard.press("a")
    expect(desk.locator("#toasts")).to_contain_text("Approved: E-4711 0003.27")
    expect(desk.locator("#queue-empty")).to_be_visible()
    expect(desk.locator("#queue-count")).to_have_text("0 items")
    expect(item).to_be_hidden()

    # back on the phone: approved, counted; nothing wider than the phone
    page.reload()
    row = page.locator("#history-table tbody tr").first
    expect(row.locator(".badge")).to_have_text("Approved")
    expect(page.locator("#meter-summary")).to_contain_text("Last counted reading: 0003.27 kWh")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    assert not page.js_errors and not desk.js_errors, page.js_errors + desk.js_errors


def test_reviewer_corrects_and_rejects_from_the_keyboard_and_filters(world, phone, desk):
    world.reader.set(reading="0003.27", unsure={5: 0.41}, status="needs_review", reason=NOT_SURE)
    ada = token(world, world.customer)
    send_photo(world, ada)  # in review: 0003.27, really 0003.29
    world.reader.set(reading="0003.95", unsure={2: 0.55}, status="needs_review", reason=NOT_SURE)
    send_photo(world, ada)  # in review: 0003.95, a blurry photo to reject

    page = desk
    sign_in(page, world.base_url, world.reviewer, landing="/reviewer")
    expect(page.locator("#queue-count")).to_have_text("2 items")
    expect(page.locator("#queue .queue-item")).to_have_count(2)
    expect_digits(page, "000327", "#review-digits")
    # the unsure last drum has the focus: type the right digit...
    focused = page.locator("#review-digits input.digit:focus")
    expect(focused).to_have_attribute("data-index", "5")
    page.keyboard.press("9")
    expect_digits(page, "000329", "#review-digits")
    # ..."approve" would drop it: the page says so; Esc undoes, typing again and C corrects
    page.keyboard.press("a")
    expect(page.locator("#decide-notice")).to_contain_text("You changed digits")
    page.keyboard.press("Escape")
    expect_digits(page, "000327", "#review-digits")
    page.locator("#review-digits input.digit").nth(5).focus()
    page.keyboard.press("9")
    page.keyboard.press("c")
    expect(page.locator("#toasts")).to_contain_text("Corrected: E-4711 0003.29")

    # the next item is there at once: reject it with a reason, R ... Enter
    expect(page.locator("#queue-count")).to_have_text("1 item")
    expect(page.locator("#item-facts")).to_contain_text("0003.95")
    page.keyboard.press("r")
    expect(page.locator("#reject-reason")).to_be_focused()
    page.keyboard.type("The photo is blurred: please send a sharper one.")
    page.keyboard.press("Enter")
    expect(page.locator("#toasts")).to_contain_text("Rejected: E-4711 0003.95")
    expect(page.locator("#queue-empty")).to_be_visible()

    # filters: status, meter kind, confidence
    page.select_option("#f-status", "corrected")
    expect(page.locator("#queue .queue-item")).to_have_count(1)
    expect(page.locator("#queue .queue-item")).to_contain_text("0003.29")
    page.select_option("#f-kind", "gas")
    expect(page.locator("#queue-empty")).to_be_visible()
    page.select_option("#f-kind", "electricity")
    expect(page.locator("#queue .queue-item")).to_have_count(1)
    page.locator("#f-conf").fill("0.3")  # the item was read with 0.98^5 x 0.41 = 37%
    expect(page.locator("#f-conf-out")).to_have_text("≤ 30%")
    expect(page.locator("#queue-empty")).to_be_visible()
    page.locator("#f-conf").fill("0.5")
    expect(page.locator("#queue .queue-item")).to_have_count(1)
    page.select_option("#f-status", "rejected")
    expect(page.locator("#item-reason")).to_contain_text("The photo is blurred: please send a sharper one.")

    # the customer sees both decisions, types a reading by hand, and the chart gets its first bar
    sign_in(phone, world.base_url, world.customer, landing="/customer")
    customer_ready(phone)
    rows = phone.locator("#history-table tbody tr")
    expect(rows).to_have_count(2)
    rejected = phone.locator("#history-table tbody tr[data-status=rejected]")
    expect(rejected.locator(".badge")).to_have_text("Rejected")
    expect(rejected).to_contain_text("Reason: The photo is blurred: please send a sharper one.")
    corrected = phone.locator("#history-table tbody tr[data-status=corrected]")
    expect(corrected.locator(".badge")).to_have_text("Corrected")
    expect(corrected).to_contain_text("0003.29")
    expect(corrected).to_contain_text("You sent 0003.27.")
    expect(phone.locator("#chart")).to_contain_text("appears after two counted readings")

    phone.click("#manual-card summary")
    phone.fill("#manual-value", "0004.50")
    phone.click("#manual-submit")
    expect(phone.locator("#manual-notice")).to_contain_text("Reading 0004.50 sent")
    expect(phone.locator("#manual-notice")).to_contain_text("accepted")
    top = phone.locator("#history-table tbody tr").first
    expect(top.locator(".badge")).to_have_text("Accepted")
    expect(top).to_contain_text("typed")
    expect(top).to_contain_text("1.21 kWh")
    expect(phone.locator("#chart svg .bar")).to_have_count(1)
    assert not phone.js_errors and not desk.js_errors, phone.js_errors + desk.js_errors


# ---- what the customer reads when something is wrong ------------------------------------------------------


def test_error_messages(world, phone, tmp_path):
    page = phone
    page.goto(world.base_url + "/")
    page.fill("#email", world.customer)
    page.fill("#password", "not the password")
    page.click("#signin-submit")
    expect(page.locator("#signin-notice")).to_contain_text("Wrong email or password")

    sign_in(page, world.base_url, world.customer, landing="/customer")
    customer_ready(page)
    upload = page.locator("#upload-notice")

    # not an image (even named .jpg)
    fake = tmp_path / "meter.jpg"
    fake.write_text("this is a shopping list, not a photo")
    page.set_input_files("#photo-pick", str(fake))
    expect(upload).to_contain_text("That file is not a photo")
    expect(upload).to_contain_text("Choose a JPEG, PNG or WebP photo")
    expect(upload.locator("[role=alert]")).to_be_visible()
    expect(page.locator("#draft-card")).to_be_hidden()

    # blurred: what to do
    world.reader.set(reading=None, status="rejected", reason="The photo is blurred: hold the phone steady and tap to focus.")
    page.set_input_files("#photo-camera", str(PHOTO))
    notice = page.locator("#draft-notice")
    expect(notice).to_contain_text("The photo is blurred")
    expect(notice).to_contain_text("Hold the phone steady")
    expect(upload).to_be_hidden()

    # read turned over: the caption says why the crop is the other way up from the photo
    world.reader.set(turned=True, rotation=180)
    page.set_input_files("#photo-pick", str(PHOTO))
    expect(page.locator("#crop-caption")).to_contain_text("your photo was upside down")
    world.reader.set(turned=True, rotation=270)
    page.set_input_files("#photo-pick", str(PHOTO))
    expect(page.locator("#crop-caption")).to_contain_text("your photo was sideways")

    # no window found: how to retake; the photo itself is shown, the boxes are empty to type in
    world.reader.set(reading=None, status="rejected",
                     reason="No digit window was found: photograph the counter straight on so it fills a third of the frame.")
    page.set_input_files("#photo-pick", str(PHOTO))
    expect(notice).to_contain_text("We could not find the counter in the photo")
    expect(notice).to_contain_text("straight on, from about 20–30 cm")
    expect(page.locator("#crop-caption")).to_have_text("Your photo (no digit window was found in it)")
    expect_digits(page, "")
    page.click("#confirm")
    expect(page.locator("#confirm-notice")).to_contain_text("Some boxes are empty")

    # a value with the wrong shape typed by hand
    page.click("#manual-card summary")
    page.fill("#manual-value", "12.3456")
    page.click("#manual-submit")
    expect(page.locator("#manual-notice .notice-error")).to_contain_text("Please check the value")

    # below the previous reading: what it means, and that it can still be sent
    manual(world, token(world, world.customer), "0005.00")
    world.reader.set(reading="0003.27")
    page.set_input_files("#photo-pick", str(PHOTO))
    expect(notice).to_contain_text("This is lower than your previous reading")
    expect(notice).to_contain_text("Meters only count up")
    expect(page.locator("#previous-line")).to_contain_text("Previous reading: 0005.00")
    page.click("#confirm")
    expect(page.locator("#result-notice")).to_contain_text("a reviewer will check it")
    expect(page.locator("#result-notice")).to_contain_text("Lower than your previous reading")

    # a customer on the reviewer page
    page.goto(world.base_url + "/reviewer")
    expect(page.locator("#review-notice")).to_contain_text("Not allowed")
    expect(page.locator("#review-notice")).to_contain_text("This page is for reviewers")
    assert not page.js_errors, page.js_errors


def test_signed_out_pages_go_to_sign_in_and_back(world, phone):
    phone.goto(world.base_url + "/reviewer")
    phone.wait_for_url(re.compile(r"/\?next=%2Freviewer"))
    phone.fill("#email", world.reviewer)
    phone.fill("#password", PASSWORD)
    phone.click("#signin-submit")
    phone.wait_for_url("**/reviewer")
    expect(phone.locator("#queue-empty")).to_be_visible()
    phone.click("#signout")
    phone.wait_for_url(world.base_url + "/")
    phone.goto(world.base_url + "/customer")
    phone.wait_for_url(re.compile(r"/\?next=%2Fcustomer"))


def test_operator_page_lists_and_creates(world, desk):
    sign_in(desk, world.base_url, world.operator, landing="/operator")
    expect(desk.locator("#accounts tbody")).to_contain_text("ACC-100")
    expect(desk.locator("#meters tbody")).to_contain_text("E-4711")
    expect(desk.locator("#users tbody")).to_contain_text("ada@example.org")
    desk.fill("#acc-number", "ACC-200")
    desk.fill("#acc-name", "Grace Hopper")
    desk.click("#account-form button[type=submit]")
    expect(desk.locator("#accounts tbody")).to_contain_text("Grace Hopper")
    assert not desk.js_errors, desk.js_errors


def test_a_reading_sent_by_email_is_labelled_so_for_the_reviewer_and_the_customer(world, phone, desk):
    from email.message import EmailMessage

    world.reader.set(reading="0003.27", unsure={5: 0.41}, status="needs_review", reason=NOT_SURE)
    msg = EmailMessage()
    msg["From"], msg["Subject"], msg["Message-ID"] = world.customer, "meter E-4711", "<web-1@example.org>"
    msg.set_content("my reading")
    msg.add_attachment(PHOTO.read_bytes(), maintype="image", subtype="jpeg", filename="meter.jpg")
    r = httpx.post(f"{world.base_url}/api/inbound/email", content=msg.as_bytes(),
                   headers={**token(world, world.operator), "Content-Type": "message/rfc822"})
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "in_review"

    sign_in(desk, world.base_url, world.reviewer, landing="/reviewer")
    expect(desk.locator("#queue .queue-item")).to_have_count(1)
    expect(desk.locator("#queue .queue-item")).to_contain_text("photo by e-mail")
    expect(desk.locator("#item-facts")).to_contain_text("photo by e-mail")
    desk.keyboard.press("a")
    expect(desk.locator("#toasts")).to_contain_text("E-4711 0003.27")

    sign_in(phone, world.base_url, world.customer, landing="/customer")
    expect(phone.locator("#history-card")).to_contain_text("photo by e-mail")
