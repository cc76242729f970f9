"""A report's history as its pages show it: every status change and every extension request with
its outcome, oldest first, in one list (the grantee and the officer see the same steps)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from grants.formatting import fmt_date
from grants.models import ExtensionRequest, Report, User
from grants.services import extensions
from grants.services import reports as report_service

OUTCOMES = {"approved": "Extension approved", "denied": "Extension denied", "withdrawn": "Extension request withdrawn"}


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    actor: User | None  # None: the system
    change: str
    version: int | None
    comment: str


def report_history(report: Report) -> list[HistoryEntry]:
    entries = [
        HistoryEntry(t.at, t.actor, f"{report_service.status_label(t.from_status)} → "
                                    f"{report_service.status_label(t.to_status)}",
                     t.version.number if t.version else None, t.comment)
        for t in report_service.history(report)
    ]
    for request in reversed(extensions.requests_for(report)):  # oldest first, as the steps happened
        entries.append(HistoryEntry(request.created_at, request.requested_by,
                                    f"Extension to {fmt_date(request.requested_date)} requested", None, request.reason))
        if request.status != "pending" and request.decided_at is not None:
            entries.append(HistoryEntry(request.decided_at, request.decided_by, _outcome(request), None,
                                        request.decision_reason))
    return sorted(entries, key=lambda entry: entry.at)  # stable: same-instant steps keep their order


def _outcome(request: ExtensionRequest) -> str:
    if request.status == "approved" and request.approved_date:
        return f"{OUTCOMES['approved']}: due {fmt_date(request.approved_date)}"
    return OUTCOMES[request.status]
