"""The delivery worker: fans new events out into deliveries, claims due deliveries in batches,
sends them on a thread pool and records every attempt.

One loop thread owns the database work (claiming, recording, releasing, purging) and batches
it: one transaction records the attempts that finished and claims their successors once half
the claimed-ahead jobs are done, or records them at the latest RECORD_DELAY after the first came
back. The pool threads only sign and POST. Any number of workers may run against PostgreSQL;
on SQLite, run one worker process (its thread pool gives the concurrency).

Stopping is graceful: no new claims, attempts already on the wire finish (each bounded by the
attempt timeout) and are recorded, claimed jobs not yet started are released unsent.
"""

from __future__ import annotations

import functools
import logging
import os
import queue
import secrets
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from connector.billrun_link.loop import LinkLoop
from connector.catalog import Catalog, get_catalog
from connector.config import LEASE_MARGIN_SECONDS, Settings
from connector.delivery.netguard import NetGuard, describe_allowed
from connector.delivery.pacing import LockGap, Pacer
from connector.delivery.policy import Outcome, RetryPolicy
from connector.delivery.sender import Sender
from connector.delivery.signing import Signer
from connector.logfmt import logfmt
from connector.metrics import ATTEMPT_SECONDS, ATTEMPTS
from connector.storage import Database, claims, fanout, retention, subscriptions
from connector.storage.models import utcnow

log = logging.getLogger(__name__)
# One line per delivery attempt, in logfmt: event, delivery, target host (never the URL's path, which
# may hold a secret), status, duration, what the retry policy made of it.
attempt_log = logging.getLogger("connector.delivery.attempts")

# With nothing to do, the worker looks for work this often, with a read that takes no write lock
# (a separate worker has no other way to learn of new events; the in-process one is also woken).
POLL_SECONDS = 0.1
PURGE_EVERY_SECONDS = 300.0
PURGE_BUDGET_SECONDS = 2.0
# At most this many deliveries are written per transaction by the fan-out (fewer on SQLite, as its
# pacer decides); an event with more subscribers is fanned out over several.
FANOUT_BUDGET = 500
PURGE_BATCH = 200
# Short-lived subscriptions (test listeners) are removed within this long of their expiry.
EXPIRY_SWEEP_SECONDS = 5.0
# Jobs claimed ahead per delivery thread. On PostgreSQL an exchange (record, claim) costs about the
# same whatever its size, some nine round trips (15-20 ms beside four busy senders), so a larger one
# delivers more: 0.66-0.70x the reference pool's rate with 32, 0.40-0.43x with 8 (measured side by
# side). On SQLite an exchange holds the one write lock for as long as its rows take, and an ingest
# waits behind it: 8 there.
CLAIM_AHEAD = {"sqlite": 8, "postgresql": 32}
# Finished attempts are recorded together: at the next claim, or at the latest this long after
# the first of them came back (their leases are still held meanwhile).
RECORD_DELAY = 0.05
_WAKE = object()


@dataclass(frozen=True)
class _HandBack:
    """A claimed job the pool did not attempt (stopping, or too late to finish inside its lease)."""

    job: claims.Job


_Result = claims.AttemptOutcome | _HandBack


@functools.lru_cache(maxsize=1024)
def _signer(keys: tuple[str, ...]) -> Signer:
    """One signer per set of secrets, so a subscription's keys are decoded once, not per attempt."""
    return Signer(keys)


def background(settings: Settings) -> None:
    """Lower this process's CPU priority to nice ``settings.worker_nice`` (never raise it): for a process
    that only delivers (``billrun-connector worker``). On a machine shared with web processes, the
    ingest BillRun waits for then gets the CPU first, and the worker takes the rest: with three worker
    processes and PostgreSQL on 2 cores, the ingest's median while they fanned out to 1,000
    subscribers went from 3.3x to 1.5-1.6x its median with one subscriber, delivering as fast
    (bench/README.md). Not for the in-process worker: it would lower the web process with it."""
    current = os.getpriority(os.PRIO_PROCESS, 0)
    if settings.worker_nice > current:
        os.setpriority(os.PRIO_PROCESS, 0, settings.worker_nice)


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Worker:
    """Delivers due deliveries until stopped. ``run()`` blocks; ``start()`` runs it in a thread."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        worker_id: str | None = None,
        poll_seconds: float = POLL_SECONDS,
        purge_every_seconds: float = PURGE_EVERY_SECONDS,
        catalog: Catalog | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.catalog = catalog or get_catalog()
        self.worker_id = worker_id or new_worker_id()
        self.poll_seconds = poll_seconds
        self.purge_every_seconds = purge_every_seconds
        self.threads = settings.worker_threads
        # Jobs claimed ahead, so the pool never idles between batches and one transaction records
        # and claims many; a job that waits too long for a thread is handed back unsent (see
        # _attempt), so this cannot outlive a lease.
        self.capacity = CLAIM_AHEAD.get(db.dialect, CLAIM_AHEAD["postgresql"]) * self.threads
        # Claim again once this many slots are free: one transaction records the finished
        # attempts and claims their successors, while the pool still has work queued.
        self.refill_at = self.capacity // 2
        self.policy = RetryPolicy(settings.retry_schedule, settings.retry_scale)
        self.sender = Sender(
            NetGuard(settings.allowed_networks),
            connect_timeout=settings.connect_timeout,
            timeout=settings.timeout,
            pool_size=self.threads,
        )
        self.link_loop = LinkLoop(db, settings, owner=self.worker_id)  # BillRun's webhooks follow subscriptions
        self.fanout_pacer = Pacer.for_dialect(db.dialect, 20, FANOUT_BUDGET)
        self.purge_pacer = Pacer.for_dialect(db.dialect, 10, PURGE_BATCH)
        self.lock_gap = LockGap(db.dialect)  # before each write transaction of the loop
        self._purge_after: subscriptions.Cursor | None = None  # where the purge goes on (None: the oldest)
        self._results: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # -- control --------------------------------------------------------------------------------

    def wake(self) -> None:
        """New work may be due: look now instead of at the next poll."""
        self._results.put(_WAKE)

    def start(self) -> threading.Thread:
        self._thread = threading.Thread(target=self.run, name="delivery-worker", daemon=True)
        self._thread.start()
        return self._thread

    def request_stop(self) -> None:
        """Ask ``run()`` to stop (see the module notes); returns at once, safe in a signal handler."""
        self._stopping.set()
        self.wake()

    def stop(self, timeout: float | None = None) -> bool:
        """Stop as ``request_stop`` does and wait up to *timeout* for the loop thread of ``start()``.

        ``False`` when it is still running: an attempt or its recording outlasted *timeout*.
        """
        self.request_stop()
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # -- the loop -------------------------------------------------------------------------------

    def run(self) -> None:
        log.info(
            "delivery worker %s started with %d threads: database %s, allowed target networks: %s",
            self.worker_id,
            self.threads,
            self.db.engine.url.render_as_string(hide_password=True),
            describe_allowed(self.settings.allowed_networks),
        )
        self.link_loop.start()
        in_flight = 0
        outcomes: list[claims.AttemptOutcome] = []
        handed_back: list[str] = []
        first_outcome_at = 0.0  # when the oldest outcome in *outcomes* came back
        claim_after = 0.0  # the queue had no more due work: ask again at this time (or when woken)
        fan_out_after = 0.0  # no event was waiting for its fan-out: look again at this time (or when woken)
        next_purge = next_sweep = time.monotonic()
        idle = False  # the last exchange found nothing to do: look with a read before the next
        with ThreadPoolExecutor(self.threads, thread_name_prefix="delivery") as pool:
            while True:
                stopping = self._stopping.is_set()
                now = time.monotonic()
                fan_out = not stopping and now >= fan_out_after
                free = self.capacity - in_flight
                limit = 0
                if not stopping and (now >= claim_after or fan_out) and (free >= self.refill_at or in_flight == 0):
                    limit = free
                to_record = bool(handed_back) or bool(outcomes and (stopping or now - first_outcome_at >= RECORD_DELAY))
                if idle and (fan_out or limit) and not to_record and not self._work_waiting():
                    claim_after = fan_out_after = now + self.poll_seconds  # still idle: no write transaction
                elif fan_out or limit or to_record:
                    jobs, more_fan_out = self._exchange(outcomes, handed_back, limit, fan_out)
                    idle = in_flight == 0 and not jobs and not more_fan_out
                    outcomes, handed_back = [], []
                    for job in jobs:
                        pool.submit(self._attempt, job)
                    in_flight += len(jobs)
                    if len(jobs) < limit:
                        claim_after = now + self.poll_seconds
                    if fan_out:
                        # More to fan out: go on at once (the lock gap comes first).
                        fan_out_after = now if more_fan_out else now + self.poll_seconds
                if stopping and in_flight == 0:
                    break
                if not stopping and now >= next_sweep:
                    self._remove_expired()
                    next_sweep = time.monotonic() + EXPIRY_SWEEP_SECONDS
                if not stopping and now >= next_purge:
                    self._purge()
                    next_purge = time.monotonic() + self.purge_every_seconds
                wait = claim_after - now if in_flight == 0 else self.poll_seconds
                if outcomes:
                    wait = min(wait, first_outcome_at + RECORD_DELAY - now)
                wait = min(wait, fan_out_after - now)  # fan-out work may be left
                done, wake = self._collect(max(wait, 0.0))
                if wake:
                    idle = False
                    claim_after = fan_out_after = 0.0
                if done and not outcomes:
                    first_outcome_at = time.monotonic()
                in_flight -= len(done)
                for result in done:
                    if isinstance(result, _HandBack):
                        handed_back.append(result.job.delivery_id)
                    else:
                        outcomes.append(result)
        self.sender.close()
        self.link_loop.stop(self.settings.timeout)
        log.info("delivery worker %s stopped", self.worker_id)

    def _collect(self, timeout: float) -> tuple[list[_Result], bool]:
        """Finished attempts and handed-back jobs, and whether ``wake()`` was called: waits up to
        *timeout* for the first (or a wake-up), then takes the rest."""
        done: list[_Result] = []
        woken = False
        try:
            item = self._results.get(timeout=timeout)
            while True:
                if item is _WAKE:
                    woken = True
                else:
                    done.append(item)  # type: ignore[arg-type]
                item = self._results.get_nowait()
        except queue.Empty:
            pass
        return done, woken

    def _exchange(
        self, outcomes: list[claims.AttemptOutcome], handed_back: list[str], limit: int, fan_out: bool
    ) -> tuple[list[claims.Job], bool]:
        """In one transaction: with *fan_out*, write the deliveries of new events (as many as the
        fan-out pacer allows); record *outcomes*, release *handed_back* and claim up to *limit* jobs.
        Returns the jobs and whether fan-out work is left.

        The statements are Core statements: they run on a plain connection, without an ORM session.
        """
        for attempt in range(5):
            try:
                written = 0
                self.lock_gap.wait()
                with self.db.engine.begin() as connection:  # holds the write lock from here
                    started = time.monotonic()
                    more = False
                    if fan_out:
                        result = fanout.fan_out(connection, self.catalog.subscription_keys, self.fanout_pacer.size)
                        written, more = result.deliveries, result.more
                    if handed_back:
                        claims.release(connection, self.worker_id, handed_back)
                    if outcomes:
                        claims.record_attempts(
                            connection,
                            self.worker_id,
                            outcomes,
                            disable_after_failing_seconds=self.settings.disable_after_failing_seconds,
                        )
                    jobs = (
                        claims.claim(connection, self.worker_id, limit, self.settings.lease_seconds)
                        if limit > 0
                        else []
                    )
                held = time.monotonic() - started
                self.lock_gap.held(held)
                if fan_out:  # the whole transaction held the write lock: size the next fan-out by it
                    self.fanout_pacer.done(written, held)
                return jobs, more
            except Exception:
                # A database hiccup must not kill the worker. Attempts that stay unrecorded (and
                # jobs not released) are due again once their lease expires: at least once, never
                # lost; events not fanned out stay pending for a later pass, and none is fanned out twice.
                log.exception(
                    "fanning out / recording %d attempts / releasing %d / claiming failed (try %d)",
                    len(outcomes),
                    len(handed_back),
                    attempt + 1,
                )
                time.sleep(min(2**attempt * 0.2, 3))
        return [], False

    def _work_waiting(self) -> bool:
        """Whether a delivery is due or an event waits for its fan-out, read without the write lock."""
        try:
            with self.db.session(write=False) as session:
                return claims.work_waiting(session)
        except Exception:
            log.exception("looking for work failed")
            return True  # let the exchange find out, and report, what is wrong

    def _remove_expired(self) -> None:
        """Remove the short-lived subscriptions whose time has passed (a batch per call)."""
        try:
            with self.db.session(write=False) as session:
                if not subscriptions.any_expired(session):
                    return
            with self.lock_gap.around(), self.db.session() as session:
                removed = subscriptions.remove_expired(session)
            if removed:
                log.info("removed %d expired subscriptions", removed)
        except Exception:
            log.exception("removing expired subscriptions failed")

    def _purge(self) -> None:
        """Old events, a paced batch per transaction, leaving the write lock free between batches so
        that ingests and claims get it in between; at most PURGE_BUDGET_SECONDS per call. The next
        call goes on where this one stopped, so events kept (a delivery still pending) are walked
        once per round through the history, not once per call."""
        cutoff = utcnow() - timedelta(days=self.settings.retention_days)
        deadline = time.monotonic() + PURGE_BUDGET_SECONDS
        try:
            with self.lock_gap.around(), self.db.session() as session:
                subscriptions.forget_removed(session, cutoff)
            while not self._stopping.is_set() and time.monotonic() < deadline:
                self.lock_gap.wait()
                with self.db.session() as session:
                    session.connection()  # waits for the write lock: the batch's time starts once it holds it
                    started = time.monotonic()
                    batch = retention.purge_batch(session, cutoff, self._purge_after, batch=self.purge_pacer.size)
                held = time.monotonic() - started
                self.lock_gap.held(held)
                self.purge_pacer.done(batch.examined, held)
                self._purge_after = batch.after
                if batch.after is None:
                    return
        except Exception:
            log.exception("purging old events failed")

    # -- one attempt (pool threads) -------------------------------------------------------------

    def _attempt(self, job: claims.Job) -> None:
        remaining = (job.lease_expires_at - utcnow()).total_seconds()
        if self._stopping.is_set() or remaining < self.settings.timeout + LEASE_MARGIN_SECONDS:
            # Stopping, or claimed too long ago to finish inside the lease (sending now could
            # overlap with a worker that takes it over): hand it back unsent, due again at once.
            self._results.put(_HandBack(job))
            return
        try:
            self._results.put(self.attempt(job))
        except Exception as exc:  # never lose a job's outcome: record it as an error and retry it
            log.exception("attempt of %s crashed", job.delivery_id)
            self._results.put(self._outcome(job, utcnow(), 0, None, f"internal error: {exc}", "", None))

    def attempt(self, job: claims.Job) -> claims.AttemptOutcome:
        """Sign and POST one delivery; returns what should be recorded."""
        body = job.body
        started_at = utcnow()
        headers = _signer(job.secrets).headers(job.event_id, int(started_at.timestamp()), body)
        result = self.sender.post(job.target_url, body, headers)
        ATTEMPT_SECONDS.observe(result.duration_ms / 1000)
        return self._outcome(
            job, started_at, result.duration_ms, result.status_code, result.error, result.excerpt, result.retry_after
        )

    def _outcome(
        self,
        job: claims.Job,
        started_at: datetime,
        duration_ms: int,
        status_code: int | None,
        error: str | None,
        excerpt: str,
        retry_after: str | None,
    ) -> claims.AttemptOutcome:
        decision = self.policy.decide(job.attempt_count + 1, status_code, retry_after)
        next_attempt_at = None
        if decision.outcome is Outcome.RETRY:
            next_attempt_at = utcnow() + timedelta(seconds=decision.delay or 0)
        ATTEMPTS.labels(decision.outcome.value).inc()
        if attempt_log.isEnabledFor(logging.INFO):
            attempt_log.info(
                logfmt(
                    event=job.event_id,
                    delivery=job.delivery_id,
                    host=urlsplit(job.target_url).netloc,
                    attempt=job.attempt_count + 1,
                    status=status_code,
                    duration_ms=duration_ms,
                    outcome=decision.outcome.value,
                    retry_in=f"{decision.delay or 0:.1f}s" if decision.outcome is Outcome.RETRY else None,
                    error=error,
                )
            )
        return claims.AttemptOutcome(
            job=job,
            started_at=started_at,
            duration_ms=duration_ms,
            status_code=status_code,
            error=error,
            response_excerpt=excerpt,
            action=decision.outcome.value,
            next_attempt_at=next_attempt_at,
        )
