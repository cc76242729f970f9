"""What every API blueprint shares: bearer-token sign-in, the rate limit, JSON errors, paging.

The API never looks at the session cookie: the only way in is `Authorization: Bearer <token>`.
Errors always have the shape `{"errors": {...}, "message": "..."}`.
"""
from __future__ import annotations

from functools import wraps
from math import ceil

from flask import current_app, g, jsonify, request
from flask_smorest import Blueprint
from sqlalchemy import func, select
from werkzeug.exceptions import HTTPException

from grants.blueprints.api.schemas import MAX_ID, ApiErrorSchema
from grants.errors import Forbidden, InvalidTransition, NotFound, StaleEdit, ValidationFailed
from grants.extensions import csrf, db
from grants.models import User
from grants.services import api_tokens

ERROR_DESCRIPTIONS = {
    400: "The request could not be read.",
    401: "No valid bearer token.",
    403: "Your role may not do this.",
    404: "Not found, or not yours to see.",
    409: "The report is not in a state that allows this.",
    412: "The report changed since you read it (If-Match does not match the current ETag).",
    422: "Input broke a rule; `errors` names each field.",
    428: "Send If-Match with the ETag you read.",
    429: "Too many requests for this token; wait for Retry-After seconds.",
}
BEARER = {"bearerAuth": []}


class ApiError(Exception):
    """An HTTP error answered in the API's error shape (401, 428, 429)."""

    def __init__(self, status: int, message: str, headers: dict | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def error_response(status: int, message: str, errors: dict | None = None, headers: dict | None = None):
    response = jsonify({"errors": errors or {}, "message": message})
    response.status_code = status
    response.headers.update(headers or {})
    return response


def api_blueprint(name: str, description: str) -> Blueprint:
    """A smorest blueprint with the API's authentication, rate limit and error handlers."""
    bp = Blueprint(name, __name__, description=description)
    csrf.exempt(bp)
    bp.before_request(_authenticate)
    bp.after_request(_no_store)
    for exc_class, status in ((NotFound, 404), (Forbidden, 403), (ValidationFailed, 422),
                              (InvalidTransition, 409), (StaleEdit, 412)):
        bp.register_error_handler(exc_class, _domain_handler(status))
    bp.register_error_handler(ApiError, lambda exc: error_response(exc.status, exc.message, headers=exc.headers))
    bp.register_error_handler(422, _unprocessable)
    bp.register_error_handler(HTTPException, _http_error)
    return bp


def documented(bp: Blueprint, *statuses: int):
    """Document the error responses an operation can give (every one can give 401 and 429)."""

    def decorator(view):
        for status in sorted({401, 429, *statuses}):
            headers = {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}} \
                if status == 429 else None
            view = bp.alt_response(status, schema=ApiErrorSchema, description=ERROR_DESCRIPTIONS[status],
                                   headers=headers)(view)
        return bp.doc(security=[BEARER])(view)

    return decorator


def current_api_user() -> User:
    return g.api_user


def roles(*allowed: str):
    """View decorator: the token's user must have one of the roles (else 403)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if current_api_user().role not in allowed:
                raise Forbidden("Your role may not do this.")
            return view(*args, **kwargs)

        return wrapped

    return decorator


def check_id(value: int) -> int:
    """Ids beyond the database's integer range cannot exist: answer 404 without asking it."""
    if not 1 <= value <= MAX_ID:
        raise NotFound("We could not find that.")
    return value


def paginate(query, page: int, per_page: int) -> tuple[list, dict]:
    """(items, meta) of one page of a select()."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    items = list(db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).unique())
    return items, {"page": page, "per_page": per_page, "total": total, "pages": ceil(total / per_page) if total else 0}


def _authenticate():
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    limit = current_app.config["API_RATE_LIMIT_PER_MINUTE"]
    found = api_tokens.authenticate(secret.strip(), limit) if scheme.lower() == "bearer" else None
    if found is None:
        db.session.rollback()
        raise ApiError(401, "Send a valid API token: Authorization: Bearer <token>. Create one on your profile page.",
                       {"WWW-Authenticate": 'Bearer realm="api"'})
    token, user, decision = found
    db.session.commit()
    g.rate_headers = {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(decision.remaining)}
    if not decision.allowed:
        raise ApiError(429, f"More than {limit} requests in a minute with this token. Try again later.",
                       {"Retry-After": str(decision.retry_after), **g.rate_headers})
    g.api_user = user
    g.api_token = token


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    response.headers.update(getattr(g, "rate_headers", {}))
    return response


def _domain_handler(status: int):
    def handler(exc):
        db.session.rollback()
        return error_response(status, exc.message, exc.errors)

    return handler


def _flatten(messages) -> dict:
    """webargs errors come keyed by location ({'json': {...}, 'query': {...}}): merge them."""
    if not isinstance(messages, dict):
        return {"": messages}
    merged: dict = {}
    for location, errors in messages.items():
        if isinstance(errors, dict):
            merged.update(errors)
        else:
            merged[location] = errors
    return merged


def _unprocessable(exc):
    db.session.rollback()
    data = getattr(exc, "data", None) or {}
    return error_response(422, "The request has problems; `errors` names each field.", _flatten(data.get("messages", {})))


def _http_error(exc: HTTPException):
    db.session.rollback()
    return error_response(exc.code or 500, exc.description or exc.name, headers=dict(getattr(exc, "data", {}) or {}).get("headers"))
