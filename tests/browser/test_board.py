"""A coordinator books an hour inside a free run of the board, then tries an
overlapping booking and sees the clash and the alternatives."""
from __future__ import annotations

import re
from datetime import datetime
from types import SimpleNamespace
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from tests.browser import log_in

TZ = ZoneInfo("Asia/Shanghai")
TOMORROW = "2026-11-21"  # the park clock is frozen on 2026-11-20 10:00
TENANT = "杭州小鹿服饰"

@pytest.fixture
def park(make):
    """Two rooms of one kind, an active tenant, a coordinator who reads English."""
    return SimpleNamespace(
        a101=make.room(code="A101", name="服装一号间", kind="服装"),
        a102=make.room(code="A102", name="服装二号间", kind="服装"),
        tenant=make.tenant(name=TENANT),
        coordinator=make.user("coordinator", name="排期小王", locale="en"),
    )


@pytest.fixture
def screenshot(page, artifacts, request):
    """screenshot("board") saves test-artifacts/<test>-board.png for a person to look at."""
    def take(name: str) -> None:
        page.screenshot(path=str(artifacts / f"{request.node.name}-{name}.png"), full_page=True)

    return take


def expect_booking_form(page: Page, room, *, day: str, start: str, end: str) -> None:
    expect(page.get_by_role("heading", name="New booking")).to_be_visible()
    expect(page.get_by_label("Room", exact=True)).to_have_value(str(room.id))
    expect(page.get_by_label("Date", exact=True)).to_have_value(day)
    expect(page.get_by_label("Starts", exact=True)).to_have_value(start)
    expect(page.get_by_label("Ends", exact=True)).to_have_value(end)


def point_at(run, first: str, last: str, wanted: str) -> dict:
    """Where `wanted` (HH:MM) lies inside a run drawn from `first` to `last`."""
    minutes = [int(t[:2]) * 60 + int(t[3:]) for t in (first, last, wanted)]
    box = run.bounding_box()
    return {"x": box["width"] * (minutes[2] - minutes[0]) / (minutes[1] - minutes[0]), "y": box["height"] / 2}


def run_labels(board, room) -> list[str]:
    runs = board.get_by_role("link", name=re.compile(rf"^Book {room.code}, "))
    return runs.evaluate_all("links => links.map(a => a.getAttribute('aria-label'))")


def book(page: Page, title: str) -> None:
    page.get_by_label("Tenant", exact=True).select_option(label=TENANT)
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_role("button", name="Book", exact=True).click()


def expect_booked(page: Page, room, *, title: str, end: str) -> int:
    """On the new booking's page, confirmed; returns its id."""
    expect(page).to_have_url(re.compile(r"/bookings/\d+$"))
    booking_id = int(page.url.rsplit("/", 1)[1])
    expect(page.get_by_role("status")).to_have_text("Booked.")
    expect(page.get_by_role("heading", name=f"Booking #{booking_id} confirmed")).to_be_visible()
    expect(page.get_by_role("link", name=f"{room.code} · {room.name}", exact=True)).to_be_visible()
    facts = page.get_by_role("main")
    expect(facts).to_contain_text(TENANT)
    expect(facts).to_contain_text(title)
    expect(facts).to_contain_text(re.compile(rf"Saturday, November 21, 2026\b.*–{end}\b"))
    return booking_id


def see_the_clash_and_book_an_alternative(page: Page, park, *, clash_id: int, screenshot) -> int:
    """From the booking form for A101 15:00–17:00 (A101 is taken 14:00–16:00 plus
    30 minutes' changeover): the clash, the alternatives, and booking A102 instead."""
    book(page, "加场")
    alert = page.get_by_role("alert")
    expect(alert.get_by_role("heading", name="This slot is taken")).to_be_visible()
    expect(alert).to_contain_text(f"Booking #{clash_id}")
    expect(alert.get_by_role("link", name="see it")).to_have_attribute("href", f"/bookings/{clash_id}")

    expect(alert).to_contain_text("Same time in another room of this kind:")
    other_room = alert.get_by_role("link", name=re.compile(r"^A102 · 服装二号间, "))
    expect(other_room).to_have_count(1)

    # Nearest starts first: 16:30 is the first whose changeover-padded range is free.
    expect(alert).to_contain_text("Nearest free times in this room that day:")
    slots = alert.get_by_role("list").filter(has=page.get_by_role("link", name=re.compile(r"^\d"))).get_by_role("link")
    expect(slots).to_have_count(3)
    expect(slots).to_have_text([re.compile(rf"{a}.*–.*{b}") for a, b in
                                (("4:30", "6:30"), ("4:45", "6:45"), ("5:00", "7:00"))])
    screenshot("conflict")

    other_room.click()
    expect_booking_form(page, park.a102, day=TOMORROW, start="15:00", end="17:00")
    book(page, "加场")
    return expect_booked(page, park.a102, title="加场", end="17:00")


def test_book_an_hour_inside_a_free_run_then_an_overlap_shows_the_clash_and_the_alternatives(page, park, screenshot):
    log_in(page, park.coordinator.email)
    page.goto(f"/board/?date={TOMORROW}")
    expect(page.get_by_role("heading", name=re.compile(r"^Booking board · "))).to_be_visible()
    board = page.get_by_role("grid", name="Rooms by hour")
    # Free time is one link per run (rooms open 08:00–02:00), not one per hour.
    assert run_labels(board, park.a101) == [f"Book A101, {TOMORROW} 00:00–02:00", f"Book A101, {TOMORROW} 08:00–24:00"]
    run = board.get_by_role("link", name=f"Book A101, {TOMORROW} 08:00–24:00", exact=True)
    # Untouched (and without JavaScript) it books the run's first free instant …
    expect(run).to_have_attribute("href", f"/bookings/new?room_id={park.a101.id}&start={TOMORROW}T08:00%2B08:00")
    # … and a click books the hour under the pointer: 14:30 lies in 14:00–15:00.
    run.click(position=point_at(run, "08:00", "24:00", "14:30"))

    expect_booking_form(page, park.a101, day=TOMORROW, start="14:00", end="16:00")
    book(page, "秋冬女装专场")
    first = expect_booked(page, park.a101, title="秋冬女装专场", end="16:00")

    page.get_by_role("link", name="Back to the board").click()
    expect(page).to_have_url(re.compile(rf"/board/\?date={TOMORROW}$"))
    block = board.get_by_role("link", name=re.compile(rf"^14:00–16:00 {TENANT} 秋冬女装专场 confirmed$"))
    expect(block).to_be_visible()
    screenshot("board")

    # The taken hours split the run; the one after starts where the room is free
    # again (16:00 + 30 minutes of changeover).
    assert run_labels(board, park.a101) == [f"Book A101, {TOMORROW} 00:00–02:00", f"Book A101, {TOMORROW} 08:00–14:00",
                                            f"Book A101, {TOMORROW} 16:30–24:00"]
    later = board.get_by_role("link", name=f"Book A101, {TOMORROW} 16:30–24:00", exact=True)
    # The pointer's hour, but never before the run: 16:40 is in 16:00–17:00, which starts at 16:30 here.
    later.hover(position=point_at(later, "16:30", "24:00", "16:40"))
    expect(later).to_have_attribute("href", re.compile(rf"&start={TOMORROW}T16%3A30%2B08%3A00$"))
    later.hover(position=point_at(later, "16:30", "24:00", "20:10"))
    expect(later).to_have_attribute("href", re.compile(rf"&start={TOMORROW}T20%3A00%2B08%3A00$"))
    expect(later).to_have_class(re.compile(r"\bhour-picked\b"))
    # From the keyboard a run books its first free instant, wherever the pointer rests.
    later.focus()
    page.keyboard.press("Enter")
    expect_booking_form(page, park.a101, day=TOMORROW, start="16:30", end="18:30")

    # A coordinator who types an overlapping time anyway is shown the clash.
    page.goto("/bookings/new?" + urlencode({"room_id": park.a101.id, "start": f"{TOMORROW}T15:00:00+08:00"}))
    expect_booking_form(page, park.a101, day=TOMORROW, start="15:00", end="17:00")
    see_the_clash_and_book_an_alternative(page, park, clash_id=first, screenshot=screenshot)

    page.get_by_role("link", name="Back to the board").click()
    expect(board.get_by_role("link", name=re.compile(rf"^\d\d:\d\d–\d\d:\d\d {TENANT} "))).to_have_count(2)
    expect(board.get_by_role("link", name=re.compile(rf"^15:00–17:00 {TENANT} 加场 "))).to_be_visible()


def test_an_overlapping_booking_shows_the_clash_and_books_an_alternative(page, park, make, screenshot):
    # The second half of the journey above, entered by a link booking 15:00.
    first = make.booking(park.a101, park.tenant, title="秋冬女装专场",
                         starts_at=datetime(2026, 11, 21, 14, 0, tzinfo=TZ))
    form = "/bookings/new?" + urlencode({"room_id": park.a101.id, "start": f"{TOMORROW}T15:00:00+08:00"})
    log_in(page, park.coordinator.email, next=form)

    expect_booking_form(page, park.a101, day=TOMORROW, start="15:00", end="17:00")
    see_the_clash_and_book_an_alternative(page, park, clash_id=first.id, screenshot=screenshot)


def test_density_is_remembered_and_a_focused_block_shows_its_full_text(page, park, make):
    """The board's blocks hid their times and titles. The density toggle (compact /
    comfortable) is remembered by the browser; keyboard focus on a block shows its full text."""
    make.booking(park.a101, make.tenant(name="岫岩满族自治县玉德坊玉器有限公司", short_name="玉德坊"), title="岫玉手镯专场",
                 starts_at=datetime(2026, 11, 21, 14, tzinfo=TZ), ends_at=datetime(2026, 11, 21, 16, tzinfo=TZ))
    log_in(page, park.coordinator.email, next=f"/board/?date={TOMORROW}")
    board = page.get_by_role("grid", name="Rooms by hour")
    compact = page.get_by_role("button", name="Compact", exact=True)
    expect(page.get_by_role("button", name="Comfortable", exact=True)).to_have_attribute("aria-pressed", "true")
    compact.click()
    expect(compact).to_have_attribute("aria-pressed", "true")
    expect(page.locator(".board")).to_have_class(re.compile(r"\bcompact\b"))
    page.reload()
    expect(page.locator(".board")).to_have_class(re.compile(r"\bcompact\b"))  # remembered
    expect(compact).to_have_attribute("aria-pressed", "true")

    block = board.get_by_role("link", name=re.compile(r"^14:00–16:00 玉德坊 岫玉手镯专场"))
    block.focus()
    tip = page.locator(".board-tip")
    expect(tip).to_be_visible()
    expect(tip).to_have_text("14:00–16:00 · 岫岩满族自治县玉德坊玉器有限公司 · 岫玉手镯专场 · confirmed")
    page.keyboard.press("Shift+Tab")
    expect(tip).to_be_hidden()
