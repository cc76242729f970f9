"""The scheduler process, its jobs, the job lock and the notification ledger.

The scheduler runs only in its own process (`flask --app wsgi schedules run`), never inside
create_app or a web worker: APScheduler's job store must never be shared between schedulers.
"""
