"""Checks of raw input (URL parameters, query strings, posted ids) before it
reaches the database."""

from django.core.exceptions import ValidationError
from django.db import connection, models


def is_valid_value(field: models.Field, value: object) -> bool:
    """Whether ``value`` (as it came in a URL or a form) can be compared with
    ``field`` in the database: of the field's type and, for integers, within
    the database's range (a larger number is an OverflowError on SQLite)."""
    try:
        python_value = field.to_python(value)
    except (ValidationError, ValueError, TypeError, OverflowError):
        return False
    if isinstance(python_value, int):
        low, high = connection.ops.integer_field_range(field.get_internal_type())
        if (low is not None and python_value < low) or (high is not None and python_value > high):
            return False
    return True
