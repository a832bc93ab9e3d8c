"""Every page of the web app says it is French (`<html lang="fr">`): screen readers then read it with a French
voice, browsers offer no translation. Pages are Jinja templates: a page either extends a layout or is one; a
partial (its name starts with "_", e.g. console/_calls.html, macros imported by pages) is no page."""
from __future__ import annotations

import re

from web.app import TEMPLATES

EXTENDS = re.compile(r'{%-?\s*extends\s+"([^"]+)"')


def test_every_template_is_a_french_page_or_extends_one():
    templates = {p.relative_to(TEMPLATES).as_posix(): p.read_text(encoding="utf-8") for p in TEMPLATES.rglob("*.html")}
    assert {"base.html", "console/base.html", "space.html", "console/calls.html"} <= set(templates)
    partials = {name for name in templates if name.rsplit("/", 1)[-1].startswith("_")}
    for name in partials:
        assert "<html" not in templates[name] and not EXTENDS.search(templates[name]), f"{name} is a page, not a partial"
        del templates[name]
    layouts = {name for name, text in templates.items() if not EXTENDS.search(text)}
    for name in layouts:
        assert re.search(r'<html lang="fr">', templates[name]), f"{name}: <html lang=\"fr\"> missing"
    for name, text in templates.items():
        match = EXTENDS.search(text)
        if match:
            assert match.group(1) in layouts, f"{name} extends {match.group(1)}, which is not a French layout"
