"""Running workers: `redscarf worker` (one or more processes) and an in-process worker.

Each worker process runs a dramatiq `Worker` (threads consuming the queue), the relay that
sends jobs a crash left `pending`, and the summariser that keeps the statistics fresh.
"""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import dramatiq

from redscarf.settings import Settings
from workers.broker import JobRuntime, open_runtime
from workers.config import JobSettings
from workers.outbox import Relay
from workers.summariser import Summariser

log = logging.getLogger(__name__)


@contextmanager
def in_process_worker(
    settings: Settings, *, threads: int = 2, job_settings: JobSettings | None = None
) -> Iterator[JobRuntime]:
    """Run a worker (threads) and the relay inside this process while the block lasts.

    Used by `redscarf serve --demo` and the tests. Yields the runtime, whose broker and queue
    the caller may use to send jobs after commit (`workers.outbox.jobs_after_commit`).
    """
    with open_runtime(settings, job_settings) as runtime:
        worker = dramatiq.Worker(runtime.broker, worker_threads=threads, worker_timeout=500)
        worker.start()
        relay = Relay(
            runtime.engine,
            runtime.broker,
            runtime.queue_name,
            runtime.job_settings.relay_interval,
        )
        relay.start()
        summariser = Summariser(
            runtime.engine,
            runtime.job_settings.summary_interval,
            dt.timedelta(hours=runtime.job_settings.summary_max_age_hours),
        )
        summariser.start()
        try:
            yield runtime
        finally:
            summariser.stop()
            relay.stop()
            worker.stop(timeout=30_000)


def _serve(settings: Settings, threads: int) -> None:
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("signal %d: stopping after the jobs in progress", signum)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with in_process_worker(settings, threads=threads) as runtime:
        log.info(
            "worker ready: %s broker, queue %s, %d thread(s)",
            type(runtime.broker).__name__,
            runtime.queue_name,
            threads,
        )
        while not stop.wait(1.0):
            pass


def _child(settings: Settings, threads: int) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(process)d %(name)s %(message)s")
    _serve(settings, threads)


def run_worker(settings: Settings, *, processes: int = 1, threads: int = 4) -> None:
    """Run `processes` worker processes of `threads` threads each until SIGTERM or Ctrl-C."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(process)d %(name)s %(message)s")
    if processes <= 1:
        _serve(settings, threads)
        return
    context = multiprocessing.get_context("spawn")
    children = [
        context.Process(target=_child, args=(settings, threads), name=f"redscarf-worker-{i}")
        for i in range(processes)
    ]
    for child in children:
        child.start()

    def forward(signum: int, frame: FrameType | None) -> None:
        for child in children:
            if child.pid is not None and child.is_alive():
                child.terminate()  # SIGTERM: each child stops after its jobs in progress

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for child in children:
        child.join()
