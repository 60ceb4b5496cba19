"""Loading reference data (natural-key fixtures) without overwriting edits."""

import json
from collections import defaultdict
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import transaction


def reference_load_missing(*names: str) -> int:
    """Load the objects of the named fixtures in ``fixtures/`` whose natural
    key is not in the database yet. Existing rows are left as the editors
    keep them. Returns the number of objects created.

    Two queries per model, whatever the number of objects: the natural keys
    already there, and one insert of the missing rows. The reference fixtures
    hold plain fields (no relations), which is what this reads."""
    entries: dict[str, list[dict]] = defaultdict(list)
    for name in names:
        path = Path(settings.BASE_DIR) / "fixtures" / f"{name}.json"
        for entry in json.loads(path.read_text(encoding="utf-8")):
            entries[entry["model"]].append(entry["fields"])
    created = 0
    with transaction.atomic():
        for label, rows in entries.items():
            model = apps.get_model(label)
            relations = [f.name for f in model._meta.get_fields() if f.is_relation]
            if any(field in relations for row in rows for field in row):
                raise ValueError(f"{label}: reference fixtures hold plain fields only")
            existing = {obj.natural_key() for obj in model._default_manager.all()}
            missing = []
            for row in rows:
                obj = model(**row)
                if obj.natural_key() not in existing:
                    existing.add(obj.natural_key())
                    missing.append(obj)
            model._default_manager.bulk_create(missing)
            created += len(missing)
    return created
