"""Sending one email over an open SMTP connection, and saying what a failure means.

Generic: the weekly nudge uses it, and so can any message that must go out once (a cohort's
message to its members). The caller owns the connection (one per batch, reused) and the
delivery row (`nudges.outbox`).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import email.message
import re
import secrets
import smtplib
import socket
from dataclasses import dataclass
from email.utils import formatdate
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import BadHeaderError, EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.core.mail.message import forbid_multi_line_headers, sanitize_address

SENT = "sent"
TRANSIENT = "transient"
PERMANENT = "permanent"


@dataclass(frozen=True)
class Outcome:
    kind: str  # SENT, TRANSIENT or PERMANENT
    error: str = ""
    code: int | None = None
    # The recipient's address was refused for good: send nothing more to it.
    bad_address: bool = False
    # The connection is gone (or never came): later messages of the batch cannot go either.
    connection_lost: bool = False

    @property
    def sent(self) -> bool:
        return self.kind == SENT


def site_domain() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def message_id(*, kind: str, key: str) -> str:
    """A Message-ID that is the same for every attempt at the same message, so a resend after
    a crash between sending and recording it is recognisable downstream."""
    return f"<{kind}.{key}@{site_domain()}>"


@dataclass(frozen=True)
class PreparedEmail:
    """One message ready for the wire: the envelope, the headers and the MIME bytes (with
    `\n` line ends), written directly rather than through the email package's generator:
    the same headers and parts for a fraction of the cost (the weekly nudge builds thousands
    a minute). `as_django()` hands the same bytes to any Django email backend."""

    envelope_from: str
    recipient: str  # the envelope recipient (the To address, IDNA-encoded when needed)
    headers: tuple[tuple[str, str], ...]
    raw: bytes
    subject: str
    text: str
    html: str

    def wire(self) -> bytes:
        """The message as SMTP carries it: CRLF line ends (smtplib dot-stuffs it)."""
        return self.raw.replace(b"\n", b"\r\n")

    def as_django(self) -> EmailMultiAlternatives:
        return _DjangoPrepared(self)


class _PreparedMIME(email.message.Message):
    """What `EmailMessage.message()` returns for a prepared email: its headers (for code that
    reads `message["Subject"]`) and its bytes, unchanged."""

    def __init__(self, prepared: PreparedEmail):
        super().__init__()
        self._headers = list(prepared.headers)
        self._raw = prepared.raw

    def as_bytes(self, unixfrom=False, policy=None, linesep="\n") -> bytes:
        return self._raw if linesep == "\n" else self._raw.replace(b"\n", linesep.encode())

    def as_string(self, unixfrom=False, maxheaderlen=0, policy=None, linesep="\n") -> str:
        return self.as_bytes(linesep=linesep).decode("utf-8")

    __bytes__ = as_bytes
    __str__ = as_string


class _DjangoPrepared(EmailMultiAlternatives):
    """A prepared email for Django's backends (console in development, locmem in tests, any
    other configured one): the usual attributes, and `message()` gives the prepared bytes."""

    def __init__(self, prepared: PreparedEmail):
        super().__init__(
            subject=prepared.subject,
            body=prepared.text,
            from_email=prepared.envelope_from,
            to=[prepared.recipient],
            headers=dict(prepared.headers),
        )
        self.attach_alternative(prepared.html, "text/html")
        self.prepared = prepared

    def message(self, **kwargs) -> _PreparedMIME:
        return _PreparedMIME(self.prepared)


# RFC 5322: a line may not exceed 998 characters; longer ones go quoted-printable.
LINE_LIMIT = 998


# RFC 2047 encoded words of at most 42 bytes of UTF-8: "=?utf-8?b?" + 56 characters of base64
# + "?=" is 68, so even the first line ("Subject: " and one word) stays within 78.
WORD_BYTES = 42


def encoded_words(value: str) -> str:
    """`value` as RFC 2047 encoded words (base64), one per folded line, never splitting a
    character: what the email package's Header does, without its cost per message."""
    words, chunk = [], b""
    for char in value:
        data = char.encode("utf-8", "surrogatepass")
        if len(chunk) + len(data) > WORD_BYTES:
            words.append(chunk)
            chunk = b""
        chunk += data
    words.append(chunk)
    return "\n ".join(f"=?utf-8?b?{base64.b64encode(word).decode('ascii')}?=" for word in words)


def _header_value(name: str, value: str) -> str:
    if "\n" in value or "\r" in value:
        raise BadHeaderError(f"Header values may not contain newlines ({name}: {value!r})")
    return value if value.isascii() else encoded_words(value)


@lru_cache(maxsize=16)
def _sender(from_email: str) -> tuple[str, str]:
    """(the From header, the envelope sender) for a configured address: worked out once."""
    header = forbid_multi_line_headers("From", from_email, "utf-8")[1]
    return header, sanitize_address(from_email, "utf-8")


def _recipient(to: str) -> str:
    """The To address, as header and envelope: as it is when ASCII (Django's validator has
    checked it), IDNA/RFC 2047-encoded as Django does otherwise."""
    if "\n" in to or "\r" in to:
        raise BadHeaderError(f"An address may not contain newlines: {to!r}")
    return to if to.isascii() else sanitize_address(to, "utf-8")


def _part(content_type: str, body: str) -> bytes:
    data = body.replace("\r\n", "\n").encode("utf-8")
    if "\r" in body or any(len(line) > LINE_LIMIT for line in data.split(b"\n")):
        encoding, data = "quoted-printable", binascii.b2a_qp(data, istext=True)
    else:
        encoding = "7bit" if data.isascii() else "8bit"
    head = (
        f'Content-Type: {content_type}; charset="utf-8"\nContent-Transfer-Encoding: {encoding}\n\n'
    ).encode("ascii")
    return head + data


def _boundary(*bodies: str) -> str:
    while True:
        boundary = f"=_{secrets.token_hex(12)}"  # "=_" never occurs in quoted-printable
        if not any(boundary in body for body in bodies):
            return boundary


@dataclass(frozen=True)
class RenderedEmail:
    """One learner's email, rendered and ready to build (`message()`): a weekly nudge (with
    its list's unsubscribe headers) or a cohort message."""

    to: str
    subject: str
    text: str
    html: str
    message_id: str
    unsubscribe_url: str | None = None
    list_id: str | None = None

    def message(self) -> PreparedEmail:
        return build(
            to=self.to,
            subject=self.subject,
            text=self.text,
            html=self.html,
            message_id=self.message_id,
            unsubscribe_url=self.unsubscribe_url,
            list_id=self.list_id,
        )


def build(
    *,
    to: str,
    subject: str,
    text: str,
    html: str,
    message_id: str,
    unsubscribe_url: str | None = None,
    list_id: str | None = None,
) -> PreparedEmail:
    """A multipart/alternative message (plain text, then HTML), UTF-8, with the deterministic
    `Message-ID` and, for a list, the RFC 8058 one-click unsubscribe headers."""
    from_header, envelope_from = _sender(settings.DEFAULT_FROM_EMAIL)
    recipient = _recipient(to)
    boundary = _boundary(text, html)
    headers = [
        ("Subject", _header_value("Subject", subject)),
        ("From", from_header),
        ("To", recipient),
        ("Date", formatdate(localtime=settings.EMAIL_USE_LOCALTIME)),
        ("Message-ID", _header_value("Message-ID", message_id)),
        ("Auto-Submitted", "auto-generated"),
    ]
    if unsubscribe_url:
        # RFC 8058 one-click unsubscribe: the mail client POSTs "List-Unsubscribe=One-Click".
        headers.append(
            ("List-Unsubscribe", _header_value("List-Unsubscribe", f"<{unsubscribe_url}>"))
        )
        headers.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    if list_id:
        headers.append(("List-Id", _header_value("List-Id", list_id)))
    headers += [
        ("MIME-Version", "1.0"),
        ("Content-Type", f'multipart/alternative; boundary="{boundary}"'),
    ]
    head = "".join(f"{name}: {value}\n" for name, value in headers).encode("ascii")
    delimiter = f"\n--{boundary}\n".encode("ascii")
    raw = b"".join(
        (
            head,
            delimiter,
            _part("text/plain", text),
            delimiter,
            _part("text/html", html),
            f"\n--{boundary}--\n".encode("ascii"),
        )
    )
    return PreparedEmail(
        envelope_from=envelope_from,
        recipient=recipient,
        headers=tuple(headers),
        raw=raw,
        subject=subject,
        text=text,
        html=html,
    )


def open_connection() -> tuple[object, Outcome | None]:
    """A connection for a batch (Django's configured backend; SMTP when EMAIL_HOST is set),
    opened once and kept open for every message of the batch; with the failure when it could
    not be opened."""
    connection = get_connection(fail_silently=False)
    try:
        connection.open()
    except (smtplib.SMTPException, OSError) as error:
        _close_quietly(connection)
        return connection, Outcome(
            TRANSIENT, f"Mail server unreachable: {_describe(error)}", connection_lost=True
        )
    return connection, None


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _address_status(code: int, text: str) -> bool:
    """5xx with an enhanced status about the mailbox or address (5.1.x, 5.2.x)."""
    return 500 <= code < 600 and text.lstrip().startswith(("5.1.", "5.2."))


def _deliver(message: PreparedEmail, connection) -> None:
    """Hand the message to the connection. Django's SMTP backend: straight to its smtplib
    client (reopened if a failure closed it), with the envelope worked out once per message
    rather than parsed again by the backend; any other backend (console, locmem, ...):
    through `send_messages`, with the same bytes."""
    if isinstance(connection, SmtpBackend):
        if connection.connection is None:
            connection.open()
        _sendmail(connection.connection, message.envelope_from, message.recipient, message.wire())
    else:
        connection.send_messages([message.as_django()])


def _sendmail(smtp: smtplib.SMTP, sender: str, recipient: str, data: bytes) -> None:
    """smtplib's `sendmail` for one recipient, in two round trips instead of four when the
    server offers PIPELINING (RFC 2920): MAIL, RCPT and DATA go in one write and their
    replies are read in order, then the message and its reply. Every reply is checked and a
    refusal raises what `sendmail` raises for it, so `send` classifies failures alike."""
    smtp.ehlo_or_helo_if_needed()
    if not smtp.has_extn("pipelining"):
        smtp.sendmail(sender, [recipient], data)
        return
    size = f" SIZE={len(data)}" if smtp.has_extn("size") else ""
    smtp.send(
        f"MAIL FROM:{smtplib.quoteaddr(sender)}{size}\r\n"
        f"RCPT TO:{smtplib.quoteaddr(recipient)}\r\nDATA\r\n"
    )
    mail, rcpt, start = smtp.getreply(), smtp.getreply(), smtp.getreply()
    refusal = None
    if mail[0] != 250:
        refusal = smtplib.SMTPSenderRefused(mail[0], mail[1], sender)
    elif rcpt[0] not in (250, 251):
        refusal = smtplib.SMTPRecipientsRefused({recipient: rcpt})
    elif start[0] != 354:
        refusal = smtplib.SMTPDataError(*start)
    if refusal is not None:
        if start[0] == 354:  # DATA was taken all the same: end an empty message
            smtp.send(b".\r\n")
            smtp.getreply()
        _reset(smtp, closing=421 in (mail[0], rcpt[0], start[0]))
        raise refusal
    body = LEADING_DOT.sub(b"..", data)  # dot-stuffing, as smtplib's `data` does it
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    smtp.send(body + b".\r\n")
    code, reply = smtp.getreply()
    if code != 250:
        _reset(smtp, closing=code == 421)
        raise smtplib.SMTPDataError(code, reply)


LEADING_DOT = re.compile(rb"(?m)^\.")


def _reset(smtp: smtplib.SMTP, *, closing: bool) -> None:
    """After a refusal: RSET for the next message, or close when the server said it is
    closing (421); a connection already gone is left to the next send to find."""
    if closing:
        smtp.close()
        return
    with contextlib.suppress(smtplib.SMTPServerDisconnected):
        smtp.rset()


def send(message: PreparedEmail, connection) -> Outcome:
    """Send one message; never raises for an SMTP or network failure, it classifies it:

    * refused recipient with a 5xx: permanent, the address is bad;
    * message refused at DATA with a 5xx: permanent for this message (bad address too when the
      enhanced status says the mailbox is the problem);
    * any 4xx, a refused sender or log-in (our configuration, fixable), a timeout or a lost
      connection: transient, try again later.
    """
    try:
        _deliver(message, connection)
    except smtplib.SMTPRecipientsRefused as error:
        code, reply = next(iter(error.recipients.values()), (0, b""))
        text = f"{code} {_text(reply)}".strip()
        if 500 <= code < 600:
            return Outcome(PERMANENT, f"Recipient refused: {text}", code, bad_address=True)
        return Outcome(TRANSIENT, f"Recipient deferred: {text}", code)
    except smtplib.SMTPDataError as error:
        text = _text(error.smtp_error)
        if 500 <= error.smtp_code < 600:
            return Outcome(
                PERMANENT,
                f"Message refused: {error.smtp_code} {text}",
                error.smtp_code,
                bad_address=_address_status(error.smtp_code, text),
            )
        return Outcome(TRANSIENT, f"Message deferred: {error.smtp_code} {text}", error.smtp_code)
    except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError) as error:
        _close_quietly(connection)
        return Outcome(
            TRANSIENT, f"Mail server unreachable: {_describe(error)}", connection_lost=True
        )
    except smtplib.SMTPResponseException as error:  # sender refused, log-in refused, ...
        _close_quietly(connection)
        return Outcome(
            TRANSIENT,
            f"Mail server refused: {error.smtp_code} {_text(error.smtp_error)}",
            error.smtp_code,
            connection_lost=True,
        )
    except smtplib.SMTPException as error:
        _close_quietly(connection)
        return Outcome(TRANSIENT, f"Mail error: {_describe(error)}", connection_lost=True)
    return Outcome(SENT)


def _describe(error: BaseException) -> str:
    if isinstance(error, socket.timeout | TimeoutError):
        return "timed out"
    return f"{type(error).__name__}: {error}".strip()


def _close_quietly(connection) -> None:
    # A broken connection may fail to close; it is dropped either way.
    with contextlib.suppress(Exception):
        connection.close()
    # Django's SMTP backend reopens on the next send once its socket is gone.
    if hasattr(connection, "connection"):
        connection.connection = None
