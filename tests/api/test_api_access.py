"""Authentication and who may see or do what."""
from __future__ import annotations

import pytest

from api_helpers import PASSWORD, upload

# every meter-scoped endpoint: (method, path template, request kwargs)
METER_ENDPOINTS = [
    ("GET", "/api/meters/{meter}", {}),
    ("GET", "/api/meters/{meter}/history", {}),
    ("GET", "/api/meters/{meter}/history.csv", {}),
    ("POST", "/api/meters/{meter}/readings", {"json": {"value": "00010.000"}}),
    ("POST", "/api/meters/{meter}/photos", {"photo": True}),
    ("GET", "/api/accounts/{account}", {}),
    ("GET", "/api/accounts/{account}/meters", {}),
]


def _call(world, method, template, kwargs, headers, meter, account):
    path = template.format(meter=meter, account=account)
    if kwargs.get("photo"):
        return upload(world.client, headers, meter)
    return world.client.request(method, path, headers=headers, **kwargs)


@pytest.mark.parametrize("method,template,kwargs", METER_ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in METER_ENDPOINTS])
def test_customer_cannot_touch_another_accounts_meter(world, fake_reader, method, template, kwargs):
    r = _call(world, method, template, kwargs, world.customer, world.other_meter, world.other_account)
    assert r.status_code == 403, r.text
    assert r.json()["detail"]
    # ...while the same call on their own meter works
    r = _call(world, method, template, kwargs, world.customer, world.meter, world.account)
    assert r.status_code in (200, 201), r.text


@pytest.mark.parametrize("method,template,kwargs", METER_ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in METER_ENDPOINTS])
def test_every_endpoint_needs_a_token(world, method, template, kwargs):
    r = _call(world, method, template, kwargs, {}, world.meter, world.account)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    r = _call(world, method, template, kwargs, {"Authorization": "Bearer nope"}, world.meter, world.account)
    assert r.status_code == 401


def test_unknown_meter_is_404(world):
    r = world.client.get("/api/meters/9999", headers=world.customer)
    assert r.status_code == 404 and r.json() == {"detail": "Meter 9999 not found.", "code": "not_found"}


def test_other_customers_drafts_and_submissions_are_private(world, fake_reader):
    c = world.client
    draft = upload(c, world.other_customer, world.other_meter).json()
    sub = c.post(draft["confirm_url"], headers=world.other_customer).json()
    for path in (f"/api/drafts/{draft['id']}", draft["photo_url"], draft["crop_url"], draft["debug_url"],
                 f"/api/submissions/{sub['id']}", f"/api/submissions/{sub['id']}/audit"):
        assert c.get(path, headers=world.customer).status_code == 403, path
        # reviewers and operators may look
        assert c.get(path, headers=world.reviewer).status_code == 200, path
        assert c.get(path, headers=world.operator).status_code == 200, path
    assert c.post(draft["confirm_url"], headers=world.customer, json={"value": "1"}).status_code == 403
    # the customer's lists only hold their own account
    assert [m["id"] for m in c.get("/api/meters", headers=world.customer).json()] == [world.meter]
    assert [a["id"] for a in c.get("/api/accounts", headers=world.customer).json()] == [world.account]


def test_roles(world):
    c = world.client
    for who in (world.customer, world.reviewer):
        assert c.post("/api/accounts", headers=who, json={"number": "X", "name": "X"}).status_code == 403
        assert c.post("/api/meters", headers=who, json={"account_id": world.account, "serial": "S", "kind": "gas",
                                                         "integer_digits": 5}).status_code == 403
        assert c.get("/api/users", headers=who).status_code == 403
    r = c.get("/api/review/queue", headers=world.customer)
    assert r.status_code == 403 and "reviewer" in r.json()["detail"]
    assert c.get("/api/review/queue", headers=world.reviewer).status_code == 200
    # a reviewer reads meters but does not submit readings
    assert c.get(f"/api/meters/{world.meter}", headers=world.reviewer).status_code == 200
    assert c.post(f"/api/meters/{world.meter}/readings", headers=world.reviewer,
                  json={"value": "1"}).status_code == 403
    me = c.get("/api/users/me", headers=world.customer).json()
    assert me["email"] == "ada@example.org" and me["role"] == "customer" and me["account_ids"] == [world.account]


def test_login_and_logout(world):
    c = world.client
    r = c.post("/api/auth/token", data={"username": "ada@example.org", "password": "wrong password"})
    assert r.status_code == 401 and r.json()["detail"] == "Wrong email or password."
    r = c.post("/api/auth/token", data={"username": "nobody@example.org", "password": PASSWORD})
    assert r.status_code == 401
    r = c.post("/api/auth/token", data={"username": "ADA@example.org", "password": PASSWORD})
    assert r.status_code == 200 and r.json()["token_type"] == "bearer"
    headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert c.get("/api/users/me", headers=headers).status_code == 200
    assert c.post("/api/auth/logout", headers=headers).status_code == 204
    assert c.get("/api/users/me", headers=headers).status_code == 401


def test_tokens_are_stored_hashed_and_expire(world, app):
    from datetime import timedelta

    from sqlalchemy import select

    from api.models import ApiToken

    token = world.customer["Authorization"].split()[1]
    with app.state.sessionmaker() as s:
        rows = s.scalars(select(ApiToken)).all()
        assert rows and all(t.token_hash != token and len(t.token_hash) == 64 for t in rows)
        for t in rows:
            t.expires_at = t.expires_at - timedelta(days=365)
        s.commit()
    r = world.client.get("/api/users/me", headers=world.customer)
    assert r.status_code == 401 and "expired" in r.json()["detail"]


def test_operator_manages_people_and_members(world):
    c, op = world.client, world.operator
    r = c.post("/api/users", headers=op, json={"email": "ada@example.org", "password": PASSWORD})
    assert r.status_code == 409
    r = c.post("/api/users", headers=op, json={"email": "x@example.org", "password": "short"})
    assert r.status_code == 422 and "password" in r.json()["detail"]
    r = c.post("/api/accounts", headers=op, json={"number": "ACC-1", "name": "Dup"})
    assert r.status_code == 409
    r = c.post("/api/meters", headers=op, json={"account_id": world.account, "serial": "W-1", "kind": "water",
                                                 "integer_digits": 5})
    assert r.status_code == 409
    r = c.post("/api/meters", headers=op, json={"account_id": world.account, "serial": "Z", "kind": "steam",
                                                 "integer_digits": 5})
    assert r.status_code == 422 and "kind" in r.json()["detail"]
    # Bob joins Ada's account too: he now sees her meter
    bob_id = [u for u in c.get("/api/users", headers=op).json() if u["email"] == "bob@example.org"][0]["id"]
    assert c.get(f"/api/meters/{world.meter}", headers=world.other_customer).status_code == 403
    assert c.post(f"/api/accounts/{world.account}/members", headers=op, json={"user_id": bob_id}).status_code == 204
    assert c.get(f"/api/meters/{world.meter}", headers=world.other_customer).status_code == 200
    # registers can be added
    r = c.post(f"/api/meters/{world.meter}/registers", headers=op, json={"name": "T2"})
    assert r.status_code == 201 and [x["name"] for x in r.json()["registers"]] == ["T1", "T2"]
    assert c.post(f"/api/meters/{world.meter}/registers", headers=op, json={"name": "t2"}).status_code == 409


def test_openapi_docs(client):
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    for p in ("/api/auth/token", "/api/meters/{meter_id}/photos", "/api/drafts/{draft_id}/confirm",
              "/api/review/queue", "/api/review/{submission_id}/approve", "/api/meters/{meter_id}/history.csv",
              "/api/submissions/{submission_id}/audit", "/api/meters/{meter_id}/readings"):
        assert p in paths, p


def test_root_is_the_web_page_or_the_docs(client):
    """`/` is the web pages' home when api/routes/pages.py is there, else a redirect to the API docs."""
    import importlib.util

    r = client.get("/", follow_redirects=False)
    if importlib.util.find_spec("api.routes.pages") is not None:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    else:
        assert r.status_code in (302, 307) and r.headers["location"] == "/docs"
