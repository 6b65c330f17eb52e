"""Django's PostgreSQL backend (ENGINE "ops.postgresql"), with a cheaper health check.

With CONN_HEALTH_CHECKS, Django checks a persistent connection as each request first uses it by
running `SELECT 1`: a round trip on every request, to catch the rare connection the server has
closed (a restart, an idle timeout, an administrator's pg_terminate_backend). Such a
connection always has something to read on its socket, the server's goodbye or the end of the
stream, while a healthy idle one has nothing. So the check first asks the socket, without
waiting, and runs Django's `SELECT 1` only when there is something to read."""

from __future__ import annotations

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self):
        if self.connection is None or not self.health_check_enabled or self.health_check_done:
            return
        if self._nothing_to_read():
            self.health_check_done = True
            return
        super().close_if_health_check_failed()  # SELECT 1; replaces the connection if it fails

    def _nothing_to_read(self) -> bool:
        """Whether the connection's socket is quiet, as a healthy idle connection's is. Anything
        else (something to read, a socket gone) is for the full check to decide."""
        try:
            socket = self.connection.pgconn.socket
            readable, _, _ = select.select([socket], [], [], 0)
        except Exception:  # noqa: BLE001 - whatever went wrong, the full check decides
            return False
        return not readable
