"""The demo park: 鞍山西柳·岫玉直播电商产业园.

`flask --app wsgi seed-demo [--force]` calls `load_demo(get_session(), wipe=force)`
inside an app context. The park is modelled on the Anshan (辽宁鞍山) live-commerce
scene: the 海城西柳 apparel base, the 岫岩 jade (岫玉) base, 千山 南果梨 pears,
绿色食品 rice from 台安, a local MCN, and a hall big screen over ~30 rooms.

Everything is drawn from `random.Random(SEED)` in a fixed order, so two loads at
the same "now" give the same park. Only "today" (from `opsroom.clock.now()`, in
the park timezone) moves the week of bookings and decides which sessions are
past, live or still to come.

Layout, so that later additions (anchors, products, orders) can be appended:
data tables (tuples of constants) first, then one small builder per kind of
object, each taking the shared `Demo` context; `load_demo` calls them in order.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import NamedTuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from opsroom import clock
from opsroom.db import Base
from opsroom.domain import recurrence
from opsroom.domain.intervals import Interval
from opsroom.models import Anchor, Assignment, Blackout, Booking, LineupItem, Order, Product, Room, Series, Tenant, User
from opsroom.domain.statuses import ACTIVE_STATUSES
from opsroom.services.park.users import create_user

UTC = timezone.utc
SEED = 2026
PARK_NAME = "辽宁·鞍山西柳岫玉直播电商产业园"

# The week of bookings: from 3 days before today to 4 days after (inclusive).
FIRST_DAY, LAST_DAY = -3, 4

# ---------------------------------------------------------------------------
# Users

DEMO_PASSWORD = "opsroom-demo"
DEMO_USERS: list[tuple[str, str, str]] = [
    ("admin@park.demo", "admin", "赵建国"),  # 园区管理员
    ("manager@park.demo", "manager", "王丽娟"),  # 园区运营经理
    ("coordinator@park.demo", "coordinator", "陈晓峰"),  # 直播间排期
    ("anchor@park.demo", "anchor", "林小雨"),  # 主播（园区自有MCN）
]

# ---------------------------------------------------------------------------
# Rooms: five zones on five floors, 30 rooms.


class RoomRow(NamedTuple):
    code: str
    name: str
    zone: str
    kind: str
    area_m2: float
    equipment: tuple[str, ...]
    open_time: str  # "HH:MM", park-local; close < open crosses midnight; equal = 24 h
    close_time: str
    changeover_minutes: int
    max_minutes: int
    order_capacity_per_hour: int
    active: bool = True


MIN_MINUTES = 60

_APPAREL_BIG = ("4K摄像机", "补光灯", "柔光箱", "声卡", "提词器", "挂衣架", "试衣间", "落地镜", "货架")
_APPAREL = ("补光灯", "声卡", "提词器", "挂衣架", "试衣间", "落地镜")
_BEAUTY = ("环形补光灯", "化妆台", "微距镜头", "声卡", "提词器", "产品展示台")
_FOOD = ("补光灯", "声卡", "试吃台", "冷藏展示柜", "货架")
_KITCHEN = ("厨房操作台", "电磁炉", "抽油烟机", "补光灯", "声卡", "冷藏展示柜")
_GREEN = ("绿幕", "抠像导播台", "4K摄像机", "补光灯", "声卡", "提词器")
_JADE = ("珠宝展示台", "无影灯", "微距镜头", "强光手电", "保险柜", "声卡")

ROOMS: tuple[RoomRow, ...] = (
    # 服装区 (1F): the 海城西柳 apparel makers; big rooms take thousands of orders an hour.
    RoomRow("A101", "A101 服装大场", "服装区", "服装", 180, _APPAREL_BIG, "08:00", "02:00", 30, 720, 3000),
    RoomRow("A102", "A102 服装大场", "服装区", "服装", 160, _APPAREL_BIG, "08:00", "02:00", 30, 720, 2600),
    RoomRow("A103", "A103 女装专场", "服装区", "服装", 90, _APPAREL + ("4K摄像机",), "08:00", "02:00", 30, 480, 1500),
    RoomRow("A104", "A104 女装专场", "服装区", "服装", 80, _APPAREL, "08:00", "02:00", 15, 480, 1200),
    RoomRow("A105", "A105 童装间", "服装区", "服装", 60, _APPAREL, "09:00", "23:00", 15, 480, 800),
    RoomRow("A106", "A106 男装间", "服装区", "服装", 60, _APPAREL, "08:00", "02:00", 15, 480, 900),
    RoomRow("A107", "A107 羽绒服专场", "服装区", "服装", 120, _APPAREL_BIG, "08:00", "02:00", 30, 720, 2000),
    RoomRow("A108", "A108 24小时轮播间", "服装区", "服装", 70, _APPAREL + ("4K摄像机",), "00:00", "00:00", 15, 720, 1000),
    # 美妆区 (2F)
    RoomRow("B201", "B201 美妆大场", "美妆区", "美妆", 90, _BEAUTY + ("4K摄像机",), "09:00", "23:00", 15, 480, 1200),
    RoomRow("B202", "B202 护肤间", "美妆区", "美妆", 45, _BEAUTY, "09:00", "23:00", 15, 480, 700),
    RoomRow("B203", "B203 彩妆间", "美妆区", "美妆", 40, _BEAUTY, "08:00", "02:00", 15, 480, 600),
    RoomRow("B204", "B204 彩妆间", "美妆区", "美妆", 40, _BEAUTY, "08:00", "02:00", 15, 480, 600),
    RoomRow("B205", "B205 个护间", "美妆区", "美妆", 35, _BEAUTY, "09:00", "23:00", 15, 480, 500),
    RoomRow("B206", "B206 美妆小场（装修中）", "美妆区", "美妆", 30, ("环形补光灯",), "09:00", "23:00", 15, 480, 300,
            active=False),
    # 食品区 (3F): 南果梨, 绿色食品 rice, snacks.
    RoomRow("C301", "C301 食品大场", "食品区", "食品", 120, _FOOD + ("4K摄像机", "提词器"), "08:00", "02:00", 30, 720, 1800),
    RoomRow("C302", "C302 厨房直播间", "食品区", "食品", 80, _KITCHEN, "08:00", "02:00", 30, 480, 900),
    RoomRow("C303", "C303 南果梨产地直播间", "食品区", "食品", 60, _FOOD, "08:00", "02:00", 15, 480, 1000),
    RoomRow("C304", "C304 米面粮油间", "食品区", "食品", 60, _FOOD, "08:00", "02:00", 15, 480, 800),
    RoomRow("C305", "C305 零食坚果间", "食品区", "食品", 40, _FOOD, "09:00", "23:00", 15, 480, 700),
    RoomRow("C306", "C306 生鲜冷链间", "食品区", "食品", 50, _FOOD + ("冷链打包台",), "08:00", "02:00", 30, 480, 600),
    # 绿幕区 (4F): virtual sets for tourism (千山), flowers, MCN training.
    RoomRow("D401", "D401 绿幕大棚", "绿幕区", "绿幕", 150, _GREEN + ("大屏回看",), "00:00", "00:00", 30, 720, 1500),
    RoomRow("D402", "D402 绿幕间", "绿幕区", "绿幕", 60, _GREEN, "08:00", "02:00", 15, 480, 800),
    RoomRow("D403", "D403 绿幕间", "绿幕区", "绿幕", 50, _GREEN, "08:00", "02:00", 15, 480, 600),
    RoomRow("D404", "D404 虚拟演播间", "绿幕区", "绿幕", 70, _GREEN + ("虚拟场景服务器",), "09:00", "23:00", 15, 480, 700),
    RoomRow("D405", "D405 绿幕小间", "绿幕区", "绿幕", 20, ("绿幕", "补光灯", "声卡"), "09:00", "23:00", 15, 480, 300),
    # 珠宝玉石区 (5F): the 岫岩 岫玉 jade workshops.
    RoomRow("E501", "E501 岫玉大场", "珠宝玉石区", "珠宝", 100, _JADE + ("4K摄像机",), "09:00", "23:00", 30, 480, 600),
    RoomRow("E502", "E502 岫玉手镯间", "珠宝玉石区", "珠宝", 40, _JADE, "09:00", "23:00", 15, 480, 400),
    RoomRow("E503", "E503 玉雕摆件间", "珠宝玉石区", "珠宝", 50, _JADE, "09:00", "23:00", 15, 480, 300),
    RoomRow("E504", "E504 翡翠琥珀间", "珠宝玉石区", "珠宝", 35, _JADE, "08:00", "02:00", 15, 480, 350),
    RoomRow("E505", "E505 鉴定直播间", "珠宝玉石区", "珠宝", 30, _JADE + ("检测仪器",), "09:00", "23:00", 15, 480, 300),
)

# Session lengths (minutes) a coordinator typically books, by room kind.
DURATIONS: dict[str, tuple[int, ...]] = {
    "服装": (120, 180, 240, 240, 300, 360),
    "美妆": (90, 120, 120, 150, 180),
    "食品": (90, 120, 150, 180, 240),
    "绿幕": (60, 90, 120, 180, 240),
    "珠宝": (120, 150, 180, 240),
}
SESSIONS_PER_DAY = (2, 3, 3, 4)

# ---------------------------------------------------------------------------
# Tenants (入驻企业). Credit codes are valid 统一社会信用代码 (check digits computed).


class TenantRow(NamedTuple):
    name: str
    contact: str  # "姓名 电话"
    credit_prefix: str  # 登记管理部门 + 机构类别: 91 企业, 92 个体工商户, 93 农民专业合作社
    region: str  # 行政区划代码
    status: str
    joined_days_ago: int
    kinds: dict[str, float]  # room kind → how often this tenant books it
    titles: tuple[str, ...]
    orders_per_day: int = 0  # typical daily orders, for a later orders seed
    peak_orders_per_day: int = 0


TENANTS: tuple[TenantRow, ...] = (
    TenantRow(
        "海城市西柳服装有限公司", "刘海燕 13841216608", "91", "210381", "active", 420,
        {"服装": 6, "绿幕": 0.5},
        ("秋冬羽绒服专场", "西柳棉服工厂直发", "加厚羽绒马甲清仓", "冲锋衣三合一新品首发",
         "工厂店福利秒杀", "周周上新·女装羽绒服", "男士棉服爆款返场"),
        orders_per_day=6000, peak_orders_per_day=16000,
    ),
    TenantRow(
        "鞍山市梓涵服饰有限公司", "孙雅楠 15904126631", "91", "210302", "active", 210,
        {"服装": 3},
        ("秋冬女装上新", "针织开衫专场", "亲子装童装专场", "大码女装福利场", "羊绒大衣品质场"),
        orders_per_day=1800, peak_orders_per_day=4200,
    ),
    TenantRow(
        "岫岩满族自治县玉德坊玉器有限公司", "关玉成 13904220517", "91", "210323", "active", 380,
        {"珠宝": 6, "绿幕": 0.3},
        ("岫玉手镯直播", "岫玉摆件鉴赏专场", "岫玉原石开料直播", "玉雕大师现场雕刻",
         "岫玉吊坠平价专场", "河磨玉把件精品场"),
        orders_per_day=300, peak_orders_per_day=900,
    ),
    TenantRow(
        "鞍山市千山区南果梨种植专业合作社", "杨德福 13591137720", "93", "210311", "active", 300,
        {"食品": 3, "绿幕": 0.5},
        ("南果梨产地直发", "千山南果梨冻梨专场", "南果梨礼盒助农专场", "果园直连·现摘现发", "南果梨中秋预售"),
        orders_per_day=1200, peak_orders_per_day=5000,
    ),
    TenantRow(
        "台安县绿禾米业有限公司", "韩立新 18642208193", "91", "210321", "active", 260,
        {"食品": 2.5},
        ("绿色食品认证大米专场", "新米上市直播", "东北杂粮礼包专场", "有机小米尝鲜场", "粮油囤货节"),
        orders_per_day=800, peak_orders_per_day=2600,
    ),
    TenantRow(
        "鞍山雪肌化妆品有限公司", "周婷 13889701425", "91", "210304", "active", 190,
        {"美妆": 5},
        ("补水面膜专场", "秋冬护肤直播", "精华水乳套装福利", "新品口红试色", "敏感肌修护专场"),
        orders_per_day=1500, peak_orders_per_day=3800,
    ),
    TenantRow(
        "鞍山橙光文化传媒有限公司", "马骁 13130628874", "91", "210303", "active", 150,
        {"绿幕": 3, "美妆": 1.5, "食品": 1, "服装": 0.5},
        ("好物推荐综合场", "新人主播带货实训", "千山旅游线路推介", "鞍山特产直播专场", "零食坚果囤货节"),
        orders_per_day=900, peak_orders_per_day=3000,
    ),
    TenantRow(
        "鞍山君兰园艺有限公司", "吴春兰 13700420963", "91", "210311", "active", 90,
        {"绿幕": 1.5, "珠宝": 0.3},
        ("君子兰名品鉴赏", "君子兰盆栽年宵预售", "观赏鱼与水族好物", "多肉绿植福利场"),
        orders_per_day=200, peak_orders_per_day=700,
    ),
    # Suspended: behind on the site fee (欠缴场地费); history stays, future sessions cancelled.
    TenantRow(
        "海城市南台箱包有限公司", "郑国庆 13504123368", "91", "210381", "suspended", 240,
        {"服装": 0.6},
        ("箱包清仓专场", "旅行箱新品直播", "双肩包开学季"),
        orders_per_day=400, peak_orders_per_day=1100,
    ),
    # Blacklisted (黑名单) after counterfeit complaints (售假被投诉).
    TenantRow(
        "鞍山市优品汇商贸有限公司", "钱博 15242211907", "91", "210302", "blacklisted", 170,
        {"美妆": 0.5},
        ("进口美妆折扣场", "大牌小样福利场"),
        orders_per_day=600, peak_orders_per_day=1500,
    ),
)

CANCEL_REASONS = ("商家临时调整", "主播身体不适", "货品未到仓", "平台活动改期", "直播间设备调试", "商家改约其他时段")
INACTIVE_CANCEL_REASON = {
    "suspended": "商家暂停入驻，场次取消",
    "blacklisted": "商家列入黑名单，场次取消",
}

# ---------------------------------------------------------------------------
# Blackouts (停用时段): (room, first day offset, "HH:MM", last day offset, "HH:MM", reason).

BLACKOUTS: tuple[tuple[str, int, str, int, str, str], ...] = (
    ("A103", 1, "14:00", 1, "18:00", "设备检修：更换LED补光灯与声卡"),
    ("C302", 2, "09:00", 2, "12:00", "消防检查：厨房操作区燃气与电路检查"),
    ("D402", 3, "08:00", 3, "20:00", "设备检修：绿幕更换与抠像系统调试"),
    ("B206", -20, "00:00", 25, "00:00", "内部装修（预计月底完工）"),
)

# ---------------------------------------------------------------------------
# Series (周期排期): (room, tenant, title, local start "HH:MM", minutes, weekdays 0=Mon, count).

SERIES: tuple[tuple[str, str, str, str, int, tuple[int, ...], int], ...] = (
    ("E501", "岫岩满族自治县玉德坊玉器有限公司", "岫玉手镯夜场（每周二·四·六）", "19:00", 180, (1, 3, 5), 9),
)

# Status mix of generated sessions.
NO_SHOW_SHARE = 0.05  # of past sessions
CANCELLED_SHARE = 0.04
HOLD_SHARE = 0.025  # of future sessions
HOLD_EXPIRES_IN = timedelta(minutes=45)
GRANULARITY = 15


# ---------------------------------------------------------------------------
# Helpers


@dataclass
class Demo:
    """What the builders share: the session, the dice, the park's clock and what was built."""

    session: so.Session
    rng: random.Random
    tz: ZoneInfo
    now: datetime
    today: date
    users: dict[str, User] = field(default_factory=dict)  # by role
    rooms: dict[str, Room] = field(default_factory=dict)  # by code
    tenants: dict[str, Tenant] = field(default_factory=dict)  # by name
    blackouts: list[Blackout] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)
    bookings: list[Booking] = field(default_factory=list)
    anchors: list[Anchor] = field(default_factory=list)
    products: dict[str, list[Product]] = field(default_factory=dict)  # by tenant name
    # Occupied ranges [starts_at, occupied_until) already given out, per room code.
    taken: dict[str, list[Interval]] = field(default_factory=dict)
    # Orders (issue 7): the share of the full demo volume to load, and the ids given out.
    order_scale: float = 1.0
    order_ids: set[str] = field(default_factory=set)

    @property
    def coordinator_id(self) -> int | None:
        user = self.users.get("coordinator")
        return user.id if user else None

    def day(self, offset: int) -> date:
        return self.today + timedelta(days=offset)

    def at(self, day: date, hhmm: str | time) -> datetime:
        """A park-local wall-clock time on `day`, as an aware UTC instant."""
        wall = hhmm if isinstance(hhmm, time) else time.fromisoformat(hhmm)
        return datetime.combine(day, wall, tzinfo=self.tz).astimezone(UTC)

    def opening(self, room: Room, day: date) -> Interval:
        """The room's opening that starts on local `day` (may run past midnight)."""
        close_day = day if room.close_time > room.open_time else day + timedelta(days=1)
        return Interval(self.at(day, room.open_time), self.at(close_day, room.close_time))


_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = [pow(3, i, 31) for i in range(17)]
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def credit_code(rng: random.Random, prefix: str, region: str) -> str:
    """A well-formed 18-character 统一社会信用代码 (GB 32100-2015), check digits included."""
    body = "".join(rng.choice("0123456789") for _ in range(8))
    org_sum = sum(int(c) * w for c, w in zip(body, _ORG_WEIGHTS))
    org_check = (11 - org_sum % 11) % 11
    org = body + ("X" if org_check == 10 else str(org_check))
    first17 = prefix + region + org
    total = sum(_CREDIT_CHARS.index(c) * w for c, w in zip(first17, _CREDIT_WEIGHTS))
    return first17 + _CREDIT_CHARS[(31 - total % 31) % 31]


def _overlaps_any(candidate: Interval, intervals: list[Interval]) -> bool:
    return any(candidate.overlaps(other) for other in intervals)


def _minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


# ---------------------------------------------------------------------------
# Builders, called in this order by load_demo.


def wipe_all(session: so.Session) -> None:
    """Delete every row of every table, children first."""
    for table in reversed(Base.metadata.sorted_tables):
        session.execute(table.delete())
    session.flush()


def build_users(demo: Demo) -> None:
    for email, role, name in DEMO_USERS:
        demo.users[role] = create_user(demo.session, email=email, role=role, password=DEMO_PASSWORD, name=name)


def build_tenants(demo: Demo) -> None:
    for row in TENANTS:
        tenant = Tenant(
            name=row.name,
            contact=row.contact,
            credit_code=credit_code(demo.rng, row.credit_prefix, row.region),
            status=row.status,
            created_at=demo.now - timedelta(days=row.joined_days_ago),
        )
        demo.session.add(tenant)
        demo.tenants[row.name] = tenant
    demo.session.flush()


def build_rooms(demo: Demo) -> None:
    for row in ROOMS:
        room = Room(
            code=row.code,
            name=row.name,
            zone=row.zone,
            kind=row.kind,
            area_m2=float(row.area_m2),
            equipment=list(row.equipment),
            open_time=time.fromisoformat(row.open_time),
            close_time=time.fromisoformat(row.close_time),
            changeover_minutes=row.changeover_minutes,
            min_minutes=MIN_MINUTES,
            max_minutes=row.max_minutes,
            order_capacity_per_hour=row.order_capacity_per_hour,
            active=row.active,
        )
        demo.session.add(room)
        demo.rooms[row.code] = room
        demo.taken[row.code] = []
    demo.session.flush()


def build_blackouts(demo: Demo) -> None:
    for code, first, start, last, end, reason in BLACKOUTS:
        starts_at = demo.at(demo.day(first), start)
        blackout = Blackout(
            room_id=demo.rooms[code].id,
            starts_at=starts_at,
            ends_at=demo.at(demo.day(last), end),
            reason=reason,
            created_at=min(demo.now, starts_at) - timedelta(days=3),
        )
        demo.session.add(blackout)
        demo.blackouts.append(blackout)
    demo.session.flush()


def _blocked(demo: Demo, room: Room) -> list[Interval]:
    return [Interval(b.starts_at, b.ends_at) for b in demo.blackouts if b.room_id == room.id]


def _dice(rng: random.Random) -> tuple[float, int, int, int, float]:
    """The draws one booking's status needs, always all of them, so that the
    stream stays the same whichever status the clock picks."""
    return rng.random(), rng.randint(3, 15), rng.randint(6, 240), rng.randrange(len(CANCEL_REASONS)), rng.random()


def _new_booking(demo: Demo, room: Room, tenant: Tenant, title: str, starts_at: datetime, ends_at: datetime, *,
                 series: Series | None = None, allow_hold: bool = True) -> Booking:
    """One booking with a status that fits the clock (past, running or to come)."""
    roll, early, created_hours, reason_i, frac = _dice(demo.rng)
    now = demo.now
    booking = Booking(
        room=room, tenant=tenant, title=title, starts_at=starts_at, ends_at=ends_at,
        occupied_until=ends_at + _minutes(room.changeover_minutes), status="confirmed",
        series=series, created_by_id=demo.coordinator_id,
    )
    latest = min(now, starts_at)
    booking.created_at = (series.created_at if series is not None else latest - timedelta(hours=created_hours))

    def cancel(reason: str) -> None:
        booking.status = "cancelled"
        booking.cancel_reason = reason
        booking.cancelled_at = booking.created_at + (latest - booking.created_at) * (0.3 + 0.6 * frac)

    inactive = tenant.status != "active"
    if ends_at <= now:  # past
        if not inactive and roll < NO_SHOW_SHARE:
            grace = current_app.config.get("NO_SHOW_GRACE_MINUTES", 15)
            booking.status = "no_show"
            booking.ends_at = booking.occupied_until = min(ends_at, starts_at + _minutes(grace))
        elif roll < NO_SHOW_SHARE + CANCELLED_SHARE:
            cancel(CANCEL_REASONS[reason_i])
        else:
            booking.status = "ended"
            booking.checked_in_at = starts_at - _minutes(early)
    elif inactive:  # running or future, but the tenant may no longer stream here
        cancel(INACTIVE_CANCEL_REASON[tenant.status])
    elif starts_at <= now:  # running now
        booking.status = "live"
        booking.checked_in_at = starts_at - _minutes(early)
    elif roll < CANCELLED_SHARE:
        cancel(CANCEL_REASONS[reason_i])
    elif allow_hold and roll < CANCELLED_SHARE + HOLD_SHARE and starts_at >= now + timedelta(hours=1):
        booking.status = "hold"
        booking.hold_expires_at = now + HOLD_EXPIRES_IN
        booking.created_at = now - _minutes(15)
    demo.session.add(booking)
    demo.bookings.append(booking)
    demo.taken[room.code].append(Interval(starts_at, booking.occupied_until))
    return booking


def build_series(demo: Demo) -> None:
    """Weekly sessions booked together; they are placed before the ad-hoc ones."""
    for code, tenant_name, title, start, minutes, weekdays, count in SERIES:
        room, tenant = demo.rooms[code], demo.tenants[tenant_name]
        first_day = demo.day(FIRST_DAY)
        while first_day.weekday() not in weekdays:
            first_day += timedelta(days=1)
        first_start = demo.at(first_day, start)
        occurrences = recurrence.expand(
            first_start, first_start + _minutes(minutes), freq="weekly", tz=demo.tz,
            weekdays=list(weekdays), count=count,
        )
        series = Series(
            rule={"freq": "weekly", "interval": 1, "weekdays": list(weekdays), "count": count},
            created_at=min(demo.now, first_start) - timedelta(days=2),
            created_by_id=demo.coordinator_id,
        )
        demo.session.add(series)
        demo.series.append(series)
        blocked = _blocked(demo, room)
        for occ in occurrences:
            span = Interval(occ.start, occ.end + _minutes(room.changeover_minutes))
            if _overlaps_any(span, blocked) or _overlaps_any(span, demo.taken[code]):
                _dice(demo.rng)
                continue
            _new_booking(demo, room, tenant, title, occ.start, occ.end, series=series, allow_hold=False)
    demo.session.flush()


def _day_plan(demo: Demo, room: Room, window: Interval) -> list[tuple[int, int]]:
    """2–4 sessions laid out in `window`: (offset, duration) in minutes from its start.

    Durations come from the room kind's usual lengths; the free time left over
    is spread over the gaps before, between and after them, on the 15-minute grid.
    Draws the same number of dice whatever fits.
    """
    rng = demo.rng
    wanted = rng.choice(SESSIONS_PER_DAY)
    durations = [
        min(max(rng.choice(DURATIONS[room.kind]), room.min_minutes), room.max_minutes) for _ in range(4)
    ]
    weights = [rng.random() + 0.25 for _ in range(5)]
    total = int(window.minutes) // GRANULARITY * GRANULARITY
    n = wanted
    while n and sum(durations[:n]) + (n - 1) * room.changeover_minutes > total:
        n -= 1
    if not n:
        return []
    slack_units = (total - sum(durations[:n]) - (n - 1) * room.changeover_minutes) // GRANULARITY
    weights = weights[: n + 1]
    gaps = [int(slack_units * w / sum(weights)) for w in weights]
    plan, cursor = [], 0
    for i in range(n):
        cursor += gaps[i] * GRANULARITY
        plan.append((cursor, durations[i]))
        cursor += durations[i] + room.changeover_minutes
    return plan


def _pick_tenant(demo: Demo, kind: str) -> TenantRow:
    candidates = [row for row in TENANTS if kind in row.kinds]
    return demo.rng.choices(candidates, weights=[row.kinds[kind] for row in candidates])[0]


def build_bookings(demo: Demo) -> None:
    """A week of sessions per active room: 2–4 a day inside its open hours,
    clear of blackouts, of the series and of each other's changeover."""
    for code, room in demo.rooms.items():
        if not room.active:
            continue
        blocked = _blocked(demo, room)
        for offset in range(FIRST_DAY, LAST_DAY + 1):
            opening = demo.opening(room, demo.day(offset))
            # A 24 h room's last session may still occupy the start of the next day.
            carried = [t.end for t in demo.taken[code] if t.start < opening.start]
            start = max([opening.start, *carried])
            late = (start - opening.start).total_seconds() / 60
            start = opening.start + _minutes(-(-int(late) // GRANULARITY) * GRANULARITY)
            if start >= opening.end:
                continue
            for begin, minutes in _day_plan(demo, room, Interval(start, opening.end)):
                row = _pick_tenant(demo, room.kind)
                title = demo.rng.choice(row.titles)
                starts_at = start + _minutes(begin)
                ends_at = starts_at + _minutes(minutes)
                span = Interval(starts_at, ends_at + _minutes(room.changeover_minutes))
                if _overlaps_any(span, blocked) or _overlaps_any(span, demo.taken[code]):
                    _dice(demo.rng)  # keep the stream in step
                    continue
                _new_booking(demo, room, demo.tenants[row.name], title, starts_at, ends_at)
        demo.session.flush()


# ---------------------------------------------------------------------------
# People and goods (人、货): anchors, catalogues, who hosts which session, what is sold.

XILIU = "海城市西柳服装有限公司"
ZIHAN = "鞍山市梓涵服饰有限公司"
JADE = "岫岩满族自治县玉德坊玉器有限公司"
PEAR = "鞍山市千山区南果梨种植专业合作社"
RICE = "台安县绿禾米业有限公司"
BEAUTY = "鞍山雪肌化妆品有限公司"
MEDIA = "鞍山橙光文化传媒有限公司"
ORCHID = "鞍山君兰园艺有限公司"

# (name, tenant or None for the park's own MCN, douyin ID, verified, minutes a day, rest, demo user role)
ANCHORS = (
    ("林小雨", None, "park_xiaoyu", True, 480, 30, "anchor"),
    ("海燕姐", XILIU, "xiliu_haiyan", True, 600, 30, None),
    ("阿杰", XILIU, "xiliu_ajie", True, 480, 30, None),
    ("小七", XILIU, "xiliu_xiaoqi", False, 360, 30, None),
    ("雅楠", ZIHAN, "zihan_yanan", True, 480, 45, None),
    ("玉成师傅", JADE, "yude_yucheng", True, 360, 60, None),
    ("玉姐", JADE, "yude_yujie", True, 480, 30, None),
    ("杨哥说梨", PEAR, "nanguoli_yang", True, 360, 30, None),
    ("米小禾", RICE, "luhe_mixiaohe", True, 360, 30, None),
    ("婷婷", BEAUTY, "xueji_tingting", True, 480, 30, None),
    ("小橙子", MEDIA, "chengguang_orange", True, 480, 30, None),
    ("大壮", None, "park_dazhuang", True, 480, 30, None),
    ("春兰", ORCHID, "junlan_chunlan", True, 300, 30, None),
    ("新人小鹿", None, "park_xiaolu", False, 300, 45, None),
    # The park's MCN hosts many more (issue 7), so that evening sessions, live on the big screen, have hosts.
    ("阿强", None, "park_aqiang", True, 480, 30, None), ("佳佳", None, "park_jiajia", True, 480, 30, None), ("老王说货", None, "park_laowang", True, 480, 30, None),
    ("小美", None, "park_xiaomei", True, 480, 30, None), ("丽丽", None, "park_lili", True, 480, 30, None), ("小瑶", None, "park_xiaoyao", True, 480, 30, None),
    ("大鹏", None, "park_dapeng", True, 480, 30, None), ("甜甜", None, "park_tiantian", True, 480, 30, None), ("小龙", None, "park_xiaolong", True, 480, 30, None),
    ("阿宁", None, "park_aning", True, 480, 30, None), ("晓晓", None, "park_xiaoxiao", True, 480, 30, None), ("思思", None, "park_sisi", True, 480, 30, None),
    ("大伟", None, "park_dawei", True, 480, 30, None), ("小婉", None, "park_xiaowan", True, 480, 30, None), ("阿飞", None, "park_afei", True, 480, 30, None),
    ("露露", None, "park_lulu", True, 480, 30, None), ("小川", None, "park_xiaochuan", True, 480, 30, None), ("静静", None, "park_jingjing", True, 480, 30, None),
    ("阿豪", None, "park_ahao", True, 480, 30, None), ("萌萌", None, "park_mengmeng", True, 480, 30, None), ("小宇", None, "park_xiaoyu", True, 480, 30, None),
    ("悦悦", None, "park_yueyue", True, 480, 30, None), ("老李", None, "park_laoli", True, 480, 30, None), ("小雪", None, "park_xiaoxue", True, 480, 30, None),
    ("阿峰", None, "park_afeng", True, 480, 30, None), ("糖糖", None, "park_tangtang", True, 480, 30, None), ("小晨", None, "park_xiaochen", True, 480, 30, None),
    ("菲菲", None, "park_feifei", True, 480, 30, None), ("大海", None, "park_dahai", True, 480, 30, None), ("朵朵", None, "park_duoduo", True, 480, 30, None),
)

# (tenant, sku, name, category, price in fen, stock, certifications)
PRODUCTS = (
    (XILIU, "XL-YR-001", "加厚白鸭绒羽绒服", "羽绒服", 39900, 5200, ()),
    (XILIU, "XL-MF-002", "工装棉服外套", "棉服", 15900, 8000, ()),
    (XILIU, "XL-MJ-003", "轻薄羽绒马甲", "羽绒服", 9900, 120, ()),
    (XILIU, "XL-CF-004", "三合一冲锋衣", "户外", 29900, 2600, ()),
    (ZIHAN, "ZH-KS-001", "羊毛针织开衫", "女装", 25900, 900, ()),
    (ZIHAN, "ZH-DY-002", "双面羊绒大衣", "女装", 89900, 60, ()),
    (JADE, "YD-SZ-001", "岫玉手镯（圆条）", "手镯", 58800, 300, ("地理标志",)),
    (JADE, "YD-BJ-002", "河磨玉把件", "把件", 128800, 35, ("地理标志",)),
    (JADE, "YD-DZ-003", "岫玉平安扣吊坠", "吊坠", 19900, 1200, ("地理标志",)),
    (PEAR, "NG-5J-001", "千山南果梨 5斤装", "生鲜水果", 5990, 8000, ("地理标志", "绿色食品")),
    (PEAR, "NG-DL-002", "冻南果梨 10个装", "生鲜水果", 3990, 3000, ("地理标志",)),
    (PEAR, "NG-GJ-003", "南果梨果酱", "加工食品", 2990, 40, ("绿色食品",)),
    (RICE, "LH-DM-001", "台安绿色大米 10kg", "米面粮油", 8990, 6000, ("绿色食品",)),
    (RICE, "LH-XM-002", "有机小米 2.5kg", "米面粮油", 4590, 2000, ("有机",)),
    (BEAUTY, "XJ-MM-001", "玻尿酸补水面膜 20片", "护肤", 9900, 15000, ()),
    (BEAUTY, "XJ-JH-002", "修护精华液 30ml", "护肤", 16900, 3000, ()),
    (BEAUTY, "XJ-KH-003", "丝绒雾面口红", "彩妆", 12900, 0, ()),
    (MEDIA, "CG-TC-001", "鞍山特产大礼包", "特产", 12800, 1500, ("地理标志",)),
    (ORCHID, "JL-JZL-001", "君子兰名品苗", "花卉", 26800, 200, ()),
)


def build_anchors(demo: Demo) -> None:
    """Anchors of the tenants and of the park's own MCN; the demo anchor user is one of them."""
    demo.anchors = []
    for name, tenant, account, verified, minutes, rest, role in ANCHORS:
        user = demo.users.get(role) if role else None
        anchor = Anchor(name=name, tenant_id=demo.tenants[tenant].id if tenant else None,
                        user_id=user.id if user else None, verified=verified, max_minutes_per_day=minutes,
                        min_rest_minutes=rest, platform_accounts={"douyin": account})
        demo.session.add(anchor)
        demo.anchors.append(anchor)
    demo.session.flush()


def build_products(demo: Demo) -> None:
    demo.products = {}
    for tenant, sku, name, category, price, stock, certs in PRODUCTS:
        product = Product(tenant_id=demo.tenants[tenant].id, sku=sku, name=name, category=category,
                          price_fen=price, stock=stock, certifications=list(certs))
        demo.session.add(product)
        demo.products.setdefault(tenant, []).append(product)
    demo.session.flush()


NEAR = timedelta(days=2)


def _minutes_per_local_day(iv: Interval, tz: ZoneInfo) -> dict[date, float]:
    """Minutes of `iv` on each park-local day it touches."""
    from opsroom.domain.hours import local_day

    out, day = {}, iv.start.astimezone(tz).date()
    while True:
        window = local_day(day, tz)
        if window.start >= iv.end:
            return out
        part = min(iv.end, window.end) - max(iv.start, window.start)
        if part.total_seconds() > 0:
            out[day] = part.total_seconds() / 60
        day += timedelta(days=1)


def build_people_and_goods(demo: Demo) -> None:
    """A host (and sometimes an assistant) for every session that can have one,
    keeping each anchor's rules: never two places at once, the daily limit per
    park-local day and the rest between sessions; and a lineup of the tenant's
    products. The demo anchor (林小雨) is offered first, so the phone page has sessions."""
    from opsroom.domain import anchor_rules

    by_id = {t.id: name for name, t in demo.tenants.items()}
    worked: dict[int, list[Interval]] = {a.id: [] for a in demo.anchors}
    day_minutes: dict[tuple[int, date], float] = {}  # (anchor, local day) → minutes booked that day
    for booking in sorted(demo.bookings, key=lambda b: b.starts_at):
        if booking.status == "cancelled":
            continue
        candidates = [a for a in demo.anchors if a.tenant_id in (booking.tenant_id, None)]
        candidates.sort(key=lambda a: (a.user_id is None, a.tenant_id is None, demo.rng.random()))
        session_iv = Interval(booking.starts_at, booking.ends_at)
        per_day = _minutes_per_local_day(session_iv, demo.tz)
        chosen = []
        wanted = 2 if demo.rng.random() < 0.35 else 1  # drawn once: a host, sometimes an assistant
        for anchor in candidates:
            role = "host" if not chosen else "assistant"
            # A day already too full fails the daily limit anyway: skip the full check.
            if any(day_minutes.get((anchor.id, d), 0) + m > anchor.max_minutes_per_day for d, m in per_day.items()):
                continue
            profile = anchor_rules.AnchorProfile(anchor.verified, anchor.max_minutes_per_day, anchor.min_rest_minutes)
            # Only sessions within two days can clash, share a local day or be too close for rest:
            # the same answer as with the whole week, for a fraction of the work.
            near = [w for w in worked[anchor.id] if w.end > session_iv.start - NEAR and w.start < session_iv.end + NEAR]
            if anchor_rules.clashes(session_iv, near) or anchor_rules.breaches(
                    session_iv, near, profile=profile, role=role, tz=demo.tz):
                continue
            chosen.append((anchor, role))
            worked[anchor.id].append(session_iv)
            for d, m in per_day.items():
                day_minutes[(anchor.id, d)] = day_minutes.get((anchor.id, d), 0) + m
            if len(chosen) == wanted:
                break
        for anchor, role in chosen:
            demo.session.add(Assignment(booking_id=booking.id, anchor_id=anchor.id, role=role,
                                        starts_at=booking.starts_at, ends_at=booking.ends_at,
                                        active=booking.status in ACTIVE_STATUSES))
        products = demo.products.get(by_id[booking.tenant_id], [])
        for position, product in enumerate(demo.rng.sample(products, k=min(len(products), 3)), start=1):
            demo.session.add(LineupItem(booking_id=booking.id, product_id=product.id, position=position))
    demo.session.flush()


# ---------------------------------------------------------------------------
# Orders (订单, issue 7): a week of sales of the sessions that took place or are
# live now, so that stats, the big screen and the review are alive. Volumes come
# from each tenant's orders a day (the apparel maker sells the most), evenings
# sell more, a few orders are refunded or cancelled, and some came from outside
# any session (unattributed). Inserted in bulk.

# Share of a tenant's daily orders that its sessions in the park sell.
ORDER_SHARE = 0.3
# Sales intensity by park-local hour: evenings are prime time.
HOUR_WEIGHT = {h: 0.5 for h in range(24)} | {h: 0.8 for h in range(9, 12)} | {h: 1.0 for h in range(12, 19)} \
    | {h: 2.2 for h in range(19, 23)} | {23: 1.2}
REFUNDED_SHARE, CANCELLED_SHARE_ORDERS, UNATTRIBUTED_SHARE = 0.07, 0.03, 0.03
KUAISHOU_SHARE = 0.15
# One live session runs a flash sale (秒杀) above its room's capacity: the alert on the screen.
FLASH_SALE_LOAD = 1.1
FALLBACK_PRICES = (5900, 9900, 12900, 19900)


def _order_row(demo: Demo, booking: Booking | None, at: datetime, products: list[Product], *,
               accounts: list[str], buyers: int, status: str | None = None) -> dict:
    rng = demo.rng
    product = rng.choice(products) if products else None
    quantity = rng.choices((1, 2, 3), weights=(80, 15, 5))[0]
    price = product.price_fen if product else rng.choice(FALLBACK_PRICES)
    amount = price * quantity
    if status is None:
        roll = rng.random()
        status = ("refunded" if roll < REFUNDED_SHARE else
                  "cancelled" if roll < REFUNDED_SHARE + CANCELLED_SHARE_ORDERS else "paid")
    platform = "kuaishou" if rng.random() < KUAISHOU_SHARE else "douyin"
    external_id = str(rng.randrange(10**18, 10**19))
    while external_id in demo.order_ids:
        external_id = str(rng.randrange(10**18, 10**19))
    demo.order_ids.add(external_id)
    imported = min(demo.now, at + timedelta(minutes=rng.randint(1, 30)))
    return {
        "platform": platform, "external_id": external_id, "parent_id": external_id,
        "booking_id": booking.id if booking else None, "attributed_by": "room" if booking else None,
        "room_code": booking.room.code if booking else "", "anchor_account": rng.choice(accounts) if accounts else "",
        "sku": product.sku if product else "", "product_id": product.id if product else None,
        "product_name": product.name if product else "", "buyer": f"{platform[:2]}_{rng.randrange(buyers):06d}",
        "quantity": quantity, "amount_fen": amount, "refund_fen": amount if status == "refunded" else 0,
        "status": status, "ordered_at": at, "created_at": imported,
        "updated_at": imported + timedelta(days=1) if status == "refunded" and imported + timedelta(days=1) < demo.now
        else imported,
    }


def _sale_times(demo: Demo, start: datetime, end: datetime, n: int) -> list[datetime]:
    """n instants in [start, end), more of them in the evening hours (rejection sampling)."""
    rng, span = demo.rng, (end - start).total_seconds()
    out: list[datetime] = []
    top = max(HOUR_WEIGHT.values())
    while len(out) < n:
        at = start + timedelta(seconds=rng.random() * span)
        if rng.random() * top < HOUR_WEIGHT[at.astimezone(demo.tz).hour]:
            out.append(at)
    return out


def build_orders(demo: Demo) -> None:
    """Orders of every session that took place (ended) or is live now, and a few
    unattributed ones per day."""
    by_name = {row.name: row for row in TENANTS}
    tenants_by_id = {t.id: name for name, t in demo.tenants.items()}
    sold = [b for b in demo.bookings if b.status in ("ended", "live")]
    # A tenant's on-air hours per day in the park, to turn orders a day into orders an hour.
    days = max(1, -FIRST_DAY + 1)
    hours_on_air: dict[str, float] = {}
    for b in sold:
        name = tenants_by_id[b.tenant_id]
        hours_on_air[name] = hours_on_air.get(name, 0.0) + (min(b.ends_at, demo.now) - b.starts_at).total_seconds() / 3600
    lineups: dict[int, list[Product]] = {}
    for item in demo.session.scalars(sa.select(LineupItem).options(so.joinedload(LineupItem.product))):
        lineups.setdefault(item.booking_id, []).append(item.product)
    accounts: dict[int, list[str]] = {}
    for a in demo.session.scalars(sa.select(Assignment).options(so.joinedload(Assignment.anchor))):
        accounts.setdefault(a.booking_id, []).append(a.anchor.platform_accounts.get("douyin", ""))
    rows: list[dict] = []
    live = [b for b in sold if b.status == "live"]
    flash = min(live, key=lambda b: (b.room.order_capacity_per_hour, b.id)) if live else None
    for b in sorted(sold, key=lambda b: (b.starts_at, b.id)):
        name = tenants_by_id[b.tenant_id]
        per_hour = by_name[name].orders_per_day * ORDER_SHARE * demo.order_scale / max(1.0, hours_on_air[name] / days)
        end = min(b.ends_at, demo.now)
        hours_ = (end - b.starts_at).total_seconds() / 3600
        luck = 0.6 + 0.8 * demo.rng.random()
        n = int(per_hour * hours_ * luck)
        n = min(n, int(b.room.order_capacity_per_hour * hours_ * 0.85))  # a full room packs no more
        products = lineups.get(b.id) or demo.products.get(name, [])
        for at in _sale_times(demo, b.starts_at, end, n):
            rows.append(_order_row(demo, b, at, products, accounts=accounts.get(b.id, []), buyers=max(50, n * 2),
                                   status="paid" if b is flash else None))
        if b is flash:  # the last hour (or what has elapsed of it) above the room's capacity
            since = max(b.starts_at, demo.now - timedelta(hours=1))
            burst = (demo.now - since).total_seconds() / 3600 * b.room.order_capacity_per_hour * FLASH_SALE_LOAD
            already = sum(1 for r in rows if r["booking_id"] == b.id and r["ordered_at"] >= since)
            for at in sorted(since + (demo.now - since) * demo.rng.random() for _ in range(max(0, int(burst) - already))):
                rows.append(_order_row(demo, b, at, products, accounts=accounts.get(b.id, []), buyers=500,
                                       status="paid"))
    # Orders from the shops' other channels (short videos, the shop window): attributed to no session.
    unattributed = int(len(rows) * UNATTRIBUTED_SHARE)
    first = demo.at(demo.day(FIRST_DAY), "00:00")
    catalogue = [p for items in demo.products.values() for p in items]
    for at in sorted(_sale_times(demo, first, demo.now, unattributed)):
        rows.append(_order_row(demo, None, at, catalogue, accounts=[], buyers=5000))
    if rows:
        demo.session.execute(sa.insert(Order), rows)
    demo.session.flush()


BUILDERS = (build_users, build_tenants, build_rooms, build_blackouts, build_series, build_bookings,
            build_anchors, build_products, build_people_and_goods, build_orders)


def _count(session: so.Session, model) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model))


def load_demo(session: so.Session, *, wipe: bool = False, order_scale: float = 1.0) -> str:
    """Build the demo park in `session` and commit; returns a one-line summary.

    With `wipe`, every row of every table is deleted first. Needs an app context
    (the park timezone comes from the config); "now" comes from `opsroom.clock`.
    """
    if wipe:
        wipe_all(session)
    tz = ZoneInfo(current_app.config["TIMEZONE"])
    now = clock.now()
    demo = Demo(session=session, rng=random.Random(SEED), tz=tz, now=now, today=now.astimezone(tz).date(),
                order_scale=order_scale)
    for builder in BUILDERS:
        builder(demo)
    session.commit()
    return (
        f"demo park {PARK_NAME}: {_count(session, Room)} rooms, {_count(session, Tenant)} tenants, "
        f"{_count(session, Booking)} bookings, {_count(session, Anchor)} anchors, "
        f"{_count(session, Product)} products, {_count(session, Order)} orders, {_count(session, User)} users "
        f"({_count(session, Blackout)} blackouts, {_count(session, Series)} series; "
        f"password for *@park.demo: {DEMO_PASSWORD})"
    )


# ---------------------------------------------------------------------------
# demo-live (issue 7): keep the screen moving.


def feed_live_orders(session: so.Session, *, interval: float = 3.0, rng: random.Random | None = None) -> str:
    """One round of demo orders for every session live now, through the same
    ingestion as the API (services.orders.ingest_rows), by the first admin.
    Each session gets 0–3 orders; the one in the room with the smallest capacity
    keeps its flash sale above capacity. Commits; returns a one-line summary."""
    from opsroom.services.sales import stats
    from opsroom.services.sales.orders import ingest_rows

    rng = rng or random.Random()
    now = clock.now()
    admin = session.scalar(sa.select(User).where(User.role == "admin", User.active.is_(True)).order_by(User.id))
    if admin is None:
        return "no active admin user to import as; run seed-demo first"
    live = session.scalars(
        sa.select(Booking).where(stats.live_now_clause(now))
        .options(so.joinedload(Booking.room), so.selectinload(Booking.lineup).joinedload(LineupItem.product),
                 so.selectinload(Booking.assignments).joinedload(Assignment.anchor))
        .order_by(Booking.id)
    ).unique().all()
    if not live:
        return "no session is live now"
    flash = min(live, key=lambda b: (b.room.order_capacity_per_hour, b.id))
    rows = []
    for b in live:
        n = rng.randint(0, 3)
        if b is flash:
            n = max(n, round(b.room.order_capacity_per_hour * interval / 3600 * FLASH_SALE_LOAD + rng.random()))
        products = [item.product for item in b.lineup]
        accounts = [a.anchor.platform_accounts.get("douyin", "") for a in b.assignments]
        for _ in range(n):
            product = rng.choice(products) if products else None
            quantity = rng.choices((1, 2, 3), weights=(80, 15, 5))[0]
            rows.append({
                "platform": "douyin", "external_id": str(rng.randrange(10**18, 10**19)), "booking_id": b.id,
                "room_code": b.room.code, "anchor_account": rng.choice(accounts) if accounts else "",
                "sku": product.sku if product else "", "product_name": product.name if product else "",
                "quantity": quantity, "amount_fen": (product.price_fen if product else rng.choice(FALLBACK_PRICES)) * quantity,
                "ordered_at": now - timedelta(seconds=rng.uniform(0.5, max(1.0, interval))), "status": "paid",
                "buyer": f"do_{rng.randrange(100000):06d}",
            })
    if not rows:
        return f"{len(live)} sessions live, no new orders this round"
    result = ingest_rows(session, admin, rows, source="json", platform="douyin")
    return f"{len(live)} sessions live, {result['created']} new orders"
