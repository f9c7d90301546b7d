"""The park's facts: its demo users, rooms and their hours, tenants and what
they book, blackouts, series, anchors and products, and the shares the
builders (opsroom/demo/builders.py) and the orders (opsroom/demo/orders.py)
draw with. Tables of constants only: nothing here touches the database or the dice.
"""
from __future__ import annotations

from datetime import timedelta
from typing import NamedTuple

# Every draw of the demo comes from random.Random(SEED), in a fixed order (opsroom/demo/park.py).
SEED = 2026
PARK_NAME = "辽宁·鞍山西柳岫玉直播电商产业园"

# Bookings from the first day of the previous month (so "last month" reports have
# figures) to two weeks after today, inclusive: see `first_day_offset`.
LAST_DAY = 14


def first_day_offset(today) -> int:
    """Days from `today` back to the first of the previous month (a negative number)."""
    first_of_month = today.replace(day=1)
    previous = (first_of_month - timedelta(days=1)).replace(day=1)
    return (previous - today).days

# ---------------------------------------------------------------------------
# Users

DEMO_PASSWORD = "opsroom-demo"
DEMO_USERS: list[tuple[str, str, str]] = [
    ("admin@park.demo", "admin", "赵建国"),  # 园区管理员
    ("manager@park.demo", "manager", "王丽娟"),  # 园区运营经理
    ("coordinator@park.demo", "coordinator", "陈晓峰"),  # 直播间排期
    ("anchor@park.demo", "anchor", "林小雨"),  # 主播（园区自有MCN）
    ("tenant@park.demo", "tenant", "刘海燕"),  # 商家账号: 西柳服装
    ("tenant2@park.demo", "tenant", "孙雅楠"),  # 商家账号: 梓涵服饰
]
# Requests (预约申请) of the tenants' accounts, days from today: (account, room code or None for any
# room of the kind, kind, day, window start, window end, minutes, note, waiting?). A waiting request
# asks for a whole evening of a room its sessions fill: it waits for a cancellation.
DEMO_REQUESTS: tuple[tuple, ...] = (
    ("tenant@park.demo", None, "服装", 2, "18:00", "00:00", 240, "羽绒服清仓加场，4 小时", False),
    ("tenant@park.demo", "A101", "服装", 3, "08:00", "02:00", 1080, "大促整日包场，候补", True),
    ("tenant2@park.demo", None, "服装", 4, "14:00", "18:00", 120, "新款女装上新", False),
)

# The tenant each tenant's account (role "tenant") belongs to.
DEMO_USER_TENANTS: dict[str, str] = {
    "tenant@park.demo": "海城市西柳服装有限公司",
    "tenant2@park.demo": "鞍山市梓涵服饰有限公司",
}

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
    # Orders an hour a room's crew can pack and ship (order_capacity_per_hour): a few hundred for an
    # ordinary room, up to a thousand for the big apparel rooms with their own packing line.
    # 服装区 (1F): the 海城西柳 apparel makers.
    RoomRow("A101", "A101 服装大场", "服装区", "服装", 180, _APPAREL_BIG, "08:00", "02:00", 30, 720, 1000),
    RoomRow("A102", "A102 服装大场", "服装区", "服装", 160, _APPAREL_BIG, "08:00", "02:00", 30, 720, 900),
    RoomRow("A103", "A103 女装专场", "服装区", "服装", 90, _APPAREL + ("4K摄像机",), "08:00", "02:00", 30, 480, 450),
    RoomRow("A104", "A104 女装专场", "服装区", "服装", 80, _APPAREL, "08:00", "02:00", 15, 480, 400),
    RoomRow("A105", "A105 童装间", "服装区", "服装", 60, _APPAREL, "09:00", "23:00", 15, 480, 200),
    RoomRow("A106", "A106 男装间", "服装区", "服装", 60, _APPAREL, "08:00", "02:00", 15, 480, 250),
    RoomRow("A107", "A107 羽绒服专场", "服装区", "服装", 120, _APPAREL_BIG, "08:00", "02:00", 30, 720, 700),
    RoomRow("A108", "A108 24小时轮播间", "服装区", "服装", 70, _APPAREL + ("4K摄像机",), "00:00", "00:00", 15, 720, 300),
    # 美妆区 (2F)
    RoomRow("B201", "B201 美妆大场", "美妆区", "美妆", 90, _BEAUTY + ("4K摄像机",), "09:00", "23:00", 15, 480, 400),
    RoomRow("B202", "B202 护肤间", "美妆区", "美妆", 45, _BEAUTY, "09:00", "23:00", 15, 480, 250),
    RoomRow("B203", "B203 彩妆间", "美妆区", "美妆", 40, _BEAUTY, "08:00", "02:00", 15, 480, 200),
    RoomRow("B204", "B204 彩妆间", "美妆区", "美妆", 40, _BEAUTY, "08:00", "02:00", 15, 480, 200),
    RoomRow("B205", "B205 个护间", "美妆区", "美妆", 35, _BEAUTY, "09:00", "23:00", 15, 480, 150),
    RoomRow("B206", "B206 美妆小场（装修中）", "美妆区", "美妆", 30, ("环形补光灯",), "09:00", "23:00", 15, 480, 100,
            active=False),
    # 食品区 (3F): 南果梨, 绿色食品 rice, snacks.
    RoomRow("C301", "C301 食品大场", "食品区", "食品", 120, _FOOD + ("4K摄像机", "提词器"), "08:00", "02:00", 30, 720, 600),
    RoomRow("C302", "C302 厨房直播间", "食品区", "食品", 80, _KITCHEN, "08:00", "02:00", 30, 480, 300),
    RoomRow("C303", "C303 南果梨产地直播间", "食品区", "食品", 60, _FOOD, "08:00", "02:00", 15, 480, 350),
    RoomRow("C304", "C304 米面粮油间", "食品区", "食品", 60, _FOOD, "08:00", "02:00", 15, 480, 250),
    RoomRow("C305", "C305 零食坚果间", "食品区", "食品", 40, _FOOD, "09:00", "23:00", 15, 480, 200),
    RoomRow("C306", "C306 生鲜冷链间", "食品区", "食品", 50, _FOOD + ("冷链打包台",), "08:00", "02:00", 30, 480, 150),
    # 绿幕区 (4F): virtual sets for tourism (千山), flowers, MCN training.
    RoomRow("D401", "D401 绿幕大棚", "绿幕区", "绿幕", 150, _GREEN + ("大屏回看",), "00:00", "00:00", 30, 720, 500),
    RoomRow("D402", "D402 绿幕间", "绿幕区", "绿幕", 60, _GREEN, "08:00", "02:00", 15, 480, 250),
    RoomRow("D403", "D403 绿幕间", "绿幕区", "绿幕", 50, _GREEN, "08:00", "02:00", 15, 480, 200),
    RoomRow("D404", "D404 虚拟演播间", "绿幕区", "绿幕", 70, _GREEN + ("虚拟场景服务器",), "09:00", "23:00", 15, 480, 250),
    RoomRow("D405", "D405 绿幕小间", "绿幕区", "绿幕", 20, ("绿幕", "补光灯", "声卡"), "09:00", "23:00", 15, 480, 100),
    # 珠宝玉石区 (5F): the 岫岩 岫玉 jade workshops.
    RoomRow("E501", "E501 岫玉大场", "珠宝玉石区", "珠宝", 100, _JADE + ("4K摄像机",), "09:00", "23:00", 30, 480, 200),
    RoomRow("E502", "E502 岫玉手镯间", "珠宝玉石区", "珠宝", 40, _JADE, "09:00", "23:00", 15, 480, 150),
    RoomRow("E503", "E503 玉雕摆件间", "珠宝玉石区", "珠宝", 50, _JADE, "09:00", "23:00", 15, 480, 100),
    RoomRow("E504", "E504 翡翠琥珀间", "珠宝玉石区", "珠宝", 35, _JADE, "08:00", "02:00", 15, 480, 120),
    RoomRow("E505", "E505 鉴定直播间", "珠宝玉石区", "珠宝", 30, _JADE + ("检测仪器",), "09:00", "23:00", 15, 480, 100),
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

# The zones as the board lists them, floor by floor (zones' sort order).
ZONE_ORDER = ("服装区", "美妆区", "食品区", "绿幕区", "珠宝玉石区")

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
    short_name: str | None = None  # 简称, on the board and the screen


TENANTS: tuple[TenantRow, ...] = (
    TenantRow(
        "海城市西柳服装有限公司", "刘海燕 13841216608", "91", "210381", "active", 420,
        {"服装": 6, "绿幕": 0.5},
        ("秋冬羽绒服专场", "西柳棉服工厂直发", "加厚羽绒马甲清仓", "冲锋衣三合一新品首发",
         "工厂店福利秒杀", "周周上新·女装羽绒服", "男士棉服爆款返场"),
        orders_per_day=6000, peak_orders_per_day=16000, short_name="西柳服装",
    ),
    TenantRow(
        "鞍山市梓涵服饰有限公司", "孙雅楠 15904126631", "91", "210302", "active", 210,
        {"服装": 3},
        ("秋冬女装上新", "针织开衫专场", "亲子装童装专场", "大码女装福利场", "羊绒大衣品质场"),
        orders_per_day=1800, peak_orders_per_day=4200, short_name="梓涵服饰",
    ),
    TenantRow(
        "岫岩满族自治县玉德坊玉器有限公司", "关玉成 13904220517", "91", "210323", "active", 380,
        {"珠宝": 6, "绿幕": 0.3},
        ("岫玉手镯直播", "岫玉摆件鉴赏专场", "岫玉原石开料直播", "玉雕大师现场雕刻",
         "岫玉吊坠平价专场", "河磨玉把件精品场"),
        orders_per_day=300, peak_orders_per_day=900, short_name="玉德坊",
    ),
    TenantRow(
        "鞍山市千山区南果梨种植专业合作社", "杨德福 13591137720", "93", "210311", "active", 300,
        {"食品": 3, "绿幕": 0.5},
        ("南果梨产地直发", "千山南果梨冻梨专场", "南果梨礼盒助农专场", "果园直连·现摘现发", "南果梨中秋预售"),
        orders_per_day=1200, peak_orders_per_day=5000, short_name="南果梨合作社",
    ),
    TenantRow(
        "台安县绿禾米业有限公司", "韩立新 18642208193", "91", "210321", "active", 260,
        {"食品": 2.5},
        ("绿色食品认证大米专场", "新米上市直播", "东北杂粮礼包专场", "有机小米尝鲜场", "粮油囤货节"),
        orders_per_day=800, peak_orders_per_day=2600, short_name="绿禾米业",
    ),
    TenantRow(
        "鞍山雪肌化妆品有限公司", "周婷 13889701425", "91", "210304", "active", 190,
        {"美妆": 5},
        ("补水面膜专场", "秋冬护肤直播", "精华水乳套装福利", "新品口红试色", "敏感肌修护专场"),
        orders_per_day=1500, peak_orders_per_day=3800, short_name="雪肌美妆",
    ),
    TenantRow(
        "鞍山橙光文化传媒有限公司", "马骁 13130628874", "91", "210303", "active", 150,
        {"绿幕": 3, "美妆": 1.5, "食品": 1, "服装": 0.5},
        ("好物推荐综合场", "新人主播带货实训", "千山旅游线路推介", "鞍山特产直播专场", "零食坚果囤货节"),
        orders_per_day=900, peak_orders_per_day=3000, short_name="橙光传媒",
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
        orders_per_day=400, peak_orders_per_day=1100, short_name="南台箱包",
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
# The weekly series starts this many days before today.
SERIES_FIRST_DAY = -3

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
# People and goods (人、货): the anchors and the tenants' catalogues.

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
    # The park's MCN hosts many more, so that evening sessions, live on the big screen, have hosts.
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

# ---------------------------------------------------------------------------
# Orders (订单): how the sessions sell (opsroom/demo/orders.py).

# How hard a session sells: orders ÷ its room's capacity, drawn per session from a
# triangle (most sessions between 20 % and 70 %, a few over 100 %: the capacity alerts).
LOAD_LOW, LOAD_MODE, LOAD_HIGH = 0.1, 0.45, 1.3
# Sessions live now sell at full volume (the screen, the board's and the booking page's alerts);
# sessions already over carry one order in HISTORY_SAMPLE of theirs, so a month of
# history loads in seconds. Their orders, GMV and load in the reports read at that scale.
HISTORY_SAMPLE = 100
# Sales intensity by park-local hour: evenings are prime time.
HOUR_WEIGHT = {h: 0.5 for h in range(24)} | {h: 0.8 for h in range(9, 12)} | {h: 1.0 for h in range(12, 19)} \
    | {h: 2.2 for h in range(19, 23)} | {23: 1.2}
REFUNDED_SHARE, CANCELLED_SHARE_ORDERS, UNATTRIBUTED_SHARE = 0.07, 0.03, 0.03
KUAISHOU_SHARE = 0.15
# One live session runs a flash sale (秒杀) above its room's capacity: an alert on the screen at any hour.
FLASH_SALE_LOAD = 1.15
FALLBACK_PRICES = (5900, 9900, 12900, 19900)
