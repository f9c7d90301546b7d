"""What a robot may send now, merged so nothing is dropped; when to try again.

Rules:

- Each robot sends at most 20 messages in any 60 seconds. That is WeCom's and
  DingTalk's published limit (DingTalk then blocks the robot for 10 minutes);
  Feishu allows 100 a minute but also at most 5 a second, and the park keeps
  the 20 a minute there too: a chat group is read by people.
- A send counts in a window of ``seconds`` while ``now - seconds < sent_at``;
  the log passed in is the robot's sends of at least the last minute.
- When more notices wait than the minute still allows, every send but the
  minute's last goes out alone and the last carries a digest of as many of the
  waiting notices as fit the platform's size limit (``robots.fits``); the rest
  stay queued for the next free slot. Nothing is ever dropped.
- After a throttled answer the robot pauses: 10 minutes on DingTalk (its
  penalty), else one full minute, or the receiver's ``Retry-After`` if longer.
  The platform counts sends we may not see (another system sharing the robot),
  so "our log says there is room" is not trusted then.
- Failed attempts back off exponentially from 30 s (the contract asks for the
  first retry within 60 s), doubling up to one hour. Jitter, when asked for, is
  derived from the delivery's key, so a schedule is reproducible in tests and
  logs while different deliveries still spread out.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence

from .messages import Notice, digest
from .robots import Outcome, fits

RETRY_BASE_SECONDS = 30.0
RETRY_CAP_SECONDS = 3600.0
JITTER = 0.1  # at most this fraction earlier than the plain schedule


@dataclasses.dataclass(frozen=True)
class Window:
    """At most ``count`` sends in any ``seconds``."""

    count: int
    seconds: float


WINDOWS: dict[str, tuple[Window, ...]] = {
    "wecom": (Window(20, 60),),
    "dingtalk": (Window(20, 60),),
    "feishu": (Window(20, 60), Window(5, 1)),
}
# Seconds a robot stays silent after the platform answered "too fast".
THROTTLE_PAUSE = {"wecom": 60.0, "dingtalk": 600.0, "feishu": 60.0}


@dataclasses.dataclass(frozen=True)
class Plan:
    """The decision for one robot at one instant.

    ``take``: how many notices from the head of the queue this send consumes
    (0: send nothing now). ``notice``: what to send (the head itself, or a digest
    of the first ``take``). ``next_at``: when to plan again; None when nothing
    will be left waiting.
    """

    take: int
    notice: Notice | None
    next_at: float | None


def _windows(kind: str) -> tuple[Window, ...]:
    try:
        return WINDOWS[kind]
    except KeyError:
        raise ValueError(f"unknown robot kind {kind!r}") from None


def _in_window(sent_at: Sequence[float], window: Window, now: float) -> list[float]:
    return sorted(t for t in sent_at if t > now - window.seconds)


def budget(kind: str, sent_at: Sequence[float], now: float) -> int:
    """Sends left in the longest window (the minute), never below 0."""
    longest = max(_windows(kind), key=lambda w: w.seconds)
    return max(0, longest.count - len(_in_window(sent_at, longest, now)))


def free_at(kind: str, sent_at: Sequence[float], now: float) -> float:
    """The first instant (``now`` if already) at which every window allows one more send."""
    earliest = now
    for window in _windows(kind):
        recent = _in_window(sent_at, window, now)
        over = len(recent) - window.count
        if over >= 0:
            # The send that must leave the window before there is room again.
            earliest = max(earliest, recent[over] + window.seconds)
    return earliest


def plan(
    kind: str,
    sent_at: Sequence[float],
    queue: Sequence[Notice],
    *,
    now: float,
    paused_until: float | None = None,
    fmt: str = "markdown",
    mentions: Sequence[str] = (),
) -> Plan:
    """What to send now from ``queue`` (oldest first, only notices due now)."""
    if not queue:
        return Plan(0, None, None)
    if paused_until is not None and paused_until > now:
        return Plan(0, None, paused_until)
    ready = free_at(kind, sent_at, now)
    if ready > now:
        return Plan(0, None, ready)
    left = budget(kind, sent_at, now)
    take, notice = 1, queue[0]
    if left == 1 and len(queue) > 1:
        # The minute's last send: merge as many as fit. fits() only shrinks as
        # notices are added, so the largest fitting count is found by bisection.
        low, high = 1, len(queue)
        while low < high:
            middle = (low + high + 1) // 2
            if fits(kind, digest(queue[:middle]), fmt, mentions):
                low = middle
            else:
                high = middle - 1
        if low >= 2:
            take, notice = low, digest(queue[:low])
    if take == len(queue):
        return Plan(take, notice, None)
    return Plan(take, notice, free_at(kind, [*sent_at, now], now))


def pause_after_throttled(kind: str, now: float, outcome: Outcome | None = None) -> float:
    """Until when a robot stays silent after a throttled answer."""
    pause = THROTTLE_PAUSE.get(kind)
    if pause is None:
        raise ValueError(f"unknown robot kind {kind!r}")
    asked = outcome.retry_after if outcome is not None and outcome.retry_after else 0.0
    return now + max(pause, min(asked, RETRY_CAP_SECONDS))


def retry_delay(attempt: int, *, key: str | None = None) -> float:
    """Seconds before retry number ``attempt`` (1 = the first retry): 30, 60, 120 … ≤ 3600.

    With a ``key`` (the delivery's id) the delay is up to 10 % shorter, by an
    amount fixed for that key and attempt.
    """
    if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1:
        raise ValueError("attempt must be an integer >= 1")
    delay = min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2 ** min(attempt - 1, 32))
    if key is None:
        return delay
    digest_ = hashlib.sha256(f"{key}:{attempt}".encode()).digest()
    fraction = int.from_bytes(digest_[:8], "big") / 2**64
    return delay * (1 - JITTER * fraction)


def next_attempt_at(outcome: Outcome, attempt: int, now: float, *, key: str | None = None) -> float | None:
    """When to try a delivery again after ``outcome`` of its ``attempt``-th try; None: stop.

    A receiver's ``Retry-After`` wins over the schedule when it asks for longer
    (capped at an hour, so a bogus header cannot park a delivery for days).
    """
    if outcome.ok or not outcome.retry:
        return None
    delay = retry_delay(attempt, key=key)
    if outcome.retry_after:
        delay = max(delay, min(outcome.retry_after, RETRY_CAP_SECONDS))
    return now + delay
