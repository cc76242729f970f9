"""The JSON API under /api/v1/ (flask-smorest): one blueprint per resource, bearer tokens only.

The OpenAPI 3 document is served by flask-smorest at /api/v1/openapi.json (see config.py).
"""
from __future__ import annotations

from flask import Flask

from grants.extensions import api

PREFIX = "/api/v1"


def _blueprints() -> list:
    from grants.blueprints.api import catalog, grants_api, reports_api, rollups_api

    return [catalog.bp, grants_api.bp, reports_api.bp, rollups_api.bp]


def register(app: Flask) -> None:
    api.spec.components.security_scheme("bearerAuth", {
        "type": "http", "scheme": "bearer",
        "description": "An API token from your profile page or `flask --app wsgi tokens create EMAIL`.",
    })
    for bp in _blueprints():
        api.register_blueprint(bp, url_prefix=PREFIX)
