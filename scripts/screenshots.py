"""Screenshots of the web pages for the README: docs/screenshots/customer.png (phone, 390x844) and
docs/screenshots/reviewer.png (desktop, 1366x900).

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--chromium /usr/bin/chromium]

Serves the app on a free port with a throw-away SQLite database, makes a customer, a reviewer and a water
meter through ``api.cli``, fills a few months of history through the API, then drives headless Chromium
(Playwright, Debian's chromium) through the pages. The reader is the tests' stand-in
(tests/web/webtools.py): it cuts the digit window of a photo of sample_images/ at its recorded
corners and returns the reading it is told (the photo's true one, one drum marked unsure), so the
pictures do not change when the recognizer does.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "web"))

import httpx  # noqa: E402

from webtools import PASSWORD, SAMPLES, LiveServer, StandInReader, find_chromium, launch, make_world, sign_in  # noqa: E402

PHOTO = SAMPLES / "meter_7_00006.jpg"  # water meter 0000456.4, last drum rolling between 4 and 5
SECOND_PHOTO = SAMPLES / "meter_7_00003.jpg"  # water meter 890.4, red fraction drum


def _token(base: str, email: str) -> dict:
    r = httpx.post(f"{base}/api/auth/token", data={"username": email, "password": PASSWORD})
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _photo(base: str, headers: dict, meter: int, photo: Path, photo_date: date, value: str | None = None) -> dict:
    with photo.open("rb") as f:
        r = httpx.post(f"{base}/api/meters/{meter}/photos", headers=headers,
                       files={"file": ("meter.jpg", f, "image/jpeg")}, data={"photo_date": photo_date.isoformat()})
    r.raise_for_status()
    r = httpx.post(f"{base}{r.json()['confirm_url']}", headers=headers, json={"value": value} if value else {})
    r.raise_for_status()
    return r.json()


def _typed(base: str, headers: dict, meter: int, value: str, day: date) -> dict:
    r = httpx.post(f"{base}/api/meters/{meter}/readings", headers=headers,
                   json={"value": value, "date": day.isoformat()})
    r.raise_for_status()
    return r.json()


def _history(world, second_meter: int) -> None:
    """Six months of readings with every status: accepted, corrected, rejected with a reason, in review."""
    base, meter, reader = world.base_url, world.meter, world.reader
    ada = _token(base, world.customer)
    rita = _token(base, world.reviewer)
    today = date.today()
    day = lambda n: today - timedelta(days=n)  # noqa: E731
    unsure = "Not sure of the reading: please check it."
    _typed(base, ada, meter, "0000371.6", day(182))
    reader.set(reading="0000384.0")
    _photo(base, ada, meter, PHOTO, day(151))
    # a read the customer corrected; the reviewer corrects it once more
    reader.set(reading="0000398.8", unsure={6: 0.52}, status="needs_review", reason=unsure)
    sub = _photo(base, ada, meter, PHOTO, day(120), value="0000397.8")
    httpx.post(f"{base}/api/review/{sub['id']}/correct", headers=rita, json={"value": "0000397.9"}).raise_for_status()
    # a typo (a digit missing): below the previous reading, rejected with a reason
    sub = _typed(base, ada, meter, "0000043.7", day(90))
    httpx.post(f"{base}/api/review/{sub['id']}/reject", headers=rita, json={
        "reason": "A digit seems to be missing (437.x?). Please send a photo of the meter."}).raise_for_status()
    reader.set(reading="0000421.5")
    _photo(base, ada, meter, PHOTO, day(60))
    # below the previous reading: waits for a reviewer
    _typed(base, ada, meter, "0000419.8", day(30))
    # the second meter: the red drum misread, corrected by the customer, in review
    reader.set(reading="890.1", unsure={3: 0.45}, status="needs_review", reason=unsure)
    _photo(base, ada, second_meter, SECOND_PHOTO, day(3), value="890.4")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    ap.add_argument("--chromium", default=None, help="Chromium binary (default $MR_CHROMIUM, chromium on PATH)")
    args = ap.parse_args(argv)
    chromium = args.chromium or find_chromium()
    if not chromium:
        print("no Chromium found: install Debian's chromium or pass --chromium", file=sys.stderr)
        return 2
    from playwright.sync_api import expect, sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="meterread-shots-") as tmp:
        server = LiveServer(Path(tmp) / "var", reader=StandInReader()).start()
        try:
            world = make_world(server, integer_digits=7, fractional_digits=1, kind="water")
            from api import cli

            second = cli.create_meter("ACC-100", "W-0815", "water", 3, 1, settings=server.settings)
            _history(world, second)
            with sync_playwright() as p:
                browser = launch(p, chromium)
                # the customer, on a phone: the photo just read, the last drum to check
                ctx = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                          is_mobile=True, has_touch=True, locale="en-GB")
                page = ctx.new_page()
                sign_in(page, world.base_url, world.customer, landing="/customer")
                expect(page.locator("#photo-pick")).to_be_enabled()
                expect(page.locator("#chart svg")).to_be_visible()
                world.reader.set(reading="0000456.4", unsure={7: 0.55}, status="needs_review",
                                 reason="Not sure of the reading: please check it.")
                page.set_input_files("#photo-camera", str(PHOTO))
                expect(page.locator("#crop-img")).to_be_visible()
                page.wait_for_function("() => document.querySelector('#crop-img').naturalWidth > 0")
                page.evaluate("() => window.scrollTo(0, 0)")
                page.wait_for_timeout(600)  # smooth scrolling settles
                page.evaluate("() => window.scrollTo(0, 0)")
                page.screenshot(path=str(args.out / "customer.png"), full_page=True)
                page.click("#confirm")  # in review: the rolling last drum
                expect(page.locator("#result-notice")).to_contain_text("a reviewer will check it")
                ctx.close()

                # the reviewer, on a desktop: photo, crop and overlay of the first item in review
                ctx = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-GB")
                page = ctx.new_page()
                sign_in(page, world.base_url, world.reviewer, landing="/reviewer")
                expect(page.locator("#queue .queue-item")).to_have_count(3)
                page.locator("#queue .queue-item", has_text="W-0815").click()
                expect(page.locator("#item-title")).to_contain_text("W-0815")
                for name in ("photo", "crop", "debug"):
                    expect(page.locator(f"#img-{name}")).to_be_visible()
                page.wait_for_timeout(300)
                page.screenshot(path=str(args.out / "reviewer.png"))
                ctx.close()
                browser.close()
        finally:
            server.stop()
    for name in ("customer.png", "reviewer.png"):
        print(args.out / name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
