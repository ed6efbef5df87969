"""A customer can neither read nor submit for another account's meter, on every endpoint of the API.

The table below names every (method, path) of the OpenAPI schema: either it reaches a resource of one
account (meter, account, draft, submission) and is tried by Ada on Bob's resource, or it is listed as not
scoped to one account. A new endpoint fails `test_every_endpoint_is_classified` until it is added here.
"""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from api.models import AccountMember, AuditEntry, Draft, MeterRegister, Submission
from api_helpers import count_rows, meter_photo, stored_files, upload


@dataclass(frozen=True)
class Case:
    method: str
    path: str  # OpenAPI path template
    # who may do it on Bob's resources (the positive control): "owner" (Bob), "reviewer" or "operator"
    allowed: str = "owner"
    body: str | None = None  # "reading", "value", "reason", "register", "member", "photo"
    image: str | None = None  # for /api/drafts/{draft_id}/{image}


SCOPED = [
    Case("GET", "/api/accounts/{account_id}"),
    Case("GET", "/api/accounts/{account_id}/meters"),
    Case("POST", "/api/accounts/{account_id}/members", allowed="operator", body="member"),
    Case("GET", "/api/meters/{meter_id}"),
    Case("POST", "/api/meters/{meter_id}/registers", allowed="operator", body="register"),
    Case("POST", "/api/meters/{meter_id}/photos", body="photo"),
    Case("POST", "/api/meters/{meter_id}/readings", body="reading"),
    Case("GET", "/api/meters/{meter_id}/history"),
    Case("GET", "/api/meters/{meter_id}/history.csv"),
    Case("GET", "/api/drafts/{draft_id}"),
    Case("GET", "/api/drafts/{draft_id}/{image}", image="photo"),
    Case("GET", "/api/drafts/{draft_id}/{image}", image="crop"),
    Case("GET", "/api/drafts/{draft_id}/{image}", image="debug"),
    Case("POST", "/api/drafts/{draft_id}/confirm", body="value"),
    Case("GET", "/api/submissions/{submission_id}"),
    Case("GET", "/api/submissions/{submission_id}/audit"),
    Case("POST", "/api/review/{submission_id}/approve", allowed="reviewer"),
    Case("POST", "/api/review/{submission_id}/correct", allowed="reviewer", body="value"),
    Case("POST", "/api/review/{submission_id}/reject", allowed="reviewer", body="reason"),
]

# not about one account's resources; what a customer gets from them is tested in test_api_access.py
UNSCOPED = {
    ("POST", "/api/auth/token"), ("POST", "/api/auth/logout"), ("GET", "/api/users/me"),
    ("GET", "/api/users"), ("POST", "/api/users"),  # operator only
    ("GET", "/api/accounts"), ("GET", "/api/meters"),  # lists: only the customer's own (tested below)
    ("POST", "/api/accounts"), ("POST", "/api/meters"),  # operator only (tested below)
    ("GET", "/api/review/queue"),  # reviewer only
    ("POST", "/api/inbound/email"),  # operator only (the mail gateway): tested in test_api_inbound_mail.py
    ("GET", "/api/health"),
}


def test_every_endpoint_is_classified(app):
    paths = app.openapi()["paths"]
    endpoints = {(m.upper(), p) for p, ops in paths.items() for m in ops}
    classified = {(c.method, c.path) for c in SCOPED} | UNSCOPED
    assert endpoints - classified == set(), "endpoints not covered by the isolation test"
    assert classified - endpoints == set(), "the isolation test names endpoints that do not exist"


@pytest.fixture
def bobs(world, fake_reader) -> dict:
    """Bob's resources: his draft (photo, crop, debug) and a submission waiting for review."""
    c = world.client
    draft = upload(c, world.other_customer, world.other_meter).json()
    sub = c.post(draft["confirm_url"], headers=world.other_customer, json={"value": "00414.676"}).json()
    assert sub["status"] == "in_review"
    fresh = upload(c, world.other_customer, world.other_meter).json()  # not confirmed yet
    return {"account_id": world.other_account, "meter_id": world.other_meter, "draft_id": fresh["id"],
            "submission_id": sub["id"], "confirmed_draft_id": draft["id"]}


def _request(world, case: Case, headers: dict, ids: dict):
    c = world.client
    path = case.path.format(image=case.image or "", **ids)
    if case.body == "photo":  # a photo not stored yet (same bytes would land on the same file)
        return upload(c, headers, ids["meter_id"], meter_photo("00420000", size=(500, 200)))
    json = {
        None: None,
        "reading": {"value": "00420.000"},
        "value": {"value": "00414.700"},
        "reason": {"reason": "Not this meter."},
        "register": {"name": "T7"},
        "member": {"user_id": world.customer_id},
    }[case.body]
    return c.request(case.method, path, headers=headers, json=json)


def _snapshot(app, settings, world) -> tuple:
    c = world.client
    bob_history = c.get(f"/api/meters/{world.other_meter}/history", headers=world.other_customer).json()
    return (
        count_rows(app, Draft), count_rows(app, Submission), count_rows(app, AuditEntry),
        count_rows(app, AccountMember), count_rows(app, MeterRegister), sorted(map(str, stored_files(settings))),
        bob_history,
    )


@pytest.mark.parametrize("case", SCOPED, ids=[f"{c.method} {c.path.replace('{image}', c.image or '{image}')}" for c in SCOPED])
def test_customer_cannot_reach_another_accounts_resources(world, app, settings, bobs, case):
    before = _snapshot(app, settings, world)
    r = _request(world, case, world.customer, bobs)
    assert r.status_code == 403, r.text
    assert r.json()["detail"], r.text
    # nothing was stored or changed: no photo, draft, submission, audit entry, membership or register
    assert _snapshot(app, settings, world) == before
    # Ada still sees none of Bob's meters or accounts in her lists
    c = world.client
    assert [m["id"] for m in c.get("/api/meters", headers=world.customer).json()] == [world.meter]
    assert [a["id"] for a in c.get("/api/accounts", headers=world.customer).json()] == [world.account]
    # the same request is fine for whoever may make it (so the 403 above is about access, not the request)
    who = {"owner": world.other_customer, "reviewer": world.reviewer, "operator": world.operator}[case.allowed]
    r = _request(world, case, who, bobs)
    assert r.status_code in (200, 201, 204), r.text


def test_customer_cannot_create_for_another_account(world):
    c = world.client
    r = c.post("/api/meters", headers=world.customer, json={
        "account_id": world.other_account, "serial": "SNEAK-1", "kind": "water", "integer_digits": 5})
    assert r.status_code == 403
    r = c.post("/api/accounts", headers=world.customer, json={"number": "SNEAK", "name": "Sneak"})
    assert r.status_code == 403
    r = c.post("/api/users", headers=world.customer, json={
        "email": "sneak@example.org", "password": "long enough pw", "account_ids": [world.other_account]})
    assert r.status_code == 403
    assert c.get("/api/users", headers=world.customer).status_code == 403
    assert c.get("/api/review/queue", headers=world.customer).status_code == 403
    assert [m["serial"] for m in c.get("/api/meters", headers=world.operator).json()] == ["W-1", "W-2"]
