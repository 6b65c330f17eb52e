"""The nudge benchmark counts deliveries and duplicates at an SMTP server of its own."""

from __future__ import annotations

from django.core.mail import EmailMessage, get_connection

from bench.smtp_sink import SmtpSink


def test_counts_messages_sent_by_djangos_smtp_backend_and_finds_duplicates():
    sink = SmtpSink().start()
    try:
        connection = get_connection(
            "django.core.mail.backends.smtp.EmailBackend",
            host="127.0.0.1",
            port=sink.port,
            use_tls=False,
            timeout=5,
        )
        messages = [
            EmailMessage(
                "Your week",
                "body",
                "w@example.com",
                [f"learner{n}@example.com"],
                headers={"Message-ID": f"<nudge-{n}@bench>"},
            )
            for n in range(5)
        ]
        assert connection.send_messages(messages) == 5
        assert sink.wait_for(5, timeout=5)
        assert sink.duplicates == 0

        again = EmailMessage(
            "Your week",
            "body",
            "w@example.com",
            ["Learner3@example.com"],
            headers={"Message-ID": "<nudge-3@bench>"},
        )
        assert connection.send_messages([again]) == 1
        assert sink.wait_for(6, timeout=5)
        assert sink.duplicates == 1
        assert sink.arrival_of(6) >= sink.arrival_of(1)
    finally:
        sink.stop()


def test_a_repeated_message_id_is_a_duplicate_and_reset_starts_a_new_run():
    sink = SmtpSink().start()
    try:
        connection = get_connection(
            "django.core.mail.backends.smtp.EmailBackend",
            host="127.0.0.1",
            port=sink.port,
            use_tls=False,
            timeout=5,
        )
        first = EmailMessage("Week", "body", "w@example.com", ["a@example.com"])
        first.extra_headers["Message-ID"] = "<nudge.2026-W05.1@bench>"
        resent = EmailMessage("Week", "body", "w@example.com", ["b@example.com"])
        resent.extra_headers["Message-ID"] = "<nudge.2026-W05.1@bench>"
        assert connection.send_messages([first, resent]) == 2
        assert sink.wait_for(2, timeout=5)
        assert sink.duplicates == 1  # other recipients, the same message
        assert sink.cpu_seconds() >= 0

        sink.reset()
        assert (sink.messages, sink.duplicates) == (0, 0)
        assert connection.send_messages([first]) == 1
        assert sink.wait_for(1, timeout=5) and sink.duplicates == 0
    finally:
        sink.stop()
