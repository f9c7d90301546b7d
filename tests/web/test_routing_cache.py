"""The suite's cache of Werkzeug's URL builders (tests/support/routing_cache.py)
changes no URL: every rule of a fresh app gets the builder Werkzeug itself
would compile, and a second app reuses the first one's functions."""
from __future__ import annotations

from config import TestConfig
from opsroom import create_app
from tests.support import routing_cache


def _code(function):
    code = function.__code__
    return code.co_code, code.co_consts, code.co_names, code.co_varnames, function.__defaults__


def test_the_suite_runs_with_the_cache_installed():
    assert routing_cache.installed()


def test_every_rule_builds_with_the_code_werkzeug_compiles_for_it():
    app = create_app(TestConfig, DATABASE_URL="sqlite://")
    rules = list(app.url_map.iter_rules())
    assert len(rules) > 100
    for rule in rules:
        for append_unknown, built in ((False, rule._build), (True, rule._build_unknown)):
            fresh = routing_cache._ORIGINAL(rule, append_unknown)
            assert _code(built.__func__) == _code(fresh), rule.rule


def test_a_second_app_reuses_the_builders_and_builds_the_same_urls():
    first = create_app(TestConfig, DATABASE_URL="sqlite://")
    second = create_app(TestConfig, DATABASE_URL="sqlite://")
    pairs = list(zip(first.url_map.iter_rules(), second.url_map.iter_rules()))
    assert all(a.rule == b.rule and a.endpoint == b.endpoint for a, b in pairs)
    assert all(a._build.__func__ is b._build.__func__ for a, b in pairs)
    assert all(b._build.__self__ is b for _a, b in pairs)  # bound to its own rule
    with second.test_request_context():
        from flask import url_for

        assert url_for("api.bookings_show", booking_id=7) == "/api/v1/bookings/7"
        assert url_for("api.bookings_show", booking_id=7, fields="x y") == "/api/v1/bookings/7?fields=x+y"
