"""The monthly roll-up workbook job: leadership gets the workbook by email (aiosmtpd on 127.0.0.1,
and the outbox without SMTP_HOST), once a month whatever reruns, plus an in-app message."""
from __future__ import annotations

import email
import email.policy
import io
from datetime import date

import openpyxl
from sqlalchemy import select

from grants import mail
from grants.extensions import db
from grants.models import UserMessage
from schedules.jobs import run_job
from tests import test_reminders
from tests.factories import UserFactory
from tests.test_reminders import at, make_report

smtp = test_reminders.smtp
app_config = test_reminders.app_config

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FIRST_OF_DECEMBER = date(2026, 12, 1)  # FY2027 has nothing due yet: the workbook is FY2026's


def leaders() -> list:
    active = [UserFactory(role="leadership", email=f"director{n}@agency.test") for n in (1, 2)]
    UserFactory(role="leadership", email="retired@agency.test", active=False)
    make_report()  # one overdue FY2026 report, so the workbook has a program row
    db.session.commit()
    return active


def run_workbook_job(day: date = FIRST_OF_DECEMBER) -> dict:
    with at(day, hour=7, minute=30):
        run = run_job("rollup-workbook")
    assert run.outcome == "succeeded", run.error
    return run.counts


def attachment_of(message: email.message.Message):
    [part] = [p for p in message.walk() if p.get_content_disposition() == "attachment"]
    return part


def open_workbook(part) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(part.get_payload(decode=True)), read_only=True)


def about(workbook: openpyxl.Workbook) -> dict:
    return {row[0]: row[1] for row in workbook["About"].iter_rows(values_only=True) if row and row[0]}


def test_each_active_leader_gets_the_fiscal_year_workbook_attached(app, smtp):
    leaders()
    counts = run_workbook_job()
    assert (counts["sent"], counts["skipped"], counts["failed"], counts["fiscal_year"]) == (2, 1, 0, 2026)
    assert sorted(m["To"] for m in smtp.messages) == ["director1@agency.test", "director2@agency.test"]
    for message in smtp.messages:
        assert message["Subject"] == "Monthly roll-up workbook, December 2026"
        assert message.get_content_type() == "multipart/mixed"
        part = attachment_of(message)
        assert part.get_content_type() == XLSX and part.get_filename() == "rollup-FY2026-20261201.xlsx"
        workbook = open_workbook(part)
        assert "Summary by program" in workbook.sheetnames
        assert about(workbook)["Fiscal year"] == "FY2026" and about(workbook)["Program"] == "All programs"
        text = next(p for p in message.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
        assert "rollup-FY2026-20261201.xlsx" in text and "http://localhost/dashboard/export.xlsx?fy=2026" in text


def test_each_recipient_gets_an_in_app_message_linking_to_the_dashboard_download(app, smtp):
    directors = leaders()
    run_workbook_job()
    messages = db.session.scalars(select(UserMessage).order_by(UserMessage.user_id)).all()
    assert [m.user_id for m in messages] == [d.id for d in directors]
    assert {(m.subject, m.link) for m in messages} == {
        ("Monthly roll-up workbook, December 2026", "/dashboard/export.xlsx?fy=2026")}


def test_a_rerun_in_the_same_month_sends_nothing_and_next_month_sends_again(app, smtp):
    leaders()
    run_workbook_job()
    again = run_workbook_job(date(2026, 12, 15))
    assert (again["sent"], again["skipped"]) == (0, 3)
    assert len(smtp.messages) == 2
    assert db.session.scalar(select(db.func.count(UserMessage.id))) == 2
    run_workbook_job(date(2027, 1, 1))
    assert [m["Subject"] for m in smtp.messages[2:]] == ["Monthly roll-up workbook, January 2027"] * 2


def test_without_smtp_host_the_outbox_eml_carries_the_workbook(app, smtp, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "SMTP_HOST", "")
    leaders()
    run_workbook_job()
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 2 and smtp.messages == []
    message = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert about(open_workbook(attachment_of(message)))["Fiscal year"] == "FY2026"


def test_a_plain_message_stays_alternative_and_an_attachment_keeps_its_bytes(app, smtp):
    data = b"\x00\x01binary\xff" * 100
    mail.send("a@example.test", "With file", "T", "<p>H</p>", attachments=[mail.Attachment("f.bin", "application/octet-stream", data)])
    mail.send("a@example.test", "Without", "T", "<p>H</p>")
    with_file, without = smtp.messages
    assert attachment_of(with_file).get_payload(decode=True) == data
    assert without.get_content_type() == "multipart/alternative"


def test_run_once_command_runs_the_job(app, smtp):
    leaders()
    with at(FIRST_OF_DECEMBER, hour=8):
        result = app.test_cli_runner().invoke(args=["schedules", "run-once", "rollup-workbook"])
    assert result.exit_code == 0, result.output
    assert "rollup-workbook: succeeded" in result.output and "sent=2" in result.output
    assert len(smtp.messages) == 2
