"""Customers and contracts as frozen views, ownership checks, départements, seasonal off-peak ranges, offer access."""
from __future__ import annotations

import dataclasses
from datetime import date, time

import pytest
from sqlalchemy import select

from hortense.account import offers
from hortense.account.customers import ContractView, OffpeakView, load_customer, load_customer_by_id, seasonal_ranges
from hortense.db.models import OFFER_BOOST, OFFER_PRO, OFFER_STOCKAGE, Contract, Customer
from hortense.db.session import session_scope


WINTER = (11, 3)
SUMMER = (4, 10)


def make_contract(**overrides) -> ContractView:
    """A contract view built in memory (no database), shaped like Julien's seasonal Stockage Virtuel."""
    values = dict(
        id=1, contract_number="SV-TEST-000001", offer=OFFER_STOCKAGE, pdl="14295730199999", site_label=None,
        supply_address="1 rue A", supply_postcode="44000", supply_city="Nantes", start_date=date(2024, 1, 1),
        subscribed_power_kva=6, monthly_payment=False, instalment_day=None, resale_price_eur_per_kwh=None,
        offpeak=(
            OffpeakView(time(2, 0), time(7, 0), "hiver", *WINTER),
            OffpeakView(time(13, 0), time(16, 0), "hiver", *WINTER),
            OffpeakView(time(1, 0), time(6, 0), "été", *SUMMER),
            OffpeakView(time(11, 0), time(14, 0), "été", *SUMMER),
        ),
    )
    values.update(overrides)
    return ContractView(**values)


# --- load_customer -------------------------------------------------------------------------------------------

def test_load_customer_returns_the_customer_and_their_contracts(session):
    c = load_customer(session, "C1001")
    assert c is not None
    assert (c.customer_number, c.first_name, c.last_name) == ("C1001", "Camille", "Dubois")
    assert c.full_name == "Camille Dubois"
    assert c.holder_name == "Mme Camille Dubois"
    assert [k.contract_number for k in c.contracts] == ["SV-2023-000101"]
    contract = c.contracts[0]
    assert contract.offer == OFFER_STOCKAGE and contract.offer_label == "Stockage Virtuel"
    assert contract.pdl == "14295730100101"
    assert contract.monthly_payment is True and contract.instalment_day == 5


def test_load_customer_of_a_business_with_two_sites(session):
    c = load_customer(session, "C1006")
    assert c.holder_name == "Atelier Girard & Fils"
    assert [k.contract_number for k in c.contracts] == ["EVP-2021-000106", "EVP-2023-000107"]
    assert {k.offer for k in c.contracts} == {OFFER_PRO}
    assert [k.short_name for k in c.contracts] == ["Atelier de Villeurbanne", "Boutique de Lyon"]
    assert [k.monthly_payment for k in c.contracts] == [True, False]


def test_short_name_without_site_label_is_city_and_number(session):
    assert load_customer(session, "C1003").contracts[0].short_name == "Montpellier (BMS-2023-000103)"


def test_load_customer_unknown_is_none(session):
    assert load_customer(session, "C9999") is None
    assert load_customer(session, "") is None


def test_load_customer_number_is_exact(session):
    assert load_customer(session, "c1001") is None
    assert load_customer(session, "C1001 ") is None


def test_load_customer_views_are_frozen_and_detached(seeded_db):
    with session_scope(seeded_db) as s:
        c = load_customer(s, "C1001")
    # usable after the session closed, and immutable
    assert c.contracts[0].offpeak[0].start == time(22, 0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.first_name = "Autre"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.contracts[0].pdl = "00000000000000"  # type: ignore[misc]


def test_inactive_customer_is_not_loaded(session):
    customer = session.execute(select(Customer).where(Customer.customer_number == "C1002")).scalar_one()
    customer.is_active = False
    session.flush()
    assert load_customer(session, "C1002") is None
    assert load_customer_by_id(session, customer.id) is None
    assert load_customer(session, "C1001") is not None


def test_only_active_contracts_are_loaded(session):
    contract = session.execute(select(Contract).where(Contract.contract_number == "EVP-2023-000107")).scalar_one()
    contract.status = "terminated"
    session.flush()
    c = load_customer(session, "C1006")
    assert [k.contract_number for k in c.contracts] == ["EVP-2021-000106"]
    assert c.contract(contract.id) is None
    assert c.contract_by_number("EVP-2023-000107") is None


def test_load_customer_by_id(session):
    customer_id = session.execute(select(Customer.id).where(Customer.customer_number == "C1005")).scalar_one()
    assert load_customer_by_id(session, customer_id).customer_number == "C1005"
    assert load_customer_by_id(session, 999_999) is None


def test_offpeak_ranges_all_year(session):
    (contract,) = load_customer(session, "C1004").contracts
    assert [(r.start, r.end, r.season) for r in contract.offpeak] == [
        (time(0, 30), time(6, 30), None), (time(14, 0), time(16, 0), None)]


def test_offpeak_ranges_seasonal(session):
    (contract,) = load_customer(session, "C1002").contracts
    by_season: dict[str, list[OffpeakView]] = {}
    for r in contract.offpeak:
        by_season.setdefault(r.season, []).append(r)
    assert set(by_season) == {"hiver", "été"}
    assert [(r.start, r.end) for r in by_season["hiver"]] == [(time(2, 0), time(7, 0)), (time(13, 0), time(16, 0))]
    assert [(r.start, r.end) for r in by_season["été"]] == [(time(1, 0), time(6, 0)), (time(11, 0), time(14, 0))]
    assert {(r.season_start_month, r.season_end_month) for r in by_season["hiver"]} == {(11, 3)}
    assert {(r.season_start_month, r.season_end_month) for r in by_season["été"]} == {(4, 10)}


# --- ownership -----------------------------------------------------------------------------------------------

def test_contract_returns_only_the_customers_own_contract(session):
    camille = load_customer(session, "C1001")
    sophie = load_customer(session, "C1003")
    own = camille.contracts[0]
    assert camille.contract(own.id) == own
    assert camille.contract(sophie.contracts[0].id) is None  # exists, but belongs to someone else
    assert camille.contract(999_999) is None


def test_contract_by_number_is_tolerant_of_case_and_spaces_but_not_of_ownership(session):
    camille = load_customer(session, "C1001")
    assert camille.contract_by_number("SV-2023-000101").id == camille.contracts[0].id
    assert camille.contract_by_number("  sv-2023-000101 ").id == camille.contracts[0].id
    assert camille.contract_by_number("BMS-2023-000103") is None  # Sophie's contract
    assert camille.contract_by_number("") is None
    assert camille.contract_by_number(None) is None  # type: ignore[arg-type]


def test_business_picks_each_of_its_sites_but_no_one_elses(session):
    girard = load_customer(session, "C1006")
    for contract in girard.contracts:
        assert girard.contract(contract.id) is contract
        assert girard.contract_by_number(contract.contract_number) is contract
    other = load_customer(session, "C1005").contracts[0]
    assert girard.contract(other.id) is None
    assert girard.contract_by_number(other.contract_number) is None


# --- département -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("postcode, department", [
    ("69001", "69"),
    ("75011", "75"),
    ("01000", "01"),
    ("09000", "09"),
    ("20000", "2A"),  # Ajaccio
    ("20137", "2A"),  # Porto-Vecchio
    ("20169", "2A"),  # Bonifacio
    ("20200", "2B"),  # Bastia
    ("20250", "2B"),  # Corte
    ("20600", "2B"),  # Bastia / Furiani
    ("97100", "971"),  # Guadeloupe
    ("97200", "972"),  # Martinique
    ("97300", "973"),  # Guyane
    ("97400", "974"),  # La Réunion
    ("97600", "976"),  # Mayotte
])
def test_department_from_supply_postcode(postcode, department):
    assert make_contract(supply_postcode=postcode).department == department


def test_department_of_seeded_contracts_uses_the_supply_not_the_billing_address(session):
    girard = load_customer(session, "C1006")
    assert girard.billing_postcode == "69002"
    assert [c.department for c in girard.contracts] == ["69", "69"]
    assert load_customer(session, "C1003").contracts[0].department == "34"


# --- seasonal ranges -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("day, season", [
    (date(2026, 1, 15), "hiver"),
    (date(2026, 2, 28), "hiver"),
    (date(2026, 3, 31), "hiver"),
    (date(2026, 4, 1), "été"),
    (date(2026, 7, 14), "été"),
    (date(2026, 10, 31), "été"),
    (date(2026, 11, 1), "hiver"),
    (date(2026, 12, 31), "hiver"),
])
def test_seasonal_ranges_split_winter_across_the_year_boundary(day, season):
    ranges = seasonal_ranges(make_contract(), day)
    assert len(ranges) == 2
    assert {r.season for r in ranges} == {season}


def test_seasonal_ranges_of_the_seeded_seasonal_contract(session):
    (contract,) = load_customer(session, "C1002").contracts
    assert [(r.start, r.season) for r in seasonal_ranges(contract, date(2026, 12, 1))] == [
        (time(2, 0), "hiver"), (time(13, 0), "hiver")]
    assert [(r.start, r.season) for r in seasonal_ranges(contract, date(2026, 6, 1))] == [
        (time(1, 0), "été"), (time(11, 0), "été")]


def test_seasonal_ranges_keep_all_year_ranges_every_month(session):
    (contract,) = load_customer(session, "C1001").contracts
    for m in range(1, 13):
        assert seasonal_ranges(contract, date(2026, m, 1)) == contract.offpeak


def test_seasonal_ranges_within_one_calendar_year():
    """A season that does not wrap (May..September) excludes the months on both sides."""
    contract = make_contract(offpeak=(OffpeakView(time(12, 0), time(14, 0), "été", 5, 9),))
    assert [m for m in range(1, 13) if seasonal_ranges(contract, date(2026, m, 15))] == [5, 6, 7, 8, 9]


def test_seasonal_ranges_mix_all_year_and_seasonal():
    contract = make_contract()
    all_year = OffpeakView(time(23, 0), time(1, 0), None, None, None)
    mixed = dataclasses.replace(contract, offpeak=contract.offpeak + (all_year,))
    january = seasonal_ranges(mixed, date(2027, 1, 10))
    assert all_year in january and len(january) == 3
    assert {r.season for r in january} == {"hiver", None}
    june = seasonal_ranges(mixed, date(2027, 6, 10))
    assert {r.season for r in june} == {"été", None}


# --- offer access ------------------------------------------------------------------------------------------------

FEATURES = (offers.BATTERY, offers.CONSUMPTION, offers.SURPLUS, offers.KITTY, offers.INVOICES, offers.INSTALMENTS)
ALLOWED = {
    OFFER_STOCKAGE: {offers.BATTERY, offers.CONSUMPTION, offers.INVOICES, offers.INSTALMENTS},
    OFFER_BOOST: {offers.SURPLUS, offers.KITTY, offers.INVOICES},
    OFFER_PRO: {offers.CONSUMPTION, offers.INVOICES, offers.INSTALMENTS},
}


@pytest.mark.parametrize("offer", sorted(ALLOWED))
@pytest.mark.parametrize("feature", FEATURES)
def test_access_for_a_monthly_payer(offer, feature):
    result = offers.access(offer, feature, monthly_payment=True)
    if feature in ALLOWED[offer]:
        assert result == offers.Access(True, None)
    else:
        assert result == offers.Access(False, "offer")


@pytest.mark.parametrize("offer", sorted(ALLOWED))
@pytest.mark.parametrize("feature", FEATURES)
def test_access_for_a_non_monthly_payer(offer, feature):
    result = offers.access(offer, feature, monthly_payment=False)
    if feature not in ALLOWED[offer]:
        assert result == offers.Access(False, "offer")  # the offer reason wins over the payment one
    elif feature == offers.INSTALMENTS:
        assert result == offers.Access(False, "not_monthly")
    else:
        assert result == offers.Access(True, None)


def test_access_instalments_of_seeded_contracts(session):
    julien = load_customer(session, "C1002").contracts[0]  # Stockage Virtuel, pays per invoice
    camille = load_customer(session, "C1001").contracts[0]  # Stockage Virtuel, monthly
    assert offers.access(julien.offer, offers.INSTALMENTS, julien.monthly_payment) == offers.Access(False,
                                                                                                     "not_monthly")
    assert offers.access(camille.offer, offers.INSTALMENTS, camille.monthly_payment).allowed
    boutique = load_customer(session, "C1006").contract_by_number("EVP-2023-000107")
    assert offers.access(boutique.offer, offers.INSTALMENTS, boutique.monthly_payment).reason == "not_monthly"


def test_access_unknown_offer_or_feature_is_refused():
    assert offers.access("tarif_bleu", offers.INVOICES, True) == offers.Access(False, "offer")
    assert offers.access(OFFER_STOCKAGE, "teleportation", True) == offers.Access(False, "offer")


def test_every_offer_has_a_label_and_space_sections():
    for offer in (OFFER_STOCKAGE, OFFER_BOOST, OFFER_PRO):
        assert offers.OFFER_LABELS[offer]
        assert len(offers.SPACE_SECTIONS[offer]) == 3
    assert set(offers.FEATURES) == {OFFER_STOCKAGE, OFFER_BOOST, OFFER_PRO}
