"""Review queue, decisions, audit trail; idempotent confirms."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

from api.models import AuditEntry, Submission
from api_helpers import count_rows, make_meter, upload


def _in_review(world, fake_reader, value="00414.676", confidence=0.9, meter=None):
    fake_reader.confidence = confidence
    draft = upload(world.client, world.customer, meter or world.meter).json()
    sub = world.client.post(draft["confirm_url"], headers=world.customer, json={"value": value}).json()
    assert sub["status"] == "in_review"
    return sub


def test_reject_reason_is_visible_to_the_customer(world, fake_reader):
    c = world.client
    sub = _in_review(world, fake_reader)
    r = c.post(f"/api/review/{sub['id']}/reject", headers=world.reviewer, json={"reason": ""})
    assert r.status_code == 422
    reason = "The photo shows another meter (serial W-9)."
    r = c.post(f"/api/review/{sub['id']}/reject", headers=world.reviewer, json={"reason": reason})
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert c.get(f"/api/submissions/{sub['id']}", headers=world.customer).json()["reject_reason"] == reason
    row = c.get(f"/api/meters/{world.meter}/history", headers=world.customer).json()["registers"][0]["readings"][0]
    assert row["status"] == "rejected" and row["reject_reason"] == reason and row["counted"] is False
    assert c.post(f"/api/review/{sub['id']}/approve", headers=world.reviewer).status_code == 409


def test_correct_and_audit_trail(world, fake_reader):
    c = world.client
    sub = _in_review(world, fake_reader)
    r = c.post(f"/api/review/{sub['id']}/correct", headers=world.reviewer, json={"value": "414.667", "note": "digit 7 misread"})
    assert r.status_code == 200
    assert r.json()["status"] == "corrected" and r.json()["value"] == "00414.667"
    assert r.json()["submitted_value"] == "00414.676" and r.json()["reviewed_by"] is not None
    audit = c.get(f"/api/submissions/{sub['id']}/audit", headers=world.customer).json()
    assert [a["action"] for a in audit] == ["submitted", "corrected"]
    first, second = audit
    assert (first["old_value"], first["new_value"], first["new_status"]) == ("00414.670", "00414.676", "in_review")
    assert first["user_email"] == "ada@example.org"
    assert (second["old_value"], second["new_value"]) == ("00414.676", "00414.667")
    assert (second["old_status"], second["new_status"]) == ("in_review", "corrected")
    assert second["user_email"] == "rev@example.org" and second["note"] == "digit 7 misread" and second["at"]
    r = c.post(f"/api/review/{sub['id']}/correct", headers=world.reviewer, json={"value": "abc"})
    assert r.status_code == 422
    assert c.post("/api/review/9999/approve", headers=world.reviewer).status_code == 404
    assert c.post(f"/api/review/{sub['id']}/approve", headers=world.customer).status_code == 403


def test_queue_order_and_filters(world, fake_reader, client):
    c = world.client
    a = _in_review(world, fake_reader, confidence=0.8)
    b = _in_review(world, fake_reader, confidence=0.3)
    gas = make_meter(c, world.operator, world.account, "G-1", kind="gas", integer_digits=5, fractional_digits=3)
    g = _in_review(world, fake_reader, confidence=0.6, meter=gas)
    q = lambda qs="": [x["id"] for x in c.get(f"/api/review/queue{qs}", headers=world.reviewer).json()]  # noqa: E731
    assert q() == [a["id"], b["id"], g["id"]]  # oldest first
    assert q("?order=confidence") == [b["id"], g["id"], a["id"]]
    assert q("?kind=gas") == [g["id"]]
    assert q("?max_confidence=0.65") == [b["id"], g["id"]]
    c.post(f"/api/review/{b['id']}/approve", headers=world.reviewer)
    assert q() == [a["id"], g["id"]]
    assert q("?status=approved") == [b["id"]]
    assert q("?status=approved&status=in_review") == [a["id"], b["id"], g["id"]]
    r = c.get("/api/review/queue?status=bogus", headers=world.reviewer)
    assert r.status_code == 422


def test_retried_confirm_creates_one_submission(world, app, fake_reader):
    c = world.client
    draft = upload(c, world.customer, world.meter).json()
    h = {**world.customer, "Idempotency-Key": "3f1c-retry"}
    r1 = c.post(draft["confirm_url"], headers=h, json={"value": "00414.676"})
    r2 = c.post(draft["confirm_url"], headers=h, json={"value": "00414.676"})
    assert r1.status_code == 201 and r2.status_code == 200
    assert r1.json() == r2.json()
    assert count_rows(app, Submission) == 1 and count_rows(app, AuditEntry) == 1
    # confirming the same draft again without the key is a conflict, not a second reading
    r3 = c.post(draft["confirm_url"], headers=world.customer, json={"value": "00414.676"})
    assert r3.status_code == 409 and str(r1.json()["id"]) in r3.json()["detail"]
    # the same key for another draft is a conflict
    other = upload(c, world.customer, world.meter).json()
    r4 = c.post(other["confirm_url"], headers=h)
    assert r4.status_code == 409 and "Idempotency-Key" in r4.json()["detail"]
    assert count_rows(app, Submission) == 1


def test_concurrent_confirms_with_one_key(world, app, fake_reader):
    c = world.client
    for n in range(1, 6):
        draft = upload(c, world.customer, world.meter).json()
        h = {**world.customer, "Idempotency-Key": f"same-key-{n}"}
        with ThreadPoolExecutor(6) as pool:
            results = list(pool.map(lambda _: c.post(draft["confirm_url"], headers=h), range(6)))
        assert all(r.status_code in (200, 201) for r in results), [r.text for r in results]
        assert len({r.json()["id"] for r in results}) == 1
        assert count_rows(app, Submission) == n


def test_manual_entry_and_plausibility(world):
    c = world.client
    day = lambda n: (date.today() - timedelta(days=n)).isoformat()  # noqa: E731
    post = lambda body, **h: c.post(f"/api/meters/{world.meter}/readings", headers={**world.customer, **h}, json=body)  # noqa: E731
    first = post({"value": "00412.100", "date": day(40)}).json()
    assert first["status"] == "accepted" and first["source"] == "manual" and first["draft_id"] is None
    # below the previous reading: review
    low = post({"value": "00400.000", "date": day(30)}).json()
    assert low["status"] == "in_review" and "below the previous reading" in low["review_reason"]
    # implausible consumption per day (> 200 per day): review
    high = post({"value": "09000.000", "date": day(29)}).json()
    assert high["status"] == "in_review" and "per day" in high["review_reason"]
    # plausible: accepted; consumption counts from the last counted reading only
    ok = post({"value": "00420.100", "date": day(20)}).json()
    assert ok["status"] == "accepted"
    rows = c.get(f"/api/meters/{world.meter}/history", headers=world.customer).json()["registers"][0]["readings"]
    assert [(r["value"], r["status"], r["consumption"]) for r in rows] == [
        ("00412.100", "accepted", None), ("00400.000", "in_review", None), ("09000.000", "in_review", None),
        ("00420.100", "accepted", 8.0)]
    assert rows[-1]["days"] == 20 and rows[-1]["per_day"] == 0.4
    # malformed values
    r = post({"value": "12a"})
    assert r.status_code == 422 and "not a meter reading" in r.json()["detail"]
    r = post({"value": "1234567"})
    assert r.status_code == 422 and "5 integer digits" in r.json()["detail"]
    # manual entry is idempotent too
    r1 = post({"value": "00421.000"}, **{"Idempotency-Key": "m-1"})
    r2 = post({"value": "00421.000"}, **{"Idempotency-Key": "m-1"})
    assert r1.status_code == 201 and r2.status_code == 200 and r1.json()["id"] == r2.json()["id"]
    audit = c.get(f"/api/submissions/{r1.json()['id']}/audit", headers=world.customer).json()
    assert [a["action"] for a in audit] == ["entered"]


def test_confirmed_value_is_checked_for_plausibility(world, fake_reader):
    c = world.client
    c.post(f"/api/meters/{world.meter}/readings", headers=world.customer,
           json={"value": "00500.000", "date": (date.today() - timedelta(days=5)).isoformat()})
    fake_reader.reading = "00414.670"  # below the previous: the draft is held back
    draft = upload(c, world.customer, world.meter).json()
    assert draft["status"] == "needs_review" and draft["plausibility"]["ok"] is False
    sub = c.post(draft["confirm_url"], headers=world.customer).json()
    assert sub["status"] == "in_review" and "below the previous reading" in sub["review_reason"]


def test_rollover_from_all_nines(client, operator, world):
    c = world.client
    meter = make_meter(c, operator, world.account, "W-ROLL", integer_digits=5, fractional_digits=3)
    post = lambda v, d: c.post(f"/api/meters/{meter}/readings", headers=world.customer,  # noqa: E731
                               json={"value": v, "date": (date.today() - timedelta(days=d)).isoformat()}).json()
    assert post("99998.500", 10)["status"] == "accepted"
    wrapped = post("00003.000", 0)
    assert wrapped["status"] == "accepted", wrapped
    rows = c.get(f"/api/meters/{meter}/history", headers=world.customer).json()["registers"][0]["readings"]
    assert rows[-1]["consumption"] == 4.5


def test_history_csv(world, fake_reader):
    c = world.client
    c.post(f"/api/meters/{world.meter}/readings", headers=world.customer,
           json={"value": "00412.100", "date": (date.today() - timedelta(days=10)).isoformat()})
    sub = _in_review(world, fake_reader, value="00414.676")
    c.post(f"/api/review/{sub['id']}/reject", headers=world.reviewer, json={"reason": "Blurred, please retake"})
    c.post(f"/api/meters/{world.meter}/readings", headers=world.customer, json={"value": "00415.100"})
    r = c.get(f"/api/meters/{world.meter}/history.csv", headers=world.customer)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [(x["register"], x["value"], x["status"], x["consumption"]) for x in rows] == [
        ("T1", "00412.100", "accepted", ""), ("T1", "00414.676", "rejected", ""), ("T1", "00415.100", "accepted", "3.0")]
    assert rows[1]["reject_reason"] == "Blurred, please retake" and rows[0]["meter_serial"] == "W-1"
    assert rows[2]["source"] == "manual" and rows[1]["source"] == "photo"


def test_idempotency_key_of_a_confirm_cannot_replay_a_manual_entry(world, fake_reader):
    c = world.client
    draft = upload(c, world.customer, world.meter).json()
    h = {**world.customer, "Idempotency-Key": "shared"}
    assert c.post(draft["confirm_url"], headers=h).status_code == 201
    r = c.post(f"/api/meters/{world.meter}/readings", headers=h, json={"value": "00500.000"})
    assert r.status_code == 409


def test_future_dates_are_refused(world, fake_reader):
    future = (date.today() + timedelta(days=5)).isoformat()
    r = world.client.post(f"/api/meters/{world.meter}/readings", headers=world.customer,
                          json={"value": "1", "date": future})
    assert r.status_code == 422 and "future" in r.json()["detail"]
    r = upload(world.client, world.customer, world.meter, photo_date=future)
    assert r.status_code == 422 and "future" in r.json()["detail"]
