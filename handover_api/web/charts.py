"""Small server-rendered SVG charts for the dashboard: no JavaScript, no CDN, CSP-safe.

Each chart is an ``<svg role="img">`` with ``aria-label``, ``<title>`` and ``<desc>`` (the
figures in words); every bar has its own ``<title>`` (a tooltip on hover). Screen readers get
the same figures as a table, which the templates render next to each chart. The SVG scales to
its container (``viewBox``, ``width="100%"``), so it fits a 390 px wide screen.

Colours: bars #154273 on white (contrast 10:1), text #1b1b1b; the meaning never rests on
colour alone (values are written next to the bars or in the table).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from itertools import count

from markupsafe import Markup, escape

BAR = "#154273"
TEXT = "#1b1b1b"
GRID = "#767676"
FONT = "font-family: system-ui, sans-serif"

_ids = count(1)


def _number(value: float) -> str:
    """Dutch notation: 12, 3,5."""
    return f"{value:g}".replace(".", ",")


def _svg(
    *, width: int, height: int, title: str, desc: str, body: list[str], chart_id: str | None
) -> Markup:
    uid = chart_id or f"grafiek-{next(_ids)}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="100%" '
        f'viewBox="0 0 {width} {height}" preserveAspectRatio="xMinYMin meet" '
        f'aria-label="{escape(title)}" aria-labelledby="{uid}-titel {uid}-beschrijving" '
        f'class="grafiek" style="{FONT}; max-width: {width}px">',
        f'<title id="{uid}-titel">{escape(title)}</title>',
        f'<desc id="{uid}-beschrijving">{escape(desc)}</desc>',
        *body,
        "</svg>",
    ]
    return Markup("".join(parts))


def bar_chart(
    items: Sequence[tuple[str, float]],
    *,
    title: str,
    desc: str | None = None,
    chart_id: str | None = None,
    fmt: Callable[[float], str] = _number,
) -> Markup:
    """Horizontal bars, the label above each bar and the value after it (long Dutch names
    stay readable on a phone)."""
    width, row, top = 420, 42, 8
    if not items:
        return _svg(
            width=width,
            height=40,
            title=title,
            desc=desc or "Geen gegevens in deze periode.",
            body=[f'<text x="0" y="24" font-size="14" fill="{TEXT}">Geen gegevens</text>'],
            chart_id=chart_id,
        )
    peak = max(value for _, value in items) or 1
    plot = width - 70
    body: list[str] = []
    for i, (label, value) in enumerate(items):
        y = top + i * row
        bar = max(2.0, plot * value / peak) if value else 0.0
        body.append(
            f'<text x="0" y="{y + 13}" font-size="13" fill="{TEXT}">{escape(label)}</text>'
            f'<rect x="0" y="{y + 18}" width="{bar:.1f}" height="16" fill="{BAR}">'
            f"<title>{escape(label)}: {escape(fmt(value))}</title></rect>"
            f'<text x="{bar + 6:.1f}" y="{y + 31}" font-size="13" fill="{TEXT}">'
            f"{escape(fmt(value))}</text>"
        )
    words = "; ".join(f"{label}: {fmt(value)}" for label, value in items)
    return _svg(
        width=width,
        height=top + len(items) * row + 4,
        title=title,
        desc=desc or words,
        body=body,
        chart_id=chart_id,
    )


def _day_label(day: date) -> str:
    return f"{day.day}-{day.month}"


def daily_chart(
    points: Sequence[tuple[date, float]],
    *,
    title: str,
    desc: str | None = None,
    chart_id: str | None = None,
    fmt: Callable[[float], str] = _number,
) -> Markup:
    """One vertical bar per day with a zero line, the highest value and a few dates."""
    width, height = 600, 220
    left, right, top, bottom = 36, 8, 14, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    if not points:
        return _svg(
            width=width,
            height=40,
            title=title,
            desc=desc or "Geen dagen in deze periode.",
            body=[f'<text x="0" y="24" font-size="14" fill="{TEXT}">Geen gegevens</text>'],
            chart_id=chart_id,
        )
    peak = max(value for _, value in points)
    scale = plot_h / peak if peak else 0
    step = plot_w / len(points)
    bar_w = max(1.0, step * 0.8)
    body = [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" '
        f'stroke="{GRID}" stroke-width="1"/>',
        f'<text x="{left - 6}" y="{top + plot_h + 4}" font-size="12" text-anchor="end" '
        f'fill="{TEXT}">0</text>',
    ]
    if peak:
        body.append(
            f'<line x1="{left}" y1="{top}" x2="{width - right}" y2="{top}" stroke="{GRID}" '
            f'stroke-width="1" stroke-dasharray="3 3"/>'
            f'<text x="{left - 6}" y="{top + 4}" font-size="12" text-anchor="end" '
            f'fill="{TEXT}">{escape(fmt(peak))}</text>'
        )
    for i, (day, value) in enumerate(points):
        x = left + i * step + (step - bar_w) / 2
        h = value * scale
        body.append(
            f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" '
            f'height="{h:.1f}" fill="{BAR}"><title>{escape(_day_label(day))}: '
            f"{escape(fmt(value))}</title></rect>"
        )
    # first, middle and last date under the axis
    marks = sorted({0, len(points) // 2, len(points) - 1})
    for i in marks:
        x = left + i * step + step / 2
        anchor = "start" if i == 0 else "end" if i == len(points) - 1 else "middle"
        if i == 0:
            x = left
        elif i == len(points) - 1:
            x = width - right
        body.append(
            f'<text x="{x:.1f}" y="{height - 8}" font-size="12" text-anchor="{anchor}" '
            f'fill="{TEXT}">{escape(_day_label(points[i][0]))}</text>'
        )
    total = sum(value for _, value in points)
    words = (
        f"{len(points)} dagen van {_day_label(points[0][0])} tot en met "
        f"{_day_label(points[-1][0])}; totaal {fmt(total)}, hoogste dag {fmt(peak)}."
    )
    return _svg(
        width=width, height=height, title=title, desc=desc or words, body=body, chart_id=chart_id
    )
