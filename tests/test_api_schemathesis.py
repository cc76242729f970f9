"""Schemathesis against the OpenAPI document on a live server: no server error and every
response matching the documented schema.

The grantee's token exercises every operation (examples and fuzzing), then the write operations
again with the coverage phase (boundary and invalid inputs); the officer's token the review
actions and roll-ups, which a grantee is refused. Path ids are pinned to real reports and
grants of that user, and If-Match is "*", so generated bodies reach the services instead of
stopping at 404, 412 or 428 (tests/test_api.py covers those answers).
"""
from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.serving import WSGIRequestHandler, make_server

from grants.extensions import db
from grants.models import Grant, Report, User
from grants.services import api_tokens

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:
        return None


@pytest.fixture
def live_server(demo):
    demo.config["API_RATE_LIMIT_PER_MINUTE"] = 100_000
    server = make_server("127.0.0.1", 0, demo, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def _config(user: User, path: Path) -> Path:
    """schemathesis.toml pinning path ids to objects the user may see (and act on)."""
    query = select(Report).join(Grant, Grant.id == Report.grant_id).order_by(Report.id)
    if user.role == "program_officer":
        report = db.session.scalars(query.where(Grant.officer_id == user.id, Report.status == "submitted")).first()
    else:
        report = db.session.scalars(query.where(Grant.organization_id == user.organization_id,
                                                Report.status.in_(("not_started", "draft")))).first()
    lines = [
        "[parameters]",
        f"report_id = {report.id}",
        f"grant_id = {report.grant_id}",
        "",
        "[[operations]]",
        'include-path = "/api/v1/programs/{code}"',
        'parameters = { code = "YCCR" }',
        "",
        "[[operations]]",
        'include-path = "/api/v1/measures/{code}"',
        'parameters = { code = "CLI-01" }',
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.skipif(not SCHEMATHESIS.exists(), reason="schemathesis is not installed in the venv")
@pytest.mark.parametrize(("email", "only", "phases"), [
    ("grantee@demo.test", None, "examples,fuzzing"),
    ("grantee@demo.test", "method:PATCH|PUT|POST", "coverage"),
    ("officer@demo.test", r"/(accept|return|rollups)", "examples,fuzzing"),
])
def test_api_conforms_to_its_openapi_document(live_server, email, only, phases, tmp_path):
    user = _user(email)
    officer = user.role == "program_officer"
    _, token = api_tokens.create_token(user, "schemathesis")
    config = _config(user, tmp_path / "schemathesis.toml")
    db.session.commit()
    db.session.remove()
    command = [
        str(SCHEMATHESIS), "--config-file", str(config), "run", f"{live_server}/api/v1/openapi.json",
        "-H", f"Authorization: Bearer {token}", "-H", "If-Match: *",
        "--checks", "not_a_server_error,response_schema_conformance",
        "--max-examples", "20", "--seed", "2026", "--workers", "1", "--no-shrink",
        "--phases", phases, "--generation-database", "none",
        "--request-timeout", "20", "--no-color", "--report-dir", str(tmp_path),
    ]
    if only and only.startswith("method:"):
        command += ["--include-method-regex", only.removeprefix("method:")]
    elif only:
        command += ["--include-path-regex", only]
    result = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=tmp_path)
    output = result.stdout + result.stderr
    print(output.split("SUMMARY")[-1])  # shown with pytest -s: what ran and what was found
    assert result.returncode == 0, output[-6000:]
    assert "generated" in output and " failed" not in output.split("Test cases:")[-1], output[-3000:]
    if phases != "coverage":
        # The generated requests reached the services: the pinned report was edited or reviewed.
        pinned = db.session.get(Report, int(config.read_text().split("report_id = ")[1].split()[0]))
        assert pinned.status == ("accepted" if officer else "draft"), pinned.status
