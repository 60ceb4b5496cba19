"""Small SVG charts of how statuses are distributed: one stacked bar.

Each status has its colour and, on top of it, a pattern of its own (solid,
stripes, dots, cross-hatching …), so the bar still reads in greyscale and on a
black-and-white printer; each segment is outlined. The report prints the
numbers beside every chart as text, with the status symbols, and the chart's
``<title>`` (its alternative text in the tagged PDF) says the same.

A stacked bar is a few rectangles, so it is written here by hand: a charting
library (matplotlib, pygal) would add a second or more of import time and a
much heavier SVG for WeasyPrint to draw, dozens of times per report.
"""

import re
from itertools import count

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .data import Count

_HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")
_ids = count()

# Pattern overlays, by the status's ``pattern`` index (its place in the list
# of statuses); each is drawn in white over the status colour.
_OVERLAYS = (
    "",  # solid
    '<path d="M0,6 L6,0" stroke="#fff" stroke-width="1.4"/>',  # diagonal stripes
    '<circle cx="3" cy="3" r="1.2" fill="#fff"/>',  # dots
    '<path d="M0,0 L6,6 M0,6 L6,0" stroke="#fff" stroke-width="1"/>',  # cross-hatching
    '<path d="M0,3 L6,3" stroke="#fff" stroke-width="1.4"/>',  # horizontal stripes
    '<path d="M3,0 L3,6" stroke="#fff" stroke-width="1.4"/>',  # vertical stripes
    '<path d="M0,0 L6,6" stroke="#fff" stroke-width="1.4"/>',  # diagonal stripes, other way
    '<rect x="2" y="2" width="2" height="2" fill="#fff"/>',  # squares
)


def _pattern(pattern_id: str, colour: str, index: int, *, missing: bool) -> str:
    if missing:
        # "Not reported": white with grey dashes, unlike any status.
        body = '<rect width="6" height="6" fill="#fff"/><path d="M0,3 L3,3" stroke="#555"/>'
    else:
        fill = colour if _HEX.match(colour or "") else "#777777"
        body = f'<rect width="6" height="6" fill="{fill}"/>{_OVERLAYS[index % len(_OVERLAYS)]}'
    return (
        f'<pattern id="{pattern_id}" width="6" height="6" patternUnits="userSpaceOnUse">'
        f"{body}</pattern>"
    )


def chart_title(distribution: list[Count]) -> str:
    """The chart in words, e.g. "Pågår enligt plan: 7, Försenad: 2"."""
    return ", ".join(f"{c.status.name}: {c.count}" for c in distribution)


def distribution_svg(
    distribution: list[Count], *, width: float = 150, height: float = 10
) -> SafeString:
    """A stacked bar of the counts, as inline SVG with its ``<title>``."""
    total = sum(c.count for c in distribution)
    if not total:
        return mark_safe("")
    chart = next(_ids)
    defs, bars, x = [], [], 0.0
    for c in distribution:
        if not c.count:
            continue
        pattern_id = f"chart{chart}-{c.status.pattern}"
        defs.append(
            _pattern(pattern_id, c.status.colour, c.status.pattern, missing=c.status.is_missing)
        )
        w = width * c.count / total
        bars.append(
            f'<rect x="{x:.2f}" y="0.5" width="{w:.2f}" height="{height - 1:.2f}" '
            f'fill="url(#{pattern_id})" stroke="#000" stroke-width="0.6"/>'
        )
        x += w
    return mark_safe(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}pt" '
        f'height="{height}pt" viewBox="0 0 {width} {height}">'
        f"<title>{escape(chart_title(distribution))}</title>"
        f"<defs>{''.join(defs)}</defs>{''.join(bars)}</svg>"
    )
