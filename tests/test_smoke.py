"""The app starts, migrates, seeds, and answers its health check."""
from tests.conftest import login


def test_healthz_reports_database_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_demo_accounts_can_sign_in(demo):
    for email in ("grantee@demo.test", "editor@demo.test", "other-grantee@demo.test", "officer@demo.test",
                  "leader@demo.test", "admin@demo.test"):
        client = login(demo.test_client(), email)
        assert client.get("/", follow_redirects=False).status_code == 302


def test_wrong_password_is_refused(demo):
    response = demo.test_client().post("/login", data={"email": "grantee@demo.test", "password": "nope"})
    assert response.status_code == 400
    assert "not right" in response.get_data(as_text=True)
