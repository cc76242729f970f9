"""Deadline extensions: the certifier asks, the assigned officer decides; an approval moves the
effective due date, and timeliness follows (overdue -> due soon / extended; a later submission
counts as on time)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from grants.errors import Forbidden, InvalidTransition, StaleEdit, ValidationFailed
from grants.extensions import db
from grants.models import ExtensionRequest, Report
from grants.periods import deadline_instant, timeliness
from grants.services import extensions as extension_service
from grants.services import reports as report_service
from grants.services.portfolio import PortfolioFilters, load_portfolio
from grants.services.timeliness import timeliness_expr
from tests.test_review import TODAY, client_for, file_report, world_in_may

world_fixture = pytest.fixture(name="world")(world_in_may)

OVERDUE = "FY2026 H1"  # due Apr 30, 2026: 15 days overdue on TODAY


def sql_timeliness(report: Report) -> str:
    return db.session.scalar(select(timeliness_expr(TODAY.date())).where(Report.id == report.id))


def ask(app, world, report, requested: date, reason: str = "Our data manager is on leave."):
    return client_for(app, world.certifier).post(f"/reports/{report.id}/extension", data={
        "requested_date": requested.isoformat(), "reason": reason})


def pending_of(report) -> ExtensionRequest | None:
    return db.session.scalar(select(ExtensionRequest).where(ExtensionRequest.report_id == report.id,
                                                            ExtensionRequest.status == "pending"))


def decide(app, user, extension, decision: str, approved_date: date | None = None, reason: str = ""):
    return client_for(app, user).post(f"/extensions/{extension.id}/decide", data={
        "decision-lock_version": str(extension.lock_version), "decision-decision": decision,
        "decision-approved_date": approved_date.isoformat() if approved_date else "", "decision-reason": reason})


# --- Requesting ------------------------------------------------------------------------------


def test_certifier_requests_an_extension_and_the_due_date_is_unchanged_until_approved(app, world):
    report = world.report(OVERDUE)
    response = ask(app, world, report, date(2026, 5, 25))
    assert response.status_code == 302
    extension = pending_of(report)
    assert extension.requested_date == date(2026, 5, 25) and extension.requested_by_id == world.certifier.id
    db.session.expire_all()
    assert report.effective_due_date == date(2026, 4, 30)
    assert "Waiting for the program officer" in client_for(app, world.certifier).get(
        f"/reports/{report.id}/extension").get_data(as_text=True)


def test_only_one_pending_request_per_report(app, world):
    report = world.report(OVERDUE)
    ask(app, world, report, date(2026, 5, 25))
    with pytest.raises(InvalidTransition, match="already waiting"):
        extension_service.request_extension(report, world.certifier, date(2026, 6, 1), "Again.")
    ask(app, world, report, date(2026, 6, 1))
    assert db.session.query(ExtensionRequest).filter_by(report_id=report.id).count() == 1


def test_request_refuses_a_date_not_after_the_current_effective_due_date_and_needs_a_reason(app, world):
    report = world.report(OVERDUE)
    same_day = ask(app, world, report, date(2026, 4, 30))
    assert same_day.status_code == 400
    assert "Choose a date after the current due date, Apr 30, 2026." in same_day.get_data(as_text=True)
    no_reason = ask(app, world, report, date(2026, 5, 30), reason="")
    assert no_reason.status_code == 400
    assert pending_of(report) is None


@pytest.mark.parametrize("status", ["submitted", "accepted", "excused"])
def test_request_is_refused_for_submitted_accepted_or_excused_reports(app, world, status):
    report = world.report(OVERDUE)
    if status == "excused":
        report_service.excuse_report(report, world.officer, "Suspended.")
        db.session.commit()
    else:
        file_report(report, world.certifier)
        if status == "accepted":
            report_service.accept_report(report, world.officer)
            db.session.commit()
    with pytest.raises(InvalidTransition, match="cannot be extended"):
        extension_service.request_extension(report, world.certifier, date(2026, 6, 30), "Late data.")
    ask(app, world, report, date(2026, 6, 30))
    assert pending_of(report) is None


def test_the_report_page_offers_an_extension_only_when_one_can_be_asked_for(app, world):
    report = world.report(OVERDUE)
    page = client_for(app, world.certifier).get(f"/reports/{report.id}")
    assert "Request an extension" in page.get_data(as_text=True)
    file_report(report, world.certifier)
    report_service.return_report(report, world.officer, "Please fix CLI-01.", TODAY.date() + timedelta(days=14))
    db.session.commit()
    assert report.status == "returned"  # being revised, but submitted once: no extension any more
    page = client_for(app, world.certifier).get(f"/reports/{report.id}")
    assert "Request an extension" not in page.get_data(as_text=True)


def test_editors_cannot_request_and_other_organizations_get_404(app, world):
    report = world.report(OVERDUE)
    assert client_for(app, world.editor).get(f"/reports/{report.id}/extension").status_code == 403
    other = client_for(app, world.other_certifier)
    assert other.get(f"/reports/{report.id}/extension").status_code == 404
    assert other.post(f"/reports/{report.id}/extension", data={"requested_date": "2026-06-30",
                                                               "reason": "x"}).status_code == 404
    assert pending_of(report) is None


# --- Withdrawing -----------------------------------------------------------------------------


def withdraw(app, user, extension, lock: int | None = None):
    return client_for(app, user).post(f"/extensions/{extension.id}/withdraw", data={
        "withdraw-lock_version": str(extension.lock_version if lock is None else lock)})


def test_the_certifier_withdraws_a_pending_request_and_can_ask_again(app, world):
    report = world.report(OVERDUE)
    ask(app, world, report, date(2026, 6, 30))
    extension = pending_of(report)
    page = client_for(app, world.certifier).get(f"/reports/{report.id}/extension").get_data(as_text=True)
    assert f'action="/extensions/{extension.id}/withdraw"' in page
    response = withdraw(app, world.certifier, extension)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/reports/{report.id}/extension")
    db.session.expire_all()
    assert extension.status == "withdrawn" and extension.decided_by_id == world.certifier.id
    assert report.effective_due_date == date(2026, 4, 30)  # the due date stays
    page = client_for(app, world.certifier).get(f"/reports/{report.id}/extension").get_data(as_text=True)
    assert f"Withdrawn, by {world.certifier.name}" in page and "Send the request" in page
    # the officer's list no longer offers it, its page says who withdrew it and offers no decision,
    # and a decision on it is refused with who withdrew it
    assert f"/extensions/{extension.id}/decide" not in client_for(app, world.officer).get("/extensions").get_data(
        as_text=True)
    decide_page = client_for(app, world.officer).get(f"/extensions/{extension.id}/decide").get_data(as_text=True)
    assert f"Withdrawn, by {world.certifier.name}" in decide_page and "Save the decision" not in decide_page
    with pytest.raises(InvalidTransition, match=f"already withdrawn: {world.certifier.name} withdrew it"):
        extension_service.decide_extension(extension, world.officer, True, None, "")
    assert ask(app, world, report, date(2026, 7, 15)).status_code == 302
    assert pending_of(report).requested_date == date(2026, 7, 15)


def test_the_officer_is_told_and_the_audit_trail_has_the_withdrawal(app, world):
    from grants.models import AuditEvent, UserMessage

    report = world.report(OVERDUE)
    ask(app, world, report, date(2026, 6, 30))
    extension = pending_of(report)
    withdraw(app, world.certifier, extension)
    subjects = db.session.scalars(select(UserMessage.subject).where(UserMessage.user_id == world.officer.id)).all()
    assert any(s.startswith("Extension request to") and "withdrawn" in s for s in subjects)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "extension.withdrawn",
                                                      AuditEvent.report_id == report.id)) is not None


def test_a_decided_or_stale_request_is_not_withdrawn(app, world):
    report = world.report(OVERDUE)
    ask(app, world, report, date(2026, 6, 30))
    extension = pending_of(report)
    stale = extension.lock_version
    decide(app, world.officer, extension, "deny", reason="The data is due.")
    db.session.expire_all()
    certifier = client_for(app, world.certifier)
    response = certifier.post(f"/extensions/{extension.id}/withdraw", data={"withdraw-lock_version": str(stale)})
    assert response.status_code == 302
    assert f"already denied: {world.officer.name} decided it" in certifier.get(response.headers["Location"]).get_data(
        as_text=True)
    db.session.expire_all()
    assert extension.status == "denied"
    ask(app, world, report, date(2026, 7, 15))
    fresh = pending_of(report)
    with pytest.raises(StaleEdit, match="changed after you opened it"):
        extension_service.withdraw_extension(fresh, world.certifier, expected_lock=fresh.lock_version + 1)


def test_only_the_certifier_of_the_organization_withdraws(app, world):
    report = world.report(OVERDUE)
    ask(app, world, report, date(2026, 6, 30))
    extension = pending_of(report)
    assert withdraw(app, world.editor, extension).status_code == 403
    assert withdraw(app, world.other_certifier, extension).status_code == 404
    assert withdraw(app, world.officer, extension).status_code == 403
    with pytest.raises(Forbidden):
        extension_service.withdraw_extension(extension, world.editor)
    db.session.expire_all()
    assert extension.status == "pending"


# --- Deciding --------------------------------------------------------------------------------


def test_approval_turns_an_overdue_report_into_an_extended_due_soon_one(app, world):
    report = world.report(OVERDUE)
    today = TODAY.date()
    assert sql_timeliness(report) == "overdue"
    ask(app, world, report, date(2026, 5, 25))
    response = decide(app, world.officer, pending_of(report), "approve")
    assert response.status_code == 302
    db.session.expire_all()
    assert report.effective_due_date == date(2026, 5, 25)
    assert report.deadline_at == deadline_instant(date(2026, 5, 25))
    assert report.due_date == date(2026, 4, 30)
    assert sql_timeliness(report) == "due_soon"
    assert timeliness(report.status, report.first_submitted_at, report.effective_due_date, today) == "due_soon"
    rows = load_portfolio(world.officer, PortfolioFilters(fiscal_year=2026, half="H1"), today).page.items
    row = next(r for r in rows if r.report and r.report.id == report.id)
    assert row.status_label == "Extended to May 25, 2026"


def test_a_submission_after_the_original_due_date_but_by_the_extension_counts_on_time(app, world):
    report = world.report(OVERDUE)
    ask(app, world, report, date(2026, 5, 25))
    decide(app, world.officer, pending_of(report), "approve")
    db.session.expire_all()
    file_report(report, world.certifier)  # on TODAY, May 15: after Apr 30, before May 25
    assert sql_timeliness(report) == "submitted_on_time"


def test_officer_may_approve_a_different_date(app, world):
    report = world.report(OVERDUE)
    ask(app, world, report, date(2026, 6, 30))
    decide(app, world.officer, pending_of(report), "approve", approved_date=date(2026, 5, 20))
    db.session.expire_all()
    extension = db.session.scalar(select(ExtensionRequest).where(ExtensionRequest.report_id == report.id))
    assert extension.status == "approved" and extension.approved_date == date(2026, 5, 20)
    assert report.effective_due_date == date(2026, 5, 20)


def test_approved_date_must_be_after_the_current_effective_due_date(app, world):
    report = world.report(OVERDUE)
    ask(app, world, report, date(2026, 6, 30))
    response = decide(app, world.officer, pending_of(report), "approve", approved_date=date(2026, 4, 1))
    assert response.status_code == 400
    db.session.expire_all()
    assert pending_of(report) is not None and report.effective_due_date == date(2026, 4, 30)


def test_denial_needs_a_reason_and_leaves_the_due_date(app, world):
    report = world.report(OVERDUE)
    ask(app, world, report, date(2026, 6, 30))
    extension = pending_of(report)
    assert decide(app, world.officer, extension, "deny").status_code == 400
    assert decide(app, world.officer, extension, "deny", reason="The data were due long ago.").status_code == 302
    db.session.expire_all()
    assert extension.status == "denied" and extension.decision_reason == "The data were due long ago."
    assert report.effective_due_date == date(2026, 4, 30)
    assert sql_timeliness(report) == "overdue"
    assert "The data were due long ago." in client_for(app, world.certifier).get(
        f"/reports/{report.id}/extension").get_data(as_text=True)


def test_a_decided_request_cannot_be_decided_again_and_the_message_says_who(app, world):
    report = world.report(OVERDUE)
    ask(app, world, report, date(2026, 6, 30))
    extension = pending_of(report)
    decide(app, world.officer, extension, "approve")
    db.session.expire_all()
    with pytest.raises(InvalidTransition, match=f"already approved: {world.officer.name} decided it"):
        extension_service.decide_extension(extension, world.officer, False, None, "No.")


def test_only_the_assigned_officer_decides_and_other_programs_get_404(app, world):
    report = world.report(OVERDUE)
    ask(app, world, report, date(2026, 6, 30))
    extension = pending_of(report)
    assert decide(app, world.program_colleague, extension, "approve").status_code == 403
    assert decide(app, world.outsider_officer, extension, "approve").status_code == 404
    assert client_for(app, world.outsider_officer).get(f"/extensions/{extension.id}/decide").status_code == 404
    assert client_for(app, world.certifier).get(f"/extensions/{extension.id}/decide").status_code == 403
    with pytest.raises(Forbidden):
        extension_service.decide_extension(extension, world.program_colleague, True, None, "")
    db.session.expire_all()
    assert extension.status == "pending"


def test_pending_list_shows_requests_of_the_officers_grants_only(app, world):
    report = world.report(OVERDUE)
    ask(app, world, report, date(2026, 6, 30))
    mine = client_for(app, world.officer).get("/extensions").get_data(as_text=True)
    assert f"/extensions/{pending_of(report).id}/decide" in mine
    colleague = client_for(app, world.program_colleague).get("/extensions").get_data(as_text=True)
    assert "No extension request is waiting for you." in colleague


def test_review_page_offers_the_decision_and_the_decision_form_works_from_it(app, world):
    report = world.report(OVERDUE)
    ask(app, world, report, date(2026, 6, 30))
    html = client_for(app, world.officer).get(f"/review/reports/{report.id}").get_data(as_text=True)
    assert f'action="/extensions/{pending_of(report).id}/decide"' in html
    assert "Our data manager is on leave." in html


def test_extension_service_validates_the_requested_date_directly(app, world):
    report = world.report("FY2026 H2")
    with pytest.raises(ValidationFailed) as refused:
        extension_service.request_extension(report, world.certifier, report.due_date - timedelta(days=1), "x")
    assert "requested_date" in refused.value.errors


def test_an_extension_to_a_date_already_past_is_refused_when_asked_and_when_approved(app, world):
    """FY2026 H1 was due Apr 30 and it is May 15: May 10 is after the due date but already past,
    so the report would stay overdue (and its escalations would go at once)."""
    report = world.report(OVERDUE)
    past, later = date(2026, 5, 10), date(2026, 6, 15)
    with pytest.raises(ValidationFailed) as refused:
        extension_service.request_extension(report, world.certifier, past, "Our data manager is on leave.")
    assert "already passed" in refused.value.errors["requested_date"][0]
    extension = extension_service.request_extension(report, world.certifier, later, "Our data manager is on leave.")
    with pytest.raises(ValidationFailed) as refused:
        extension_service.decide_extension(extension, world.officer, True, past, "")
    assert "already passed" in refused.value.errors["approved_date"][0]
    assert report.effective_due_date == date(2026, 4, 30) and extension.status == "pending"
    extension_service.decide_extension(extension, world.officer, True, date(2026, 5, 15), "")
    assert report.effective_due_date == date(2026, 5, 15)  # today is not past


# --- The report's history ---------------------------------------------------------------------


def test_the_report_history_lists_each_request_and_its_outcome_for_grantee_and_officer(app, world):
    from grants.services.history import report_history

    report = world.report(OVERDUE)
    ask(app, world, report, date(2026, 6, 30), reason="Our data manager is on leave.")
    withdraw(app, world.certifier, pending_of(report))
    ask(app, world, report, date(2026, 7, 15), reason="The <b>auditor</b> needs two more weeks.")
    decide(app, world.officer, pending_of(report), "approve", approved_date=date(2026, 7, 10))
    db.session.expire_all()
    changes = [entry.change for entry in report_history(report) if "xtension" in entry.change]
    assert changes == ["Extension to Jun 30, 2026 requested", "Extension request withdrawn",
                       "Extension to Jul 15, 2026 requested", "Extension approved: due Jul 10, 2026"]
    for user, path in ((world.certifier, f"/reports/{report.id}"), (world.officer, f"/review/reports/{report.id}")):
        html = client_for(app, user).get(path).get_data(as_text=True)
        history = html[html.index("History of this report"):]
        assert "Extension approved: due Jul 10, 2026" in history and "Extension request withdrawn" in history
        assert "The &lt;b&gt;auditor&lt;/b&gt; needs two more weeks." in history  # the grantee's words, escaped


def test_a_withdrawal_from_an_altered_page_changes_nothing_and_says_so(app, world):
    report = world.report(OVERDUE)
    ask(app, world, report, date(2026, 6, 30))
    extension = pending_of(report)
    certifier = client_for(app, world.certifier)
    response = certifier.post(f"/extensions/{extension.id}/withdraw", data={})
    assert response.status_code == 302
    assert "The request was not withdrawn" in certifier.get(response.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    assert extension.status == "pending"
