"""Account links: codes are hashed, single use, expire in 10 minutes; 5 wrong tries lock a sender for an hour."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from hortense.security import link_codes
from hortense.account import linking as links
from hortense.db.link_models import AccountLink, LinkAttempt, LinkCode
from hortense.db.models import Customer
from hortense.db.session import session_scope
from hortense.settings import get_settings

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=timezone.utc)
WA = ("whatsapp", "whatsapp:+33612345601")
TG = ("telegram", "telegram:424242")


@pytest.fixture
def db(seeded_db):
    with session_scope(seeded_db) as s:
        yield s


def code_rows(db):
    return db.execute(select(LinkCode)).scalars().all()


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_issue_code_stores_only_the_peppered_hash(db):
    code = links.issue_code(db, "C1001", T0)
    assert len(code) == 6 and code.isdigit()
    rows = code_rows(db)
    assert len(rows) == 1
    assert rows[0].code_hash == link_codes.hash_code(code, get_settings().link_code_pepper.encode())
    assert code not in rows[0].code_hash
    assert rows[0].used_at is None


def test_issue_code_for_unknown_or_inactive_customer(db):
    with pytest.raises(LookupError):
        links.issue_code(db, "C9999", T0)
    db.execute(select(Customer).where(Customer.customer_number == "C1002")).scalar_one().is_active = False
    with pytest.raises(LookupError):
        links.issue_code(db, "C1002", T0)


def test_right_code_links_the_sender_to_the_customer(db):
    code = links.issue_code(db, "C1001", T0)
    result = links.link(db, *WA, code, T0 + timedelta(minutes=3))
    assert result.status == "ok" and result.ok and result.customer_number == "C1001"
    assert links.linked_customer_number(db, *WA) == "C1001"
    assert code_rows(db)[0].used_at is not None


def test_code_typed_with_spaces_works(db):
    code = links.issue_code(db, "C1001", T0)
    assert links.link(db, *WA, f"{code[:3]} {code[3:]}", T0).status == "ok"


def test_code_is_single_use(db):
    code = links.issue_code(db, "C1001", T0)
    assert links.link(db, *WA, code, T0).ok
    replay = links.link(db, *TG, code, T0 + timedelta(minutes=1))
    assert replay.status == "wrong_code"
    assert links.linked_customer_number(db, *TG) is None


def test_code_expires_after_ten_minutes(db):
    code = links.issue_code(db, "C1001", T0)
    assert links.link(db, *WA, code, T0 + timedelta(minutes=10)).status == "expired"
    assert links.linked_customer_number(db, *WA) is None


def test_code_just_before_expiry_works(db):
    code = links.issue_code(db, "C1001", T0)
    assert links.link(db, *WA, code, T0 + timedelta(minutes=9, seconds=59)).ok


def test_new_code_invalidates_older_unused_codes(db):
    first = links.issue_code(db, "C1001", T0)
    second = links.issue_code(db, "C1001", T0 + timedelta(minutes=1))
    if first != second:
        assert links.link(db, *WA, first, T0 + timedelta(minutes=2)).status == "wrong_code"
    assert links.link(db, *TG, second, T0 + timedelta(minutes=2)).ok
    assert len([r for r in code_rows(db) if r.used_at is None]) == 0


def test_other_customers_codes_stay_valid(db):
    a = links.issue_code(db, "C1001", T0)
    b = links.issue_code(db, "C1003", T0)
    assert a != b
    assert links.link(db, *WA, a, T0).customer_number == "C1001"
    assert links.link(db, *TG, b, T0).customer_number == "C1003"


def test_five_wrong_codes_lock_the_sender_for_an_hour(db):
    code = links.issue_code(db, "C1001", T0)
    results = [links.link(db, *WA, wrong(code), T0 + timedelta(seconds=i)) for i in range(5)]
    assert [r.status for r in results] == ["wrong_code"] * 4 + ["locked"]
    assert [r.attempts_left for r in results[:4]] == [4, 3, 2, 1]
    assert links.link(db, *WA, code, T0 + timedelta(minutes=1)).status == "locked"
    attempt = db.execute(select(LinkAttempt)).scalar_one()
    assert attempt.failed_attempts == 5
    assert links.linked_customer_number(db, *WA) is None
    # The code itself is untouched: the customer can still use it from another, unlocked conversation.
    assert links.link(db, *TG, code, T0 + timedelta(minutes=2)).ok


def test_lock_is_lifted_after_an_hour(db):
    for i in range(5):
        links.link(db, *WA, "000000", T0 + timedelta(seconds=i))
    later = T0 + timedelta(hours=1, seconds=5)
    code = links.issue_code(db, "C1001", later)
    assert links.link(db, *WA, code, later).ok
    assert db.execute(select(LinkAttempt)).scalar_one_or_none() is None


def test_guessing_without_any_pending_code_counts(db):
    statuses = [links.link(db, *WA, f"{i:06d}", T0).status for i in range(5)]
    assert statuses[-1] == "locked"


def test_lock_is_per_sender_and_channel(db):
    for i in range(5):
        links.link(db, *WA, "000000", T0)
    code = links.issue_code(db, "C1001", T0)
    assert links.link(db, "telegram", WA[1], code, T0).ok  # same id, other channel: another sender


def test_already_linked_sender_does_not_consume_a_code(db):
    assert links.link(db, *WA, links.issue_code(db, "C1001", T0), T0).ok
    other = links.issue_code(db, "C1003", T0)
    result = links.link(db, *WA, other, T0)
    assert result.status == "already_linked" and result.customer_number == "C1001"
    assert links.link(db, *TG, other, T0).customer_number == "C1003"


def test_links_are_per_channel_and_sender(db):
    assert links.link(db, *WA, links.issue_code(db, "C1001", T0), T0).ok
    assert links.linked_customer_number(db, "telegram", WA[1]) is None
    assert links.linked_customer_number(db, "whatsapp", "whatsapp:+33600000000") is None


def test_unlink_from_the_chat(db):
    assert links.link(db, *WA, links.issue_code(db, "C1001", T0), T0).ok
    assert links.unlink(db, *WA) is True
    assert links.linked_customer_number(db, *WA) is None
    assert links.unlink(db, *WA) is False


def test_unlink_all_from_the_customer_space(db):
    assert links.link(db, *WA, links.issue_code(db, "C1001", T0), T0).ok
    assert links.link(db, *TG, links.issue_code(db, "C1001", T0), T0).ok
    assert links.link(db, "messenger", "messenger:77", links.issue_code(db, "C1003", T0), T0).ok
    assert [l.channel for l in links.links_of_customer(db, "C1001")] == ["whatsapp", "telegram"]
    assert links.unlink_all_for_customer(db, "C1001") == 2
    assert links.linked_customer_number(db, *WA) is None
    assert links.linked_customer_number(db, "messenger", "messenger:77") == "C1003"


def test_unlink_one_only_among_the_customers_own_links(db):
    assert links.link(db, *WA, links.issue_code(db, "C1001", T0), T0).ok
    own = links.links_of_customer(db, "C1001")[0]
    assert links.unlink_one_for_customer(db, "C1003", own.id) is False
    assert links.unlink_one_for_customer(db, "C1001", own.id) is True
    assert db.execute(select(AccountLink)).scalar_one_or_none() is None


def test_inactive_customer_is_no_longer_linked(db):
    assert links.link(db, *WA, links.issue_code(db, "C1001", T0), T0).ok
    db.execute(select(Customer).where(Customer.customer_number == "C1001")).scalar_one().is_active = False
    db.flush()
    assert links.linked_customer_number(db, *WA) is None


def test_non_codes_are_failed_tries(db):
    assert links.link(db, *WA, "abc", T0).status == "wrong_code"


def test_times_in_another_zone_are_stored_as_utc(db):
    paris = timezone(timedelta(hours=1))
    code = links.issue_code(db, "C1001", T0.astimezone(paris))
    assert links.link(db, *WA, code, T0 + timedelta(minutes=10)).status == "expired"


def test_cli_issues_a_code_for_the_customer_space(seeded_db, capsys):
    from hortense.cli import main

    assert main(["link-code", "C1001"]) == 0
    code = capsys.readouterr().out.split()[0]
    with session_scope(seeded_db) as s:
        assert links.link(s, *WA, code).customer_number == "C1001"
    assert main(["link-code", "C9999"]) == 1
