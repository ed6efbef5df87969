"""Readings by e-mail: the mail gateway posts a customer's message; the photo is read and submitted."""
from __future__ import annotations

from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest

from api.models import Draft, Submission
from api_helpers import count_rows, make_meter, meter_photo, stored_files

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n"
URL = "/api/inbound/email"


AUTHSERV = "mx.supplier.example"
VERIFIED = f"{AUTHSERV}; dkim=pass header.d=example.org; spf=pass smtp.mailfrom=example.org"


@pytest.fixture
def settings(settings):
    return settings.with_(max_mail_bytes=600_000, mail_authserv_id=AUTHSERV)


def mail(*attachments, sender="Ada <ADA@example.org>", subject="meter reading", body="Here is my meter.",
         sent: datetime | None = None, message_id: str | None = None, auth: str | None = VERIFIED) -> bytes:
    msg = EmailMessage()
    if auth:
        msg["Authentication-Results"] = auth
    msg["From"] = sender
    msg["To"] = "readings@supplier.example"
    msg["Subject"] = subject
    msg["Message-ID"] = message_id or make_msgid(domain="example.org")
    if sent is not None:
        msg["Date"] = format_datetime(sent)
    msg.set_content(body)
    for data, mime, name in attachments or ((meter_photo(), "image/jpeg", "IMG_0001.jpg"),):
        maintype, subtype = mime.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes()


def post(world, raw: bytes, headers=None):
    return world.client.post(URL, content=raw, headers={**(headers or world.operator), "Content-Type": "message/rfc822"})


def test_a_sure_read_is_submitted_for_the_senders_only_meter(world, fake_reader):
    r = post(world, mail(sent=datetime(2026, 11, 30, 18, 5, tzinfo=timezone.utc)))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "accepted" and body["meter_id"] == world.meter and body["meter_serial"] == "W-1"
    sub = body["submission"]
    assert sub["source"] == "email" and sub["value"] == "00414.670" and sub["status"] == "accepted"
    assert sub["user_id"] == world.customer_id and sub["reading_date"] == "2026-11-30"  # the day it was sent
    assert body["draft"]["submission_id"] == sub["id"] and body["draft"]["crop_url"]
    assert "00414.670" in body["message"] and "W-1" in body["message"]
    # the customer sees it in their history like any other reading
    hist = world.client.get(f"/api/meters/{world.meter}/history", headers=world.customer).json()
    rows = [row for reg in hist["registers"] for row in reg["readings"]]
    assert [(row["submission_id"], row["source"], row["counted"]) for row in rows] == [(sub["id"], "email", True)]


def test_the_same_message_posted_again_makes_nothing_new(world, app, fake_reader):
    raw = mail(message_id="<retry-1@example.org>")
    first = post(world, raw)
    assert first.status_code == 201
    again = post(world, raw)
    assert again.status_code == 200 and again.json()["replayed"] is True
    assert again.json()["submission"]["id"] == first.json()["submission"]["id"]
    assert count_rows(app, Submission) == 1 and count_rows(app, Draft) == 1 and len(fake_reader.calls) == 1


def test_an_unsure_read_waits_for_a_reviewer(world, fake_reader):
    fake_reader.status, fake_reader.confidence, fake_reader.reason = "needs_review", 0.4, "Not sure of the reading."
    body = post(world, mail()).json()
    assert body["status"] == "in_review" and body["submission"]["status"] == "in_review"
    assert "check" in body["message"] and "Not sure of the reading." in body["message"]  # the customer-facing reason
    queue = world.client.get("/api/review/queue", headers=world.reviewer).json()
    assert [q["id"] for q in queue] == [body["submission"]["id"]] and queue[0]["source"] == "email"


def test_nothing_read_keeps_the_draft_and_asks_for_the_value(world, app, fake_reader):
    fake_reader.reading, fake_reader.status, fake_reader.reason = None, "rejected", "No digit window was found."
    r = post(world, mail())
    assert r.status_code == 201
    body = r.json()
    assert body["status"] == "not_read" and body["submission"] is None and body["draft"]["status"] == "rejected"
    assert "No digit window was found." in body["message"]
    assert count_rows(app, Submission) == 0 and count_rows(app, Draft) == 1


@pytest.mark.parametrize("auth", [
    None,  # no result at all
    f"{AUTHSERV}; dkim=fail header.d=example.org; spf=softfail",  # our server checked: it failed
    "mx.attacker.example; dkim=pass header.d=example.org",  # a header that came with the message
])
def test_a_sender_our_mail_server_did_not_vouch_for_goes_to_review(world, fake_reader, auth):
    body = post(world, mail(auth=auth)).json()
    assert body["status"] == "in_review" and body["submission"]["status"] == "in_review"
    assert "not verified" in body["submission"]["review_reason"]


def test_the_meter_is_the_one_named_in_the_subject_when_the_customer_has_several(world, fake_reader):
    second = make_meter(world.client, world.operator, world.account, "GAS-77", kind="gas")
    r = post(world, mail(subject="meter reading"))
    assert r.status_code == 422 and r.json()["code"] == "which_meter" and "GAS-77" in r.json()["detail"]
    r = post(world, mail(subject="Reading for meter gas-77, December"))
    assert r.status_code == 201 and r.json()["meter_id"] == second
    r = post(world, mail(subject="December", body="The meter is W-1, photo attached."))
    assert r.status_code == 201 and r.json()["meter_id"] == world.meter


def test_the_surest_of_several_photos_is_submitted_and_bad_attachments_are_listed(world, fake_reader):
    r = post(world, mail((PDF, "application/octet-stream", "scan.jpg"), (meter_photo(), "image/jpeg", "meter.jpg")))
    assert r.status_code == 201
    body = r.json()
    assert body["status"] == "accepted"
    assert body["skipped"] == [{"name": "scan.jpg", "code": "not_an_image", "reason": body["skipped"][0]["reason"]}]
    assert body["skipped"][0]["reason"]


@pytest.mark.parametrize("case,status,code", [
    ("unknown sender", 422, "unknown_sender"),
    ("reviewer as sender", 422, "unknown_sender"),
    ("no photo", 422, "no_photo"),
    ("only a pdf named jpg", 415, "not_an_image"),
    ("empty body", 422, "empty"),
    ("not a message", 422, "not_a_message"),
    ("message too large", 413, "too_large"),
])
def test_bad_messages_are_refused_and_nothing_is_stored(world, app, settings, fake_reader, case, status, code):
    raw = {
        "unknown sender": lambda: mail(sender="stranger@example.net"),
        "reviewer as sender": lambda: mail(sender="rev@example.org"),
        "no photo": lambda: mail((PDF, "application/pdf", "bill.pdf")),
        "only a pdf named jpg": lambda: mail((PDF, "application/octet-stream", "meter.jpg")),
        "empty body": lambda: b"",
        "not a message": lambda: meter_photo()[:3000],
        "message too large": lambda: mail((b"\xff\xd8" + b"\0" * 700_000, "image/jpeg", "huge.jpg")),
    }[case]()
    r = post(world, raw)
    assert r.status_code == status, r.text
    assert r.json()["code"] == code and r.json()["detail"]
    assert count_rows(app, Submission) == 0 and count_rows(app, Draft) == 0
    assert stored_files(settings) == []


def test_only_an_operator_may_post_messages(world, fake_reader):
    assert post(world, mail(), headers=world.customer).status_code == 403
    assert world.client.post(URL, content=mail(), headers={"Content-Type": "message/rfc822"}).status_code == 401
