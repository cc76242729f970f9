"""Database models: SQLAlchemy 2 typed mappings with constraints in the database."""
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from grants.extensions import db
from grants.measures import cell_key


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


ROLES = ("grantee_editor", "grantee_certifier", "program_officer", "leadership", "admin")
GRANTEE_ROLES = ("grantee_editor", "grantee_certifier")
REPORT_STATUSES = ("not_started", "draft", "submitted", "returned", "accepted", "excused")
VERSION_STATUSES = ("draft", "submitted", "withdrawn", "returned", "accepted", "superseded")
COMMUNITY_TYPES = ("urban", "suburban", "rural", "tribal", "statewide")
GRANT_STATUSES = ("active", "suspended", "closed")
VALUE_TYPES = ("count", "percent", "currency")
NOTIFICATION_STATUSES = ("pending", "sent", "failed", "skipped")
EXTENSION_STATUSES = ("pending", "approved", "denied", "withdrawn")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Organization(db.Model):
    __tablename__ = "organization"
    id: Mapped[int] = mapped_column(primary_key=True)
    legal_name: Mapped[str] = mapped_column(String(200))
    ein: Mapped[str] = mapped_column(String(10), unique=True)
    uei: Mapped[str] = mapped_column(String(12), unique=True)
    address: Mapped[str] = mapped_column(String(300), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    state: Mapped[str] = mapped_column(String(2))
    zip_code: Mapped[str] = mapped_column(String(10), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lock_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": lock_version}

    grants: Mapped[list[Grant]] = relationship(back_populates="organization")
    users: Mapped[list[User]] = relationship(back_populates="organization")


class User(UserMixin, db.Model):
    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint(_in("role", ROLES), name="role"),
        CheckConstraint(
            "(role IN ('grantee_editor', 'grantee_certifier')) = (organization_id IS NOT NULL)",
            name="grantee_has_organization",
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(30))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # True from an invitation or a forced reset until the owner chooses a password from the
    # emailed link (the password meanwhile is a random one nobody knows).
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    calendar_token_digest: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organization: Mapped[Organization | None] = relationship(back_populates="users")

    @property
    def is_active(self) -> bool:  # Flask-Login: deactivated users cannot sign in
        return self.active

    @property
    def is_grantee(self) -> bool:
        return self.role in GRANTEE_ROLES

    def has_role(self, *roles: str) -> bool:
        return self.role in roles


class UserSession(db.Model):
    """A server-side sign-in session: the cookie holds only its random id."""

    __tablename__ = "user_session"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")

    user: Mapped[User] = relationship()


class LoginAttempt(db.Model):
    """Failed and successful sign-ins, counted across all workers for throttling."""

    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_email_at", "email", "at"), Index("ix_login_attempt_ip_at", "ip", "at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    success: Mapped[bool] = mapped_column(Boolean, default=False)


class ApiToken(db.Model):
    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class ApiRateWindow(db.Model):
    """Requests per token per minute window, shared by all workers."""

    __tablename__ = "api_rate_window"
    token_id: Mapped[int] = mapped_column(ForeignKey("api_token.id"), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class Program(db.Model):
    __tablename__ = "program"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    funding_office: Mapped[str] = mapped_column(String(200))
    reporting_frequency: Mapped[str] = mapped_column(String(20), default="semiannual")
    lock_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": lock_version}

    measure_sets: Mapped[list[MeasureSet]] = relationship(back_populates="program", order_by="MeasureSet.version")


class ProgramOfficer(db.Model):
    """Which programs an officer works in (they see every grant of these programs)."""

    __tablename__ = "program_officer"
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)


class MeasureDefinition(db.Model):
    __tablename__ = "measure_definition"
    __table_args__ = (CheckConstraint(_in("value_type", VALUE_TYPES), name="value_type"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    help_text: Mapped[str] = mapped_column(Text, default="")
    value_type: Mapped[str] = mapped_column(String(10))
    # Dimension codes whose categories must each sum to the total (see grants.measures.DIMENSIONS).
    breakdowns: Mapped[list[str]] = mapped_column(JSON, default=list)
    # A dimension whose categories are reported one by one with no total (SRV-01).
    per_category: Mapped[str | None] = mapped_column(String(30))
    point_in_time: Mapped[bool] = mapped_column(Boolean, default=False)
    people_count: Mapped[bool] = mapped_column(Boolean, default=False)
    lock_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": lock_version}


class MeasureSet(db.Model):
    """A versioned list of measures for a program; reports keep the version they were filed on."""

    __tablename__ = "measure_set"
    __table_args__ = (UniqueConstraint("program_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id"))
    version: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[date] = mapped_column(Date)

    program: Mapped[Program] = relationship(back_populates="measure_sets")
    items: Mapped[list[MeasureSetItem]] = relationship(order_by="MeasureSetItem.position", cascade="all, delete-orphan")


class MeasureSetItem(db.Model):
    __tablename__ = "measure_set_item"
    measure_set_id: Mapped[int] = mapped_column(ForeignKey("measure_set.id"), primary_key=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("measure_definition.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)

    measure: Mapped[MeasureDefinition] = relationship(lazy="joined")


class Community(db.Model):
    __tablename__ = "community"
    __table_args__ = (
        UniqueConstraint("name", "state"),
        CheckConstraint(_in("community_type", COMMUNITY_TYPES), name="community_type"),
        CheckConstraint("hhs_region BETWEEN 1 AND 10", name="hhs_region"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(2), index=True)
    community_type: Mapped[str] = mapped_column(String(20))
    hhs_region: Mapped[int] = mapped_column(Integer, index=True)
    lock_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": lock_version}


class Grant(db.Model):
    __tablename__ = "grant_award"
    __table_args__ = (
        CheckConstraint("end_date > start_date", name="period_of_performance"),
        CheckConstraint("award_amount > 0", name="award_amount_positive"),
        CheckConstraint(_in("status", GRANT_STATUSES), name="status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    award_number: Mapped[str] = mapped_column(String(20), unique=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    award_amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    status: Mapped[str] = mapped_column(String(20), default="active")
    lock_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": lock_version}

    program: Mapped[Program] = relationship()
    organization: Mapped[Organization] = relationship(back_populates="grants")
    community: Mapped[Community] = relationship()
    officer: Mapped[User | None] = relationship()
    reports: Mapped[list[Report]] = relationship(back_populates="grant", order_by="Report.period_start")


class Report(db.Model):
    """One report per grant and reporting period; its content lives in versions."""

    __tablename__ = "report"
    __table_args__ = (
        UniqueConstraint("grant_id", "period_start"),
        CheckConstraint(_in("status", REPORT_STATUSES), name="status"),
        CheckConstraint(_in("report_type", ("interim", "final")), name="report_type"),
        CheckConstraint(_in("half", ("H1", "H2")), name="half"),
        CheckConstraint("period_end >= period_start", name="period"),
        CheckConstraint("effective_due_date >= due_date", name="effective_due_date"),
        Index("ix_report_deadline", "deadline_at"),
        Index("ix_report_fy_half", "fiscal_year", "half"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grant_award.id"), index=True)
    fiscal_year: Mapped[int] = mapped_column(Integer)
    half: Mapped[str] = mapped_column(String(2))
    report_type: Mapped[str] = mapped_column(String(10))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    effective_due_date: Mapped[date] = mapped_column(Date)
    # 23:59:59 US Eastern on the effective due date, in UTC: late means submitted after it.
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default="not_started", index=True)
    measure_set_id: Mapped[int] = mapped_column(ForeignKey("measure_set.id"))
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("report_version.id", use_alter=True, name="fk_report_current_version")
    )
    official_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("report_version.id", use_alter=True, name="fk_report_official_version")
    )
    first_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revision_due_date: Mapped[date | None] = mapped_column(Date)
    excused_reason: Mapped[str | None] = mapped_column(Text)
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": lock_version}

    grant: Mapped[Grant] = relationship(back_populates="reports")
    measure_set: Mapped[MeasureSet] = relationship()
    current_version: Mapped[ReportVersion | None] = relationship(foreign_keys=[current_version_id], post_update=True)
    official_version: Mapped[ReportVersion | None] = relationship(foreign_keys=[official_version_id], post_update=True)
    versions: Mapped[list[ReportVersion]] = relationship(
        foreign_keys="ReportVersion.report_id", back_populates="report", order_by="ReportVersion.number"
    )
    transitions: Mapped[list[ReportTransition]] = relationship(order_by="ReportTransition.id")

    @property
    def period_label(self) -> str:
        return f"FY{self.fiscal_year} {self.half}"


class ReportVersion(db.Model):
    """The content of a report as filed; a submitted version is never edited again."""

    __tablename__ = "report_version"
    __table_args__ = (
        UniqueConstraint("report_id", "number"),
        CheckConstraint(_in("status", VERSION_STATUSES), name="status"),
        CheckConstraint("number >= 1", name="number"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    is_amendment: Mapped[bool] = mapped_column(Boolean, default=False)
    amendment_reason: Mapped[str | None] = mapped_column(Text)
    narrative_accomplishments: Mapped[str] = mapped_column(Text, default="")
    narrative_goals_not_met: Mapped[str] = mapped_column(Text, default="")
    narrative_developments: Mapped[str] = mapped_column(Text, default="")
    narrative_next_period: Mapped[str] = mapped_column(Text, default="")
    narrative_cumulative: Mapped[str] = mapped_column(Text, default="")
    # Written explanations of validation warnings, keyed by warning code.
    explanations: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    certified_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    certifier_name: Mapped[str | None] = mapped_column(String(200))
    certifier_title: Mapped[str | None] = mapped_column(String(200))
    certifier_phone: Mapped[str | None] = mapped_column(String(40))
    certifier_email: Mapped[str | None] = mapped_column(String(254))
    certified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": lock_version}

    report: Mapped[Report] = relationship(foreign_keys=[report_id], back_populates="versions")
    values: Mapped[list[ReportValue]] = relationship(cascade="all, delete-orphan", back_populates="version")
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])

    @property
    def is_frozen(self) -> bool:
        return self.status != "draft"


# What grants.measures.cell_key writes, in SQL: the measure code for a total, else
# code.dimension.category (the same text on SQLite and PostgreSQL).
CELL_KEY_SQL = "CASE WHEN dimension = '' THEN measure_code ELSE measure_code || '.' || dimension || '.' || category END"


def _cell_default(context) -> str:
    """report_value.cell of a row being inserted, from its measure, dimension and category."""
    row = context.get_current_parameters()
    return cell_key(row["measure_code"], row.get("dimension") or "", row.get("category") or "")


class ReportValue(db.Model):
    """One cell of a report: a measure total or one breakdown category.

    `raw` keeps exactly what was typed (even when invalid); `value` is the parsed number, or
    NULL when blank or invalid. Roll-ups read `value` of valid cells only.
    """

    __tablename__ = "report_value"
    __table_args__ = (
        UniqueConstraint("version_id", "measure_code", "dimension", "category"),
        CheckConstraint(f"cell = {CELL_KEY_SQL}", name="cell"),
        Index("ix_report_value_measure", "measure_code", "dimension", "category"),
        # Covering: roll-ups read a counted version's valid values from the index alone, without
        # a table lookup per value. It also serves lookups by version (the foreign key).
        Index("ix_report_value_version_cells", "version_id", "measure_code", "dimension", "category", "valid", "value",
              "cell"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("report_version.id"))
    measure_code: Mapped[str] = mapped_column(String(20))
    dimension: Mapped[str] = mapped_column(String(30), default="")
    category: Mapped[str] = mapped_column(String(30), default="")
    raw: Mapped[str] = mapped_column(String(64), default="")
    value: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    valid: Mapped[bool] = mapped_column(Boolean, default=True)
    # The cell's key (grants.measures.cell_key), stored: roll-ups group and name cells by one
    # column, read from the covering index, instead of building the key from three for every
    # value. Written with the row (_cell_default); the database refuses any other text (ck_cell).
    cell: Mapped[str] = mapped_column(String(82), default=_cell_default)

    version: Mapped[ReportVersion] = relationship(back_populates="values")


class ReportTransition(db.Model):
    """Every status change of a report: who, when, from, to, and why."""

    __tablename__ = "report_transition"
    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id"), index=True)
    version_id: Mapped[int | None] = mapped_column(ForeignKey("report_version.id"))
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor: Mapped[User | None] = relationship()
    version: Mapped[ReportVersion | None] = relationship()


class Remark(db.Model):
    __tablename__ = "remark"
    __table_args__ = (CheckConstraint(_in("visibility", ("public", "private")), name="visibility"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id"), index=True)
    version_id: Mapped[int | None] = mapped_column(ForeignKey("report_version.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    visibility: Mapped[str] = mapped_column(String(10), default="public")
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User] = relationship()


class ExtensionRequest(db.Model):
    __tablename__ = "extension_request"
    __table_args__ = (CheckConstraint(_in("status", EXTENSION_STATUSES), name="status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id"), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    requested_date: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_date: Mapped[date | None] = mapped_column(Date)
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": lock_version}

    report: Mapped[Report] = relationship()
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class NotificationLedger(db.Model):
    """Each reminder at most once: the unique key is written before the message is sent."""

    __tablename__ = "notification_ledger"
    __table_args__ = (
        UniqueConstraint("report_id", "kind", "effective_due_date", "recipient_id", name="uq_notification_once"),
        CheckConstraint(_in("status", NOTIFICATION_STATUSES), name="status"),
        Index("ix_notification_status_next", "status", "next_attempt_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    effective_due_date: Mapped[date] = mapped_column(Date)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    recipient_email: Mapped[str] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    reason: Mapped[str] = mapped_column(String(300), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    recipient: Mapped[User] = relationship()
    report: Mapped[Report] = relationship()


class UserMessage(db.Model):
    """An in-app notification shown in the user's list, with read state."""

    __tablename__ = "user_message"
    __table_args__ = (Index("ix_user_message_user_read", "user_id", "read_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(500), default="")
    ledger_id: Mapped[int | None] = mapped_column(ForeignKey("notification_ledger.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class JobLock(db.Model):
    """A lease per job name so that only one scheduler process runs a job at a time."""

    __tablename__ = "job_lock"
    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120), default="")
    acquired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class JobRun(db.Model):
    __tablename__ = "job_run"
    __table_args__ = (
        CheckConstraint(_in("outcome", ("running", "succeeded", "failed", "skipped")), name="outcome"),
        Index("ix_job_run_job_started", "job", "started_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(60))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(10), default="running")
    counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    error: Mapped[str] = mapped_column(Text, default="")
    holder: Mapped[str] = mapped_column(String(120), default="")
    trigger: Mapped[str] = mapped_column(String(20), default="schedule")


class AuditEvent(db.Model):
    """Append-only record of every change to data; database triggers refuse UPDATE and DELETE."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_at", "at"),
        Index("ix_audit_event_entity", "entity_type", "entity_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    actor_label: Mapped[str] = mapped_column(String(254), default="")
    action: Mapped[str] = mapped_column(String(40))
    entity_type: Mapped[str] = mapped_column(String(40), default="")
    entity_id: Mapped[int | None] = mapped_column(Integer)
    grant_id: Mapped[int | None] = mapped_column(Integer, index=True)
    report_id: Mapped[int | None] = mapped_column(Integer, index=True)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ip: Mapped[str] = mapped_column(String(64), default="")
    source: Mapped[str] = mapped_column(String(40), default="web")
