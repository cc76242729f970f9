"""Admin job page (runs, next run times, Run now), the notification list, and the reminder log
partial for the officer's review page."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from grants.extensions import db
from grants.models import JobRun, NotificationLedger, User, UserMessage
from grants.services import notifications
from schedules import lock
from schedules.jobs import latest_runs
from tests.test_reminders import make_report


def user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def test_admin_sees_every_job_with_its_next_run_time(signed_in):
    page = signed_in("admin@demo.test").get("/admin/jobs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for name in ("deadline-scan", "open-periods", "officer-digest", "leadership-digest", "send-pending"):
        assert name in html
    assert "Daily at 6:00 a.m. Eastern" in html and "scheduler not started yet" in html
    assert "No job has run yet." in html


def test_run_now_runs_the_job_inline_and_lists_the_run(signed_in):
    client = signed_in("admin@demo.test")
    response = client.post("/admin/jobs/officer-digest/run", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "officer-digest finished: failed 0, sent 2, skipped 0." in html
    run = db.session.scalar(select(JobRun).where(JobRun.job == "officer-digest"))
    assert (run.trigger, run.outcome, run.counts["sent"]) == ("manual", "succeeded", 2)
    digest = db.session.scalar(select(UserMessage).where(UserMessage.user_id == user("officer@demo.test").id))
    assert digest.subject.startswith("Your reports for the week of")


def test_the_page_shows_each_jobs_latest_run_from_one_query(signed_in):
    at = datetime(2026, 11, 2, 11, 0, tzinfo=UTC)
    db.session.add_all([
        JobRun(job="deadline-scan", started_at=at, outcome="failed", error="old failure"),
        JobRun(job="deadline-scan", started_at=at + timedelta(days=1), outcome="succeeded", counts={"sent": 7}),
        JobRun(job="open-periods", started_at=at + timedelta(days=2), outcome="skipped", error="Already running"),
        JobRun(job="open-periods", started_at=at + timedelta(days=2), outcome="succeeded", counts={"opened": 3}),
    ])
    db.session.commit()
    last = latest_runs()
    assert (last["deadline-scan"].outcome, last["deadline-scan"].counts) == ("succeeded", {"sent": 7})
    assert last["open-periods"].counts == {"opened": 3}  # same start: the later run
    assert "officer-digest" not in last
    page = signed_in("admin@demo.test").get("/admin/jobs")
    assert page.status_code == 200 and "old failure" in page.get_data(as_text=True)  # still in the run list


def test_run_now_while_the_scheduler_runs_the_job_records_it_as_already_running(signed_in):
    lock.acquire("deadline-scan", "scheduler-host:4242:abc")
    client = signed_in("admin@demo.test")
    html = client.post("/admin/jobs/deadline-scan/run", follow_redirects=True).get_data(as_text=True)
    assert "deadline-scan did not run: Already running" in html and "scheduler-host:4242:abc" in html
    assert db.session.scalar(select(JobRun.outcome).where(JobRun.job == "deadline-scan")) == "skipped"


def test_only_admins_see_or_run_jobs(signed_in):
    client = signed_in("officer@demo.test")
    assert client.get("/admin/jobs").status_code == 403
    assert client.post("/admin/jobs/deadline-scan/run").status_code == 403
    assert db.session.scalar(select(JobRun.id)) is None
    assert signed_in("admin@demo.test").post("/admin/jobs/no-such-job/run").status_code == 404


def _message(email: str, subject: str) -> UserMessage:
    message = UserMessage(user_id=user(email).id, subject=subject, body="Body", link="/reports/1")
    db.session.add(message)
    db.session.commit()
    return message


def test_notification_list_shows_unread_count_and_marks_read(signed_in):
    first = _message("grantee@demo.test", "Report due in 7 days")
    _message("grantee@demo.test", "Report due <today>")
    theirs = _message("other-grantee@demo.test", "Someone else's reminder")
    client = signed_in("grantee@demo.test")
    html = client.get("/notifications").get_data(as_text=True)
    assert "You have 2 unread notifications." in html
    assert "Report due &lt;today&gt;" in html and "Someone else" not in html
    assert client.post(f"/notifications/{first.id}/read").status_code == 302
    assert "You have 1 unread notification." in client.get("/notifications").get_data(as_text=True)
    assert client.post(f"/notifications/{theirs.id}/read").status_code == 404
    db.session.expire_all()
    assert db.session.get(UserMessage, theirs.id).read_at is None
    html = client.post("/notifications/read-all", follow_redirects=True).get_data(as_text=True)
    assert "1 notification marked as read." in html and "You have no unread notifications." in html


def test_reminder_log_partial_shows_each_reminder_and_why(app):
    report = make_report()
    certifier = User(email="ao@example.test", name="A. Official", role="program_officer", password_hash="x")
    db.session.add(certifier)
    db.session.flush()
    rows = [("due_in_7", "sent", "", ""), ("due_in_1", "skipped", "report submitted", ""),
            ("due_today", "failed", "gave up after 5 attempts", "SMTPDataError: 451 <b>busy</b>")]
    for kind, status, reason, error in rows:
        db.session.add(NotificationLedger(report_id=report.id, kind=kind, effective_due_date=date(2026, 4, 30),
                                          recipient_id=certifier.id, recipient_email=certifier.email, status=status,
                                          reason=reason, last_error=error, attempts=5 if error else 1))
    db.session.commit()
    entries = notifications.reminder_log(report)
    assert [e.kind for e in entries] == ["due_in_7", "due_in_1", "due_today"]
    template = app.jinja_env.from_string(
        '{% from "notifications/_report_reminders.html" import reminder_log %}{{ reminder_log(entries) }}')
    html = template.render(entries=entries)
    assert "7 days before the due date" in html and "Sent" in html
    assert "report submitted" in html and "gave up after 5 attempts: SMTPDataError: 451 &lt;b&gt;busy&lt;/b&gt;" in html
    assert "(5 attempts)" in html and "A. Official" in html
