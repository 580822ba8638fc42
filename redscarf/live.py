"""Live updates: which committed changes each subscription is waiting on.

The database announces a change on the `redscarf_live` channel when it commits (NOTIFY; see
shared migration s0011): `job:<uuid>`, `<county>:activity:<id>`, `<county>:redemption:<id>`.
One `LiveHub` per API process holds one listening connection, opened when the first
subscription starts, and wakes the watches of the object named.

A watch is a flag, not a queue: a hundred sign-ups while a subscriber is still sending its
last answer wake it once, and it reads the object as it then stands. A subscriber that reads
slowly therefore costs one read per answer, never a backlog. When the listening connection is
lost, announcements may have been missed: once it is back, every watch is woken to read again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

import psycopg
from sqlalchemy.engine import URL

from redscarf.database import libpq_url
from redscarf.errors import DatabaseUnavailable

log = logging.getLogger(__name__)

CHANNEL = "redscarf_live"
RECONNECT_S = (0.5, 1.0, 2.0, 5.0)
"""Waits before each attempt to listen again (the last repeats)."""
LISTEN_WAIT_S = 10.0
"""How long a new subscription waits for the hub to be listening before it gives up."""


def job_key(job_id: object) -> str:
    return f"job:{job_id}"


def county_key(county: str, kind: str, pk: int) -> str:
    return f"{county}:{kind}:{pk}"


class Watch:
    """What one subscription waits on."""

    def __init__(self, keys: frozenset[str]) -> None:
        self.keys = keys
        self._changed = asyncio.Event()

    def wake(self) -> None:
        self._changed.set()

    async def changed(self, within: float) -> bool:
        """Wait until one of the keys changes (True) or `within` seconds pass (False)."""
        try:
            async with asyncio.timeout(within):
                await self._changed.wait()
        except TimeoutError:
            return False
        self._changed.clear()
        return True


class LiveHub:
    def __init__(self, url: URL) -> None:
        self._conninfo = libpq_url(url)
        self._watches: dict[str, set[Watch]] = {}
        self._listening = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @asynccontextmanager
    async def watch(self, keys: Iterable[str]) -> AsyncIterator[Watch]:
        """A watch of `keys`, registered and heard from the moment this returns: read the
        objects after entering, and no change committed after that read is missed."""
        watch = Watch(frozenset(keys))
        for key in watch.keys:
            self._watches.setdefault(key, set()).add(watch)
        try:
            if self._task is None:
                self._task = asyncio.create_task(self._listen(), name="redscarf-live")
            try:
                async with asyncio.timeout(LISTEN_WAIT_S):
                    await self._listening.wait()
            except TimeoutError:
                raise DatabaseUnavailable(detail="live updates: not listening") from None
            yield watch
        finally:
            for key in watch.keys:
                watchers = self._watches.get(key)
                if watchers is not None:
                    watchers.discard(watch)
                    if not watchers:
                        del self._watches[key]

    @property
    def watching(self) -> int:
        """Watches registered now (the tests check that none outlives its connection)."""
        return len({w for watchers in self._watches.values() for w in watchers})

    def announce(self, key: str) -> None:
        for watch in self._watches.get(key, ()):
            watch.wake()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _listen(self) -> None:
        failures = 0
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._conninfo, autocommit=True, connect_timeout=10
                ) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    failures = 0
                    self._listening.set()
                    # Whatever changed while nobody listened is read again.
                    for watchers in list(self._watches.values()):
                        for watch in watchers:
                            watch.wake()
                    async for notice in conn.notifies():
                        self.announce(notice.payload)
            except asyncio.CancelledError:
                raise
            except (psycopg.Error, OSError) as exc:
                log.warning("live updates: listening failed (%s); trying again", exc)
            except Exception:  # never leave the subscribers waiting on a dead task
                log.exception("live updates: listening failed; trying again")
            self._listening.clear()
            await asyncio.sleep(RECONNECT_S[min(failures, len(RECONNECT_S) - 1)])
            failures += 1
