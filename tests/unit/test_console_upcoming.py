"""'À venir' a page at a time (a cursor, the same order as one list) and the supervisor's filter by advisor name:
pages that do not grow with the team, what an advisor sees unchanged."""

# ruff: noqa: F811  (the fixtures of test_console are imported, then named as arguments)
from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import urlencode

import pytest

from hortense.appointments import calls as desk
from hortense.appointments.calendar.phrases import PARIS
from hortense.appointments.calendar.slots import to_utc
from hortense.db.calendar_models import STATUS_BOOKED, STATUS_CANCELLED, Appointment
from hortense.db.session import session_scope
from tests.unit.test_console import (  # noqa: F401  (fixtures)
    NOW,
    _signed_in,
    app,
    client,
    world,
)

MONDAY_9 = datetime(2026, 11, 30, 9, 0, tzinfo=PARIS)


def _add(world, number: str, advisor: int, start: datetime, status: str = STATUS_BOOKED) -> int:
    with session_scope(world.url) as s:
        row = Appointment(
            customer_id=world.customers[number],
            contract_id=None,
            advisor_id=advisor,
            start_utc=to_utc(start),
            end_utc=to_utc(start + timedelta(minutes=30)),
            reason="Suivi",
            phone="0612345678",
            channel="web",
            sender_id=f"conv-{number}",
            status=status,
            created_at=to_utc(NOW),
            updated_at=to_utc(NOW),
        )
        s.add(row)
        s.flush()
        return row.id


@pytest.fixture
def busy(world, clock):
    """World's Friday 10:00 calls (Alice's and Bruno's, the same slot) and more: Monday 9:00 for both (the same
    slot again), Monday 10:00 and Tuesday 9:00 for Bruno, Monday 11:00 for Alice, and a cancelled call (never
    listed). The console's order: start, then the advisor's name (Alice before Bruno), then id."""
    clock.set(NOW)  # Thursday 8:00: nothing has started
    alice, bruno = world.alice, world.bruno
    ids = {
        "fri-alice": world.alice_call,
        "fri-bruno": world.bruno_call,
        "mon9-bruno": _add(world, "C1003", bruno, MONDAY_9),
        "mon9-alice": _add(world, "C1004", alice, MONDAY_9),
        "mon10-bruno": _add(world, "C1005", bruno, MONDAY_9 + timedelta(hours=1)),
        "mon11-alice": _add(world, "C1006", alice, MONDAY_9 + timedelta(hours=2)),
        "tue9-bruno": _add(world, "C1007", bruno, MONDAY_9 + timedelta(days=1)),
    }
    _add(world, "C1008", alice, MONDAY_9 + timedelta(hours=3), status=STATUS_CANCELLED)
    order = ["fri-alice", "fri-bruno", "mon9-alice", "mon9-bruno", "mon10-bruno", "mon11-alice", "tue9-bruno"]
    return [ids[k] for k in order]


def _walk(world, scope: desk.Scope, size: int) -> list[list[int]]:
    pages, after = [], None
    with session_scope(world.url) as s:
        while True:
            page = desk.upcoming(s, scope, NOW, after=after, size=size)
            pages.append([c.id for c in page.calls])
            if page.next_after is None:
                return pages
            assert page.next_after == page.calls[-1].id
            after = page.next_after
            assert len(pages) < 20


@pytest.mark.parametrize("size", [1, 2, 3, 6, 7, 8, 50])
def test_pages_follow_one_another_in_the_lists_order(world, busy, size):
    pages = _walk(world, desk.Scope(None), size)
    assert [i for p in pages for i in p] == busy  # nothing repeated, nothing skipped, same-slot calls included
    assert all(len(p) == size for p in pages[:-1]) and 0 < len(pages[-1]) <= size
    assert len(pages) == -(-len(busy) // size)  # a page of exactly `size` last calls has no "next"


def test_one_advisors_pages_hold_only_their_calls(world, busy):
    bruno = _walk(world, desk.Scope(world.bruno), 2)
    with session_scope(world.url) as s:
        theirs = {a.id for a in s.query(Appointment).filter_by(advisor_id=world.bruno, status=STATUS_BOOKED)}
    assert [i for p in bruno for i in p] == [i for i in busy if i in theirs]


def test_a_cursor_outside_the_scope_starts_from_the_first_call(world, busy):
    with session_scope(world.url) as s:
        first = desk.upcoming(s, desk.Scope(world.alice), NOW, size=2)
        # A call of Bruno's as Alice's cursor tells nothing about it: the first page again.
        assert desk.upcoming(s, desk.Scope(world.alice), NOW, after=world.bruno_call, size=2) == first
        assert desk.upcoming(s, desk.Scope(world.alice), NOW, after=10**9, size=2) == first


def _ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<article class="call[^"]*" id="call-(\d+)"', page)]


def _next(page: str) -> str | None:
    match = re.search(r'href="([^"]+)" rel="next"', page)
    return match.group(1).replace("&amp;", "&") if match else None


def test_the_supervisor_pages_through_everybodys_calls(client, world, busy, monkeypatch):
    monkeypatch.setattr(desk, "UPCOMING_PAGE", 3)
    _signed_in(client, "chief@hortense.test")
    seen, target, pages = [], "/console/calls", []
    while target:
        page = client.get(target)
        assert page.status == 200
        pages.append(page.text)
        seen += _ids(page.text)
        target = _next(page.text)
    assert seen == busy and len(pages) == 3
    assert "Premiers appels" not in pages[0] and 'href="/console/calls">&larr; Premiers appels' in pages[1]
    assert "Appels suivants" not in pages[2]
    assert client.get("/console/calls?after=abc").text == pages[0]  # a malformed cursor: the first page


def test_the_next_page_keeps_the_advisor_filter(client, world, busy, monkeypatch):
    monkeypatch.setattr(desk, "UPCOMING_PAGE", 2)
    _signed_in(client, "chief@hortense.test")
    first = client.get(f"/console/calls?advisor={world.bruno}").text
    target = _next(first)
    assert target and f"advisor={world.bruno}" in target
    second = client.get(target).text
    assert f'href="/console/calls?advisor={world.bruno}">&larr; Premiers appels' in second
    assert set(_ids(first) + _ids(second)) <= {busy[1], busy[3], busy[4], busy[6]}


def test_only_the_first_page_lists_the_calls_to_close(client, world, busy, clock, monkeypatch):
    monkeypatch.setattr(desk, "UPCOMING_PAGE", 2)
    clock.set(datetime(2026, 11, 27, 10, 40, tzinfo=PARIS))  # Friday's calls have started, without outcome
    _signed_in(client, "chief@hortense.test")
    first = client.get("/console/calls").text
    assert "Appels à clôturer" in first
    assert "Appels à clôturer" not in client.get(_next(first)).text


def test_an_advisor_pages_through_their_own_calls_only(client, world, busy, monkeypatch):
    monkeypatch.setattr(desk, "UPCOMING_PAGE", 2)
    _signed_in(client, "alice@hortense.test")
    first = client.get("/console/calls").text
    assert "advisor-filter" not in first and "Conseiller</dt>" not in first
    seen = _ids(first) + _ids(client.get(_next(first)).text)
    assert seen == [busy[0], busy[2], busy[5]]
    # Neither a filter on Bruno nor a cursor on his call widens an advisor's list.
    widened = client.get(f"/console/calls?advisor={world.bruno}&after={world.bruno_call}&who=bruno").text
    assert _ids(widened) == _ids(first)


def test_the_supervisor_filters_by_a_typed_name(client, world, busy):
    _signed_in(client, "chief@hortense.test")
    page = client.get(f"/console/calls?{urlencode({'who': ' bRu '})}").text
    assert set(_ids(page)) == {busy[1], busy[3], busy[4], busy[6]}
    assert 'name="who" value="Bruno"' in page and 'href="/console/calls">Tous les conseillers</a>' in page
    assert "tous les conseillers)" not in page


def test_a_name_matching_several_or_no_advisor_lists_them_and_keeps_everybody(client, world, busy):
    with session_scope(world.url) as s:
        from hortense.appointments.advisors import DEFAULT_WORKING_HOURS, create_advisor

        brunette = create_advisor(
            s,
            name="Brunehilde",
            email="brunehilde@hortense.test",
            password="",
            password_hash="x",
            is_supervisor=False,
            working_hours=DEFAULT_WORKING_HOURS,
        ).id
    _signed_in(client, "chief@hortense.test")
    page = client.get("/console/calls?who=brun").text
    assert "2 conseillers correspondent à « brun »" in page
    assert f'href="/console/calls?advisor={world.bruno}">Bruno</a>' in page
    assert f'href="/console/calls?advisor={brunette}">Brunehilde</a>' in page
    assert set(_ids(page)) == set(busy)  # nobody chosen yet: everybody's calls
    nobody = client.get("/console/calls?who=zorro").text
    assert "Aucun conseiller ne correspond à « zorro »" in nobody and set(_ids(nobody)) == set(busy)
    week = client.get("/console/calls/week?day=2026-11-30&who=brun").text
    assert f'href="/console/calls/week?day=2026-11-30&amp;advisor={world.bruno}">Bruno</a>' in week


def test_the_filter_is_a_field_not_the_whole_team(client, world, busy):
    """The page does not list every advisor: with 200 it would weigh 8 KB more on every page."""
    _signed_in(client, "chief@hortense.test")
    for target in ("/console/calls", "/console/calls/week?day=2026-11-30"):
        page = client.get(target).text
        assert "<select" not in page and '<input id="advisor-filter" type="search" name="who"' in page
        # A call's advisor links to their calls.
        assert f'<a href="/console/calls?advisor={world.bruno}">Bruno</a>' in page


def test_the_week_view_filters_by_a_typed_name_too(client, world, busy):
    _signed_in(client, "chief@hortense.test")
    page = client.get("/console/calls/week?day=2026-11-30&who=alice").text
    shown = set(_ids(page))  # the week shows every status: Alice's cancelled call too
    assert {busy[2], busy[5]} <= shown and not shown & {busy[3], busy[4]} and 'name="who" value="Alice"' in page
    assert 'href="/console/calls/week?day=2026-11-30">Tous les conseillers</a>' in page


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("42", 42),
        ("999999999", 999999999),
        ("9999999999", None),
        ("99999999999999999999", None),
        ("4a", None),
        ("-3", None),
        ("", None),
        (None, None),
    ],
)
def test_row_ids_from_the_url_fit_an_integer_column(raw, expected):
    """`?after=` and `?advisor=` are typed by anyone: a number too long for PostgreSQL's INTEGER would fail the
    query (a 500) instead of showing the first page."""
    from web.console import _row_id

    assert _row_id(raw) == expected
