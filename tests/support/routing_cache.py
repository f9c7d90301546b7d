"""Werkzeug's URL builders, compiled once per test process instead of once per app.

Every test that uses `app` gets a fresh `create_app()`, and nearly all of its
time (~0.25 s of ~0.26 s) goes to Werkzeug compiling, for each of the app's
~170 rules, two URL-builder functions from a generated AST. The generated code
depends only on the rule's parsed parts and defaults, never on the app, and the
function takes the rule as its first argument (`.self`), so a function compiled
for one app's rule is the same function for the same rule of the next app.

`install()` memoizes `Rule._compile_builder` on exactly what the generated code
reads, so each test still gets its own app, map and rules (nothing is shared
but immutable function objects); URLs build exactly as before
(tests/web/test_routing_cache.py compares every rule's builders with freshly
compiled ones). Only the tests install it; the app never does.
"""
from __future__ import annotations

from werkzeug.routing.rules import Rule

# None if a Werkzeug release renames it: then install() does nothing (the suite only runs
# slower) and tests/web/test_routing_cache.py fails, saying so.
_ORIGINAL = getattr(Rule, "_compile_builder", None)
_CACHE: dict = {}


def _key(rule: Rule, append_unknown: bool):
    defaults = rule.defaults
    if not defaults:
        return rule.rule, append_unknown, tuple(rule._trace), (), ()
    # A default for a variable in the rule is folded into the code as its URL
    # form (the converter's to_url); other defaults become keyword parameters.
    folded = tuple(
        (data, rule._converters[data].to_url(defaults[data]))
        for is_dynamic, data in rule._trace
        if is_dynamic and data in defaults
    )
    return rule.rule, append_unknown, tuple(rule._trace), tuple(str(k) for k in defaults), folded


def _compile_builder(self: Rule, append_unknown: bool = True):
    try:
        key = _key(self, append_unknown)
        hash(key)
    except Exception:  # anything unusual (an unhashable default): compile as Werkzeug does
        return _ORIGINAL(self, append_unknown)
    builder = _CACHE.get(key)
    if builder is None:
        builder = _CACHE[key] = _ORIGINAL(self, append_unknown)
    return builder


def install() -> None:
    if _ORIGINAL is not None:
        Rule._compile_builder = _compile_builder


def uninstall() -> None:
    if _ORIGINAL is not None:
        Rule._compile_builder = _ORIGINAL
    _CACHE.clear()


def installed() -> bool:
    return getattr(Rule, "_compile_builder", None) is _compile_builder
