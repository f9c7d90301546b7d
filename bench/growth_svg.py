"""Draw the growth curves of `bench/run.py --growth` as one SVG (no dependencies):

    .venv/bin/python bench/growth_svg.py bench/results/growth-sqlite.json bench/results/growth-postgres.json \\
        > docs/performance-growth.svg

Left: server CPU ms per request (median wall ms for results without it) of board, screen
and report against rooms (50 → 400), with the line a
linear growth from the first point would follow. Right: stats, report and screen against
the orders in the table."""
from __future__ import annotations

import json
import sys
from pathlib import Path

W, H, PAD = 420, 300, 50
COLORS = {"board day": "#d9480f", "big screen": "#1971c2", "report by room": "#2f9e44", "session stats": "#7048e8"}
DASH = {"sqlite": "", "postgres": "6 4"}


def panel(x0: int, title: str, series: dict, xlabel: str, linear: bool) -> list[str]:
    pts = [p for s in series.values() for p in s]
    if not pts:
        return []
    xmax = max(x for x, _ in pts) * 1.05
    ymax = max(y for _, y in pts) * 1.15 or 1

    def sx(x):
        return x0 + PAD + (W - 2 * PAD) * x / xmax

    def sy(y):
        return H - PAD + 10 - (H - 2 * PAD) * y / ymax

    out = [f'<text x="{x0 + W / 2}" y="20" text-anchor="middle" font-weight="bold">{title}</text>',
           f'<line x1="{sx(0)}" y1="{sy(0)}" x2="{sx(xmax)}" y2="{sy(0)}" stroke="#333"/>',
           f'<line x1="{sx(0)}" y1="{sy(0)}" x2="{sx(0)}" y2="{sy(ymax)}" stroke="#333"/>',
           f'<text x="{x0 + W / 2}" y="{H - 8}" text-anchor="middle">{xlabel}</text>',
           f'<text x="{x0 + 12}" y="{H / 2}" transform="rotate(-90 {x0 + 12} {H / 2})" text-anchor="middle">ms a request (server CPU if measured)</text>']
    for k in range(5):
        y = ymax * k / 4
        out.append(f'<text x="{sx(0) - 4}" y="{sy(y) + 4}" text-anchor="end" font-size="10">{y:.0f}</text>')
    for x in sorted({x for x, _ in pts}):
        out.append(f'<text x="{sx(x)}" y="{sy(0) + 14}" text-anchor="middle" font-size="10">{x:,.0f}</text>')
    for (name, backend), s in series.items():
        s = sorted(s)
        color = COLORS.get(name, "#555")
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in s)
        out.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2" '
                   f'stroke-dasharray="{DASH[backend]}"><title>{name} ({backend})</title></polyline>')
        for x, y in s:
            out.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" fill="{color}"/>')
        if linear and len(s) > 1 and s[0][0]:
            x1, y1 = s[0]
            xe = s[-1][0]
            out.append(f'<line x1="{sx(x1):.1f}" y1="{sy(y1):.1f}" x2="{sx(xe):.1f}" y2="{sy(min(ymax, y1 * xe / x1)):.1f}" '
                       f'stroke="{color}" stroke-opacity="0.25" stroke-width="1"/>')
    return out


def main(paths: list[str]) -> str:
    rooms, orders = {}, {}
    for path in paths:
        backend = "postgres" if "postgres" in Path(path).name else "sqlite"
        data = json.loads(Path(path).read_text())
        for row in data["rooms"]:
            for name in ("board day", "big screen", "report by room"):
                if name in row:
                    rooms.setdefault((name, backend), []).append((row["rooms"], row.get(f"{name} cpu", row[name])))
        for row in data["orders"]:
            for name in ("session stats", "big screen", "report by room"):
                if name in row:
                    orders.setdefault((name, backend), []).append((row["orders"], row.get(f"{name} cpu", row[name])))
    body = panel(0, "by rooms (faint: linear from the first point)", rooms, "rooms", True)
    body += panel(W, "by orders in the table", orders, "orders", False)
    legend, y = [], 40
    for name, color in COLORS.items():
        legend.append(f'<rect x="{2 * W + 10}" y="{y - 9}" width="12" height="4" fill="{color}"/>'
                      f'<text x="{2 * W + 28}" y="{y - 4}" font-size="11">{name}</text>')
        y += 16
    legend.append(f'<text x="{2 * W + 10}" y="{y + 4}" font-size="11">solid: SQLite</text>')
    legend.append(f'<text x="{2 * W + 10}" y="{y + 20}" font-size="11">dashed: PostgreSQL</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * W + 130}" height="{H}" font-family="sans-serif" '
            f'font-size="12" role="img" aria-label="opsroom growth curves">'
            f'<rect width="100%" height="100%" fill="white"/>' + "".join(body + legend) + "</svg>\n")


if __name__ == "__main__":
    sys.stdout.write(main(sys.argv[1:]))
