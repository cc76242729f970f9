"""The JSON API under /api/v1/ (flask-smorest): one blueprint per resource, bearer tokens only.

The OpenAPI 3 document is served by flask-smorest at /api/v1/openapi.json (see config.py).
"""
from __future__ import annotations

from flask import Flask
from werkzeug.exceptions import MethodNotAllowed

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
    app.register_error_handler(MethodNotAllowed, _method_not_allowed)


def _method_not_allowed(exc: MethodNotAllowed):
    """Raised while routing, before any blueprint: the API's answer in the API's error shape,
    a page's in the site's."""
    from flask import render_template, request

    from grants.blueprints.api.common import error_response

    if request.path.startswith(PREFIX + "/"):
        return error_response(405, f"{request.method} is not allowed here; allowed: {', '.join(exc.valid_methods or [])}.",
                              headers={"Allow": ", ".join(exc.valid_methods or [])})
    return render_template("errors/405.html"), 405
