"""PNG charts: what they draw, and the signed links that guard them (customer, contract, kind and period)."""
from __future__ import annotations

import struct
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from hortense import clock as hortense_clock
from hortense.account.customers import load_customer
from hortense.db.session import session_scope
from hortense.documents import urls as document_links
from hortense.energy.consumption import ConsumptionHistory, MonthConsumption
from hortense.energy.periods import Period, default_period
from hortense.energy.surplus import MonthSurplus, SurplusHistory
from hortense.security.rate_limit import RateLimit
from hortense.security.signing import sign_path
from hortense.settings import get_settings
from tests.unit.test_web_documents import WebClient, local
from web import charts
from web.charts import PngCache, render_consumption_png, render_surplus_png

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PERIOD = Period(date(2026, 5, 1), date(2026, 10, 1), True)


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(PNG_SIGNATURE)
    return struct.unpack(">II", data[16:24])


@pytest.fixture
def client(seeded_db, clock) -> WebClient:
    """The web app on the seeded day: pages, links and data all read the same stopped clock."""
    from web import charts
    from web.app import create_app

    charts.png_cache.clear()
    charts.render_limiter.reset()
    return WebClient(create_app())


@pytest.fixture
def customers(seeded_db):
    with session_scope(seeded_db) as s:
        return {n: load_customer(s, n) for n in ("C1001", "C1003", "C1006")}


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(local(url))
    query = dict(parse_qsl(parts.query))
    query.update(changes)
    return f"{parts.path}?{urlencode(query)}"


# --- drawing ------------------------------------------------------------------------------------------

def test_consumption_chart_is_a_png_of_the_expected_size():
    months = tuple(MonthConsumption(date(2026, m, 1), Decimal("180.5") + m, Decimal("80.2")) for m in range(5, 11))
    data = render_consumption_png(ConsumptionHistory(PERIOD, months, True), "Votre consommation de mai à octobre")
    assert png_size(data) == (720, 360)
    assert len(data) > 5000  # bars, labels and legend, not an empty canvas


def test_surplus_and_empty_charts_render():
    months = tuple(MonthSurplus(date(2026, m, 1), Decimal(120 + 10 * m)) for m in range(5, 11))
    assert png_size(render_surplus_png(SurplusHistory(PERIOD, months, True), "Surplus")) == (720, 360)
    empty = render_consumption_png(ConsumptionHistory(PERIOD, (), False), "Rien")
    assert png_size(empty) == (720, 360)


def test_thirty_six_months_render_without_error():
    start = date(2023, 11, 1)
    months = []
    for i in range(36):
        total = start.year * 12 + start.month - 1 + i
        months.append(MonthConsumption(date(total // 12, total % 12 + 1, 1), Decimal(300), Decimal(100)))
    data = render_consumption_png(ConsumptionHistory(Period(months[0].month, months[-1].month, True), tuple(months),
                                                     True), "Trois ans")
    assert data.startswith(PNG_SIGNATURE)


# --- signed links -------------------------------------------------------------------------------------

def test_consumption_chart_link_serves_a_png(client, customers):
    customer = customers["C1001"]
    url = document_links.chart_link(customer, customer.contracts[0], "consumption", PERIOD)
    assert url.startswith(get_settings().web_base_url + "/charts/consumption.png?contrat=SV-2023-000101&du=2026-05"
                                                        "&au=2026-10&c=C1001&exp=")
    page = client.get(local(url))
    assert page.status == 200
    assert page.content_type == "image/png"
    assert png_size(page.body) == (720, 360)


def test_surplus_chart_for_a_boost_customer(client, customers):
    customer = customers["C1003"]
    page = client.get(local(document_links.chart_link(customer, customer.contracts[0], "surplus",
                                                      default_period(hortense_clock.today()))))
    assert page.status == 200 and page.content_type == "image/png"


def test_changing_the_period_contract_or_customer_breaks_the_signature(client, customers):
    customer = customers["C1006"]
    url = document_links.chart_link(customer, customer.contracts[0], "consumption", PERIOD)
    for changes in ({"du": "2025-05"}, {"au": "2026-11"}, {"contrat": customer.contracts[1].contract_number},
                    {"c": "C1001"}, {"sig": "0" * 64}):
        page = client.get(with_query(url, **changes))
        assert page.status == 403, changes
        assert page.content_type.startswith("text/html") and b"\x89PNG" not in page.body
    # The same link under the other chart kind is not valid either.
    assert client.get(local(url).replace("/charts/consumption.png", "/charts/surplus.png")).status == 403


def test_unsigned_or_expired_chart_is_refused(client, customers):
    customer = customers["C1001"]
    assert client.get("/charts/consumption.png?contrat=SV-2023-000101&du=2026-05&au=2026-10").status == 403
    old = hortense_clock.now() - timedelta(minutes=16)
    page = client.get(local(document_links.chart_link(customer, customer.contracts[0], "consumption", PERIOD, old)))
    assert page.status == 410 and b"\x89PNG" not in page.body


def test_chart_of_another_customers_contract_is_refused(client, customers):
    other = customers["C1003"].contracts[0]
    resource = document_links.chart_resource("surplus", other.contract_number, PERIOD.start, PERIOD.end)
    signed = sign_path(resource, "C1001", get_settings().links_secret.encode())
    query = signed.partition("?")[2]
    page = client.get(f"/charts/surplus.png?contrat={other.contract_number}&du=2026-05&au=2026-10&{query}")
    assert page.status == 403 and b"\x89PNG" not in page.body


def test_chart_kind_must_fit_the_offer(client, customers):
    boost = customers["C1003"]
    with pytest.raises(ValueError):
        document_links.chart_link(boost, boost.contracts[0], "consumption", PERIOD)
    with pytest.raises(ValueError):
        document_links.chart_link(boost, customers["C1001"].contracts[0], "consumption", PERIOD)
    # Even a correctly signed link cannot draw a consumption chart for a contract that has none.
    contract = boost.contracts[0]
    resource = document_links.chart_resource("consumption", contract.contract_number, PERIOD.start, PERIOD.end)
    query = sign_path(resource, boost.customer_number, get_settings().links_secret.encode()).partition("?")[2]
    page = client.get(f"/charts/consumption.png?contrat={contract.contract_number}&du=2026-05&au=2026-10&{query}")
    assert page.status == 403


def test_malformed_chart_requests_are_404(client, customers):
    assert client.get("/charts/pie.png?contrat=X&du=2026-01&au=2026-02").status == 404
    assert client.get("/charts/consumption.png?contrat=X&du=2026-13&au=2026-02").status == 404
    assert client.get("/charts/consumption.png?contrat=X&du=2020-01&au=2026-02").status == 404  # over 36 months
    with pytest.raises(ValueError):
        document_links.chart_link(customers["C1001"], customers["C1001"].contracts[0], "pie", PERIOD)
    with pytest.raises(ValueError):
        document_links.chart_link(customers["C1001"], customers["C1001"].contracts[0], "consumption",
                                  Period(date(2023, 1, 1), date(2026, 1, 1), True))


# --- cache and limits ---------------------------------------------------------------------------------

@pytest.fixture
def drawings(monkeypatch) -> list[tuple]:
    """Every chart actually drawn (build_chart called), in order."""
    drawn: list[tuple] = []
    build = charts.build_chart

    def counting(*args):
        drawn.append(args)
        return build(*args)

    monkeypatch.setattr(charts, "build_chart", counting)
    return drawn


def test_a_chart_is_drawn_once_for_repeated_requests_and_new_links(client, customers, drawings):
    customer = customers["C1001"]
    url = local(document_links.chart_link(customer, customer.contracts[0], "consumption", PERIOD))
    pages = [client.get(url) for _ in range(3)]
    later = local(document_links.chart_link(customer, customer.contracts[0], "consumption", PERIOD,
                                            hortense_clock.now() + timedelta(minutes=1)))
    assert later != url
    pages.append(client.get(later))
    assert {p.status for p in pages} == {200} and len({p.body for p in pages}) == 1
    assert len(drawings) == 1
    other_period = Period(date(2026, 4, 1), date(2026, 10, 1), True)
    client.get(local(document_links.chart_link(customer, customer.contracts[0], "consumption", other_period)))
    assert len(drawings) == 2


def test_the_cache_is_no_way_around_the_signature_or_the_customer(client, customers, drawings):
    mine = customers["C1001"]
    url = document_links.chart_link(mine, mine.contracts[0], "consumption", PERIOD)
    assert client.get(local(url)).status == 200
    assert client.get(with_query(url, sig="0" * 64)).status == 403
    resource = document_links.chart_resource("consumption", mine.contracts[0].contract_number, PERIOD.start, PERIOD.end)
    query = sign_path(resource, "C1003", get_settings().links_secret.encode()).partition("?")[2]
    page = client.get(f"/charts/consumption.png?contrat={mine.contracts[0].contract_number}&du=2026-05&au=2026-10&"
                      f"{query}")
    assert page.status == 403 and b"\x89PNG" not in page.body and len(drawings) == 2


def test_chart_drawings_are_limited_per_address_with_a_french_429(client, customers, drawings, monkeypatch):
    monkeypatch.setattr(charts, "render_limiter", RateLimit("chart-renders-test", 2, 60, redis=None))
    customer = customers["C1001"]
    urls = [local(document_links.chart_link(customer, customer.contracts[0], "consumption",
                                            Period(date(2026, m, 1), date(2026, 10, 1), True))) for m in (3, 4, 5)]
    assert [client.get(u).status for u in urls[:2]] == [200, 200]
    page = client.get(urls[2])
    assert page.status == 429 and page.headers.get("retry-after") == "60"
    assert page.content_type.startswith("text/html") and b"\x89PNG" not in page.body
    assert "Trop de demandes" in page.text and "Réessayez dans une minute" in page.text
    assert client.get(urls[0]).status == 200  # an already drawn chart costs nothing: still served
    assert len(drawings) == 2


def test_the_png_cache_is_bounded_in_entries_bytes_and_time():
    now = [0.0]
    cache = PngCache(max_entries=3, max_bytes=100, ttl=900, clock=lambda: now[0])
    for key in "abc":
        cache.put(key, b"x" * 10)
    assert cache.get("a") == b"x" * 10  # a is now the most recently used
    cache.put("d", b"y" * 10)
    assert len(cache) == 3 and cache.get("b") is None and cache.get("a") is not None
    cache.put("big", b"z" * 90)  # over the byte budget with the others: the least recently used go (c, then d)
    assert len(cache) == 2 and cache.get("big") is not None and cache.get("a") is not None
    cache.put("huge", b"z" * 101)  # never cached
    assert cache.get("huge") is None
    now[0] = 900.0
    assert cache.get("big") is None and cache.get("a") is None and len(cache) == 0  # expired: dropped when asked
