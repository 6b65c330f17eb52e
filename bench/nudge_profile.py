"""Where a chunk of weekly nudges spends its time (`python -m bench.profile <db> nudge-chunk`,
on a database a run kept with `--keep-db`): the first 500 due learners (the big cohort, the
heaviest chunk) are sent again, in this process, to an SMTP sink in a thread, step by step as
`nudges.services.nudge_send_chunk` takes them, with the CPU time of this thread per message
for each step (the sink's own thread is not counted); then once more under cProfile.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import time
from collections import defaultdict
from contextlib import contextmanager
from datetime import timedelta

CHUNK = 500


def profile_chunk(*, top: int) -> None:
    from django.conf import settings
    from django.utils import timezone

    from nudges import emails, mailer, outbox, selectors, services
    from nudges.loadtest import dispatch_hour
    from nudges.models import NudgeDelivery

    from .smtp_sink import SmtpSink

    sink = SmtpSink().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", sink.port, False
    if not NudgeDelivery.objects.exists():  # the run measured no nudges: make the rows
        # The learners are due in the hour after the data was built: this hour or the next.
        hour = timezone.now().replace(minute=0, second=0, microsecond=0)
        for due in (hour, hour + timedelta(hours=1)):
            dispatch_hour(due)  # published chunks stay in Redis unread: no worker runs here
            if NudgeDelivery.objects.exists():
                break
    week, first = NudgeDelivery.objects.order_by("week", "learner_id").values_list(
        "week", "learner_id"
    )[0]
    ids = list(
        NudgeDelivery.objects.filter(week=week)
        .order_by("learner_id")
        .values_list("learner_id", flat=True)[:CHUNK]
    )
    rows = NudgeDelivery.objects.filter(week=week, learner_id__in=ids)
    cpu: dict[str, float] = defaultdict(float)

    @contextmanager
    def step(name: str):
        started = time.thread_time()
        yield
        cpu[name] += time.thread_time() - started

    def send_chunk_in_steps() -> None:
        rows.update(status="pending", claim_token="", retry_at=None)
        now = timezone.now()
        with services.cycle_collector_paused():
            with step("claim"):
                claim = outbox.claim(rows, now=now)
            with step("email data"):
                batch = selectors.nudge_batch(
                    learner_ids=[r.learner_id for r in claim.rows], week=week, now=now
                )
            connection, _ = mailer.open_connection()
            with outbox.quick_commits():
                for row in claim.rows:
                    with step("render"):
                        rendered = emails.render_nudge(batch[row.learner_id])
                    with step("MIME"):
                        message = rendered.message()
                    with step("SMTP"):
                        outcome = mailer.send(message, connection)
                    with step("mark"):
                        outbox.mark_sent(
                            row,
                            token=claim.token,
                            now=timezone.now(),
                            message_id=rendered.message_id,
                            recipient=rendered.to,
                        )
                    assert outcome.sent, outcome
            connection.close()

    send_chunk_in_steps()  # warm: templates, structures, connections
    cpu.clear()
    runs = 3
    started = time.perf_counter()
    for _ in range(runs):
        send_chunk_in_steps()
    wall = time.perf_counter() - started
    messages = runs * len(ids)
    print(f"nudge chunk of {len(ids)} (week {week}, learners from {first}), {runs} runs:")
    for name, seconds in cpu.items():
        print(f"  {name:<11} {seconds * 1000 / messages:6.3f} ms CPU per message")
    print(
        f"  {'all':<11} {sum(cpu.values()) * 1000 / messages:6.3f} ms CPU per message "
        f"({wall * 1000 / messages:.2f} ms wall, waits on PostgreSQL and the sink included)"
    )
    profiler = cProfile.Profile()
    rows.update(status="pending", claim_token="", retry_at=None)
    profiler.enable()
    services.nudge_send_chunk(learner_ids=ids, week=week)
    profiler.disable()
    sink.stop()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("cumulative").print_stats(top)
    print("\n--- cProfile of one chunk, by cumulative time ---")
    print(out.getvalue().split("\n\n", 1)[-1])
