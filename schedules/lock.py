"""The job lock: a lease per job name in the job_lock table, shared by every process.

Acquiring is one atomic UPDATE ... WHERE name = :job AND (expires_at IS NULL OR expires_at < now
OR holder = :me); on first use there is no row yet, so an INSERT ... ON CONFLICT DO NOTHING
creates it, and when two processes race to create it the unique key lets exactly one win. A run
renews its lease at safe points (`Lease.keep_alive`, between committed steps), so a long run keeps
the lock while a crashed one loses it when the lease expires. Every statement runs in the
session and commits at once: callers use the lock only between their own transactions.
"""
from __future__ import annotations

import os
import socket
import time
import uuid
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from grants.extensions import db, insert_ignoring_conflicts
from grants.models import JobLock, utcnow

LEASE = timedelta(minutes=5)
RENEW_EVERY_SECONDS = 60


class LockLost(RuntimeError):
    """The lease expired and another process took the lock: the run must stop."""


def new_holder() -> str:
    """A holder id unique to one run: host, process, and a random part."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


class Lease:
    """A held lock: renew it at safe points, release it at the end."""

    def __init__(self, name: str, holder: str, lease: timedelta = LEASE) -> None:
        self.name, self.holder, self.lease = name, holder, lease
        self._renewed = time.monotonic()

    def keep_alive(self) -> None:
        """Renew the lease when a minute has passed since the last renewal (call between commits)."""
        if time.monotonic() - self._renewed >= RENEW_EVERY_SECONDS:
            self.renew()

    def renew(self) -> None:
        now = utcnow()
        changed = db.session.execute(
            update(JobLock).where(JobLock.name == self.name, JobLock.holder == self.holder)
            .values(expires_at=now + self.lease)
        ).rowcount
        db.session.commit()
        if changed != 1:
            raise LockLost(f"The lock of {self.name} was taken over by another process.")
        self._renewed = time.monotonic()

    def release(self) -> None:
        db.session.execute(
            update(JobLock).where(JobLock.name == self.name, JobLock.holder == self.holder)
            .values(holder="", expires_at=None)
        )
        db.session.commit()


def acquire(name: str, holder: str | None = None, lease: timedelta = LEASE, now: datetime | None = None) -> Lease | None:
    """Take the lock of a job, or None when another live holder has it."""
    holder = holder or new_holder()
    now = now or utcnow()
    values = {"holder": holder, "acquired_at": now, "expires_at": now + lease}
    taken = db.session.execute(
        update(JobLock).where(
            JobLock.name == name,
            or_(JobLock.expires_at.is_(None), JobLock.expires_at < now, JobLock.holder == holder),
        ).values(**values)
    ).rowcount
    if taken != 1:
        inserted = insert_ignoring_conflicts(JobLock).values(name=name, **values).returning(JobLock.__table__.c.name)
        taken = len(db.session.execute(inserted).all())
    db.session.commit()
    return Lease(name, holder, lease) if taken == 1 else None


def current_holder(name: str) -> JobLock | None:
    """The lock row when someone holds it now (for 'already running' messages)."""
    row = db.session.scalar(select(JobLock).where(JobLock.name == name))
    if row is None or not row.holder or row.expires_at is None or row.expires_at < utcnow():
        return None
    return row
