"""The board's lanes as the server draws them: free time is one link
per bookable run (not one per hour), closed hours one span per stretch, bookings
carry their times and status in their text, and a lane reads in time order.
The pointer's hour inside a run is tests/browser/test_board.py's business."""
from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

import pytest

from opsroom import clock
from tests.conftest import at
from tests.support.pages import assert_no_inline_code

TOMORROW = "2026-11-21"  # NOW is 2026-11-20 10:00 park time


class Lanes(HTMLParser):
    """{row header text: [(kind, attrs, text), ...]} for every lane of a board page,
    kind being the element's first class ("free", "booking", "closed", "blackout")
    and text what a screen reader reads (aria-hidden parts left out)."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.lanes: dict[str, list] = {}
        self._head = self._item = None
        self._in_track = False
        self._depth = 0
        self._hidden: list[bool] = []  # per open element inside the track
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if attrs.get("role") == "rowheader":
            self._head = ""
        elif attrs.get("role") == "gridcell" and self._head is not None:
            self.lanes[self._head.strip()] = []
            self._in_track, self._depth = True, 0
        elif self._in_track:
            if self._depth == 0 and tag != "br":
                self._item = [classes[0] if classes else tag, attrs, ""]
                self.lanes[list(self.lanes)[-1]].append(self._item)
            self._depth += 1
            self._hidden.append(attrs.get("aria-hidden") == "true")

    def handle_endtag(self, tag):
        if self._in_track:
            if self._depth == 0:
                self._in_track, self._head = False, None
            else:
                self._depth -= 1
                self._hidden.pop()

    def handle_data(self, data):
        if self._in_track and self._item is not None and self._depth:
            if not any(self._hidden):
                self._item[2] += data
        elif self._head is not None and not self._in_track:
            self._head += data


@pytest.fixture
def park(make):
    """A101 and A102 open 08:00–02:00, 30 minutes' changeover, 30 minutes' shortest booking."""
    a101 = make.room(code="A101", kind="服装")
    a102 = make.room(code="A102", kind="服装")
    tenant = make.tenant(name="杭州小鹿服饰")
    barred = make.tenant(name="被停用商家", status="suspended")
    b = {
        "14": make.booking(a101, tenant, title="秋冬女装专场", starts_at=at(1, 14), ends_at=at(1, 16)),
        # 16:30–17:30 is free: just the 30 minutes' booking plus 30 minutes' changeover.
        "1730": make.booking(a101, barred, title="加场", starts_at=at(1, 17, 30), ends_at=at(1, 18)),
        # 18:30–18:45 is free but too short to book.
        "1845": make.booking(a101, tenant, title="晚场", starts_at=at(1, 18, 45), ends_at=at(1, 19, 45), status="hold"),
        # 12:00–23:15, changeover to 23:45: the 15 minutes left reach midnight and go on tomorrow.
        "a102": make.booking(a102, tenant, title="全天", starts_at=at(1, 12), ends_at=at(1, 23, 15)),
    }
    # 20:15–21:00 is free: 45 minutes before a blackout (no changeover needed).
    make.blackout(a101, starts_at=at(1, 21), ends_at=at(1, 22), reason="设备检修")
    return {"a101": a101, "a102": a102, "bookings": b}


@pytest.fixture
def board(client, auth, make):
    auth.login(make.user("coordinator", locale="en").email)

    def get(path: str) -> str:
        response = client.get(path)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert_no_inline_code(html, path)
        return html

    return get


def runs(lane: list) -> list[str]:
    return [attrs["aria-label"] for kind, attrs, _ in lane if kind == "free"]


def test_free_time_is_one_link_per_bookable_run(board, park):
    lanes = Lanes(board(f"/board/?date={TOMORROW}")).lanes
    assert runs(lanes["A101 · 服装"]) == [
        f"Book A101, {TOMORROW} 00:00–02:00",  # the opening that began the evening before
        f"Book A101, {TOMORROW} 08:00–14:00",
        f"Book A101, {TOMORROW} 16:30–17:30",
        f"Book A101, {TOMORROW} 20:15–21:00",
        f"Book A101, {TOMORROW} 22:00–24:00",
    ]
    assert runs(lanes["A102 · 服装"]) == [
        f"Book A102, {TOMORROW} 00:00–02:00", f"Book A102, {TOMORROW} 08:00–12:00", f"Book A102, {TOMORROW} 23:45–24:00"]


def test_a_run_links_its_first_free_instant_and_spans_its_columns(board, park):
    """Without JavaScript the link books from where the room is free again (16:00 + 30 minutes)."""
    lane = Lanes(board(f"/board/?date={TOMORROW}")).lanes["A101 · 服装"]
    (run,) = [attrs for kind, attrs, _ in lane if kind == "free" and "16:30" in attrs["aria-label"]]
    assert run["href"] == f"/bookings/new?room_id={park['a101'].id}&start={TOMORROW}T16:30%2B08:00"
    assert run["class"].split() == ["free", "gs-67", "ge-71"]  # quarter hours 66 to 70 of the day
    assert "title" not in run


def test_closed_hours_are_one_span_per_stretch(board, park):
    lane = Lanes(board(f"/board/?date={TOMORROW}")).lanes["A101 · 服装"]
    assert [attrs["class"] for kind, attrs, _ in lane if kind == "closed"] == ["closed gs-9 ge-33"]  # 02:00–08:00


def test_a_lane_reads_in_time_order_and_bookings_say_when_and_what_state(board, park):
    """Tab order follows the clock: runs and bookings interleaved by start."""
    lane = Lanes(board(f"/board/?date={TOMORROW}")).lanes["A101 · 服装"]
    b = park["bookings"]
    order = [(kind, " ".join(text.split()) if kind == "booking" else attrs["aria-label"][-11:])
             for kind, attrs, text in lane if kind in ("free", "booking")]
    assert order == [
        ("free", "00:00–02:00"), ("free", "08:00–14:00"),
        ("booking", "14:00–16:00 杭州小鹿服饰 秋冬女装专场 confirmed"),
        ("free", "16:30–17:30"),
        ("booking", "17:30–18:00 被停用商家 加场 confirmed tenant may not book"),
        ("booking", "18:45–19:45 杭州小鹿服饰 晚场 hold"),
        ("free", "20:15–21:00"), ("free", "22:00–24:00"),
    ]
    links = {attrs["href"]: attrs for kind, attrs, _ in lane if kind == "booking"}
    flagged = links[f"/bookings/{b['1730'].id}"]
    assert "flagged" in flagged["class"].split() and "status-confirmed" in flagged["class"].split()
    # The text is the accessible name (no aria-label repeating it); the title adds the full text.
    assert all("aria-label" not in a for a in links.values())
    assert links[f"/bookings/{b['14'].id}"]["title"] == "14:00–16:00 · 杭州小鹿服饰 · 秋冬女装专场 · confirmed"
    assert [(k, a["class"]) for k, a, _ in lane if k == "blackout"] == [("blackout", "blackout gs-85 ge-89")]


def test_today_offers_nothing_before_now(board, park, make):
    clock.set_now(at(0, 10, 7))
    make.booking(park["a101"], starts_at=at(0, 12), ends_at=at(0, 13))
    lane = Lanes(board("/board/")).lanes["A101 · 服装"]
    today = at(0, 0).date().isoformat()
    assert runs(lane) == [f"Book A101, {today} 10:15–12:00", f"Book A101, {today} 13:30–24:00"]


def test_the_week_view_draws_the_same_lanes_one_per_day(board, park):
    html = board(f"/board/rooms/{park['a101'].id}?week={TOMORROW}")
    lanes = list(Lanes(html).lanes.values())
    assert len(lanes) == 7
    saturday = lanes[5]  # the week of Monday 16 November; 21 November is its Saturday
    assert runs(saturday)[2] == f"Book A101, {TOMORROW} 16:30–17:30"
    assert re.search(r'<script src="/static/js/board\.js" defer></script>', html)
    assert unescape(f'href="/board/?date={TOMORROW}"') in html


def test_a_run_shorter_than_the_rooms_shortest_booking_is_not_offered(board, make):
    """40 minutes' shortest booking on a 15-minute grid takes 45 minutes: a 30-minute
    gap before a blackout is no offer, a 45-minute one is."""
    room = make.room(code="B201", kind="美妆", min_minutes=40, changeover_minutes=0)
    make.blackout(room, starts_at=at(1, 8, 30), ends_at=at(1, 12))
    make.blackout(room, starts_at=at(1, 12, 45), ends_at=at(1, 23))
    lane = Lanes(board(f"/board/?date={TOMORROW}")).lanes["B201 · 美妆"]
    assert runs(lane) == [f"Book B201, {TOMORROW} 00:00–02:00", f"Book B201, {TOMORROW} 12:00–12:45",
                          f"Book B201, {TOMORROW} 23:00–24:00"]


def test_names_titles_and_room_codes_are_escaped_in_the_lane_links(board, make):
    """The lane's links are written in views/board.py, not by Jinja: user text in them
    (tenant name, title, the room's code in a run's label) is escaped as Jinja would."""
    hostile = '<img src=x onerror=alert(1)>"&\''
    room = make.room(code='C"<&>', kind="美妆")
    make.booking(room, make.tenant(name="T" + hostile), title=hostile, starts_at=at(1, 14), ends_at=at(1, 16))
    html = board(f"/board/?date={TOMORROW}")
    escaped = "&lt;img src=x onerror=alert(1)&gt;&#34;&amp;&#39;"
    assert "<img" not in html
    assert f'<b>T&lt;img src=x o…</b> <span class="bk-title">{escaped}</span>' in html
    assert f' title="14:00–16:00 · T{escaped} · {escaped} · confirmed"' in html
    assert f'aria-label="Book C&#34;&lt;&amp;&gt;, {TOMORROW} 08:00–14:00"' in html
    assert f"?room_id={room.id}&amp;start={TOMORROW}T08:00%2B08:00" in html
    lane = Lanes(html).lanes['C"<&> · 美妆']
    (booking,) = [text for kind, _, text in lane if kind == "booking"]
    assert booking.startswith(f"14:00–16:00 T{hostile[:12]}… {hostile}")


def test_a_block_reads_times_short_name_title_and_host_with_the_full_text_in_its_title(board, make):
    """Blocks started with the full company name, cut, so times and titles
    could not be read. Now: times, the tenant's 简称 (else its name shortened), title, host."""
    room = make.room(code="A101", kind="服装")
    own = make.tenant(name="海城市西柳服装有限公司", short_name="西柳")
    plain = make.tenant(name="岫岩满族自治县玉德坊玉器有限公司")
    first = make.booking(room, own, title="羽绒服专场", starts_at=at(1, 9), ends_at=at(1, 12))
    make.assign(first, make.anchor(name="海燕姐"))
    make.booking(room, plain, title="岫玉手镯", starts_at=at(1, 14), ends_at=at(1, 16))
    lane = Lanes(board(f"/board/?date={TOMORROW}")).lanes["A101 · 服装"]
    blocks = [(" ".join(text.split()), attrs["title"]) for kind, attrs, text in lane if kind == "booking"]
    assert blocks == [
        ("09:00–12:00 西柳 羽绒服专场 海燕姐 confirmed",
         "09:00–12:00 · 海城市西柳服装有限公司 · 羽绒服专场 · Host: 海燕姐 · confirmed"),
        ("14:00–16:00 玉德坊玉器 岫玉手镯 confirmed",
         "14:00–16:00 · 岫岩满族自治县玉德坊玉器有限公司 · 岫玉手镯 · confirmed"),
    ]


def test_rooms_come_by_zone_order_then_code(board, make, db_session):
    """Rooms came A, E, D, B, C (zones by name). Zones carry a sort order."""
    from opsroom.models import Zone

    for code, zone in (("E501", "珠宝玉石区"), ("B201", "美妆区"), ("A102", "服装区"), ("A101", "服装区")):
        make.room(code=code, zone=zone, kind="k")
    db_session.add_all([Zone(name="服装区", sort_order=1), Zone(name="美妆区", sort_order=2),
                        Zone(name="珠宝玉石区", sort_order=5)])
    db_session.commit()
    html = board(f"/board/?date={TOMORROW}")
    assert list(Lanes(html).lanes) == ["A101 · k", "A102 · k", "B201 · k", "E501 · k"]
    zones = re.findall(r'<option value="([^"]+)"', html.split('name="zone"')[1].split("</select>")[0])
    assert zones == ["服装区", "美妆区", "珠宝玉石区"]
