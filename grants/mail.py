"""Outgoing mail: SMTP when SMTP_HOST is set, else .eml files in OUTBOX_DIR (instance/outbox/).

SMTP uses STARTTLS whenever the server offers it (implicit TLS on port 465) and logs in when
SMTP_USER is set. One connection is reused for a batch of messages (`open_mailer()`); a failed
send closes it so that the next message starts afresh. Files go as attachments (`Attachment`),
the same way to SMTP and to the outbox.
"""
from __future__ import annotations

import smtplib
import ssl
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email import encoders
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, make_msgid
from pathlib import Path

from flask import current_app

_UTF8 = Charset("utf-8")
_UTF8.body_encoding = QP  # readable in the outbox; safe for any 7-bit relay


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message: its name as the recipient sees it, MIME type and bytes."""

    filename: str
    content_type: str
    data: bytes


def build_message(to: str, subject: str, text: str, html: str, headers: dict[str, str] | None = None,
                  attachments: Sequence[Attachment] = ()) -> Message:
    """A multipart/alternative message with plain-text and HTML bodies; with attachments, a
    multipart/mixed message holding that alternative part and then each file (base64).

    Built with the classic email.mime classes: several times faster than EmailMessage, which
    matters when a scan sends thousands of reminders.
    """
    cfg = current_app.config
    body = MIMEMultipart("alternative")
    body.attach(MIMEText(text, "plain", _UTF8))
    body.attach(MIMEText(html, "html", _UTF8))
    if attachments:
        message = MIMEMultipart("mixed")
        message.attach(body)
        for attachment in attachments:
            part = MIMEBase(*attachment.content_type.split("/", 1))
            part.set_payload(attachment.data)
            encoders.encode_base64(part)
            part.add_header("Content-Disposition", "attachment", filename=attachment.filename)
            message.attach(part)
    else:
        message = body
    message["From"] = cfg["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject if subject.isascii() else Header(subject, "utf-8")
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=cfg["MAIL_FROM"].rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies
    for name, value in (headers or {}).items():
        message[name] = value
    return message


class OutboxMailer:
    """Writes each message to OUTBOX_DIR as a uniquely named .eml file (development, tests)."""

    def __init__(self, directory: str) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def send(self, message: Message) -> None:
        name = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex}"
        partial = self.directory / f".{name}.tmp"
        partial.write_bytes(message.as_bytes())
        partial.replace(self.directory / f"{name}.eml")  # readers never see half a message

    def close(self) -> None:
        pass


class SmtpMailer:
    """Sends through SMTP, opening the connection on first use and reusing it."""

    def __init__(self, cfg) -> None:
        self.cfg = cfg
        self.connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        cfg = self.cfg
        host, port, timeout = cfg["SMTP_HOST"], int(cfg["SMTP_PORT"]), cfg.get("SMTP_TIMEOUT", 10)
        context = ssl.create_default_context()
        if port == 465:
            connection = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        else:
            connection = smtplib.SMTP(host, port, timeout=timeout)
            connection.ehlo()
            if connection.has_extn("starttls"):
                connection.starttls(context=context)
                connection.ehlo()
        if cfg.get("SMTP_USER"):
            connection.login(cfg["SMTP_USER"], cfg.get("SMTP_PASSWORD", ""))
        return connection

    def send(self, message: Message) -> None:
        try:
            if self.connection is None:
                self.connection = self._connect()
            self.connection.send_message(message)
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.quit()
            except (smtplib.SMTPException, OSError):
                self.connection.close()
            self.connection = None


class open_mailer:  # noqa: N801 - used as a context manager, like open()
    """`with open_mailer() as mailer: mailer.send(message)`: SMTP or the outbox, per the config."""

    def __enter__(self) -> SmtpMailer | OutboxMailer:
        cfg = current_app.config
        self.mailer = SmtpMailer(cfg) if cfg.get("SMTP_HOST") else OutboxMailer(cfg["OUTBOX_DIR"])
        return self.mailer

    def __exit__(self, *exc) -> None:
        self.mailer.close()


def send(to: str, subject: str, text: str, html: str, headers: dict[str, str] | None = None,
         attachments: Sequence[Attachment] = ()) -> None:
    """Send one message now (a new connection each time: prefer open_mailer() for batches)."""
    with open_mailer() as mailer:
        mailer.send(build_message(to, subject, text, html, headers, attachments))
