"""The counts in the navigation: what waits for the user.

Only for logged-in users with the roles the counts concern, and a fixed number
of queries whatever the amount of data: one count per role (the permission
checks use the permission cache the navigation loads anyway).
"""

from django.http import HttpRequest

from followup.models import ReportingPeriod, StatusReport
from roadmap.models import Revision

from .home import is_approver, is_reporter, shows_overview


def navigation_counts(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    counts: dict = {}
    if is_approver(user):
        # What waits for the approver: the revisions in review.
        counts["waiting_for_review"] = Revision.objects.filter(
            status=Revision.Status.IN_REVIEW
        ).count()
    if is_reporter(user):
        # The reporter's unsubmitted reports in open periods, in their
        # organisations. One query.
        counts["left_to_report"] = (
            StatusReport.objects.filter(
                period__state=ReportingPeriod.State.OPEN,
                organisation__members=user,
            )
            .exclude(state=StatusReport.State.SUBMITTED)
            .count()
        )
    return {"nav_counts": counts, "nav_overview": shows_overview(user)}
