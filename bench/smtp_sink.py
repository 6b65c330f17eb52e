"""An SMTP server on loopback that accepts every message and counts them: where the nudge run
delivers (`nudge_10k_s` is "dispatcher start until N messages arrived here"), and how
duplicates are found (two messages to one recipient, or one Message-ID twice).

Plain SMTP, no TLS or AUTH: Django's SMTP backend with EMAIL_USE_TLS=0 talks to it. It offers
PIPELINING (RFC 2920), as most mail servers do: commands are answered in order, one line at a
time, however they arrive.
"""

from __future__ import annotations

import asyncio
import os
import re
import threading
import time
from collections import Counter

from .timing import cpu_seconds

MESSAGE_ID = re.compile(rb"(?im)^message-id:[ \t]*([^\r\n]*(?:\r\n[ \t][^\r\n]*)*)")


class SmtpSink:
    def __init__(self, host: str = "127.0.0.1"):
        self.host = host
        self.port = 0
        self.recipients: Counter[str] = Counter()
        self.message_ids: Counter[str] = Counter()
        self.messages = 0
        self.arrivals: list[float] = []  # time.monotonic() of each message
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="smtp-sink", daemon=True)

    # --- what the bench reads -------------------------------------------------------------

    def reset(self) -> None:
        """Forget what arrived so far (between runs)."""
        with self._lock:
            self.recipients.clear()
            self.message_ids.clear()
            self.messages = 0
            self.arrivals.clear()

    def cpu_seconds(self) -> float:
        """CPU time the server's thread has used so far (Linux)."""
        return cpu_seconds(os.getpid(), self._native_id)

    @property
    def duplicates(self) -> int:
        with self._lock:
            by_recipient = sum(n - 1 for n in self.recipients.values() if n > 1)
            by_id = sum(n - 1 for n in self.message_ids.values() if n > 1)
            return max(by_recipient, by_id)

    def arrival_of(self, n: int) -> float:
        """When the n-th message (1-based) arrived (time.monotonic())."""
        with self._lock:
            return self.arrivals[n - 1]

    def wait_for(self, count: int, *, timeout: float) -> bool:
        """True once `count` messages have arrived; False after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.messages >= count:
                return True
            time.sleep(0.02)
        return self.messages >= count

    # --- the server -----------------------------------------------------------------------

    def start(self) -> SmtpSink:
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        self._native_id = threading.get_native_id()
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._session, self.host, 0, backlog=256)
        )
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()

    def _received(self, recipients: list[str], data: bytes) -> None:
        # Only the Message-ID is read (a search of the header block, not a parse of every
        # header): the sink shares the machine's two cores with what it measures.
        head = data.split(b"\r\n\r\n", 1)[0]
        found = MESSAGE_ID.search(head)
        with self._lock:
            self.messages += 1
            self.arrivals.append(time.monotonic())
            for recipient in recipients:
                self.recipients[recipient.lower()] += 1
            if found:
                value = b" ".join(found.group(1).split()).decode(errors="replace")
                self.message_ids[value] += 1

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        def reply(line: str) -> None:
            writer.write(line.encode() + b"\r\n")

        reply("220 bench sink ready")
        recipients: list[str] = []
        try:
            while line := await reader.readline():
                verb = line[:4].decode(errors="replace").upper()
                if verb == "EHLO":
                    writer.write(b"250-bench sink\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
                elif verb == "HELO":
                    reply("250 bench sink")
                elif verb == "MAIL":
                    recipients = []
                    reply("250 OK")
                elif verb == "RCPT":
                    address = line.decode(errors="replace").split(":", 1)[1].strip()
                    recipients.append(address.split(">")[0].lstrip("<"))
                    reply("250 OK")
                elif verb == "DATA":
                    reply("354 End data with <CR><LF>.<CR><LF>")
                    await writer.drain()
                    data = await reader.readuntil(b"\r\n.\r\n")
                    self._received(recipients, data[:-5])
                    recipients = []
                    reply("250 OK: queued")
                elif verb == "QUIT":
                    reply("221 Bye")
                    await writer.drain()
                    break
                else:  # RSET, NOOP and anything else: nothing to do
                    reply("250 OK")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
