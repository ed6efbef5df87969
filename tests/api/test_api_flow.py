"""The whole path over HTTP: operator sets up, customer photographs and confirms, reviewer approves,
history shows the consumption."""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from pathlib import Path

import pytest

from api.readings import normalize_value
from api_helpers import PASSWORD, auth, make_meter, make_user, stored_files, upload


SAMPLE = Path(__file__).resolve().parents[2] / "sample_images" / "meter_7_00000.jpg"  # water, 5+3 drums


def _sample_label(name: str) -> str:
    with open(SAMPLE.parent / "labels.csv", newline="") as fh:
        return next(row["reading"] for row in csv.DictReader(fh) if row["file"] == name)


def _one_digit_changed(value: str) -> str:
    """``value`` with its last digit changed (up by one, or down from 9): a one-digit correction."""
    i = max(k for k, ch in enumerate(value) if ch.isdigit())
    d = int(value[i])
    return value[:i] + str(d + 1 if d < 9 else d - 1) + value[i + 1:]


def test_full_flow_with_the_real_recognizer(client, operator, settings):
    """Issue 4's walk-through, over HTTP, with a sample photo read by the real recognizer."""
    # operator: account, meter, customer, reviewer
    r = client.post("/api/accounts", headers=operator, json={"number": "100-200", "name": "Ada Lovelace"})
    assert r.status_code == 201, r.text
    account_id = r.json()["id"]
    meter_id = make_meter(client, operator, account_id, "WM-0042", kind="water", integer_digits=5, fractional_digits=3)
    make_user(client, operator, "ada@example.org", account_ids=[account_id])
    make_user(client, operator, "rev@example.org", role="reviewer")
    customer = auth(client, "ada@example.org")
    reviewer = auth(client, "rev@example.org")

    meters = client.get("/api/meters", headers=customer).json()
    assert [m["serial"] for m in meters] == ["WM-0042"]
    assert meters[0]["registers"][0]["name"] == "T1"

    # a previous reading, typed by hand 30 days ago (the day the meter was fitted; plausible: accepted)
    d0 = date.today() - timedelta(days=30)
    r = client.post(f"/api/meters/{meter_id}/readings", headers=customer, json={"value": "0", "date": d0.isoformat()})
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "accepted" and r.json()["value"] == "00000.000"

    # the customer uploads a sample photo: a draft comes back, whatever the recognizer makes of it
    photo = SAMPLE.read_bytes()
    r = upload(client, customer, meter_id, photo, filename=SAMPLE.name)
    assert r.status_code == 201, r.text
    draft = r.json()
    assert draft["status"] in ("accepted", "needs_review", "rejected")
    assert draft["register"] == "T1" and draft["meter_id"] == meter_id
    assert draft["photo_url"] == f"/api/drafts/{draft['id']}/photo"
    assert isinstance(draft["digits"], list)
    assert all(0.0 <= d["confidence"] <= 1.0 for d in draft["digits"])
    r = client.get(draft["photo_url"], headers=customer)
    assert r.status_code == 200 and r.content == photo and r.headers["content-type"] == "image/jpeg"
    # the crop lossless, the overlay (a whole photo) as JPEG
    for key, media_type, magic in (("crop_url", "image/png", b"\x89PNG"), ("debug_url", "image/jpeg", b"\xff\xd8\xff")):
        if draft[key]:
            r = client.get(draft[key], headers=customer)
            assert r.status_code == 200 and r.headers["content-type"] == media_type and r.content.startswith(magic)
    assert client.get(f"/api/drafts/{draft['id']}", headers=customer).json()["id"] == draft["id"]
    assert len(stored_files(settings)) == 1 + bool(draft["crop_url"]) + bool(draft["debug_url"])

    # ...corrects one digit of what was read and confirms (when the recognizer read no whole value, the
    # customer types the value on the meter instead)
    read = draft["reading"]
    whole = read is not None and "?" not in read and len(read) == 9 and read[5] == "."
    if whole:
        value = _one_digit_changed(read)
        assert sum(a != b for a, b in zip(value, read)) == 1
    else:
        value = normalize_value(_sample_label(SAMPLE.name), integer_digits=5, fractional_digits=3)
    r = client.post(draft["confirm_url"], headers={**customer, "Idempotency-Key": "k-1"}, json={"value": value})
    assert r.status_code == 201, r.text
    sub = r.json()
    assert sub["status"] == "in_review"
    assert sub["value"] == value and sub["read_value"] == read and sub["source"] == "photo"
    if whole:
        assert f"changed the read value {read} to {value}" in sub["review_reason"]
    # a retry of the same confirm (same key) gives the same submission back
    r = client.post(draft["confirm_url"], headers={**customer, "Idempotency-Key": "k-1"}, json={"value": value})
    assert r.status_code == 200 and r.json()["id"] == sub["id"]

    # the reviewer sees it in the queue (with the photo) and approves it
    queue = client.get("/api/review/queue", headers=reviewer).json()
    assert [q["id"] for q in queue] == [sub["id"]]
    assert queue[0]["meter_serial"] == "WM-0042" and queue[0]["photo_url"] == draft["photo_url"]
    assert queue[0]["value"] == value
    assert client.get(queue[0]["photo_url"], headers=reviewer).content == photo
    r = client.post(f"/api/review/{sub['id']}/approve", headers=reviewer)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved" and r.json()["value"] == value
    assert client.get("/api/review/queue", headers=reviewer).json() == []

    # history: both readings, the consumption since the previous one
    hist = client.get(f"/api/meters/{meter_id}/history", headers=customer).json()
    rows = hist["registers"][0]["readings"]
    assert [(x["value"], x["status"]) for x in rows] == [("00000.000", "accepted"), (value, "approved")]
    assert rows[0]["consumption"] is None
    assert rows[1]["consumption"] == pytest.approx(float(value) - 0.0, abs=1e-9)
    assert rows[1]["days"] == 30 and rows[1]["previous_value"] == "00000.000"
    assert rows[0]["photo_url"] is None and rows[1]["photo_url"] == draft["photo_url"]
    # ...and in the CSV export
    r = client.get(f"/api/meters/{meter_id}/history.csv", headers=customer)
    csv_rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [(x["value"], x["status"]) for x in csv_rows] == [("00000.000", "accepted"), (value, "approved")]
    assert float(csv_rows[1]["consumption"]) == pytest.approx(float(value), abs=1e-6)

    # audit trail: submitted by the customer, approved by the reviewer
    audit = client.get(f"/api/submissions/{sub['id']}/audit", headers=customer).json()
    assert [(a["action"], a["user_email"]) for a in audit] == [
        ("submitted", "ada@example.org"), ("approved", "rev@example.org")]


def test_accepted_draft_confirmed_unchanged_is_accepted(world, fake_reader):
    c = world.client
    fake_reader.reading, fake_reader.status = "00414.670", "accepted"
    client_prev = c.post(f"/api/meters/{world.meter}/readings", headers=world.customer,
                         json={"value": "412.1", "date": (date.today() - timedelta(days=10)).isoformat()})
    assert client_prev.json()["status"] == "accepted"
    draft = upload(c, world.customer, world.meter).json()
    assert draft["status"] == "accepted" and draft["reading"] == "00414.670"
    assert [d["value"] for d in draft["digits"]] == list("00414670")
    assert draft["digits"][-1]["fractional"] is True
    assert draft["plausibility"]["previous"] == "00412.100" and draft["plausibility"]["ok"] is True
    # the reader got the meter's description and its previous reading
    call = fake_reader.calls[-1]
    assert call["previous"] == "00412.100" and call["meter"].integer_digits == 5 and call["with_images"] is True
    # crop and debug images for the owner (this fake reader's overlay is a PNG, as real ones were before
    # 2026-12-04: served as what it is)
    for key in ("crop_url", "debug_url"):
        r = c.get(draft[key], headers=world.customer)
        assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    r = c.post(draft["confirm_url"], headers=world.customer)
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "accepted" and r.json()["value"] == "00414.670"
    assert c.get("/api/review/queue", headers=world.reviewer).json() == []
    assert c.get(f"/api/drafts/{draft['id']}", headers=world.customer).json()["submission_id"] == r.json()["id"]


def test_customer_corrects_a_digit_of_an_accepted_draft(world, fake_reader):
    c = world.client
    draft = upload(c, world.customer, world.meter).json()
    r = c.post(draft["confirm_url"], headers=world.customer, json={"value": "00414.676"})
    sub = r.json()
    assert sub["status"] == "in_review"
    assert "changed the read value 00414.670 to 00414.676" in sub["review_reason"]
    r = c.post(f"/api/review/{sub['id']}/approve", headers=world.reviewer)
    assert r.json()["status"] == "approved" and r.json()["value"] == "00414.676"


def test_draft_not_accepted_goes_to_review_even_unchanged(world, fake_reader):
    fake_reader.status, fake_reader.confidence, fake_reader.reason = "needs_review", 0.5, "Digit 6 is unsure."
    draft = upload(world.client, world.customer, world.meter).json()
    assert draft["status"] == "needs_review" and draft["reason"] == "Digit 6 is unsure."
    sub = world.client.post(draft["confirm_url"], headers=world.customer).json()
    assert sub["status"] == "in_review" and "needs_review" in sub["review_reason"]


def test_nothing_read_needs_a_value_to_confirm(world, fake_reader):
    fake_reader.reading, fake_reader.status, fake_reader.images = None, "rejected", False
    draft = upload(world.client, world.customer, world.meter).json()
    assert draft["reading"] is None and draft["crop_url"] is None and draft["debug_url"] is None
    r = world.client.post(draft["confirm_url"], headers=world.customer)
    assert r.status_code == 422 and "value" in r.json()["detail"]
    r = world.client.post(draft["confirm_url"], headers=world.customer, json={"value": "1.5"})
    assert r.status_code == 201 and r.json()["value"] == "00001.500" and r.json()["status"] == "in_review"


def test_recognizer_crash_still_gives_a_draft(world, app):
    from api.deps import get_reader

    def broken(*a, **k):
        raise RuntimeError("model missing")

    app.dependency_overrides[get_reader] = lambda: broken
    r = upload(world.client, world.customer, world.meter)
    assert r.status_code == 201 and r.json()["status"] == "rejected" and r.json()["reading"] is None


def test_registers_are_separate(client, operator, fake_reader):
    acc = client.post("/api/accounts", headers=operator, json={"number": "E-1", "name": "Eve"}).json()["id"]
    meter = make_meter(client, operator, acc, "EL-1", kind="electricity", integer_digits=6, fractional_digits=0,
                       registers=("T1", "T2"))
    make_user(client, operator, "eve@example.org", account_ids=[acc])
    eve = auth(client, "eve@example.org", PASSWORD)
    d0 = (date.today() - timedelta(days=20)).isoformat()
    for reg, value in (("T1", "1000"), ("T2", "500")):
        assert client.post(f"/api/meters/{meter}/readings", headers=eve,
                           json={"value": value, "register": reg, "date": d0}).json()["status"] == "accepted"
    fake_reader.reading = "000600"
    draft = upload(client, eve, meter, register="T2").json()
    assert draft["register"] == "T2" and fake_reader.calls[-1]["previous"] == "000500"
    assert client.post(draft["confirm_url"], headers=eve).json()["status"] == "accepted"
    hist = client.get(f"/api/meters/{meter}/history", headers=eve).json()
    by_reg = {h["register"]: h["readings"] for h in hist["registers"]}
    assert [x["value"] for x in by_reg["T1"]] == ["001000"]
    assert [x["consumption"] for x in by_reg["T2"]] == [None, 100.0]
    r = upload(client, eve, meter, register="T9")
    assert r.status_code == 422 and "T9" in r.json()["detail"]
    only_t2 = client.get(f"/api/meters/{meter}/history?register=T2", headers=eve).json()
    assert [h["register"] for h in only_t2["registers"]] == ["T2"]
