"""Configuration classes: every setting comes from the environment."""
from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_PATH", BASE_DIR / "instance"))


def _default_database_url() -> str:
    return f"sqlite:///{INSTANCE_DIR / 'grants.sqlite'}"


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


class Config:
    """Development defaults; each value can be overridden from the environment."""

    ENV_NAME = "development"
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-secret-key-change-me")
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or _default_database_url()
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    INSTANCE_PATH = str(INSTANCE_DIR)
    APP_TIMEZONE = os.environ.get("APP_TIMEZONE", "America/New_York")
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000")

    SMTP_HOST = os.environ.get("SMTP_HOST", "")
    SMTP_PORT = _int("SMTP_PORT", 25)
    SMTP_USER = os.environ.get("SMTP_USER", "")
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD", "")
    SMTP_TIMEOUT = _int("SMTP_TIMEOUT", 10)
    MAIL_FROM = os.environ.get("MAIL_FROM", "ppr-noreply@grants.example.gov")
    OUTBOX_DIR = os.environ.get("OUTBOX_DIR", str(INSTANCE_DIR / "outbox"))

    # Survivor privacy: people counts from 1 to this value are shown as a range in roll-ups.
    SUPPRESSION_THRESHOLD = _int("SUPPRESSION_THRESHOLD", 10)
    DUE_SOON_DAYS = 14

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    SESSION_IDLE_MINUTES = _int("SESSION_IDLE_MINUTES", 30)
    SESSION_MAX_HOURS = _int("SESSION_MAX_HOURS", 12)
    LOGIN_MAX_FAILURES_PER_ACCOUNT = _int("LOGIN_MAX_FAILURES_PER_ACCOUNT", 5)
    LOGIN_MAX_FAILURES_PER_IP = _int("LOGIN_MAX_FAILURES_PER_IP", 20)
    LOGIN_THROTTLE_MINUTES = _int("LOGIN_THROTTLE_MINUTES", 15)
    PASSWORD_RESET_LINK_MINUTES = _int("PASSWORD_RESET_LINK_MINUTES", 60)
    PASSWORD_INVITE_LINK_HOURS = _int("PASSWORD_INVITE_LINK_HOURS", 72)  # a new account's invitation
    PASSWORD_RESET_MAX_PER_ACCOUNT = _int("PASSWORD_RESET_MAX_PER_ACCOUNT", 3)  # links asked for per throttle window
    PASSWORD_RESET_MAX_PER_IP = _int("PASSWORD_RESET_MAX_PER_IP", 20)
    WTF_CSRF_TIME_LIMIT = None

    MAX_CONTENT_LENGTH = 5 * 1024 * 1024
    UPLOAD_MAX_BYTES = 2 * 1024 * 1024
    API_RATE_LIMIT_PER_MINUTE = _int("API_RATE_LIMIT_PER_MINUTE", 120)

    API_TITLE = "Grant Performance Reporting API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"

    SCHEDULER_ENABLED_JOBS = os.environ.get("SCHEDULER_JOBS", "")
    # Scrypt work factor (OWASP: N=2^17, r=8, p=1).
    PASSWORD_SCRYPT_N = 2**17
    TESTING = False


class TestConfig(Config):
    """Used by the test suite: its own database, fast password hashing, no CSRF by default."""

    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "test-secret-key"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    WTF_CSRF_ENABLED = False
    PASSWORD_SCRYPT_N = 2**12
    BASE_URL = "http://localhost"
    LOGIN_MAX_FAILURES_PER_IP = 1000


class ProductionConfig(Config):
    """Production: a real secret key is required and cookies are Secure."""

    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True

    def __init__(self) -> None:
        if not os.environ.get("SECRET_KEY"):
            raise RuntimeError("SECRET_KEY must be set in production")
        self.SECRET_KEY = os.environ["SECRET_KEY"]


def config_from_environment() -> type[Config] | Config:
    """The config wsgi.py uses: APP_ENV=production selects ProductionConfig."""
    if os.environ.get("APP_ENV") == "production":
        return ProductionConfig()
    return Config
