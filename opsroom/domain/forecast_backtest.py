"""How good the session forecast is: each past session forecast from what was known
before it (sessions that ended strictly before it started), scored against two naive
baselines (the tenant's last session, the tenant's mean). WAPE = Σ|actual − central| ÷
Σ actual (orders per hour); coverage = the share of sessions whose actual fell inside
the forecast's range."""
from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo
from opsroom.domain.forecast import BASES, Forecast, ForecastQuery, HALF_LIFE_DAYS, HIGH_QUANTILE, LOW_QUANTILE, MAX_SESSIONS, MID_QUANTILE, MIN_SESSIONS, PastSession, SAME_WEEKDAY_WEIGHT, recency_key, check_settings, forecast, weighted_quantiles



@dataclass(frozen=True)
class Score:
    """How one method did over the scored sessions.

    ``wape`` = Σ|actual − central| ÷ Σ actual (orders per hour); ``coverage`` =
    share of sessions with low ≤ actual ≤ high; ``under_high`` = share with
    actual ≤ high. The last two are None for a method without a range."""

    method: str
    sessions: int
    wape: float
    coverage: float | None
    under_high: float | None


@dataclass(frozen=True)
class BacktestRow:
    """One past session, what the forecast said of it, and the two baselines
    (None when its tenant had no earlier session)."""

    session: PastSession
    forecast: Forecast
    last: float | None        # the tenant's last known session's orders per hour
    mean: float | None        # the mean orders per hour of the tenant's known sessions
    mean_range: tuple[float, float] | None   # plain (unweighted) low and high quantiles of those


@dataclass(frozen=True)
class Backtest:
    """Scores over the sessions whose tenant had an earlier session (where both
    baselines answer): the forecast, (a) the tenant's last session, (b) the
    tenant's mean with its plain low–high range; then the forecast over every
    session, its peak clock-hour orders, and how many sessions each basis answered."""

    forecast: Score
    last_session: Score
    tenant_mean: Score
    forecast_all: Score
    peak: Score
    bases: dict[str, int]
    rows: tuple[BacktestRow, ...]


def _score(method: str, pairs: Sequence[tuple[float, float, float | None, float | None]]) -> Score:
    """``pairs``: (actual, central, low, high) per session."""
    actual = sum(a for a, *_ in pairs)
    error = sum(abs(a - c) for a, c, *_ in pairs)
    ranged = [(a, lo, hi) for a, _, lo, hi in pairs if lo is not None and hi is not None]
    n = len(pairs)
    return Score(
        method=method, sessions=n,
        wape=error / actual if actual else 0.0,
        coverage=sum(lo <= a <= hi for a, lo, hi in ranged) / n if ranged and n else None,
        under_high=sum(a <= hi for a, _, hi in ranged) / n if ranged and n else None,
    )


def backtest(sessions: Iterable[PastSession], tz: ZoneInfo, *,
             min_sessions: int = MIN_SESSIONS, max_sessions: int = MAX_SESSIONS,
             half_life_days: float = HALF_LIFE_DAYS, same_weekday_weight: float = SAME_WEEKDAY_WEIGHT,
             low: float = LOW_QUANTILE, mid: float = MID_QUANTILE, high: float = HIGH_QUANTILE,
             score_from: datetime | None = None, max_known_per_tenant: int | None = None) -> Backtest:
    """Forecast every session from only the sessions that ended strictly before
    it started, and score the forecast against the two naive baselines.
    With ``score_from``, only the sessions starting at or after it are forecast
    and scored; the earlier ones are history only (a page's bounded backtest).
    With ``max_known_per_tenant``, a tenant's history (for the forecast and both
    baselines) is its latest that many known sessions, not all of them: a busy
    park's page stays fast (the forecast then differs only where the tenant's
    anchors were last seen further back than that).

    Each forecast is exactly ``forecast(query of the session, all sessions)``
    (which itself ignores what had not ended): the history handed to it is what
    the service would hand, the tenant's known sessions plus the
    ``max_sessions`` latest of the room kind and of the park, which is the
    same answer in a fraction of the time."""
    check_settings(min_sessions=min_sessions, max_sessions=max_sessions, half_life_days=half_life_days,
                   same_weekday_weight=same_weekday_weight, low=low, mid=mid, high=high)
    targets = sorted(sessions, key=lambda s: (s.starts_at, recency_key(s)))
    by_end = sorted(targets, key=recency_key)
    known_of_tenant: dict[int, list[PastSession]] = {}
    sums: dict[int, float] = {}
    latest_of_kind: dict[str, deque[PastSession]] = {}
    latest: deque[PastSession] = deque(maxlen=max_sessions)
    settings = dict(min_sessions=min_sessions, max_sessions=max_sessions, half_life_days=half_life_days,
                    same_weekday_weight=same_weekday_weight, low=low, mid=mid, high=high)
    rows: list[BacktestRow] = []
    i = 0
    for s in targets:
        # What was known when s started: every session that ended strictly before.
        while i < len(by_end) and by_end[i].ends_at < s.starts_at:
            k = by_end[i]
            i += 1
            if k.hours <= 0:
                continue
            known_of_tenant.setdefault(k.tenant_id, []).append(k)
            sums[k.tenant_id] = sums.get(k.tenant_id, 0.0) + k.orders_per_hour
            latest_of_kind.setdefault(k.room_kind, deque(maxlen=max_sessions)).append(k)
            latest.append(k)
        if s.hours <= 0 or (score_from is not None and s.starts_at < score_from):
            continue
        own = known_of_tenant.get(s.tenant_id, [])
        if max_known_per_tenant is not None and len(own) > max_known_per_tenant:
            own = own[-max_known_per_tenant:]
        kind = latest_of_kind.get(s.room_kind, ())
        # The union without repeats: each session enters by the first list that holds it.
        history = own + [k for k in kind if k.tenant_id != s.tenant_id] + [
            k for k in latest if k.tenant_id != s.tenant_id and k.room_kind != s.room_kind]
        query = ForecastQuery(s.tenant_id, s.anchor_ids, s.room_kind, s.starts_at, s.ends_at, tz)
        f = forecast(query, history, **settings)
        if own:
            lo_, hi_ = weighted_quantiles([k.orders_per_hour for k in own], [1.0] * len(own), (low, high))
            mean = (sums[s.tenant_id] / len(known_of_tenant[s.tenant_id]) if max_known_per_tenant is None
                    else sum(k.orders_per_hour for k in own) / len(own))
            rows.append(BacktestRow(s, f, own[-1].orders_per_hour, mean, (lo_, hi_)))
        else:
            rows.append(BacktestRow(s, f, None, None, None))
    with_history = [r for r in rows if r.last is not None]
    bases: dict[str, int] = {b: 0 for b in BASES}
    for r in rows:
        bases[r.forecast.basis] += 1

    def rate(r: BacktestRow) -> tuple[float, float, float | None, float | None]:
        o = r.forecast.orders_per_hour
        return r.session.orders_per_hour, o.p50, o.low, o.p90

    return Backtest(
        forecast=_score("forecast", [rate(r) for r in with_history]),
        last_session=_score("last session", [(r.session.orders_per_hour, r.last, None, None)
                                             for r in with_history]),
        tenant_mean=_score("tenant mean", [(r.session.orders_per_hour, r.mean, *r.mean_range)
                                           for r in with_history]),
        forecast_all=_score("forecast, every session", [rate(r) for r in rows]),
        peak=_score("forecast, peak hour orders", [
            (r.session.peak_hour_orders, r.forecast.peak_hour_orders.p50, r.forecast.peak_hour_orders.low,
             r.forecast.peak_hour_orders.p90) for r in rows]),
        bases=bases,
        rows=tuple(rows),
    )
