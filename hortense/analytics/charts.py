"""PNG charts of an analytics report (matplotlib, Agg, like web/charts.py): activity, fallback rate, calls."""

from __future__ import annotations

import io
import threading

from babel.dates import format_date

from hortense.analytics.figures import WEEK, Report
from hortense.replies.formatting import LOCALE

CHARTS = ("activity", "fallback", "calls")
GREEN, LIGHT_GREEN, ORANGE, RED, GREY = "#1E7B4A", "#8CC9A6", "#C96A00", "#B3261E", "#6B7A72"
TEXT_COLOUR, GRID_COLOUR = "#2B3430", "#D5DDD8"
_lock = threading.Lock()  # matplotlib keeps global state: one drawing at a time


def _labels(report: Report) -> list[str]:
    pattern = "'sem.' d MMM" if report.granularity == WEEK else "d MMM"
    return [format_date(p.start, format=pattern, locale=LOCALE) for p in report.periods]


def draw(report: Report, chart: str) -> bytes:
    if chart not in CHARTS:
        raise ValueError(chart)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with _lock:
        figure = Figure(figsize=(7.2, 3.2), dpi=100)
        FigureCanvasAgg(figure)
        axes = figure.add_subplot(1, 1, 1)
        x = list(range(len(report.periods)))
        labels = _labels(report)
        if chart == "activity":
            axes.set_title("Conversations et messages des clients", loc="left", fontsize=11, color=TEXT_COLOUR)
            axes.bar(
                [i - 0.2 for i in x], [p.conversations for p in report.periods], 0.4, color=GREEN, label="Conversations"
            )
            axes.bar(
                [i + 0.2 for i in x], [p.messages for p in report.periods], 0.4, color=LIGHT_GREEN, label="Messages"
            )
        elif chart == "fallback":
            axes.set_title("Taux de repli (messages non compris), %", loc="left", fontsize=11, color=TEXT_COLOUR)
            rates = [100 * p.fallback_rate if p.fallback_rate is not None else float("nan") for p in report.periods]
            axes.plot(x, rates, color=RED, marker="o", markersize=3, label="Taux de repli")
            axes.set_ylim(bottom=0)
        else:
            axes.set_title("Appels", loc="left", fontsize=11, color=TEXT_COLOUR)
            width = 0.2
            for offset, (name, colour, values) in enumerate(
                (
                    ("Réservés", GREEN, [p.calls_booked for p in report.periods]),
                    ("Faits", LIGHT_GREEN, [p.calls_done for p in report.periods]),
                    ("Manqués", ORANGE, [p.calls_missed for p in report.periods]),
                    ("Annulés", GREY, [p.calls_cancelled for p in report.periods]),
                )
            ):
                axes.bar([i + (offset - 1.5) * width for i in x], values, width, color=colour, label=name)
        step = max(1, len(x) // 10)
        axes.set_xticks(x[::step])
        axes.set_xticklabels(labels[::step], fontsize=8)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        axes.tick_params(colors=TEXT_COLOUR, labelsize=8)
        axes.yaxis.grid(True, color=GRID_COLOUR, linewidth=0.6)
        axes.set_axisbelow(True)
        axes.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(0, -0.12), ncol=4)
        figure.tight_layout()
        out = io.BytesIO()
        figure.savefig(out, format="png")
        return out.getvalue()
