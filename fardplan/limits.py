"""The maximum length of every free-text field, in one place.

The limits are generous: the adopted 2021 roadmap (fixtures/roadmap_2021.yaml)
fits with a wide margin (its longest item text is about 300 characters, its
longest data note about 200, the revision summary about 1 500). Each limit is
enforced three times:

* by the form: the ``maxlength`` attribute, a validator with a Swedish message,
  and the help text "Högst N tecken." beside the field;
* by the services, which check the length before saving (field errors);
* by the database: ``CharField.max_length``, and for text fields a check
  constraint ``<table>_<field>_max_length`` on ``Length(field) <= N``.
"""

from django import forms
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.utils.functional import lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext, ngettext

# Roadmap content (roadmap.models).
ITEM_TEXT = 2000  # the text of a national initiative, city action or next step
DATA_NOTE = 2000  # remarks on the source text
CHANGE_REASON = 2000  # why an item was added, changed, moved, re-timed or retired
REVISION_SUMMARY = 10000  # a revision's summary
DECISION_NOTE = 4000  # a note on the decision that approved a revision
EVENT_COMMENT = 4000  # the comment on a lifecycle step: submit, return, approve

# Follow-up (followup.models).
REPORT_COMMENT = 4000  # a status report's comment
PLANNED_NEXT_ACTION = 4000  # a status report's planned next action
REOPEN_REASON = 2000  # why an editor reopened a report

# Text fields written by the system, not typed by users, have no limit:
# ReportJob.error (an exception's message).

models.TextField.register_lookup(Length)
models.CharField.register_lookup(Length)


def _limit_help_text(limit: int) -> str:
    return ngettext("At most %(limit)s character.", "At most %(limit)s characters.", limit) % {
        "limit": limit
    }


# "At most N characters.", translated when it is shown.
limit_help_text = lazy(_limit_help_text, str)


def limited_text(limit: int) -> dict:
    """Keyword arguments for a model TextField limited to ``limit`` characters:
    the form gets maxlength and a validator, full_clean() checks it too."""
    return {"max_length": limit, "validators": [MaxLengthValidator(limit)]}


def max_length_constraint(prefix: str, field: str, limit: int) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{field}__length__lte": limit}),
        name=f"{prefix}_{field}_max_length",
        violation_error_message=limit_help_text(limit),
    )


def with_limit_help_text(field: forms.CharField) -> forms.CharField:
    """Adds "At most N characters." to a form field's help text."""
    limit = field.max_length
    if limit is None or field.widget.is_hidden:
        return field
    note = limit_help_text(limit)
    field.help_text = format_lazy("{} {}", field.help_text, note) if field.help_text else note
    return field


def text_error(value: str, limit: int) -> str | None:
    """Why a service refuses a text: a NUL byte (the database cannot store
    one) or more than ``limit`` characters; None if it is fine."""
    if "\x00" in value:
        return gettext("Null characters are not allowed.")
    if len(value) > limit:
        return gettext("At most %(limit)s characters, please (you wrote %(length)s).") % {
            "limit": limit,
            "length": len(value),
        }
    return None
