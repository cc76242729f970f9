"""Mail: SMTP delivery (aiosmtpd on 127.0.0.1), the outbox without SMTP_HOST, and the bodies."""
from __future__ import annotations

import email
import email.policy
from datetime import timedelta

from grants import mail
from grants.extensions import db
from tests import test_reminders
from tests.factories import OrganizationFactory, UserFactory
from tests.test_reminders import DUE, make_report, scan

# The real SMTP server of the reminder tests, and the app configured to send through it.
smtp = test_reminders.smtp
app_config = test_reminders.app_config


def test_smtp_delivers_plain_text_and_html_alternatives(app, smtp):
    mail.send("someone@example.test", "Subject line", "Plain body\n.\n..dots at line starts", "<p>HTML body</p>")
    [message] = smtp.messages
    assert message["From"] == app.config["MAIL_FROM"] and message["To"] == "someone@example.test"
    assert message.get_content_type() == "multipart/alternative"
    parts = {p.get_content_type(): p.get_payload(decode=True).decode().replace("\r\n", "\n")  # CRLF on the wire
             for p in message.get_payload()}
    assert parts == {"text/plain": "Plain body\n.\n..dots at line starts", "text/html": "<p>HTML body</p>"}


def test_reminder_says_what_is_due_links_to_the_report_and_why_you_receive_it(app, smtp):
    org = OrganizationFactory(legal_name="Cedar <Child> Advocacy & Co")
    UserFactory(role="grantee_certifier", organization=org, email="ao@cedar.test", name="Dana Whitfield")
    report = make_report(org=org, title="<script>alert(1)</script> youth services")
    db.session.commit()
    scan(DUE - timedelta(days=7))
    [message] = smtp.messages
    parts = {p.get_content_type(): p.get_payload(decode=True).decode() for p in message.get_payload()}
    text, html = parts["text/plain"], parts["text/html"]
    link = f"http://localhost/reports/{report.id}"
    for body in (text, html):
        assert "due in 7 days" in body and "FY2026 H1" in body and "Apr 30, 2026" in body and link in body
        assert "Not started" in body
    assert "You receive this because you are an Authorized Official of Cedar <Child> Advocacy & Co" in text
    assert "<script>alert(1)</script>" in text  # plain text is not HTML-escaped
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Cedar &lt;Child&gt; Advocacy &amp; Co" in html
    assert "unsubscribe" not in text.lower()


def test_without_smtp_host_mail_goes_to_the_outbox_as_eml_files(app, smtp, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "SMTP_HOST", "")
    mail.send("someone@example.test", "Über report", "Body", "<p>Body</p>")
    files = list((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 1
    message = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert message["To"] == "someone@example.test" and message["Subject"] == "Über report"
    assert smtp.messages == []


def test_a_refused_message_raises_and_the_next_one_reconnects(app, smtp):
    smtp.fail_with = "451 Try again later"
    with mail.open_mailer() as mailer:
        message = mail.build_message("a@example.test", "S", "T", "<p>H</p>")
        try:
            mailer.send(message)
        except Exception as exc:  # noqa: BLE001
            assert "451" in str(exc)
        else:
            raise AssertionError("the refusal was not raised")
        smtp.fail_with = None
        mailer.send(mail.build_message("a@example.test", "S2", "T", "<p>H</p>"))
    assert [m["Subject"] for m in smtp.messages] == ["S2"]



HEADER_VALUES = [
    "Short subject",
    "FY2026 H1 report for award 90CT1234-01-00 is due in 7 days",
    "A subject long enough that a mail line of seventy-eight characters cannot hold it, so it is folded",
    "Über report with an accent, and long enough that it is folded across more than one line too",
    "Tabs\tand  double  spaces",
    "ends with a space ",
]


def test_the_fast_header_policy_writes_exactly_the_bytes_of_compat32(app):
    """mail.POLICY skips email.header.Header for lines that need no folding; the bytes must be
    the same as the classic policy's for every kind of header, and ASCII lines within 78 characters
    (an encoded word may run longer, as compat32 writes it; SMTP's hard limit is 998)."""
    from email.policy import compat32

    for value in HEADER_VALUES:
        message = mail.build_message("someone.with.a.long.address@example.test", value, "Body\n" * 3,
                                     "<p>Body</p>", {"X-Notification-Id": "12345"},
                                     [mail.Attachment("a.xlsx", "application/octet-stream", b"=_x" * 500)])
        fast, classic = message.as_bytes(policy=mail.POLICY), message.as_bytes(policy=compat32)
        assert fast == classic == mail.message_bytes(message)
        assert message.as_bytes(policy=mail.POLICY.clone(linesep="\r\n")) == mail.message_bytes(message, "\r\n")
        assert max(len(line) for line in fast.split(b"\n")) <= (78 if value.isascii() else 998)


def test_the_boundary_never_occurs_in_the_parts(app):
    message = mail.build_message("a@example.test", "s", "--=_ and =_ in the text", "<p>=_</p>", None,
                                 [mail.Attachment("b.bin", "application/octet-stream", b"=_" * 100)])
    raw = message.as_bytes()
    for boundary in (message.get_boundary(), message.get_payload(0).get_boundary()):
        assert boundary.startswith("=_") and raw.count(f"--{boundary}".encode()) == 3  # two parts each
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed.get_body(("plain",)).get_content() == "--=_ and =_ in the text"
    assert [p.get_content() for p in parsed.iter_attachments()] == [b"=_" * 100]


def test_bodies_survive_quoted_printable_whatever_their_text(app):
    """Long lines, trailing spaces, '=' signs, dots at line starts and non-ASCII text come back
    exactly; every encoded line is within 76 characters."""
    texts = ["x" * 200, "trailing space \nand tab\t\nnext", "a=b =3D ==", ".\n.. dot lines\n.", "Über café – “quotes” 😀",
             "line\r\nwindows\r\n", ""]
    for text in texts:
        message = mail.build_message("a@example.test", "s", text, f"<p>{text}</p>")
        raw = mail.message_bytes(message)
        assert raw == message.as_bytes()
        assert mail.message_bytes(message, "\r\n") == message.as_bytes(policy=mail.POLICY.clone(linesep="\r\n"))
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert parsed.get_body(("plain",)).get_content() == text.replace("\r\n", "\n")
        assert parsed.get_body(("html",)).get_content() == f"<p>{text}</p>".replace("\r\n", "\n")
        assert max(len(line) for line in raw.split(b"\n")) <= 78
