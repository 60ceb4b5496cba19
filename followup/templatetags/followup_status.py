"""The follow-up on the roadmap page: each action's latest status.

The roadmap knows nothing of the follow-up (``followup`` imports ``roadmap``,
never the reverse), so the roadmap view puts no statuses in its context. Its
template asks the follow-up instead, through these tags:

* ``{% followup_status_colours %}`` in the page's head: the statuses' colours,
  an extra cue beside their names, as a style sheet the CSP allows by nonce;
* ``{% latest_statuses focus_areas as latest %}`` once per page: the latest
  status of every next step and city action of the tree, in a fixed number of
  queries (``latest_status_by_lineage``);
* ``{% action_status latest item %}`` per action: the statuses in words, with a
  link to the action's row in that period's overview.

Only users who read the follow-up (``followup.view_followup``: editors,
approvers, readers) see the statuses, as only they can follow the link; for
everyone else the tags give nothing and cost no query.
"""

import re

from django import template
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from followup.models import Status
from followup.selectors import LatestStatus, latest_status_by_lineage

register = template.Library()

VIEW = "followup.view_followup"

_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")


def _may_see(context) -> bool:
    user = context.get("user")
    return user is not None and user.has_perm(VIEW)


def action_anchor(lineage_id) -> str:
    """The id of an action's row in the period overview (the matrix)."""
    return f"action-{lineage_id}"


@register.simple_tag(takes_context=True)
def followup_status_colours(context) -> SafeString:
    """A style sheet giving each status's symbol its colour as a border. Every
    status is also written out, so the colour only repeats it."""
    if not _may_see(context):
        return SafeString("")
    rules = [
        (s.pk, s.colour)
        for s in Status.objects.only("pk", "colour")
        if _COLOUR.match(s.colour or "")
    ]
    if not rules:
        return SafeString("")
    request = context.get("request")
    return format_html(
        '<style nonce="{}">\n{}</style>',
        getattr(request, "csp_nonce", ""),
        format_html_join("", ".status-swatch--{} {{ border-color: {}; }}\n", rules),
    )


@register.simple_tag(takes_context=True)
def latest_statuses(context, focus_areas) -> dict | None:
    """The latest status of every next step and city action in the tree (as
    ``revision_tree`` gives it: the items are prefetched, so reading them costs
    no query). None for a user who does not read the follow-up."""
    if not _may_see(context):
        return None
    lineage_ids = [
        item.lineage_id
        for focus_area in focus_areas
        for need in focus_area.needs.all()
        for items in (need.next_steps.all(), need.city_actions.all())
        for item in items
    ]
    return latest_status_by_lineage(lineage_ids)


@register.inclusion_tag("followup/includes/_action_status.html")
def action_status(latest: dict | None, item) -> dict:
    """One action's latest status in words, linking to its row in the overview
    of that period. Nothing if the user does not read the follow-up, or if no
    period has been opened yet; "none reported yet" if no report on it was."""
    if not latest:
        return {"shown": False}
    found: LatestStatus | None = latest.get(item.lineage_id)
    url = ""
    if found is not None:
        url = (
            reverse("followup:matrix", args=[found.period.pk])
            + "#"
            + action_anchor(item.lineage_id)
        )
    return {"shown": True, "latest": found, "url": url}
