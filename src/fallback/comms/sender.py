"""The outbox sender: a long-running loop over the database, as healthchecks.io's
`sendalerts` is. It runs inside `fallback serve` and `fallback worker` (a thread beside the
others) and alone as `fallback comms send`.

One dispatcher (the loop) claims due items in batches and hands them to worker threads:
email threads each keep a persistent SMTP connection per organisation, SMS and chat
threads go through apprise. Each organisation's channel has a token bucket (its messages
per second). The dispatcher renews the lease on everything this sender holds every few
seconds — that is its heartbeat — and returns the items of senders that stopped renewing
theirs (fallback.comms.outbox.recover). Results are written as soon as they are known, the
sending threads' writes grouped into one commit by the Recorder.
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

from django.db import close_old_connections, connections, transaction
from django.utils import timezone
from django.utils.crypto import get_random_string

from fallback.comms import audiences, mail, outbox
from fallback.comms.models import ChannelKind, CommsSettings, OutboxItem
from fallback.comms.preferences import MailSetupError, channel_url

log = logging.getLogger("fallback.comms")

EMAIL_THREADS = int(os.environ.get("FALLBACK_OUTBOX_EMAIL_THREADS", "4"))
OTHER_THREADS = 2
CLAIM_BATCH = 500  # email items claimed at once (about a second of sending)
RECORD_BATCH = 200  # writes committed together at most
OTHER_BATCH = 20
RENEW_EVERY = 5.0  # seconds between lease renewals (and recoveries)
SETTINGS_TTL = 15.0  # an organisation's settings are read again after this
IDLE_CLOSE = 60.0  # an SMTP connection unused this long is closed
TICK = 0.5
NOT_A_DRILL_RECIPIENT = (
    "Not sent: this is an exercise and the address is not one of the drill's test "
    "recipients (see Notices → Settings)."
)


def new_sender_id() -> str:
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{get_random_string(6)}"


class TokenBucket:
    """At most `rate` messages per second on average, bursts of up to a second's worth."""

    def __init__(self, rate: float) -> None:
        self.rate = max(rate, 0.001)
        self.capacity = max(1.0, self.rate)
        self.tokens = self.capacity
        self.updated = time.monotonic()
        self.lock = threading.Lock()

    def set_rate(self, rate: float) -> None:
        with self.lock:
            self.rate = max(rate, 0.001)
            self.capacity = max(1.0, self.rate)

    def take(self, stop: threading.Event) -> bool:
        """Wait for a token; False if asked to stop meanwhile."""
        while True:
            with self.lock:
                now = time.monotonic()
                self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return True
                wait = (1 - self.tokens) / self.rate
            if stop.wait(wait):
                return False


@dataclass
class OrgState:
    settings: CommsSettings
    account: mail.Account | None
    problem: str
    drill: set[str]
    read_at: float


@dataclass
class Stats:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    unknown: int = 0
    started: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, what: str) -> None:
        with self.lock:
            setattr(self, what, getattr(self, what) + 1)


class _Op:
    __slots__ = ("after", "args", "done", "error", "fn", "result")

    def __init__(
        self,
        fn: Callable[..., object],
        args: tuple[object, ...],
        after: Callable[[], None] | None = None,
    ) -> None:
        self.fn, self.args, self.after = fn, args, after
        self.done = threading.Event()
        self.result: object = None
        self.error: BaseException | None = None


class Recorder(threading.Thread):
    """Writes what the sending threads learn, several at a time (group commit).

    Each commit costs a flush to disk; one transaction for whatever is waiting turns eight
    threads' eight commits into one. A thread waits for its "handed over" to be committed
    before it lets the message go (`call`); results (`submit`) it does not wait for — they
    are committed in order, before that thread's next "handed over", so a sender killed at
    any moment leaves at most one message per connection undecided."""

    def __init__(self) -> None:
        super().__init__(name="fallback-outbox-recorder", daemon=True)
        self._ops: queue.Queue[_Op] = queue.Queue()
        self._stopping = threading.Event()
        self._pending = 0

    def submit(
        self, fn: Callable[..., object], *args: object, after: Callable[[], None] | None = None
    ) -> _Op:
        op = _Op(fn, args, after)
        self._ops.put(op)
        return op

    def call(
        self, fn: Callable[..., object], *args: object, after: Callable[[], None] | None = None
    ) -> object:
        """Commit `fn` and wait; `after` runs in this thread the moment it is committed."""
        op = self.submit(fn, *args, after=after)
        op.done.wait()
        if op.error is not None:
            raise op.error
        return op.result

    def stop(self) -> None:
        self._stopping.set()

    def idle(self) -> bool:
        return self._ops.empty() and self._pending == 0

    def _apply(self, ops: list[_Op]) -> None:
        try:
            with transaction.atomic():
                for op in ops:
                    op.result = op.fn(*op.args)
        except Exception:
            # One bad write must not lose the others: each again, on its own.
            close_old_connections()
            for op in ops:
                try:
                    with transaction.atomic():
                        op.result = op.fn(*op.args)
                except Exception as exc:
                    log.exception("outbox record failed")
                    op.error = exc
        # A committed hand-over lets its message go at once, from this thread: waking the
        # sending thread first would leave the message recorded as handed over but not
        # sent for as long as that takes, and a crash then would lose it.
        for op in ops:
            if op.after is not None and op.error is None and op.result:
                try:
                    op.after()
                except Exception as exc:
                    op.error = mail.HandOverLost(f"{type(exc).__name__}: {exc}")
        for op in ops:
            op.done.set()

    def run(self) -> None:
        try:
            while not (self._stopping.is_set() and self._ops.empty()):
                try:
                    ops = [self._ops.get(timeout=TICK)]
                except queue.Empty:
                    continue
                while len(ops) < RECORD_BATCH:
                    try:
                        ops.append(self._ops.get_nowait())
                    except queue.Empty:
                        break
                self._pending = len(ops)
                self._apply(ops)
                self._pending = 0
        finally:
            connections.close_all()


class Sender:
    def __init__(
        self,
        sender_id: str | None = None,
        *,
        email_threads: int = EMAIL_THREADS,
        other_threads: int = OTHER_THREADS,
        claim_batch: int = CLAIM_BATCH,
        lease: timedelta | None = None,
    ) -> None:
        self.sender_id = sender_id or new_sender_id()
        self.email_threads = max(1, email_threads)
        self.other_threads = max(1, other_threads)
        self.claim_batch = claim_batch
        self.lease = lease or outbox.LEASE
        self.stop_event = threading.Event()
        self.stats = Stats()
        self._email: queue.Queue[OutboxItem] = queue.Queue()
        self._other: queue.Queue[OutboxItem] = queue.Queue()
        self._orgs: dict[int, OrgState] = {}
        self._buckets: dict[tuple[int, str], TokenBucket] = {}
        self._lock = threading.Lock()
        self._busy = 0
        self.recorder = Recorder()

    # ------------------------------------------------------------ organisations

    def _org(self, org_id: int) -> OrgState:
        with self._lock:
            state = self._orgs.get(org_id)
            if state is not None and time.monotonic() - state.read_at < SETTINGS_TTL:
                return state
        settings = CommsSettings.objects.select_related("org").filter(
            org_id=org_id
        ).first() or CommsSettings(org_id=org_id)
        account, problem = None, ""
        try:
            account = mail.account_for(settings)
        except MailSetupError as exc:
            problem = str(exc)
        drill = audiences.drill_addresses(settings.org, settings) if settings.org_id else set()
        state = OrgState(settings, account, problem, drill, time.monotonic())
        with self._lock:
            self._orgs[org_id] = state
            for channel in ChannelKind.values:
                bucket = self._buckets.get((org_id, channel))
                rate = float(getattr(settings, f"{channel}_per_second", 1.0) or 1.0)
                if bucket is None:
                    self._buckets[(org_id, channel)] = TokenBucket(rate)
                else:
                    bucket.set_rate(rate)
        return state

    def _bucket(self, org_id: int, channel: str) -> TokenBucket:
        with self._lock:
            return self._buckets[(org_id, channel)]

    # ------------------------------------------------------------ one item

    def _settle(self, item: OutboxItem, kind: str, reply: str) -> None:
        """Record an outcome (committed by the recorder, in order, without waiting)."""
        record = self.recorder.submit
        if kind == mail.SENT:
            record(outbox.record_sent, item, reply, timezone.now())
            self.stats.add("sent")
        elif kind == mail.RETRY:
            gives_up = item.attempts + 1 >= outbox.MAX_ATTEMPTS
            record(outbox.record_failure, item, reply)
            self.stats.add("failed" if gives_up else "retried")
        elif kind == mail.FAILED:
            record(partial(outbox.record_failure, permanent=True), item, reply)
            self.stats.add("failed")
        elif kind == mail.BOUNCED:
            record(partial(outbox.record_failure, bounced=True), item, reply)
            self.stats.add("failed")
        elif kind == mail.UNKNOWN:
            record(outbox.record_unknown, item, reply)
            self.stats.add("unknown")

    def _hand_over(
        self, item: OutboxItem, msg_id: str = "", finish: Callable[[], None] | None = None
    ) -> bool:
        return bool(
            self.recorder.call(outbox.hand_over, item, self.sender_id, msg_id, after=finish)
        )

    def _guard(self, item: OutboxItem, state: OrgState) -> bool:
        """Last line of the drill rule (the first is outbox.enqueue)."""
        if item.is_exercise and item.address not in state.drill:
            self._settle(item, mail.FAILED, NOT_A_DRILL_RECIPIENT)
            return False
        return True

    def _send_email(
        self, item: OutboxItem, conns: dict[int, tuple[mail.MailConnection, float]]
    ) -> None:
        state = self._org(item.org_id)
        if not self._guard(item, state):
            return
        if state.account is None:
            self._settle(item, mail.RETRY, state.problem)
            return
        if not self._bucket(item.org_id, ChannelKind.EMAIL).take(self.stop_event):
            self.recorder.submit(outbox.release, [item], self.sender_id)  # stopping
            return
        held = conns.get(item.org_id)
        if held is None or held[0].account != state.account:
            if held is not None:
                held[0].close()
            held = (mail.MailConnection(state.account), time.monotonic())
        connection = held[0]
        conns[item.org_id] = (connection, time.monotonic())
        msg_id = mail.message_id(item, state.account.domain)
        outcome = connection.deliver(
            item, msg_id, lambda finish: self._hand_over(item, msg_id, finish)
        )
        self._settle(item, outcome.kind, outcome.reply)

    def _send_other(self, item: OutboxItem) -> None:
        from fallback.incidents.alerts import deliver

        state = self._org(item.org_id)
        if not self._guard(item, state):
            return
        channel = item.via
        if channel is None or not channel.enabled:
            self._settle(item, mail.FAILED, "The SMS or chat channel was removed or disabled.")
            return
        if not self._bucket(item.org_id, item.channel).take(self.stop_event):
            self.recorder.submit(outbox.release, [item], self.sender_id)
            return
        if not self._hand_over(item):
            return
        url = channel_url(channel, item.address)
        title = item.subject if item.channel == ChannelKind.CHAT else ""
        error = deliver(url, title, item.body)
        if error is None:
            self._settle(item, mail.SENT, f"accepted by {channel.name}")
        else:
            # The gateway answered with an error: it did not take the message.
            self._settle(item, mail.RETRY, error.replace(channel.url, "<channel URL>"))

    # ------------------------------------------------------------ threads

    def _work(self, source: queue.Queue[OutboxItem], email: bool) -> None:
        conns: dict[int, tuple[mail.MailConnection, float]] = {}
        last_tidy = time.monotonic()
        try:
            while not self.stop_event.is_set():
                try:
                    item = source.get(timeout=TICK)
                except queue.Empty:
                    item = None
                now = time.monotonic()
                if now - last_tidy > IDLE_CLOSE:
                    last_tidy = now
                    for org_id, (connection, used) in list(conns.items()):
                        if now - used > IDLE_CLOSE:
                            connection.close()
                            del conns[org_id]
                    close_old_connections()
                if item is None:
                    continue
                with self._lock:
                    self._busy += 1
                try:
                    if email:
                        self._send_email(item, conns)
                    else:
                        self._send_other(item)
                except Exception as exc:
                    # Never a blind resend: not handed over yet, it goes back to the queue;
                    # handed over, it may have gone, so it is unknown.
                    log.exception("outbox item %s could not be processed", item.pk)
                    close_old_connections()
                    self.recorder.submit(outbox.release, [item], self.sender_id)
                    error = f"{type(exc).__name__}: {exc}"
                    self.recorder.submit(outbox.record_unknown, item, error)
                finally:
                    with self._lock:
                        self._busy -= 1
        finally:
            for connection, _ in conns.values():
                connection.close()
            connections.close_all()

    def _drain(self) -> list[OutboxItem]:
        left = []
        for source in (self._email, self._other):
            while True:
                try:
                    left.append(source.get_nowait())
                except queue.Empty:
                    break
        return left

    def _fill(self) -> int:
        claimed = 0
        room = self.claim_batch - self._email.qsize()
        if room >= self.claim_batch // 2:
            for item in outbox.claim(self.sender_id, [ChannelKind.EMAIL], room):
                self._email.put(item)
                claimed += 1
        room = OTHER_BATCH - self._other.qsize()
        if room >= OTHER_BATCH // 2:
            channels = [ChannelKind.SMS, ChannelKind.CHAT]
            for item in outbox.claim(self.sender_id, channels, room):
                self._other.put(item)
                claimed += 1
        return claimed

    def _idle(self) -> bool:
        with self._lock:
            busy = self._busy
        return busy == 0 and self._email.empty() and self._other.empty() and self.recorder.idle()

    def run(
        self,
        *,
        until_done: bool = False,
        progress: Callable[[Stats], None] | None = None,
    ) -> Stats:
        """Send until stop() (or, with until_done, until nothing is left to send)."""
        workers = [
            threading.Thread(
                target=self._work, args=(self._email, True), name=f"fallback-mail-{i}", daemon=True
            )
            for i in range(self.email_threads)
        ] + [
            threading.Thread(
                target=self._work, args=(self._other, False), name=f"fallback-sms-{i}", daemon=True
            )
            for i in range(self.other_threads)
        ]
        self.recorder.start()
        for w in workers:
            w.start()
        last_renew = 0.0
        try:
            while not self.stop_event.is_set():
                now = time.monotonic()
                if now - last_renew >= RENEW_EVERY:
                    last_renew = now
                    try:
                        outbox.renew(self.sender_id)
                        outbox.recover(lease=self.lease)
                    except Exception:
                        log.exception("outbox lease renewal failed")
                        close_old_connections()
                try:
                    claimed = self._fill()
                except Exception:
                    log.exception("claiming outbox items failed")
                    close_old_connections()
                    claimed = 0
                if progress is not None:
                    progress(self.stats)
                if not claimed:
                    if until_done and self._idle() and not outbox.backlog():
                        break
                    self.stop_event.wait(TICK if self._idle() else 0.1)
        finally:
            self.stop_event.set()
            for w in workers:
                w.join(mail.TIMEOUT + 5)
            self.recorder.stop()
            self.recorder.join(60)
            left = self._drain()
            if left:
                try:
                    outbox.release(left, self.sender_id)
                except Exception:
                    log.exception("could not release %s claimed outbox items", len(left))
            if progress is not None:
                progress(self.stats)
            connections.close_all()
        return self.stats

    def stop(self) -> None:
        self.stop_event.set()


class SenderThread(threading.Thread):
    """The sender inside `fallback serve` and `fallback worker`."""

    def __init__(self, worker_id: str) -> None:
        super().__init__(name="fallback-outbox", daemon=True)
        self.sender = Sender(f"{worker_id[:100]}-outbox")

    def run(self) -> None:
        try:
            self.sender.run()
        except Exception:
            log.exception("the outbox sender stopped")

    def stop(self) -> None:
        self.sender.stop()
