"""Writes to the roadmap. Views, the admin and commands call these.

One module per subdomain; every name is importable from ``roadmap.services``
as before the split.
"""

from .common import _bulk_create, _bulk_link, _event, _require, _save
from .content import _TEMPORARY_POSITION_OFFSET, positions_make_room, roadmap_item_save
from .importing import LINEAGE_NAMESPACE, _lineage, roadmap_import, roadmap_import_file
from .revisions import (
    _bulk_copy_m2m,
    _clone,
    _copy_tree,
    _locked_for_update,
    _transition,
    revision_approve,
    revision_return,
    revision_start,
    revision_submit,
)

__all__ = [
    "LINEAGE_NAMESPACE",
    "positions_make_room",
    "revision_approve",
    "revision_return",
    "revision_start",
    "revision_submit",
    "roadmap_import",
    "roadmap_import_file",
    "roadmap_item_save",
    # Private helpers, kept importable from here as before the split.
    "_TEMPORARY_POSITION_OFFSET",
    "_bulk_copy_m2m",
    "_bulk_create",
    "_bulk_link",
    "_clone",
    "_copy_tree",
    "_event",
    "_lineage",
    "_locked_for_update",
    "_require",
    "_save",
    "_transition",
]
