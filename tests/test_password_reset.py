"""Self-service password reset: asking for a link, the emailed link, choosing a new password."""
from __future__ import annotations

import re
from datetime import timedelta

import time_machine
from sqlalchemy import select

from grants.extensions import db
from grants.models import AuditEvent, utcnow
from tests import test_reminders
from tests.conftest import login
from tests.factories import PASSWORD, UserFactory

# The real SMTP server of the reminder tests, and the app configured to send through it.
smtp = test_reminders.smtp
app_config = test_reminders.app_config
NEW_PASSWORD = "a brand new passphrase 2026"


def _text(message) -> str:
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    return part.get_payload(decode=True).decode()


def _link(message) -> str:
    """The path of the reset link in a message (its host checked)."""
    url = re.search(r"(https?://\S+/password/reset/\S+)", _text(message)).group(1)
    assert url.startswith("http://localhost/password/reset/"), url  # BASE_URL of the test config
    return url.removeprefix("http://localhost")


def _ask(client, email: str, **kwargs):
    return client.post("/password/forgot", data={"email": email}, **kwargs)


def _choose(client, path: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    return client.post(path, data={"new_password": password, "confirm_password": password if confirm is None else confirm})


def test_the_sign_in_page_links_to_the_reset(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'href="/password/forgot"' in page and "Forgot your password?" in page


def test_an_account_gets_a_link_and_the_new_password_signs_in(app, client, smtp):
    user = UserFactory(email="dana@example.test", name="Dana <Whitfield>")
    response = _ask(client, " Dana@Example.test ")
    assert response.status_code == 200 and "Check your email" in response.get_data(as_text=True)
    [message] = smtp.messages
    assert message["To"] == "dana@example.test"
    assert "Choose a new password" in message["Subject"]
    html = next(p for p in message.walk() if p.get_content_type() == "text/html").get_payload(decode=True).decode()
    assert "Dana &lt;Whitfield&gt;" in html and "<Whitfield>" not in html  # user text escaped in HTML mail
    assert "60 minutes" in _text(message)
    path = _link(message)
    page = client.get(path)
    assert page.status_code == 200 and "dana@example.test" in page.get_data(as_text=True)
    done = _choose(client, path)
    assert done.status_code == 302 and done.headers["Location"].endswith("/login")
    db.session.refresh(user)
    assert user.must_change_password is False
    login(app.test_client(), "dana@example.test", NEW_PASSWORD)
    refused = app.test_client().post("/login", data={"email": "dana@example.test", "password": PASSWORD})
    assert refused.status_code == 400
    actions = list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("auth.password_reset%"))))
    assert actions == ["auth.password_reset_requested", "auth.password_reset"]


def test_the_answer_does_not_say_whether_an_account_exists(app, client, smtp):
    UserFactory(email="known@example.test")
    UserFactory(email="gone@example.test", active=False)
    pages = [_ask(client, email) for email in ("known@example.test", "nobody@example.test", "gone@example.test")]
    assert {p.status_code for p in pages} == {200}
    bodies = [p.get_data(as_text=True).replace(email, "ADDRESS")
              for p, email in zip(pages, ("known@example.test", "nobody@example.test", "gone@example.test"))]
    assert bodies[0] == bodies[1] == bodies[2]
    assert [m["To"] for m in smtp.messages] == ["known@example.test"]  # none to an unknown or deactivated one


def test_a_link_works_once_and_a_password_change_voids_older_links(app, client, smtp):
    user = UserFactory(email="once@example.test")
    _ask(client, user.email)
    _ask(client, user.email)
    first, second = (_link(m) for m in smtp.messages)
    assert _choose(client, first).status_code == 302
    for path in (first, second):  # used, and sent before the password changed
        page = client.get(path)
        assert page.status_code == 400 and "This link no longer works" in page.get_data(as_text=True)
        assert _choose(client, path, "yet another passphrase 99").status_code == 400
    login(app.test_client(), user.email, NEW_PASSWORD)


def test_a_link_expires(app, client, smtp):
    user = UserFactory(email="late@example.test")
    _ask(client, user.email)
    path = _link(smtp.messages[0])
    with time_machine.travel(utcnow() + timedelta(minutes=59)):
        assert client.get(path).status_code == 200
    with time_machine.travel(utcnow() + timedelta(minutes=61)):
        assert client.get(path).status_code == 400
        assert _choose(client, path).status_code == 400


def test_a_forged_or_altered_link_is_refused(app, client, smtp):
    user = UserFactory(email="forge@example.test")
    other = UserFactory(email="victim@example.test")
    _ask(client, user.email)
    path = _link(smtp.messages[0])
    token = path.rsplit("/", 1)[1]
    payload, rest = token.split(".", 1)
    import base64
    import json
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data["u"] = other.id
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=") + "." + rest
    for bad in (f"/password/reset/{forged}", "/password/reset/not-a-token", path[:-3] + "abc"):
        assert client.get(bad).status_code == 400, bad
        assert _choose(client, bad).status_code == 400
    login(app.test_client(), other.email, PASSWORD)  # the victim's password is unchanged


def test_the_link_points_at_base_url_whatever_host_the_request_named(app, client, smtp):
    UserFactory(email="host@example.test")
    _ask(client, "host@example.test", headers={"Host": "evil.example"})
    _link(smtp.messages[0])  # asserts http://localhost, the configured BASE_URL


def test_bad_input_is_explained_next_to_the_field_and_kept(app, client, smtp):
    page = _ask(client, "not an address")
    assert page.status_code == 400
    body = page.get_data(as_text=True)
    assert "Enter a valid email address." in body and 'value="not an address"' in body
    assert _ask(client, "").status_code == 400
    user = UserFactory(email="rules@example.test")
    _ask(client, user.email)
    path = _link(smtp.messages[0])
    for password, confirm, message in (("short", None, "Use at least 12 characters."),
                                       ("rules and more rules 1", None, "Do not include your email address"),
                                       (NEW_PASSWORD, "something else entirely", "The two passwords do not match.")):
        response = _choose(client, path, password, confirm)
        assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert client.get(path).status_code == 200  # nothing changed: the link still works
    login(app.test_client(), user.email, PASSWORD)


def test_asking_is_throttled_per_address(app, client, smtp):
    user = UserFactory(email="many@example.test")
    for _ in range(app.config["PASSWORD_RESET_MAX_PER_ACCOUNT"]):
        assert _ask(client, user.email).status_code == 200
    refused = _ask(client, user.email)
    assert refused.status_code == 429 and "Too many password reset requests" in refused.get_data(as_text=True)
    assert len(smtp.messages) == app.config["PASSWORD_RESET_MAX_PER_ACCOUNT"]
    with time_machine.travel(utcnow() + timedelta(minutes=app.config["LOGIN_THROTTLE_MINUTES"] + 1)):
        assert _ask(client, user.email).status_code == 200


def test_asking_is_throttled_per_ip_address(app, client, smtp, monkeypatch):
    monkeypatch.setitem(app.config, "PASSWORD_RESET_MAX_PER_IP", 2)
    for n in range(2):
        assert _ask(client, f"someone{n}@example.test").status_code == 200
    assert _ask(client, "someone-else@example.test").status_code == 429


def test_resetting_signs_the_account_out_everywhere(app, smtp):
    user = UserFactory(email="everywhere@example.test")
    elsewhere = login(app.test_client(), user.email, PASSWORD)
    here = login(app.test_client(), user.email, PASSWORD)
    _ask(app.test_client(), user.email)
    assert _choose(here, _link(smtp.messages[0])).status_code == 302
    for client in (elsewhere, here):
        assert client.get("/profile").status_code == 302


def test_a_signed_in_user_is_sent_to_change_the_password_instead(app, smtp):
    user = UserFactory(email="inside@example.test")
    client = login(app.test_client(), user.email, PASSWORD)
    response = client.get("/password/forgot")
    assert response.status_code == 302 and response.headers["Location"].endswith("/profile/password")


def test_a_failure_to_send_is_logged_and_the_answer_is_the_same(app, client, smtp, caplog):
    smtp.fail_with = "451 Try again later"
    UserFactory(email="down@example.test")
    response = _ask(client, "down@example.test")
    assert response.status_code == 200 and "Check your email" in response.get_data(as_text=True)
    assert smtp.messages == [], smtp.messages
    assert "could not send the password reset link" in caplog.text, [r.getMessage() for r in caplog.records]
