"""The message the mailer writes (MIME built directly, not by the email package) read back by
the email package, and sending it to a real SMTP server on loopback with and without
PIPELINING: what arrives, how refusals are classified, and that the connection goes on."""

from __future__ import annotations

import email
from email import policy

import pytest
from django.core import mail
from django.core.mail import BadHeaderError, get_connection

from nudges import mailer

BOTH_WAYS = pytest.mark.parametrize(
    "smtp_server", [True, False], ids=["pipelining", "one-command-at-a-time"], indirect=True
)


def prepared(**overrides) -> mailer.PreparedEmail:
    fields = {
        "to": "ada@example.com",
        "subject": "3 done this week · Next up: Backprop, by hand",
        "text": "Hi Ada,\n\nNext up: Backprop.\n",
        "html": '<p>Hi Ada,</p>\n<p>Next up: <a href="https://w.example/t/">Backprop</a>.</p>\n',
        "message_id": "<nudge.2026-W11.7@w.example>",
        "unsubscribe_url": "https://w.example/nudges/unsubscribe/7:sig/",
        "list_id": "Waymark weekly nudge <nudges.w.example>",
    }
    return mailer.build(**(fields | overrides))


def parsed(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=policy.default)


def test_the_message_reads_back_as_multipart_alternative_with_every_header(settings):
    settings.DEFAULT_FROM_EMAIL = "Waymark <waymark@w.example>"
    message = parsed(prepared().raw)
    assert message["Subject"] == "3 done this week · Next up: Backprop, by hand"
    assert message["From"] == "Waymark <waymark@w.example>"
    assert message["To"] == "ada@example.com"
    assert message["Message-ID"] == "<nudge.2026-W11.7@w.example>"
    assert message["List-Unsubscribe"] == "<https://w.example/nudges/unsubscribe/7:sig/>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Id"] == "Waymark weekly nudge <nudges.w.example>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Date"].datetime is not None
    assert message.get_content_type() == "multipart/alternative"
    text, html = message.iter_parts()
    assert (text.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    assert text.get_content_charset() == html.get_content_charset() == "utf-8"
    assert text.get_content() == "Hi Ada,\n\nNext up: Backprop.\n"
    assert 'href="https://w.example/t/"' in html.get_content()
    assert not message.defects and not text.defects and not html.defects


@pytest.mark.parametrize(
    "subject",
    [
        "Your week on Waymark",
        "Next up: Große Übung — 日本語のタイトル 🎉 " * 4,
        "2 done this week · " + "é" * 180,
    ],
)
def test_any_subject_reads_back_unchanged_and_header_lines_stay_short(subject):
    raw = prepared(subject=subject).raw
    assert parsed(raw)["Subject"] == subject
    head = raw.split(b"\n\n", 1)[0]
    if not subject.isascii():
        assert max(len(line) for line in head.split(b"\n")) <= 78


def test_non_ascii_text_goes_8bit_and_over_long_lines_quoted_printable():
    text = "Café " * 300 + "\nshort line\n"  # one line of 1,800 bytes: too long for SMTP
    raw = prepared(text=text, html="<p>naïve</p>\n").raw
    assert max(len(line) for line in raw.split(b"\n")) <= 998
    text_part, html_part = parsed(raw).iter_parts()
    assert text_part["Content-Transfer-Encoding"] == "quoted-printable"
    assert text_part.get_content() == text
    assert html_part["Content-Transfer-Encoding"] == "8bit"
    assert html_part.get_content() == "<p>naïve</p>\n"


def test_an_international_domain_is_encoded_for_the_envelope_and_the_header():
    message = prepared(to="ada@bücher.example")
    assert message.recipient == "ada@xn--bcher-kva.example"  # what Django's backend sends
    assert parsed(message.raw)["To"] == "ada@xn--bcher-kva.example"


@pytest.mark.parametrize("field", ["subject", "to", "message_id"])
def test_a_line_break_in_a_header_is_refused(field):
    value = {"subject": "Hi\nBcc: everyone@example.com", "to": "a@example.com\nBcc: b@x.y"}
    with pytest.raises(BadHeaderError):
        prepared(**{field: value.get(field, "<a@b>\r\nBcc: c@d.e")})


def test_other_email_backends_get_the_same_bytes(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    message = prepared()
    outcome = mailer.send(message, get_connection())
    assert outcome.sent
    [sent] = mail.outbox
    assert sent.to == ["ada@example.com"] and sent.subject == message.subject
    assert sent.message().as_bytes() == message.raw
    assert sent.message()["Message-ID"] == "<nudge.2026-W11.7@w.example>"
    assert sent.alternatives[0][0] == message.html


def open_smtp():
    connection, lost = mailer.open_connection()
    assert lost is None
    return connection


@BOTH_WAYS
def test_a_message_arrives_whole_including_lines_that_start_with_a_dot(smtp_server):
    text = "Hi,\n.\n..two dots\n.hidden\nend\n"
    connection = open_smtp()
    try:
        assert mailer.send(prepared(text=text), connection).sent
        assert connection.connection.has_extn("pipelining") is smtp_server.pipelining
        assert mailer.send(prepared(to="bo@example.com"), connection).sent
    finally:
        connection.close()
    first, second = smtp_server.messages
    assert first["To"] == "ada@example.com" and second["To"] == "bo@example.com"
    assert first.get_body(("plain",)).get_content().replace("\r\n", "\n") == text
    assert first["Subject"] == "3 done this week · Next up: Backprop, by hand"


@BOTH_WAYS
@pytest.mark.parametrize(
    ("reply", "kind", "bad_address"),
    [
        ("550 5.1.1 No such user", mailer.PERMANENT, True),
        ("451 4.3.0 Try again later", mailer.TRANSIENT, False),
    ],
)
def test_a_refused_recipient_is_classified_and_the_connection_goes_on(
    smtp_server, reply, kind, bad_address
):
    smtp_server.rcpt_replies["gone@example.com"] = reply
    connection = open_smtp()
    try:
        outcome = mailer.send(prepared(to="gone@example.com"), connection)
        after = mailer.send(prepared(to="next@example.com"), connection)
    finally:
        connection.close()
    assert (outcome.kind, outcome.bad_address, outcome.code) == (kind, bad_address, int(reply[:3]))
    assert reply in outcome.error and not outcome.connection_lost
    assert after.sent
    assert [m["To"] for m in smtp_server.messages] == ["next@example.com"]


@BOTH_WAYS
@pytest.mark.parametrize(
    ("reply", "kind", "bad_address"),
    [
        ("554 5.6.0 Message refused", mailer.PERMANENT, False),
        ("552 5.2.2 Mailbox full", mailer.PERMANENT, True),
        ("452 4.3.1 Insufficient storage", mailer.TRANSIENT, False),
    ],
)
def test_a_refused_message_is_classified(smtp_server, reply, kind, bad_address):
    smtp_server.data_reply = reply
    connection = open_smtp()
    try:
        outcome = mailer.send(prepared(), connection)
        smtp_server.data_reply = ""
        after = mailer.send(prepared(to="next@example.com"), connection)
    finally:
        connection.close()
    assert (outcome.kind, outcome.bad_address) == (kind, bad_address)
    assert reply[4:] in outcome.error
    assert after.sent and [m["To"] for m in smtp_server.messages] == ["next@example.com"]


@BOTH_WAYS
def test_pipelining_takes_two_writes_per_message_instead_of_four(smtp_server):
    connection = open_smtp()
    try:
        assert mailer.send(prepared(), connection).sent  # the first one says EHLO too
        writes = []
        client = connection.connection
        original = client.send

        def counting_send(data):
            writes.append(data)
            return original(data)

        client.send = counting_send
        assert mailer.send(prepared(to="bo@example.com"), connection).sent
        # MAIL, RCPT and DATA together, then the message; or each command on its own.
        assert len(writes) == (2 if smtp_server.pipelining else 4)
    finally:
        connection.close()
    assert len(smtp_server.messages) == 2


def test_a_connection_gone_is_lost_and_the_next_message_opens_another(smtp_server):
    connection = open_smtp()
    connection.connection.close()
    outcome = mailer.send(prepared(), connection)
    assert outcome.kind == mailer.TRANSIENT and outcome.connection_lost
    assert outcome.error.startswith("Mail server unreachable")
    # Dropped: the next message opens a new connection.
    assert connection.connection is None
    assert mailer.send(prepared(to="bo@example.com"), connection).sent
    connection.close()
    assert [m["To"] for m in smtp_server.messages] == ["bo@example.com"]
