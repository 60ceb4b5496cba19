"""Loading reference data (natural-key fixtures) without overwriting edits."""

from pathlib import Path

from django.conf import settings
from django.core import serializers
from django.db import transaction


def reference_load_missing(*names: str) -> int:
    """Load the objects of the named fixtures in ``fixtures/`` whose natural
    key is not in the database yet. Existing rows are left as the editors
    keep them. Returns the number of objects created."""
    created = 0
    with transaction.atomic():
        for name in names:
            path = Path(settings.BASE_DIR) / "fixtures" / f"{name}.json"
            with path.open(encoding="utf-8") as fh:
                for obj in serializers.deserialize("json", fh, handle_forward_references=True):
                    if obj.object.pk is None:
                        obj.save()
                        created += 1
    return created
