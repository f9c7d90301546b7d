"""Every form and action button of templates/ is named in the browser tests'
list (tests/browser/test_every_form.FORMS) with the journey that drives it; this
check needs no browser, so it runs in every job."""
from __future__ import annotations

import ast
from pathlib import Path

from tests.browser.test_every_form import FORMS, TEMPLATES, template_actions

BROWSER_TESTS = Path(__file__).resolve().parents[1] / "browser"


def test_every_form_and_button_of_the_templates_is_named():
    """A new form or button in templates/ must be added to FORMS with the browser test that drives it."""
    seen = set()
    for path in sorted(TEMPLATES.rglob("*.html")):
        name = path.relative_to(TEMPLATES).as_posix()
        if name == "macros.html":  # the post_button macro itself: its uses are counted
            continue
        seen |= {f"{name}: {action}" for action in template_actions(path.read_text(encoding="utf-8"))}
    assert sorted(seen - FORMS.keys()) == [], "forms or buttons no browser test names"
    assert sorted(FORMS.keys() - seen) == [], "FORMS names forms or buttons the templates no longer have"


def test_every_named_test_exists():
    """FORMS cannot point at a test that was renamed or removed."""
    defined = set()
    for module in BROWSER_TESTS.glob("test_*.py"):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        defined |= {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")}
    assert sorted(set(FORMS.values()) - defined) == []
