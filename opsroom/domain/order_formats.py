"""Shop export formats, as data: one header mapping per platform.

Each maps our field to the header names that export uses for it (matched
case- and space-insensitively). Adding a platform is adding a mapping here.
The Kuaishou names are the ones commonly seen in 快手小店 order exports; the
plain English mapping is also the format of our own template.

Fields: external_id (the platform's sub-order number: the unique key),
parent_id, booking_id, room_code, anchor_account, sku, product_name,
quantity, amount (yuan), refund (yuan), ordered_at, status, after_sale,
buyer, platform.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ExportFormat:
    name: str            # our key, shown to users
    label: str           # what the shop calls its export
    platform: str        # the platform its orders come from ("" = the one chosen on upload)
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)


REQUIRED = ("external_id", "amount", "ordered_at")

DOUYIN = ExportFormat("douyin", "抖店 订单导出", "douyin", {
    "external_id": ("子订单编号", "子订单号"),
    "parent_id": ("主订单编号", "主订单号", "订单编号"),
    "product_id": ("商品ID",),
    "sku": ("商家编码", "商品编码", "SKU编码"),
    "product_name": ("选购商品", "商品名称"),
    "quantity": ("商品数量", "购买数量"),
    "amount": ("订单应付金额", "应付金额", "实付金额"),
    "refund": ("退款金额", "售后金额"),
    "ordered_at": ("订单提交时间", "下单时间", "创建时间"),
    "status": ("订单状态",),
    "after_sale": ("售后状态", "退款状态"),
    "anchor_account": ("达人ID", "作者ID", "主播ID"),
    "room_code": ("直播间", "直播间编号"),
    "booking_id": ("场次ID", "场次编号"),
    "buyer": ("买家昵称", "用户昵称"),
})

KUAISHOU = ExportFormat("kuaishou", "快手小店 订单导出", "kuaishou", {
    "external_id": ("订单号", "订单编号", "子订单号"),
    "parent_id": ("主订单号", "父订单号"),
    "product_id": ("商品ID",),
    "sku": ("SKU编码", "商家编码", "商品编码", "SKU ID"),
    "product_name": ("商品名称", "商品标题"),
    "quantity": ("成交数量", "商品数量", "购买数量"),
    "amount": ("实付款", "实付金额", "订单实付金额"),
    "refund": ("退款金额",),
    "ordered_at": ("订单创建时间", "下单时间", "创建时间"),
    "status": ("订单状态",),
    "after_sale": ("退款状态", "售后状态"),
    "anchor_account": ("主播ID", "快手号", "达人ID"),
    "room_code": ("直播间", "直播间编号"),
    "booking_id": ("场次ID", "场次编号"),
    "buyer": ("买家昵称", "买家ID"),
})

ENGLISH = ExportFormat("english", "English headers", "", {
    "external_id": ("external_id", "order_id", "sub_order_id"),
    "parent_id": ("parent_id", "parent_order_id"),
    "platform": ("platform",),
    "booking_id": ("booking_id",),
    "room_code": ("room_code", "room"),
    "anchor_account": ("anchor_account", "anchor_id"),
    "sku": ("sku",),
    "product_name": ("product_name", "product"),
    "quantity": ("quantity", "qty"),
    "amount": ("amount", "paid_amount"),
    "refund": ("refund", "refund_amount"),
    "ordered_at": ("ordered_at", "order_time", "created_at"),
    "status": ("status", "order_status"),
    "after_sale": ("after_sale", "refund_status"),
    "buyer": ("buyer",),
})

FORMATS: tuple[ExportFormat, ...] = (DOUYIN, KUAISHOU, ENGLISH)
# The platforms an upload may name (the form's choice, the API's `platform`).
PLATFORMS: dict[str, str] = {"douyin": "抖音 / 抖店", "kuaishou": "快手 / 快手小店"}


def _key(header: str) -> str:
    return header.strip().lower().replace(" ", "").replace("_", "")


@dataclass
class Match:
    format: ExportFormat
    index: dict[str, int]        # our field → column position
    missing: list[str]           # required fields without a column

    @property
    def score(self) -> int:
        return len(self.index) - 10 * len(self.missing)


def match_header(header: list[str], formats: tuple[ExportFormat, ...] = FORMATS,
                 prefer: str | None = None) -> Match:
    """The format this header belongs to: the one with every required column
    that matches most columns (`prefer` wins a tie); when none has them all,
    the nearest one, with its missing fields."""
    keys = {}
    for i, h in enumerate(header):
        keys.setdefault(_key(h), i)
    best: Match | None = None
    for fmt in formats:
        index = {}
        for name, aliases in fmt.columns.items():
            for alias in aliases:
                if _key(alias) in keys:
                    index[name] = keys[_key(alias)]
                    break
        m = Match(fmt, index, [r for r in REQUIRED if r not in index])
        if best is None or (m.score, fmt.platform == prefer) > (best.score, best.format.platform == prefer):
            best = m
    assert best is not None
    return best
