"""A small SVG bar-chart writer for the benchmark summary (stdlib only, no plotting library).

Panels of horizontal bars stacked in one SVG document. Every bar carries its figure as a text
label, so the chart can be read without a scale; a bar without a figure is drawn as the text
"not measured". A bar may have a target: a dashed mark at the target value and the target
(e.g. "target > 300") after the figure.

    svg = render("Voordeur benchmarks", [Panel("Turns per second", [Bar("Voordeur", 17.9)])])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

NOT_MEASURED = "not measured"

WIDTH = 960
LABEL_WIDTH = 300
BAR_AREA = 360
ROW = 24
BAR_HEIGHT = 16
PANEL_TITLE = 28
PANEL_GAP = 18
MARGIN = 16

BAR = "#154273"
MISSED = "#a4262c"
TARGET = "#1b1b1b"
TEXT = "#1b1b1b"
MUTED = "#595959"
FONT = "font-family: system-ui, sans-serif; font-size: 13px"


def number(value: float) -> str:
    """Figures as people write them: 17.9, 0.695, 1,234."""
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None  # None: drawn as "not measured"
    text: str | None = None  # the figure's label; default: number(value) + the panel's unit
    target: float | None = None
    target_text: str = ""  # e.g. "target > 300"
    met: bool | None = None  # False: the bar is drawn in the "missed" colour


@dataclass(frozen=True)
class Panel:
    title: str
    bars: Sequence[Bar]
    unit: str = ""
    note: str = ""  # a line under the title (e.g. N and conditions)

    def height(self) -> int:
        return PANEL_TITLE + (16 if self.note else 0) + ROW * max(1, len(self.bars)) + PANEL_GAP


def _figure(bar: Bar, unit: str) -> str:
    if bar.value is None:
        text = NOT_MEASURED
    else:
        text = bar.text if bar.text is not None else f"{number(bar.value)}{unit}"
    if bar.target_text:
        text += f"  ({bar.target_text}"
        if bar.value is not None and bar.met is not None:
            text += ": met" if bar.met else ": missed"
        text += ")"
    return text


def panel_svg(panel: Panel, top: int) -> list[str]:
    """The elements of one panel, starting at y = `top`."""
    parts = [
        f'<text x="{MARGIN}" y="{top + 18}" font-weight="bold" font-size="15" '
        f'fill="{TEXT}">{escape(panel.title)}</text>'
    ]
    y = top + PANEL_TITLE
    if panel.note:
        parts.append(
            f'<text x="{MARGIN}" y="{y + 4}" fill="{MUTED}" font-size="12">'
            f"{escape(panel.note)}</text>"
        )
        y += 16
    scale_max = max(
        [b.value for b in panel.bars if b.value is not None]
        + [b.target for b in panel.bars if b.target is not None]
        + [0.0]
    )
    x0 = MARGIN + LABEL_WIDTH
    if not panel.bars:
        parts.append(f'<text x="{x0}" y="{y + 13}" fill="{MUTED}">{NOT_MEASURED}</text>')
        return parts
    for bar in panel.bars:
        parts.append(
            f'<text x="{x0 - 8}" y="{y + 13}" text-anchor="end" fill="{TEXT}">'
            f"{escape(bar.label)}</text>"
        )
        figure = escape(_figure(bar, panel.unit))
        if bar.value is None:
            parts.append(
                f'<text x="{x0}" y="{y + 13}" fill="{MUTED}" font-style="italic">{figure}</text>'
            )
            y += ROW
            continue
        length = BAR_AREA * bar.value / scale_max if scale_max > 0 else 0.0
        colour = MISSED if bar.met is False else BAR
        parts.append(
            f'<rect x="{x0}" y="{y + 1}" width="{max(length, 1.0):.1f}" height="{BAR_HEIGHT}" '
            f'fill="{colour}"><title>{escape(bar.label)}: {figure}</title></rect>'
        )
        end = x0 + length
        if bar.target is not None and scale_max > 0:
            tx = x0 + BAR_AREA * bar.target / scale_max
            parts.append(
                f'<line x1="{tx:.1f}" y1="{y - 2}" x2="{tx:.1f}" y2="{y + BAR_HEIGHT + 4}" '
                f'stroke="{TARGET}" stroke-width="2" stroke-dasharray="3,2"/>'
            )
            end = max(end, tx)
        parts.append(f'<text x="{end + 6:.1f}" y="{y + 13}" fill="{TEXT}">{figure}</text>')
        y += ROW
    return parts


def render(title: str, panels: Sequence[Panel], subtitle: str = "") -> str:
    """One SVG document with `panels` one under the other."""
    top = MARGIN + 24 + (18 if subtitle else 0)
    body: list[str] = []
    for panel in panels:
        body += panel_svg(panel, top)
        top += panel.height()
    height = top + MARGIN
    head = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}" '
        f'style="{FONT}">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
        f'<text x="{MARGIN}" y="{MARGIN + 14}" font-size="18" font-weight="bold" '
        f'fill="{TEXT}">{escape(title)}</text>',
    ]
    if subtitle:
        head.append(
            f'<text x="{MARGIN}" y="{MARGIN + 34}" fill="{MUTED}" font-size="12">'
            f"{escape(subtitle)}</text>"
        )
    return "\n".join([*head, *body, "</svg>", ""])
