"""Rate limits and merging: never more than 20 sends a minute per robot (and 5 a
second on Feishu), the minute's last send carrying a digest that fits, nothing
dropped or reordered, pauses after a throttled answer, and the retry schedule."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opsroom.domain.integrations.messages import Notice, digest
from opsroom.domain.integrations.robots import Outcome, fits
from opsroom.domain.integrations.throttle import (
    Plan,
    budget,
    free_at,
    next_attempt_at,
    pause_after_throttled,
    plan,
    retry_delay,
)

T = 1_700_000_000.0


def notices(n, text="A101 直播间 已开播"):
    return [Notice("开播", f"{text} #{i}", f"https://ops.park.cn/bookings/{i}") for i in range(n)]


def test_an_empty_queue_sends_nothing_and_needs_no_wake_up():
    assert plan("wecom", [], [], now=T) == Plan(0, None, None)


def test_under_the_limit_the_head_goes_alone_and_the_rest_right_after():
    queue = notices(3)
    decision = plan("wecom", [T - 10] * 5, queue, now=T)
    assert decision.take == 1 and decision.notice == queue[0]
    assert decision.next_at == T
    assert plan("wecom", [], queue[:1], now=T).next_at is None


def test_at_the_limit_nothing_goes_until_the_oldest_send_leaves_the_minute():
    sent = [T - 50 + i for i in range(20)]  # 20 sends, the oldest 50 s ago
    decision = plan("dingtalk", sent, notices(2), now=T)
    assert decision == Plan(0, None, T + 10)
    assert free_at("dingtalk", sent, T) == T + 10
    # At that instant the oldest no longer counts: one slot opens, and it carries both.
    later = plan("dingtalk", sent, notices(2), now=T + 10)
    assert later.take == 2 and later.notice.title == "2 条通知"


def test_a_send_exactly_sixty_seconds_old_no_longer_counts():
    sent = [T - 60] + [T - 1] * 19
    assert budget("wecom", sent, T) == 1
    assert budget("wecom", sent, T - 0.001) == 0


def test_the_minutes_last_send_is_a_digest_of_everything_waiting():
    queue = notices(5)
    decision = plan("wecom", [T - 30] * 19, queue, now=T)
    assert decision.take == 5
    assert decision.notice.title == "5 条通知" and decision.notice.items == tuple(queue)
    assert decision.next_at is None


def test_with_two_or_more_sends_left_notices_still_go_alone():
    decision = plan("wecom", [T - 30] * 18, notices(5), now=T)
    assert decision.take == 1 and not decision.notice.items


def test_a_digest_stops_at_the_platforms_size_limit_and_the_rest_waits():
    queue = notices(80, text="某某服饰《秋冬新品》A101 直播间 11月22日 20:00–23:00 已取消，原因：主播临时身体不适")
    sent = [T - 59.5] + [T - 5] * 18
    decision = plan("wecom", sent, queue, now=T)
    assert 2 <= decision.take < 80
    assert fits("wecom", decision.notice)
    assert not fits("wecom", digest(queue[: decision.take + 1]))
    assert decision.next_at == T + 0.5  # the next slot: when the oldest send leaves the minute


def test_a_notice_too_long_to_merge_goes_alone_on_the_last_slot():
    queue = [Notice("场次取消", "长" * 5000, "https://x/1"), *notices(3)]
    decision = plan("wecom", [T - 1] * 19, queue, now=T)
    assert decision.take == 1 and decision.notice == queue[0]


def test_feishu_also_holds_five_a_second():
    sent = [T - 0.5] * 5
    assert plan("feishu", sent, notices(3), now=T) == Plan(0, None, T + 0.5)
    assert plan("wecom", sent, notices(3), now=T).take == 1


def test_a_paused_robot_sends_nothing_until_the_pause_ends():
    assert plan("wecom", [], notices(2), now=T, paused_until=T + 60) == Plan(0, None, T + 60)
    assert plan("wecom", [], notices(2), now=T + 60, paused_until=T + 60).take == 1


def test_pause_after_a_throttled_answer():
    throttled = Outcome(False, True, True, "wecom 45009", 45009)
    assert pause_after_throttled("wecom", T, throttled) == T + 60
    assert pause_after_throttled("feishu", T) == T + 60
    assert pause_after_throttled("dingtalk", T) == T + 600  # DingTalk's 10-minute penalty
    longer = Outcome(False, True, True, "429", None, retry_after=300)
    assert pause_after_throttled("wecom", T, longer) == T + 300
    with pytest.raises(ValueError):
        pause_after_throttled("webhook", T)


@settings(max_examples=60, deadline=None)
@given(
    kind=st.sampled_from(["wecom", "dingtalk", "feishu"]),
    gaps=st.lists(st.floats(min_value=0, max_value=20, allow_nan=False), min_size=1, max_size=120),
)
def test_simulated_bursts_respect_every_window_and_deliver_everything_once_in_order(kind, gaps):
    arrivals, at = [], T
    for gap in gaps:
        at += gap
        arrivals.append(at)
    queue: list[Notice] = []
    pending = list(zip(arrivals, notices(len(arrivals))))
    sent_at: list[float] = []
    delivered: list[Notice] = []
    now = arrivals[0]
    for _ in range(10_000):
        while pending and pending[0][0] <= now:
            queue.append(pending.pop(0)[1])
        decision = plan(kind, sent_at, queue, now=now)
        if decision.take:
            sent_at.append(now)
            delivered.extend(decision.notice.items or (decision.notice,))
            del queue[: decision.take]
        wake = [t for t in (decision.next_at, pending[0][0] if pending else None) if t is not None]
        if not wake:
            break
        assert min(wake) >= now
        now = min(wake) if min(wake) > now or decision.take else now + 0.001
    assert not queue and not pending
    assert delivered == notices(len(arrivals))  # all, once, oldest first
    for t in sent_at:
        assert sum(1 for s in sent_at if t <= s < t + 60) <= 20
        if kind == "feishu":
            assert sum(1 for s in sent_at if t <= s < t + 1) <= 5


def test_retry_delays_double_from_thirty_seconds_up_to_an_hour():
    assert [retry_delay(n) for n in range(1, 10)] == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert retry_delay(1000) == 3600
    for bad in (0, -1, True, 1.5):
        with pytest.raises(ValueError):
            retry_delay(bad)


def test_jitter_is_fixed_per_key_and_attempt_and_only_ever_earlier():
    first = retry_delay(1, key="evt_17")
    assert first == retry_delay(1, key="evt_17")
    assert 27 <= first <= 30  # the first retry stays within the contract's 60 s
    spread = {retry_delay(3, key=f"evt_{n}") for n in range(50)}
    assert len(spread) > 40 and all(108 <= d <= 120 for d in spread)


def test_next_attempt():
    ok = Outcome(True, False, False, "ok", 0)
    permanent = Outcome(False, False, False, "dingtalk 310000", 310000)
    failed = Outcome(False, True, False, "HTTP 502")
    asked = Outcome(False, True, False, "HTTP 503", None, retry_after=600)
    assert next_attempt_at(ok, 1, T) is None
    assert next_attempt_at(permanent, 1, T) is None
    assert next_attempt_at(failed, 1, T) == T + 30
    assert next_attempt_at(failed, 2, T) == T + 60
    assert next_attempt_at(asked, 1, T) == T + 600
    assert next_attempt_at(Outcome(False, True, False, "x", None, retry_after=10**9), 1, T) == T + 3600
