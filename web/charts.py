"""PNG charts of a contract's months, drawn with matplotlib (Agg) for the customer space and the chat.

`/charts/consumption.png` stacks peak and off-peak kWh per month; `/charts/surplus.png` shows injected kWh per
month. Each URL is signed for one customer, one contract and one period (`hortense.documents.urls.chart_link`),
and the contract is checked against the database before anything is drawn.

Drawing a PNG costs CPU, so a drawn chart is kept (`png_cache`) under what its link was signed for (the
customer and the resource: kind, contract, period), for a link's lifetime, in a cache bounded in entries and
bytes: reloading a page or opening a new link to the same chart draws nothing. Drawings themselves are limited
per address (RENDERS_PER_MINUTE, through `hortense.security.rate_limit`): past it, a French 429 page.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import date
from typing import Any

from babel.dates import format_date
from babel.numbers import format_decimal
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from hortense.account.customers import load_customer
from hortense.account.offers import access
from hortense.db.session import session_scope
from hortense.documents.urls import CHART_KINDS, MAX_CHART_MONTHS, chart_resource
from hortense.energy import consumption, surplus
from hortense.energy.consumption import ConsumptionHistory
from hortense.energy.periods import Period
from hortense.energy.surplus import SurplusHistory
from hortense.replies.energy import period_label
from hortense.replies.formatting import LOCALE
from hortense.security.rate_limit import RateLimit, client_address
from hortense.security.signing import DEFAULT_TTL
from web.documents import LIMIT_WINDOW_SECONDS, check_link, refusal, too_many

logger = logging.getLogger(__name__)

bp = Blueprint("charts")

PEAK_COLOUR = "#1E7B4A"  # the brand green of the documents
OFFPEAK_COLOUR = "#8CC9A6"
SURPLUS_COLOUR = "#E8A317"  # sunshine
TEXT_COLOUR = "#2B3430"
GRID_COLOUR = "#D5DDD8"
SIZE_INCHES = (7.2, 3.6)
DPI = 100

_MONTH = re.compile(r"(20\d\d)-(0[1-9]|1[0-2])")
# matplotlib keeps some global state (font cache, rc params): one drawing at a time per process.
_draw_lock = threading.Lock()
RENDERS_PER_MINUTE = 20  # drawings (not cached charts) per address


class PngCache:
    """Drawn charts by key, each for `ttl` seconds, at most `max_entries` and `max_bytes` (least recently used
    first out)."""

    def __init__(
        self,
        max_entries: int = 256,
        max_bytes: int = 16 * 1024 * 1024,
        ttl: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_entries, self.max_bytes, self.ttl, self.clock = max_entries, max_bytes, ttl, clock
        self._items: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            if self.clock() - item[0] >= self.ttl:
                self._drop(key)
                return None
            self._items.move_to_end(key)
            return item[1]

    def put(self, key: str, data: bytes) -> None:
        if len(data) > self.max_bytes:
            return
        with self._lock:
            if key in self._items:
                self._drop(key)
            self._items[key] = (self.clock(), data)
            self._bytes += len(data)
            while len(self._items) > self.max_entries or self._bytes > self.max_bytes:
                self._drop(next(iter(self._items)))

    def _drop(self, key: str) -> None:
        _, data = self._items.pop(key)
        self._bytes -= len(data)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._items)


png_cache = PngCache(ttl=DEFAULT_TTL.total_seconds())  # a link's lifetime
render_limiter = RateLimit("chart-renders-address", RENDERS_PER_MINUTE, LIMIT_WINDOW_SECONDS)


def _number(value: float) -> str:
    return format_decimal(round(value), format="#,##0", locale=LOCALE).replace("\u202f", "\u00a0")


def _month_label(month: date, first: bool) -> str:
    name = format_date(month, format="LLL", locale=LOCALE)
    return f"{name}\n{month.year}" if first or month.month == 1 else name


def _figure(title: str):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=SIZE_INCHES, dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    axes.set_title(title, loc="left", fontsize=11, color=TEXT_COLOUR, pad=10)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        axes.spines[side].set_color(GRID_COLOUR)
    axes.tick_params(colors=TEXT_COLOUR, labelsize=9)
    axes.yaxis.grid(True, color=GRID_COLOUR, linewidth=0.6)
    axes.set_axisbelow(True)
    return figure, axes


def _finish(figure, axes, months: list[date], legend: bool = False) -> bytes:
    from matplotlib.ticker import FuncFormatter

    axes.set_ylabel("kWh", color=TEXT_COLOUR, fontsize=9)
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: _number(value)))
    axes.set_xticks(range(len(months)))
    axes.set_xticklabels([_month_label(m, i == 0) for i, m in enumerate(months)], fontsize=8 if len(months) > 12 else 9)
    figure.tight_layout(rect=(0, 0.06, 1, 1) if legend else (0, 0, 1, 1))
    return _png(figure)


def _png(figure) -> bytes:
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI, facecolor="white", metadata={"Software": None})
    return out.getvalue()


def _empty(figure, axes, text: str) -> bytes:
    axes.set_xticks([])
    axes.set_yticks([])
    axes.text(0.5, 0.5, text, ha="center", va="center", transform=axes.transAxes, color=TEXT_COLOUR, fontsize=11)
    figure.tight_layout()
    return _png(figure)


def _bar_chart(
    title: str,
    months: list[date],
    empty: str,
    draw: Callable[[Any], tuple[Any, list[float]]],
    legend: bool = False,
    floor: float = 0.0,
) -> bytes:
    """One chart of monthly bars: a message when there is nothing to draw, each month's total above its bar
    when the months fit, a scale from 0 to a little above the highest total (`floor` at least)."""
    with _draw_lock:
        figure, axes = _figure(title)
        if not months:
            return _empty(figure, axes, empty)
        bars, totals = draw(axes)
        if len(months) <= 12:
            axes.bar_label(bars, labels=[_number(t) for t in totals], padding=2, fontsize=8, color=TEXT_COLOUR)
        axes.set_ylim(0, max(max(totals), floor) * 1.15)
        if legend:
            figure.legend(loc="lower center", fontsize=8, frameon=False, ncol=2)
        return _finish(figure, axes, months, legend=legend)


def render_consumption_png(history: ConsumptionHistory, title: str) -> bytes:
    """Monthly stacked bars: heures pleines below, heures creuses on top, the month's total above each bar."""
    peak = [float(m.peak_kwh) for m in history.months]
    offpeak = [float(m.offpeak_kwh) for m in history.months]

    def draw(axes) -> tuple[Any, list[float]]:
        positions = range(len(peak))
        axes.bar(positions, peak, color=PEAK_COLOUR, width=0.62, label="Heures pleines")
        bars = axes.bar(positions, offpeak, bottom=peak, color=OFFPEAK_COLOUR, width=0.62, label="Heures creuses")
        return bars, [p + o for p, o in zip(peak, offpeak, strict=True)]

    return _bar_chart(
        title, [m.month for m in history.months], "Aucun relevé de consommation sur cette période", draw, legend=True
    )


def render_surplus_png(history: SurplusHistory, title: str) -> bytes:
    """Monthly bars of the surplus injected into the grid."""
    values = [float(m.kwh) for m in history.months]

    def draw(axes) -> tuple[Any, list[float]]:
        return axes.bar(range(len(values)), values, color=SURPLUS_COLOUR, width=0.62, label="Surplus injecté"), values

    return _bar_chart(
        title, [m.month for m in history.months], "Aucun relevé de surplus sur cette période", draw, floor=1.0
    )


def parse_month(value: str | None) -> date | None:
    match = _MONTH.fullmatch(value or "")
    return date(int(match.group(1)), int(match.group(2)), 1) if match else None


def build_chart(kind: str, contract_number: str, period: Period, customer_number: str) -> bytes | None:
    """The PNG if the contract is this customer's and its offer has this chart, else None."""
    with session_scope() as s:
        customer = load_customer(s, customer_number)
        contract = customer.contract_by_number(contract_number) if customer else None
        if (
            customer is None
            or contract is None
            or not access(contract.offer, CHART_KINDS[kind], contract.monthly_payment).allowed
        ):
            return None
        site = f" — {contract.short_name}" if len(customer.contracts) > 1 else ""
        if kind == "consumption":
            used = consumption.consumption_history(s, contract.id, period)
            return render_consumption_png(used, f"Votre consommation {period_label(period)}{site}")
        injected = surplus.surplus_history(s, contract.id, period)
        return render_surplus_png(injected, f"Votre surplus injecté {period_label(period)}{site}")


@bp.get("/charts/<filename>")
async def chart(request: Request, filename: str) -> HTTPResponse:
    pages = request.app.ctx.pages
    kind = filename[:-4] if filename.endswith(".png") else ""
    contract_number = request.args.get("contrat") or ""
    start, end = parse_month(request.args.get("du")), parse_month(request.args.get("au"))
    if (
        kind not in CHART_KINDS
        or not contract_number
        or start is None
        or end is None
        or end < start
        or (end.year - start.year) * 12 + end.month - start.month >= MAX_CHART_MONTHS
    ):
        return pages.message(404, "Graphique introuvable", "Ce graphique n'existe pas.")
    resource = chart_resource(kind, contract_number, start, end)
    check = check_link(request, resource)
    if not check.ok:
        logger.info("chart link refused (%s) for %s %s", check.reason, kind, contract_number)
        return refusal(request, check.reason)
    key = f"{check.verified_customer}|{resource}"  # what the link's signature covers
    png = png_cache.get(key)
    if png is None:
        if not render_limiter.hit(client_address(request)).allowed:
            logger.info("chart %s %s refused: too many drawings from one address", kind, contract_number)
            return too_many(
                request,
                "Vous avez demandé beaucoup de graphiques en peu de temps. Réessayez dans une minute, s'il vous plaît.",
            )
        png = await asyncio.to_thread(
            build_chart, kind, contract_number, Period(start, end, True), check.verified_customer
        )
        if png is None:
            logger.warning(
                "chart %s %s refused: not available to customer %s", kind, contract_number, check.customer_number
            )
            return refusal(request, "not_owned")
        png_cache.put(key, png)
    return response.raw(png, content_type="image/png", headers={"Cache-Control": "private, max-age=900"})
