"""Sending one email over an open SMTP connection, and saying what a failure means.

Generic: the weekly nudge uses it, and so can any message that must go out once (a cohort's
message to its members). The caller owns the connection (one per batch, reused) and the
delivery row (`nudges.outbox`).
"""

from __future__ import annotations

import contextlib
import smtplib
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection

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


def build(
    *,
    to: str,
    subject: str,
    text: str,
    html: str,
    message_id: str,
    unsubscribe_url: str | None = None,
    list_id: str | None = None,
) -> EmailMultiAlternatives:
    headers = {"Message-ID": message_id, "Auto-Submitted": "auto-generated"}
    if unsubscribe_url:
        # RFC 8058 one-click unsubscribe: the mail client POSTs "List-Unsubscribe=One-Click".
        headers["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    if list_id:
        headers["List-Id"] = list_id
    message = EmailMultiAlternatives(
        subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[to], headers=headers
    )
    message.attach_alternative(html, "text/html")
    return message


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


def send(message: EmailMultiAlternatives, connection) -> Outcome:
    """Send one message; never raises for an SMTP or network failure, it classifies it:

    * refused recipient with a 5xx: permanent, the address is bad;
    * message refused at DATA with a 5xx: permanent for this message (bad address too when the
      enhanced status says the mailbox is the problem);
    * any 4xx, a refused sender or log-in (our configuration, fixable), a timeout or a lost
      connection: transient, try again later.
    """
    try:
        connection.send_messages([message])
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
