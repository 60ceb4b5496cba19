"""Template tags of the PDF reports: a status as symbol and name, a chart of a
distribution, and the same distribution in words."""

import re

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from followup.reports.charts import distribution_svg
from followup.reports.data import Count, StatusKey

register = template.Library()

_HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")


@register.simple_tag
def status(key: StatusKey | None) -> SafeString:
    """The status's symbol and name (never colour alone); the colour is an
    extra cue on the symbol's border. ``None``: not reported."""
    if key is None:
        return mark_safe('<span class="status status--none">–</span>')
    colour = key.colour if _HEX.match(key.colour or "") else "#777777"
    return format_html(
        '<span class="status{}"><span class="symbol" style="border-color: {}">{}</span> {}</span>',
        " status--problem" if key.is_problem else "",
        colour,
        key.symbol,
        key.name,
    )


@register.filter
def chart(distribution: list[Count]) -> SafeString:
    return distribution_svg(distribution)


@register.filter
def counts(distribution: list[Count]) -> SafeString:
    """ "◑ Pågår enligt plan 5 · ! Försenad 2" """
    return format_html_join(
        " · ",
        '<span class="count">{} {}&nbsp;{}</span>',
        ((c.status.symbol, c.status.name, c.count) for c in distribution),
    )


@register.filter
def count_of(distribution: list[Count], key: StatusKey) -> int:
    return next((c.count for c in distribution if c.status == key), 0)


@register.filter
def missing_count(distribution: list[Count]) -> int:
    """How many are not reported (0 when all are)."""
    return next((c.count for c in distribution if c.status.is_missing), 0)
