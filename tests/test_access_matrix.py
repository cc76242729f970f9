"""The access matrix: every route of the app (discovered from app.url_map) called as every role and
as a user of another organization, with ids of objects of the demo grantee's organization.

Each cell states the answer: a refusal code (302 to sign-in for the anonymous web, 401 for the
anonymous API, 403 for a role that never may, 404 for an object the user may not know), or OK,
meaning the request got past every access check (any answer but a refusal or a server error).
A route without an entry fails the test, so every new route must be placed in the matrix.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from grants.extensions import db
from grants.models import ExtensionRequest, Grant, MeasureDefinition, Report, User, UserMessage
from grants.services import api_tokens
from grants.services.calendar_feed import create_feed_token
from tests.access_routes import ACTORS, API_BODIES, EMAILS, MATRIX, OK
from tests.conftest import login


@pytest.fixture
def world(demo):
    """Ids of the demo grantee's objects, a signed-in web client and an API token per actor."""
    def user(email):
        return db.session.scalar(select(User).where(User.email == email))

    certifier = user("grantee@demo.test")
    officer = user("officer@demo.test")
    reports = db.session.scalars(select(Report).join(Grant).where(
        Grant.organization_id == certifier.organization_id, Grant.officer_id == officer.id)).all()
    by_status = {}
    for r in reports:
        by_status.setdefault(r.status, r)
    extension = db.session.scalar(select(ExtensionRequest).join(Report).join(Grant).where(
        Grant.organization_id == certifier.organization_id, ExtensionRequest.status == "pending"))
    message = UserMessage(user_id=certifier.id, subject="Reminder", body="", link="/")
    db.session.add(message)
    token, _ = api_tokens.create_token(certifier, "matrix")
    create_feed_token(certifier)
    db.session.commit()
    ids = {"report": by_status["submitted"].id, "draft": (by_status.get("draft") or by_status["not_started"]).id,
           "accepted": by_status["accepted"].id, "grant": by_status["submitted"].grant_id,
           "community": by_status["submitted"].grant.community_id, "extension": extension.id,
           "message": message.id, "token": token.id, "organization": certifier.organization_id,
           "officer_user": user("officer-b@demo.test").id,
           "program": by_status["submitted"].grant.program_id, "measure": db.session.scalar(select(MeasureDefinition.id)),
           # Admin actions target a user who is not one of the actors (deactivating one would end its session).
           "user": db.session.scalar(select(User.id).where(User.email.like("staff@%")).order_by(User.id))}
    clients, bearer = {"anon": demo.test_client()}, {"anon": None}
    for actor, email in EMAILS.items():
        clients[actor] = login(demo.test_client(), email)
        secret = api_tokens.create_token(user(email), "matrix")[1]
        bearer[actor] = secret
    db.session.commit()
    return ids, clients, bearer


def test_every_route_has_an_entry_in_the_matrix(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint != "static"}
    listed = {name.split("#")[0] for name in MATRIX}
    assert endpoints - listed == set(), "add the new routes to MATRIX"
    assert listed - endpoints == set(), "remove routes that no longer exist from MATRIX"


def test_access_matrix(world):
    ids, clients, bearer = world
    failures = []
    for endpoint, (method, template, expected) in MATRIX.items():
        path = template.format(**ids)
        for actor in ACTORS:
            want = expected[actor]
            if path.startswith("/api/"):
                headers = {"Authorization": f"Bearer {bearer[actor]}"} if bearer[actor] else {}
                if method in ("PATCH", "PUT"):
                    headers["If-Match"] = "*"
                response = clients["anon"].open(path, method=method, headers=headers,
                                                json=API_BODIES.get(endpoint, {}) if method != "GET" else None)
            else:
                response = clients[actor].open(path, method=method, data={})
            got = response.status_code
            if endpoint == "auth.logout" and actor != "anon":
                clients[actor] = login(clients[actor].application.test_client(), EMAILS[actor])
            ok = got not in (401, 403, 404, 405) and got < 500 and not (
                got == 302 and "/login" in response.headers.get("Location", "") and actor != "anon"
                and endpoint not in ("auth.logout",))
            if want == OK and not ok:
                failures.append(f"{endpoint} {method} {path} as {actor}: expected access, got {got}")
            elif want != OK and got != want:
                failures.append(f"{endpoint} {method} {path} as {actor}: expected {want}, got {got}")
            if want == 302 and actor == "anon" and got == 302:
                assert "/login" in response.headers["Location"]
    assert not failures, "\n".join(failures)


def test_every_state_changing_web_route_refuses_a_missing_csrf_token(app_config, demo):
    """With CSRF on (as in production), every POST of the web pages answers 400 without a token."""
    from grants import create_app

    strict = create_app(type("Strict", (app_config,), {"WTF_CSRF_ENABLED": True}))
    client = strict.test_client()
    posts = [rule for rule in strict.url_map.iter_rules()
             if "POST" in rule.methods and not rule.rule.startswith("/api/")]
    assert posts
    for rule in posts:
        path = re.sub(r"<int:\w+>", "1", rule.rule).replace("<name>", "open-periods")
        assert client.post(path, data={}).status_code == 400, path


def test_api_refuses_session_cookies_without_a_token(demo):
    client = login(demo.test_client(), "grantee@demo.test")
    assert client.get("/api/v1/reports").status_code == 401
