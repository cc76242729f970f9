"""Domain exceptions raised by services; blueprints map them to responses."""
from __future__ import annotations


class DomainError(Exception):
    """Base class: a message for people and optional per-field errors."""

    def __init__(self, message: str, errors: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class NotFound(DomainError):
    """The object does not exist or the user may not know it exists (answered as 404)."""


class Forbidden(DomainError):
    """The user may see the object but not do this to it."""


class InvalidTransition(DomainError):
    """The report is not in a state that allows the action."""


class ValidationFailed(DomainError):
    """Input broke a rule; `errors` names the fields."""


class StaleEdit(DomainError):
    """Someone else changed the object since it was read (optimistic locking)."""

    def __init__(self, message: str, current: object = None, errors: dict | None = None) -> None:
        super().__init__(message, errors)
        self.current = current


class Throttled(DomainError):
    """Too many attempts; try again later."""
