"""Order rows of the ingestion benches, as JSON batches and as a 抖店 shop export (GBK CSV)."""
from __future__ import annotations

from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")
PRODUCTS = ("岫玉手镯 冰种", "南果梨 5斤礼盒", "羊绒大衣 驼色", "玻尿酸面膜 10片", "海城馅饼 8只装")


def as_json(row: dict) -> dict:
    out = {k: v for k, v in row.items() if k not in ("amount_fen", "ordered_at")}
    out["amount"] = f"{row['amount_fen'] // 100}.{row['amount_fen'] % 100:02d}"
    out["ordered_at"] = row["ordered_at"].astimezone(TZ).isoformat()
    return out


HEADER = "子订单编号,主订单编号,商家编码,选购商品,商品数量,订单应付金额,订单提交时间,订单状态,售后状态,达人ID,直播间,场次ID\n"


STATUS_CELLS = {"paid": ("已完成", "无售后"), "refunded": ("已关闭", "退款成功"), "cancelled": ("已关闭", "")}


def csv_line(r: dict) -> str:
    status, after = STATUS_CELLS[r["status"]]
    local = r["ordered_at"].astimezone(TZ).strftime("%Y-%m-%d %H:%M:%S")
    return (f"\t{r['external_id']},\t{r['parent_id']},{r['sku']},{r['product_name']},{r['quantity']},"
            f"{r['amount_fen'] // 100}.{r['amount_fen'] % 100:02d},{local},{status},{after},"
            f"{r.get('anchor_account', '')},{r.get('room_code', '')},{r.get('booking_id', '')}\n")


def export_bytes(rows: list[dict]) -> bytes:
    return (HEADER + "".join(csv_line(r) for r in rows)).encode("gbk")
