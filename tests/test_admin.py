"""User administration: the list, creating accounts, deactivation and forced password resets."""
from __future__ import annotations

import email
import re
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import select

from grants.extensions import db
from grants.models import User, UserSession, utcnow
from tests.conftest import login
from tests.factories import PASSWORD
from tests.test_review import client_for, world_in_may

world_fixture = pytest.fixture(name="world")(world_in_may)



def test_user_list_shows_role_organization_active_flag_and_last_sign_in(app, world, admin):
    client_for(app, world.certifier)
    html = client_for(app, admin).get(f"/admin/users?q={world.certifier.email}").get_data(as_text=True)
    assert world.certifier.name in html and "Authorized Official" in html
    assert world.certifier.organization.legal_name in html
    assert "Active" in html and " ET" in html, "last sign-in time is shown"
    officers = client_for(app, admin).get("/admin/users?role=program_officer").get_data(as_text=True)
    assert world.officer.email in officers and world.certifier.email not in officers


def test_only_admins_manage_users(app, world):
    for user in (world.officer, world.certifier):
        client = client_for(app, user)
        assert client.get("/admin/users").status_code == 403
        assert client.post(f"/admin/users/{world.editor.id}/active", data={"active": "0"}).status_code == 403
    db.session.expire_all()
    assert world.editor.active


def _emailed(app, to: str):
    """(subject, plain text, link path) of the one message in the outbox to `to`."""
    [message] = [m for m in map(email.message_from_bytes, (p.read_bytes() for p in Path(app.config["OUTBOX_DIR"]).glob("*.eml")))
                 if m["To"] == to]
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    return message["Subject"], text, re.search(r"http://localhost(/password/reset/\S+)", text).group(1)


def test_admin_creates_a_grantee_who_is_emailed_a_link_to_choose_a_password(app, world, admin):
    client = client_for(app, admin)
    response = client.post("/admin/users/new", data={
        "email": "New.Person@Example.test", "name": "New Person", "role": "grantee_editor",
        "organization_id": str(world.certifier.organization_id), "title": "", "phone": ""})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "We emailed new.person@example.test a link to choose their password" in html and "72 hours" in html
    assert "<code>" not in html  # no password is shown to the administrator
    user = db.session.scalar(select(User).where(User.email == "new.person@example.test"))
    assert user.organization_id == world.certifier.organization_id
    subject, text, link = _emailed(app, "new.person@example.test")
    assert "choose your password" in subject and "An administrator created a Grant Performance Reporting account" in text
    page = app.test_client().get(link).get_data(as_text=True)
    assert "Choose your password" in page and "Welcome, New Person" in page
    with time_machine.travel(utcnow() + timedelta(hours=73)):
        assert app.test_client().get(link).status_code == 400  # an invitation works for 72 hours
    chosen = app.test_client().post(link, data={"new_password": "my own passphrase at last",
                                                "confirm_password": "my own passphrase at last"})
    assert chosen.status_code == 302
    signed_in = login(app.test_client(), "new.person@example.test", "my own passphrase at last")
    assert signed_in.get("/profile").status_code == 200
    db.session.expire_all()
    assert not user.must_change_password


def test_an_account_whose_invitation_could_not_be_sent_says_what_to_do(app, world, admin, monkeypatch):
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", 9)  # nothing listens: the connection is refused
    response = client_for(app, admin).post("/admin/users/new", data={
        "email": "unlucky@example.test", "name": "Un Lucky", "role": "leadership", "organization_id": "0",
        "title": "", "phone": ""})
    assert response.status_code == 200
    assert "could not be sent" in response.get_data(as_text=True) and "Forgot your password?" in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.email == "unlucky@example.test")) is not None


@pytest.mark.parametrize("data, field_error", [
    ({"role": "grantee_editor", "organization_id": "0"}, "Choose the grantee"),
    ({"role": "program_officer", "organization_id": "org"}, "Only grantee staff belong to an organization"),
    ({"role": "admin", "organization_id": "0", "email": "dup"}, "already exists"),
])
def test_create_user_refuses_bad_combinations(app, world, admin, data, field_error):
    data = dict(data)
    if data.get("organization_id") == "org":
        data["organization_id"] = str(world.certifier.organization_id)
    email = world.officer.email.upper() if data.pop("email", None) == "dup" else "someone@example.test"
    response = client_for(app, admin).post("/admin/users/new", data={"email": email, "name": "Some One", **data})
    assert response.status_code == 400
    assert field_error in response.get_data(as_text=True)
    assert db.session.query(User).filter_by(email="someone@example.test").count() == 0


def test_deactivation_signs_the_user_out_and_blocks_sign_in_until_reactivated(app, world, admin):
    victim = client_for(app, world.certifier)
    assert victim.get("/calendar").status_code == 200
    admin_client = client_for(app, admin)
    assert admin_client.post(f"/admin/users/{world.certifier.id}/active", data={"active": "0"}).status_code == 302
    assert victim.get("/calendar").status_code == 302, "the open session no longer works"
    assert app.test_client().post("/login", data={"email": world.certifier.email, "password": PASSWORD}).status_code == 400
    admin_client.post(f"/admin/users/{world.certifier.id}/active", data={"active": "1"})
    login(app.test_client(), world.certifier.email, PASSWORD)


def test_admin_cannot_deactivate_their_own_account(app, world, admin):
    assert client_for(app, admin).post(f"/admin/users/{admin.id}/active", data={"active": "0"}).status_code == 403
    db.session.expire_all()
    assert admin.active


def test_forced_reset_revokes_sessions_stops_the_password_and_emails_a_link(app, world, admin):
    victim = client_for(app, world.officer)
    response = client_for(app, admin).post(f"/admin/users/{world.officer.id}/reset-password", follow_redirects=True)
    assert f"A link to choose a new one was emailed to {world.officer.email}" in response.get_data(as_text=True)
    db.session.expire_all()
    open_sessions = db.session.scalars(select(UserSession).where(UserSession.user_id == world.officer.id,
                                                                 UserSession.revoked_at.is_(None))).all()
    assert open_sessions == []
    assert victim.get("/portfolio").status_code == 302
    # whoever knew the old password (a thief too) can no longer sign in with it
    refused = app.test_client().post("/login", data={"email": world.officer.email, "password": PASSWORD})
    assert refused.status_code == 400
    _, text, link = _emailed(app, world.officer.email)
    assert "An administrator reset the password" in text
    chosen = app.test_client().post(link, data={"new_password": "the officer's new passphrase",
                                                "confirm_password": "the officer's new passphrase"})
    assert chosen.status_code == 302
    login(app.test_client(), world.officer.email, "the officer's new passphrase")
    db.session.expire_all()
    assert not world.officer.must_change_password


def test_forced_reset_says_so_when_the_link_could_not_be_sent(app, world, admin, monkeypatch):
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", 9)  # nothing listens: the connection is refused
    response = client_for(app, admin).post(f"/admin/users/{world.officer.id}/reset-password", follow_redirects=True)
    assert "could not be sent" in response.get_data(as_text=True)
    refused = app.test_client().post("/login", data={"email": world.officer.email, "password": PASSWORD})
    assert refused.status_code == 400  # the reset itself happened


def test_unknown_user_id_is_404(app, world, admin):
    assert client_for(app, admin).post("/admin/users/99999/reset-password").status_code == 404
