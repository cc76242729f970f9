"""Blueprint registry: one blueprint per domain, each in its own module."""
from __future__ import annotations

import importlib

from flask import Flask

# Module paths of the blueprints; each exposes `bp` (and optionally `register(app)`).
BLUEPRINTS = (
    "grants.blueprints.notifications",
    "grants.blueprints.main",
    "grants.blueprints.api",
    "grants.blueprints.spreadsheet",
    "grants.blueprints.tokens",
    "grants.blueprints.auth",
    "grants.blueprints.reports",
    "grants.blueprints.reviews",
    "grants.blueprints.extensions",
    "grants.blueprints.calendar",
    "grants.blueprints.awards",
    "grants.blueprints.programs",
    "grants.blueprints.admin",
    "grants.blueprints.jobs",
    "grants.blueprints.rollups",
)


def register_all(app: Flask) -> None:
    for path in BLUEPRINTS:
        module = importlib.import_module(path)
        if hasattr(module, "register"):
            module.register(app)
        else:
            app.register_blueprint(module.bp)
