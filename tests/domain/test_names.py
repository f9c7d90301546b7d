"""Short names: a tenant's own 简称 wins; otherwise the registered name loses its
place prefix and legal form and is cut to a few characters."""
import pytest

from opsroom.domain.names import DERIVED_MAX_CJK, display_short_name, shorten


@pytest.mark.parametrize("name, short", [
    ("海城市西柳服装有限公司", "西柳服装"),
    ("岫岩满族自治县玉德坊玉器有限公司", "玉德坊玉器"),
    ("鞍山市千山区南果梨种植专业合作社", "南果梨种植"),
    ("台安县绿禾米业有限公司", "绿禾米业"),
    ("鞍山雪肌化妆品有限公司", "鞍山雪肌化…"),  # no place suffix: cut, marked
    ("北京市", "北京市"),  # nothing would remain: kept
    ("Acme Trading Co., Ltd.", "Acme Trading"),
    ("Foo Inc.", "Foo"),
    ("  ", ""),
])
def test_shorten(name, short):
    assert shorten(name) == short


def test_a_derived_short_name_is_never_longer_than_the_limit():
    assert len(shorten("辽宁省鞍山市一二三四五六七八九十有限公司")) == DERIVED_MAX_CJK


def test_the_tenants_own_short_name_wins_and_blank_falls_back():
    assert display_short_name("海城市西柳服装有限公司", "西柳") == "西柳"
    assert display_short_name("海城市西柳服装有限公司", " ") == "西柳服装"
    assert display_short_name("海城市西柳服装有限公司", None) == "西柳服装"
