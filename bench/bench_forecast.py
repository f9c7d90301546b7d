"""Backtest of the session forecast (opsroom/domain/forecast.py) on a synthetic
year (bench/forecast_history.py), against two naive baselines, and its speed.

    .venv/bin/python bench/bench_forecast.py [--seeds 1 2 3] [--sweep] [--quick]

For every seed, every session of the year is forecast from only the sessions
that ended strictly before it started (`forecast.backtest`), and scored:

- **WAPE** = Σ|actual − p50| ÷ Σ actual, on orders per hour (lower is better);
- **coverage** = share of sessions with p10 ≤ actual ≤ p90 (80% is what a
  calibrated p10–p90 range gives), and the share with actual ≤ p90 (90%).

The rows "forecast", "last session" and "tenant mean" are scored on the same
sessions: those whose tenant had at least one earlier session (where both
baselines answer). The tenant-mean baseline's range is the plain p10–p90 of
all the tenant's earlier sessions; the last-session baseline has no range.
"forecast, every session" adds the tenant's first sessions (answered by the
room kind or the park). "peak clock-hour orders" scores the peak forecast the
same way. "known truth" is the WAPE of the median each session's noise was
drawn around (the generator knows it, festivals included): no forecast can be
expected to beat it.

Speed (µs per `forecast` call, median and p95 over 300 queries at the end of
the year, on freshly built `PastSession` values so no memo helps):

- "as the service calls it": the tenant's sessions of the year plus the 40
  latest of the room kind and of the park (what `forecast` needs);
- "the whole park": every session of the year handed over unfiltered;
- "one tenant, 3,000 sessions": the last 3,000 sessions of the park, all
  relabelled as the query's tenant (a very big tenant; worst case of the scan).

`--sweep` prints the backtest for other settings (half-life, weekday weight,
number of sessions, minimum per basis) on every seed: the figures behind the
defaults. `--quick` uses one seed and a smaller park (a smoke run).
"""
from __future__ import annotations

import argparse
import platform
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.forecast_history import TZ, History, generate  # noqa: E402
from opsroom.domain import forecast as fc  # noqa: E402
from opsroom.domain import forecast_backtest as fb  # noqa: E402
from opsroom.domain.forecast import ForecastQuery, PastSession  # noqa: E402

SWEEP = [
    ("defaults", {}),
    ("unweighted (no recency, no weekday)", {"half_life_days": 1e12, "same_weekday_weight": 1.0}),
    ("recency only (no weekday weight)", {"same_weekday_weight": 1.0}),
    ("half-life 7 d", {"half_life_days": 7}),
    ("half-life 14 d", {"half_life_days": 14}),
    ("half-life 56 d", {"half_life_days": 56}),
    ("same weekday ×2", {"same_weekday_weight": 2.0}),
    ("same weekday ×5", {"same_weekday_weight": 5.0}),
    ("20 sessions", {"max_sessions": 20}),
    ("80 sessions", {"max_sessions": 80}),
    ("min 3 per basis", {"min_sessions": 3}),
    ("min 10 per basis", {"min_sessions": 10}),
]


def pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


def truth_floor(h: History, b: fb.Backtest) -> float:
    median = {id(s): m for s, m in zip(h.sessions, h.truth)}
    rows = [r for r in b.rows if r.last is not None]
    actual = sum(r.session.orders_per_hour for r in rows)
    return sum(abs(r.session.orders_per_hour - median[id(r.session)]) for r in rows) / actual


def fits_check(h: History, b: fb.Backtest) -> tuple[int, float, int, float]:
    """Against the typical room of the session's kind: (sessions forecast to fit, share of them
    whose actual peak went over the capacity, sessions forecast not to fit, share that did go over)."""
    fit = over_fit = unfit = over_unfit = 0
    for r in b.rows:
        cap = h.capacities[r.session.room_kind]
        over = r.session.peak_hour_orders > cap
        if fc.fits(r.forecast.peak_hour_orders.p90, cap):
            fit += 1
            over_fit += over
        else:
            unfit += 1
            over_unfit += over
    return fit, over_fit / max(fit, 1), unfit, over_unfit / max(unfit, 1)


def fresh(sessions) -> list[PastSession]:
    return [PastSession(s.starts_at, s.ends_at, s.tenant_id, s.anchor_ids, s.room_kind, s.orders,
                        s.peak_hour_orders, s.peak_at) for s in sessions]


def timings(h: History, queries: int = 300) -> list[tuple[str, int, float, float]]:
    """(case, sessions handed over (median), median µs, p95 µs) per forecast call."""
    rng = random.Random(h.seed)
    sessions = list(h.sessions)
    cut = sessions[-1].starts_at - (sessions[-1].starts_at - sessions[0].starts_at) / 12
    targets = rng.sample([s for s in sessions if s.starts_at >= cut], min(queries, len(sessions)))
    by_end = sorted(sessions, key=lambda s: s.ends_at)
    cases: dict[str, list[tuple[int, float]]] = {"as the service calls it": [], "the whole park": [],
                                                  "one tenant, 3,000 sessions": []}
    for t in targets:
        known = [s for s in by_end if s.ends_at < t.starts_at]
        q = ForecastQuery(t.tenant_id, t.anchor_ids, t.room_kind, t.starts_at, t.ends_at, TZ)
        kind = [s for s in known if s.room_kind == t.room_kind][-fc.MAX_SESSIONS:]
        service = [s for s in known if s.tenant_id == t.tenant_id] + [
            s for s in kind if s.tenant_id != t.tenant_id] + [
            s for s in known[-fc.MAX_SESSIONS:] if s.tenant_id != t.tenant_id and s.room_kind != t.room_kind]
        big = [PastSession(s.starts_at, s.ends_at, t.tenant_id,
                           s.anchor_ids | (t.anchor_ids if i % 4 == 0 else frozenset()),
                           s.room_kind, s.orders, s.peak_hour_orders, s.peak_at)
               for i, s in enumerate(known[-3000:])]
        for name, history in (("as the service calls it", fresh(service)), ("the whole park", fresh(known)),
                              ("one tenant, 3,000 sessions", big)):
            t0 = time.perf_counter()
            fc.forecast(q, history)
            cases[name].append((len(history), (time.perf_counter() - t0) * 1e6))
    out = []
    for name, xs in cases.items():
        us = sorted(x for _, x in xs)
        out.append((name, int(statistics.median(n for n, _ in xs)), statistics.median(us),
                    us[max(0, int(round(0.95 * len(us))) - 1)]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--sweep", action="store_true", help="also the backtest under other settings")
    parser.add_argument("--quick", action="store_true", help="one seed, 8 tenants, 120 days")
    args = parser.parse_args()
    seeds = args.seeds[:1] if args.quick else args.seeds
    histories = [generate(s, tenants=8, days=120) if args.quick else generate(s) for s in seeds]

    print(f"# Session forecast backtest — Python {platform.python_version()}, {platform.machine()}")
    print(f"settings: min {fc.MIN_SESSIONS} sessions per basis, the {fc.MAX_SESSIONS} latest, half-life "
          f"{fc.HALF_LIFE_DAYS:g} days, same weekday ×{fc.SAME_WEEKDAY_WEIGHT:g}, range "
          f"p{100 * fc.LOW_QUANTILE:g}–p{100 * fc.HIGH_QUANTILE:g}")
    print()
    print("| seed | method | sessions | WAPE | in p10–p90 | ≤ p90 |")
    print("|---|---|---:|---:|---:|---:|")
    results = {}
    for h in histories:
        t0 = time.perf_counter()
        b = fb.backtest(h.sessions, TZ)
        elapsed = time.perf_counter() - t0
        results[h.seed] = (b, elapsed)
        for sc in (b.forecast, b.last_session, b.tenant_mean, b.forecast_all, b.peak):
            name = {"forecast, peak hour orders": "forecast, peak clock-hour orders"}.get(sc.method, sc.method)
            print(f"| {h.seed} | {name} | {sc.sessions} | {pct(sc.wape)} | {pct(sc.coverage)} | "
                  f"{pct(sc.under_high)} |")
        print(f"| {h.seed} | known truth (floor) | {b.forecast.sessions} | {pct(truth_floor(h, b))} | — | — |")
    print()
    print("| seed | sessions in the year | tenant_anchors | tenant | room_kind | park | backtest s | µs per session |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for h in histories:
        b, elapsed = results[h.seed]
        print(f"| {h.seed} | {len(h.sessions)} | " + " | ".join(str(b.bases[k]) for k in fc.BASES)
              + f" | {elapsed:.1f} | {elapsed / len(b.rows) * 1e6:.0f} |")
    print()
    print("Fits (p90 peak ≤ the typical capacity of the kind) against the actual peak:")
    print()
    print("| seed | forecast to fit | of them went over | forecast not to fit | of them went over |")
    print("|---|---:|---:|---:|---:|")
    for h in histories:
        fit, over_fit, unfit, over_unfit = fits_check(h, results[h.seed][0])
        print(f"| {h.seed} | {fit} | {pct(over_fit)} | {unfit} | {pct(over_unfit)} |")
    print()
    print("µs per forecast call (fresh PastSession values, 300 queries in the year's last month):")
    print()
    print("| history handed over | sessions (median) | median µs | p95 µs |")
    print("|---|---:|---:|---:|")
    for name, n, med, p95 in timings(histories[0], 50 if args.quick else 300):
        print(f"| {name} | {n} | {med:.0f} | {p95:.0f} |")

    if args.sweep:
        print()
        print("Other settings (forecast rows: WAPE / in p10–p90 / ≤ p90, per seed; mean WAPE):")
        print()
        print("| settings | " + " | ".join(f"seed {h.seed}" for h in histories) + " | mean WAPE |")
        print("|---|" + "---:|" * (len(histories) + 1))
        for name, kw in SWEEP:
            cells, wapes = [], []
            for h in histories:
                b = results[h.seed][0] if not kw else fb.backtest(h.sessions, TZ, **kw)
                cells.append(f"{pct(b.forecast.wape)} / {pct(b.forecast.coverage)} / {pct(b.forecast.under_high)}")
                wapes.append(b.forecast.wape)
            print(f"| {name} | " + " | ".join(cells) + f" | {pct(statistics.mean(wapes))} |", flush=True)


if __name__ == "__main__":
    main()
