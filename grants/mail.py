"""Outgoing mail: SMTP when SMTP_HOST is set, else .eml files in OUTBOX_DIR (instance/outbox/).

SMTP uses STARTTLS whenever the server offers it (implicit TLS on port 465) and logs in when
SMTP_USER is set. One connection is reused for a batch of messages (`open_mailer()`); a failed
send closes it so that the next message starts afresh. Files go as attachments (`Attachment`),
the same way to SMTP and to the outbox.
"""
from __future__ import annotations

import binascii
import smtplib
import ssl
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email import encoders
from email._policybase import Compat32
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.utils import format_datetime, getaddresses, make_msgid, parseaddr
from pathlib import Path

from flask import current_app


class _Policy(Compat32):
    """The classic compat32 policy, except that a header line that needs no folding or encoding
    (ASCII, no line breaks, within the line length) is written as it is. Compat32 sends every
    header through email.header.Header, which returns such a line unchanged at many times the
    cost; for a scan sending thousands of reminders that was a third of the delivery time.
    `tests/test_mail.py` checks the bytes are the same as compat32's."""

    def _fold(self, name, value, sanitize):
        if (type(value) is str and value.isascii() and len(name) + 2 + len(value) <= self.max_line_length
                and "\n" not in value and "\r" not in value):
            return f"{name}: {value}{self.linesep}"
        return super()._fold(name, value, sanitize)


POLICY = _Policy()


def _boundary() -> str:
    """A MIME boundary that cannot occur in the parts: "=_" never appears in quoted-printable
    or base64 text. Set before sending, so the generator need not search the parts for it (it
    compiles a new regular expression for each message to do so)."""
    return f"=_{uuid.uuid4().hex}"


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message: its name as the recipient sees it, MIME type and bytes."""

    filename: str
    content_type: str
    data: bytes


def _text_part(text: str, subtype: str) -> Message:
    """A UTF-8 text part in quoted-printable (readable in the outbox; safe for any 7-bit relay).

    Encoded by binascii's C encoder: the same standard as email.mime.text.MIMEText's, at a third
    of the cost per message."""
    part = Message(policy=POLICY)
    part["Content-Type"] = f'text/{subtype}; charset="utf-8"'
    part["Content-Transfer-Encoding"] = "quoted-printable"
    part.set_payload(binascii.b2a_qp(text.encode(), istext=True).decode("ascii"))
    return part


def build_message(to: str, subject: str, text: str, html: str, headers: dict[str, str] | None = None,
                  attachments: Sequence[Attachment] = ()) -> Message:
    """A multipart/alternative message with plain-text and HTML bodies; with attachments, a
    multipart/mixed message holding that alternative part and then each file (base64).

    Built with the classic email.mime classes (several times faster than EmailMessage) and the
    fast parts and policy above: a scan sends thousands of reminders.
    """
    cfg = current_app.config
    body = MIMEMultipart("alternative", boundary=_boundary(), policy=POLICY)
    body.attach(_text_part(text, "plain"))
    body.attach(_text_part(html, "html"))
    if attachments:
        message = MIMEMultipart("mixed", boundary=_boundary(), policy=POLICY)
        message.attach(body)
        for attachment in attachments:
            part = MIMEBase(*attachment.content_type.split("/", 1), policy=POLICY)
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


def message_bytes(message: Message, linesep: str = "\n") -> bytes:
    """The message as message.as_bytes() would write it (lines ending in `linesep`: CRLF for
    SMTP), for the messages build_message makes (7-bit: quoted-printable and base64 parts,
    encoded headers, preset boundaries), at a fraction of the generator's cost.
    `tests/test_mail.py` checks the bytes are the same."""
    out: list[str] = []
    _flatten(message, message.policy.clone(linesep=linesep).fold, linesep, out)
    return "".join(out).encode("ascii")


def _flatten(message: Message, fold, nl: str, out: list[str]) -> None:
    out.extend(fold(name, value) for name, value in message._headers)  # noqa: SLF001 - as the generator reads them
    out.append(nl)
    if message.is_multipart():
        boundary = message.get_boundary()
        for i, part in enumerate(message.get_payload()):
            out.append(f"{nl}--{boundary}{nl}" if i else f"--{boundary}{nl}")
            _flatten(part, fold, nl, out)
        out.append(f"{nl}--{boundary}--{nl}")
    else:
        payload = message.get_payload()
        if "\r" in payload:
            payload = payload.replace("\r\n", "\n")
        out.append(payload if nl == "\n" else payload.replace("\n", nl))


class OutboxMailer:
    """Writes each message to OUTBOX_DIR as a uniquely named .eml file (development, tests)."""

    def __init__(self, directory: str) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def send(self, message: Message) -> None:
        name = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex}"
        partial = self.directory / f".{name}.tmp"
        partial.write_bytes(message_bytes(message))
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
            recipients = [address for _, address in getaddresses(message.get_all("To", []))]
            self.connection.sendmail(parseaddr(message["From"])[1], recipients, message_bytes(message, "\r\n"))
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
