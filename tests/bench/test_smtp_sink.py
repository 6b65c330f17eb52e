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
