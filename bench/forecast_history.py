"""A year of synthetic attributed session history for the forecast backtest
(`bench/bench_forecast.py`), deterministic from a seed.

    .venv/bin/python bench/forecast_history.py [--seed 1]     # prints a summary

What it models (every figure drawn from `random.Random(seed)`):

- **Room kinds** and their hourly order capacities: small 200–400, standard
  500–900, large 1,000–1,600, flagship 1,800–2,500. Each tenant has a home kind
  (85% of its sessions; the rest in a neighbouring kind). The kind does not
  change sales: a bigger room takes more orders, it does not make them.
- **Tenants** (30 by default). A quarter join during the year; one in ten
  leaves. Each has a level of orders per hour (20–70% of its home kind's
  typical capacity, for its average team in the afternoon) and a **trend**:
  growing (×1.8–×4 over a year), shrinking (×0.3–×0.6), flat (×0.9–×1.1), or
  a **step** on one day (a hit product ×1.6–×2.2, or a lost supplier
  ×0.4–×0.6). And a **weekday pattern**: flat, a weekend boost, an office-week
  shape (weekends low), a mid-week dip, or day-by-day jitter.
- **Anchors**: each tenant has 1–3 teams (a host and an assistant), of
  different strength (×0.6–×1.6); a team may join or leave during the year;
  one session in five has another assistant or none. Sales follow the host.
- **Times of day**: each team prefers prime time (19:00–24:00; starts 19:00,
  19:30 or 20:00, 3–5 h, possibly past midnight), the afternoon (13:00–15:00
  starts, 2–4 h) or, rarely, the morning. Prime time sells ×1.3–×1.9 the
  afternoon (per tenant); the morning ×0.6.
- **The park's calendar**, which no forecast here knows: the run-up to 双11
  (1–10 Nov ×1.3) and 11 Nov itself ×2.5, 双12 ×1.6, the 618 run-up ×1.2 and
  18 Jun ×2.2, and Spring Festival week (×0.5, and 60% of sessions not held).
- **Noise**: each session's rate is log-normal around its expectation
  (σ 0.15–0.35 per tenant, mean-preserving); 1.5% of sessions sell nothing (a
  banned stream, a broken link).
- **Clock hours**: a session's orders are spread over its park-local clock
  hours (partial at the ends) by a hump-shaped profile with a lift at
  20:00–22:00 and ±12% noise per hour; the peak clock hour and its orders are
  what `metrics.peak_clock_hour` would report.

Instants are aware UTC; the park is Asia/Shanghai; the year starts on
1 Nov 2025.
"""
from __future__ import annotations

import argparse
import math
import random
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from opsroom.domain.forecast import PastSession  # noqa: E402

UTC = timezone.utc
TZ = ZoneInfo("Asia/Shanghai")
FIRST_DAY = date(2025, 11, 1)
DAYS = 365
TENANTS = 30

KINDS = {"small": (200, 400), "standard": (500, 900), "large": (1000, 1600), "flagship": (1800, 2500)}
KIND_ORDER = list(KINDS)
KIND_SHARE = (0.30, 0.35, 0.25, 0.10)

WEEKDAY_PATTERNS = {                      # Monday … Sunday
    "flat": (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0),
    "weekend": (0.9, 0.9, 0.95, 1.0, 1.1, 1.35, 1.35),
    "office": (1.1, 1.1, 1.1, 1.1, 1.05, 0.75, 0.7),
    "midweek_dip": (1.05, 0.8, 0.8, 1.0, 1.1, 1.15, 1.1),
}
SPRING_FESTIVAL = (date(2026, 2, 15), date(2026, 2, 23))


def calendar_factor(day: date) -> float:
    """The park-wide sales factor of a local day (the shopping festivals)."""
    if day.month == 11 and day.day == 11:
        return 2.5
    if day.month == 11 and day.day <= 10:
        return 1.3
    if day.month == 12 and day.day == 12:
        return 1.6
    if day.month == 6 and day.day == 18:
        return 2.2
    if day.month == 6 and day.day < 18:
        return 1.2
    if SPRING_FESTIVAL[0] <= day <= SPRING_FESTIVAL[1]:
        return 0.5
    return 1.0


@dataclass(frozen=True)
class Team:
    host: int
    assistant: int
    strength: float
    slot: str                 # "prime" | "afternoon" | "morning"
    per_week: float           # sessions a week
    first_day: int
    last_day: int


@dataclass(frozen=True)
class Tenant:
    id: int
    kind: str
    level: float              # orders/hour of an average team, afternoon, day 0, flat weekday
    trend: str                # "growth" | "shrink" | "flat" | "step"
    trend_factor: float       # over a year, or of the step
    step_day: int | None
    weekday: str
    weekday_factors: tuple[float, ...]
    prime: float
    sigma: float
    first_day: int
    last_day: int
    teams: tuple[Team, ...]

    def trend_at(self, day: int) -> float:
        if self.trend == "step":
            return self.trend_factor if self.step_day is not None and day >= self.step_day else 1.0
        return self.trend_factor ** (day / 365)


@dataclass(frozen=True)
class History:
    seed: int
    tenants: tuple[Tenant, ...]
    capacities: dict[str, int]          # a typical room of each kind
    sessions: tuple[PastSession, ...]   # sorted by start
    # Per session, the median orders per hour its noise was drawn around: the
    # best central value anyone could forecast, for the "known truth" floor.
    truth: tuple[float, ...]


def _tenants(rng: random.Random, count: int) -> list[Tenant]:
    tenants = []
    next_anchor = 1
    for tid in range(1, count + 1):
        kind = rng.choices(KIND_ORDER, KIND_SHARE)[0]
        lo, hi = KINDS[kind]
        level = (lo + hi) / 2 * rng.uniform(0.2, 0.7)
        trend = rng.choices(("growth", "shrink", "flat", "step"), (0.30, 0.25, 0.25, 0.20))[0]
        step_day = None
        if trend == "growth":
            factor = rng.uniform(1.8, 4.0)
        elif trend == "shrink":
            factor = rng.uniform(0.3, 0.6)
        elif trend == "flat":
            factor = rng.uniform(0.9, 1.1)
        else:
            factor = rng.uniform(1.6, 2.2) if rng.random() < 0.5 else rng.uniform(0.4, 0.6)
            step_day = rng.randrange(60, 300)
        weekday = rng.choice(("flat", "weekend", "office", "midweek_dip", "jitter"))
        if weekday == "jitter":
            factors = tuple(rng.uniform(0.8, 1.2) for _ in range(7))
        else:
            factors = tuple(f * rng.uniform(0.95, 1.05) for f in WEEKDAY_PATTERNS[weekday])
        first = 0 if rng.random() < 0.75 else rng.randrange(30, 300)
        last = DAYS if rng.random() < 0.9 else rng.randrange(max(first + 60, 120), DAYS)
        teams = []
        for i in range(rng.choice((1, 2, 2, 3))):
            t_first = first if i == 0 or rng.random() < 0.7 else rng.randrange(first, max(first + 1, last - 60))
            t_last = last if rng.random() < 0.85 else rng.randrange(min(t_first + 60, last), last + 1)
            slot = rng.choices(("prime", "afternoon", "morning"), (0.55, 0.40, 0.05))[0]
            teams.append(Team(host=next_anchor, assistant=next_anchor + 1,
                              strength=math.exp(rng.uniform(math.log(0.6), math.log(1.6))),
                              slot=slot, per_week=rng.uniform(1.0, 5.0), first_day=t_first, last_day=t_last))
            next_anchor += 2
        tenants.append(Tenant(id=tid, kind=kind, level=level, trend=trend, trend_factor=factor,
                              step_day=step_day, weekday=weekday, weekday_factors=factors,
                              prime=rng.uniform(1.3, 1.9), sigma=rng.uniform(0.15, 0.35),
                              first_day=first, last_day=last, teams=tuple(teams)))
    return tenants


def _slot_time(rng: random.Random, slot: str) -> tuple[time, int]:
    """A start time and a duration in minutes for a session in `slot`."""
    if slot == "prime":
        return rng.choices((time(19), time(19, 30), time(20)), (0.5, 0.2, 0.3))[0], rng.choice((180, 240, 300))
    if slot == "afternoon":
        return rng.choice((time(13), time(14), time(15))), rng.choice((120, 180, 240))
    return rng.choice((time(9), time(10))), rng.choice((120, 180))


def _clock_hours(start: datetime, end: datetime) -> list[tuple[datetime, float]]:
    """(start of each park-local clock hour the session touches, hours of it inside the session)."""
    out = []
    hour = start.replace(minute=0, second=0, microsecond=0)
    while hour < end:
        nxt = hour + timedelta(hours=1)
        out.append((hour, (min(nxt, end) - max(hour, start)).total_seconds() / 3600))
        hour = nxt
    return out


def _session(rng: random.Random, tenant: Tenant, team: Team, day_index: int, day: date,
             pool: list[int]) -> tuple[PastSession, float]:
    start_time, minutes = _slot_time(rng, team.slot)
    start = datetime.combine(day, start_time, tzinfo=TZ)
    end = start + timedelta(minutes=minutes)   # Asia/Shanghai has no DST: wall clock = elapsed
    r = rng.random()
    if r < 0.8:
        anchors = frozenset((team.host, team.assistant))
    elif r < 0.9 or len(pool) < 2:
        anchors = frozenset((team.host,))
    else:
        anchors = frozenset((team.host, rng.choice([a for a in pool if a not in (team.host, team.assistant)]
                                                   or [team.assistant])))
    kind = tenant.kind
    if rng.random() < 0.15:
        i = KIND_ORDER.index(kind)
        kind = KIND_ORDER[min(len(KIND_ORDER) - 1, max(0, i + rng.choice((-1, 1))))]
    slot_factor = {"prime": tenant.prime, "afternoon": 1.0, "morning": 0.6}[team.slot]
    median = (tenant.level * tenant.trend_at(day_index) * tenant.weekday_factors[day.weekday()] * slot_factor
              * team.strength * calendar_factor(day) * math.exp(-tenant.sigma ** 2 / 2))
    rate = median * math.exp(rng.gauss(0, tenant.sigma))
    if rng.random() < 0.015:
        rate = 0.0
    hours = _clock_hours(start, end)
    total = sum(h for _, h in hours)
    shape = []
    elapsed = 0.0
    for clock, h in hours:
        x = (elapsed + h / 2) / total                       # where in the session this hour lies
        lift = 1.15 if 20 <= clock.hour < 22 else 1.0
        shape.append((0.85 + 0.35 * math.sin(math.pi * x)) * lift * math.exp(rng.gauss(0, 0.12)) * h)
        elapsed += h
    scale = rate * total / sum(shape)
    per_hour = [round(s * scale) for s in shape]
    orders = sum(per_hour)
    peak = max(per_hour)
    peak_at = hours[per_hour.index(peak)][0] if peak > 0 else None
    return PastSession(starts_at=start.astimezone(UTC), ends_at=end.astimezone(UTC), tenant_id=tenant.id,
                       anchor_ids=anchors, room_kind=kind, orders=orders, peak_hour_orders=peak,
                       peak_at=peak_at.astimezone(UTC) if peak_at else None), median


def generate(seed: int = 1, *, tenants: int = TENANTS, days: int = DAYS) -> History:
    """A year (`days`) of sessions of `tenants` tenants, the same for the same seed."""
    rng = random.Random(seed)
    people = _tenants(rng, tenants)
    drawn: list[tuple[PastSession, float]] = []
    for i in range(days):
        day = FIRST_DAY + timedelta(days=i)
        festival_gap = SPRING_FESTIVAL[0] <= day <= SPRING_FESTIVAL[1]
        for tenant in people:
            if not tenant.first_day <= i < tenant.last_day:
                continue
            pool = [a for t in tenant.teams for a in (t.host, t.assistant)]
            for team in tenant.teams:
                if not team.first_day <= i < team.last_day or rng.random() >= team.per_week / 7:
                    continue
                if festival_gap and rng.random() < 0.6:
                    continue
                drawn.append(_session(rng, tenant, team, i, day, pool))
    drawn.sort(key=lambda d: (d[0].starts_at, d[0].tenant_id, sorted(d[0].anchor_ids)))
    capacities = {k: (lo + hi) // 2 for k, (lo, hi) in KINDS.items()}
    return History(seed=seed, tenants=tuple(people), capacities=capacities,
                   sessions=tuple(s for s, _ in drawn), truth=tuple(m for _, m in drawn))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    h = generate(args.seed)
    print(f"seed {h.seed}: {len(h.sessions)} sessions, {len(h.tenants)} tenants, "
          f"{sum(len(t.teams) for t in h.tenants)} teams")
    print("trends:", dict(Counter(t.trend for t in h.tenants)))
    print("weekday patterns:", dict(Counter(t.weekday for t in h.tenants)))
    print("kinds:", dict(Counter(s.room_kind for s in h.sessions)))
    print("sessions per tenant:", sorted(Counter(s.tenant_id for s in h.sessions).values()))
    rates = sorted(s.orders_per_hour for s in h.sessions)
    print("orders/hour p10/p50/p90/max:", [round(rates[int(q * (len(rates) - 1))]) for q in (0.1, 0.5, 0.9, 1.0)])


if __name__ == "__main__":
    main()
