"""Every page of the web app says it is French (`<html lang="fr">`): screen readers then read it with a French
voice, browsers offer no translation. Pages are Jinja templates: a page either extends a layout or is one.
Partials (`_name.html`: macros imported by pages) are not pages; a page that extends one is still refused."""
from __future__ import annotations

import re

from web.app import TEMPLATES

EXTENDS = re.compile(r'{%-?\s*extends\s+"([^"]+)"')


def test_every_template_is_a_french_page_or_extends_one():
    templates = {p.relative_to(TEMPLATES).as_posix(): p.read_text(encoding="utf-8") for p in TEMPLATES.rglob("*.html")}
    assert {"base.html", "console/base.html", "space.html", "console/calls.html"} <= set(templates)
    partials = {name for name in templates if name.rsplit("/", 1)[-1].startswith("_")}
    assert all("{% macro" in templates[name] and "<html" not in templates[name] for name in partials), partials
    layouts = {name for name, text in templates.items() if not EXTENDS.search(text)} - partials
    for name in layouts:
        assert re.search(r'<html lang="fr">', templates[name]), f"{name}: <html lang=\"fr\"> missing"
    for name, text in templates.items():
        match = EXTENDS.search(text)
        if match:
            assert match.group(1) in layouts, f"{name} extends {match.group(1)}, which is not a French layout"
