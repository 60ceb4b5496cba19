"""The redline (jämförelse): what changed between two revisions of the roadmap, and why.

Items correspond by their lineage id, never by their text: a step whose text was
rewritten is the same step, and two steps that swapped texts are two changed
steps, not two moves.

An item that is retired counts as absent from its revision, and so does
everything under a retired focus area or need (the reader's page leaves them
out, and ``revision_start`` does not carry them over).

A pure read: two calls of ``revision_tree`` per comparison, so a fixed number of
queries whatever the size of the roadmap.
"""

import difflib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import CityAction, FocusArea, NationalInitiative, Need, NextStep, Revision
from .selectors import revision_tree


class ChangeKind(models.TextChoices):
    """The kinds of change, in the order they are shown."""

    ADDED = "added", _("Added")
    REMOVED = "removed", _("Removed")
    CHANGED = "changed", _("Changed")
    MOVED = "moved", _("Moved")
    RETIMED = "retimed", _("Re-timed")
    RESPONSIBILITY = "responsibility", _("Responsibility changed")


class ItemType(models.TextChoices):
    """The kinds of roadmap item, in the order of the roadmap's columns."""

    FOCUS_AREA = "focus_area", _("Focus area")
    NEED = "need", _("Need")
    NATIONAL_INITIATIVE = "national_initiative", _("National initiative")
    CITY_ACTION = "city_action", _("City action")
    NEXT_STEP = "next_step", _("Next step")


# The columns of a need, in order: (item type, related name on Need).
_NEED_ITEMS: tuple[tuple[ItemType, str], ...] = (
    (ItemType.NATIONAL_INITIATIVE, "national_initiatives"),
    (ItemType.CITY_ACTION, "city_actions"),
    (ItemType.NEXT_STEP, "next_steps"),
)

REDLINE_CSV_COLUMNS = [
    "kind",
    "item_type",
    "focus_area",
    "need",
    "old_text",
    "new_text",
    "details",
    "reason",
    "lineage_id",
]

# Placeholder for an empty side of "old → new", e.g. no responsible organisation.
_NOTHING = "–"


class NoBaseRevisionError(ValueError):
    """The revision is based on no earlier revision, and none was given."""


# --- Result ----------------------------------------------------------------------


@dataclass(frozen=True)
class DiffSegment:
    """A run of words that are the same on both sides, deleted, or inserted."""

    op: Literal["equal", "delete", "insert"]
    text: str


@dataclass(frozen=True)
class Change:
    """One kind of change to one item.

    ``old`` and ``new`` are what the kind is about: the texts (added, removed,
    changed), the titles of the old and new parent (moved), the horizon labels
    (re-timed) or the names of the responsible organisations (responsibility).
    """

    kind: ChangeKind
    old: str = ""
    new: str = ""
    diff: tuple[DiffSegment, ...] = ()

    @property
    def details(self) -> str:
        """A one-line description for the CSV, e.g. "Kort sikt → Lång sikt"."""
        if self.kind == ChangeKind.MOVED:
            return gettext("from: %(old)s to: %(new)s") % {"old": self.old, "new": self.new}
        if self.kind in (ChangeKind.RETIMED, ChangeKind.RESPONSIBILITY):
            return f"{self.old or _NOTHING} → {self.new or _NOTHING}"
        return ""


@dataclass(frozen=True)
class ItemChange:
    """Everything that changed about one item, with the reason given for it.

    ``reason`` is the new row's ``change_reason``; for a removed item it is the
    reason recorded when it (or its focus area or need) was retired, and empty
    when the row was deleted.
    """

    item_type: ItemType
    lineage_id: uuid.UUID
    old_text: str
    new_text: str
    reason: str
    changes: tuple[Change, ...]

    @property
    def kinds(self) -> tuple[ChangeKind, ...]:
        return tuple(change.kind for change in self.changes)

    @property
    def by_kind(self) -> dict[str, Change]:
        """The changes by kind value, e.g. ``item.by_kind.moved`` in a template."""
        return {str(change.kind): change for change in self.changes}

    @property
    def text(self) -> str:
        """The item's text as it reads now, or as it read when it was removed."""
        return self.new_text or self.old_text


@dataclass(frozen=True)
class NeedGroup:
    """The changes under one need, and the need's own change if it has one."""

    lineage_id: uuid.UUID
    title: str
    change: ItemChange | None
    items: tuple[ItemChange, ...]


@dataclass(frozen=True)
class FocusAreaGroup:
    """The changes under one focus area, and its own change if it has one."""

    lineage_id: uuid.UUID
    title: str
    change: ItemChange | None
    needs: tuple[NeedGroup, ...]


@dataclass(frozen=True)
class Redline:
    """The comparison of ``new`` against ``old``, grouped by focus area and need
    in the new revision's order; removed items stand in their old place.

    Only groups that hold a change are included, so two identical revisions
    give no groups at all.
    """

    old: Revision
    new: Revision
    focus_areas: tuple[FocusAreaGroup, ...]

    def changes(self) -> Iterator[tuple[FocusAreaGroup, NeedGroup | None, ItemChange]]:
        """Every item change in page order, with the groups it stands in."""
        for fa_group in self.focus_areas:
            if fa_group.change is not None:
                yield fa_group, None, fa_group.change
            for need_group in fa_group.needs:
                if need_group.change is not None:
                    yield fa_group, need_group, need_group.change
                for item in need_group.items:
                    yield fa_group, need_group, item

    @property
    def is_empty(self) -> bool:
        return not self.focus_areas

    @property
    def summary(self) -> dict[ChangeKind, int]:
        """How many items have each kind of change; every kind, in order."""
        counts = dict.fromkeys(ChangeKind, 0)
        for _fa, _need, item in self.changes():
            for kind in item.kinds:
                counts[kind] += 1
        return counts

    def rows(self) -> list[dict[str, str]]:
        """One flat row per item and kind of change, keyed by ``REDLINE_CSV_COLUMNS``."""
        rows = []
        for fa_group, need_group, item in self.changes():
            for change in item.changes:
                rows.append(
                    {
                        "kind": str(change.kind),
                        "item_type": str(item.item_type),
                        "focus_area": fa_group.title,
                        "need": need_group.title if need_group is not None else "",
                        "old_text": item.old_text,
                        "new_text": item.new_text,
                        "details": change.details,
                        "reason": item.reason,
                        "lineage_id": str(item.lineage_id),
                    }
                )
        return rows


# --- Word diff -------------------------------------------------------------------


def word_diff(old: str, new: str) -> tuple[DiffSegment, ...]:
    """The words of ``old`` and ``new`` as runs of equal, deleted and inserted
    words (split on whitespace; a replacement is a deletion, then an insertion)."""
    a, b = old.split(), new.split()
    segments: list[DiffSegment] = []

    def append(op: Literal["equal", "delete", "insert"], words: list[str]) -> None:
        if not words:
            return
        if segments and segments[-1].op == op:
            words = [segments.pop().text, *words]
        segments.append(DiffSegment(op=op, text=" ".join(words)))

    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            append("equal", a[i1:i2])
        if tag in ("delete", "replace"):
            append("delete", a[i1:i2])
        if tag in ("insert", "replace"):
            append("insert", b[j1:j2])
    return tuple(segments)


# --- Comparison ------------------------------------------------------------------

_Key = tuple[ItemType, uuid.UUID]
_Row = FocusArea | Need | NationalInitiative | CityAction | NextStep


@dataclass
class _Node:
    key: _Key
    row: _Row
    parent: "_Node | None"
    present: bool
    # Why the row is absent: the change_reason of the retired row (itself or an ancestor).
    absence_reason: str

    @property
    def text(self) -> str:
        return self.row.text if hasattr(self.row, "text") else self.row.title

    @property
    def title(self) -> str:
        return str(self.row)


class _Index:
    """One revision's tree, flattened: nodes by key, children by parent key."""

    def __init__(self, revision: Revision) -> None:
        self.nodes: dict[_Key, _Node] = {}
        self.children: dict[_Key | None, dict[ItemType, list[_Key]]] = {}
        for fa in revision_tree(revision=revision, include_retired=True):
            fa_node = self._add(ItemType.FOCUS_AREA, fa, parent=None)
            for need in fa.needs.all():
                need_node = self._add(ItemType.NEED, need, parent=fa_node)
                for item_type, related_name in _NEED_ITEMS:
                    for item in getattr(need, related_name).all():
                        self._add(item_type, item, parent=need_node)

    def _add(self, item_type: ItemType, row: _Row, *, parent: _Node | None) -> _Node:
        parent_present = parent is None or parent.present
        if row.retired:
            absence_reason = row.change_reason
        elif not parent_present:
            absence_reason = parent.absence_reason if parent is not None else ""
        else:
            absence_reason = ""
        node = _Node(
            key=(item_type, row.lineage_id),
            row=row,
            parent=parent,
            present=parent_present and not row.retired,
            absence_reason=absence_reason,
        )
        self.nodes[node.key] = node
        parent_key = parent.key if parent is not None else None
        self.children.setdefault(parent_key, {}).setdefault(item_type, []).append(node.key)
        return node

    def present(self, key: _Key) -> _Node | None:
        node = self.nodes.get(key)
        return node if node is not None and node.present else None

    def present_children(self, parent: _Key | None, item_type: ItemType) -> list[_Key]:
        keys = self.children.get(parent, {}).get(item_type, [])
        return [key for key in keys if self.nodes[key].present]


def _normalised(text: str) -> str:
    return " ".join(text.split())


def _responsibility(row: CityAction | NextStep) -> tuple[frozenset[int], bool]:
    return frozenset(org.pk for org in row.responsible_organisations.all()), row.all_districts


def _timing(row: NextStep) -> tuple[frozenset[int], str]:
    return frozenset(h.pk for h in row.horizons.all()), row.horizon_note.strip()


def _compare_nodes(old: _Node | None, new: _Node | None, *, after: _Index) -> ItemChange | None:
    """The change from ``old`` to ``new`` (either may be None: absent)."""
    if old is None and new is None:
        return None
    if old is None:
        assert new is not None
        item_type, lineage_id = new.key
        return ItemChange(
            item_type=item_type,
            lineage_id=lineage_id,
            old_text="",
            new_text=new.text,
            reason=new.row.change_reason,
            changes=(Change(kind=ChangeKind.ADDED, new=new.text),),
        )
    item_type, lineage_id = old.key
    if new is None:
        retired = after.nodes.get(old.key)
        return ItemChange(
            item_type=item_type,
            lineage_id=lineage_id,
            old_text=old.text,
            new_text="",
            reason=retired.absence_reason if retired is not None else "",
            changes=(Change(kind=ChangeKind.REMOVED, old=old.text),),
        )

    changes = []
    if _normalised(old.text) != _normalised(new.text):
        changes.append(
            Change(
                kind=ChangeKind.CHANGED,
                old=old.text,
                new=new.text,
                diff=word_diff(old.text, new.text),
            )
        )
    if old.parent is not None and new.parent is not None and old.parent.key != new.parent.key:
        changes.append(Change(kind=ChangeKind.MOVED, old=old.parent.title, new=new.parent.title))
    if item_type == ItemType.NEXT_STEP and _timing(old.row) != _timing(new.row):
        changes.append(
            Change(
                kind=ChangeKind.RETIMED,
                old=old.row.horizon_label(),
                new=new.row.horizon_label(),
            )
        )
    if item_type in (ItemType.CITY_ACTION, ItemType.NEXT_STEP) and _responsibility(
        old.row
    ) != _responsibility(new.row):
        changes.append(
            Change(
                kind=ChangeKind.RESPONSIBILITY,
                old=", ".join(old.row.responsible_names()),
                new=", ".join(new.row.responsible_names()),
            )
        )
    if not changes:
        return None
    return ItemChange(
        item_type=item_type,
        lineage_id=lineage_id,
        old_text=old.text,
        new_text=new.text,
        reason=new.row.change_reason,
        changes=tuple(changes),
    )


def _merge(new_keys: list[_Key], old_keys: list[_Key], removed: set[_Key]) -> list[_Key]:
    """``new_keys`` in their order, with the ``removed`` ones of ``old_keys`` put
    back in their old place: after the nearest earlier old sibling that is in
    the list, first if they were first, else at the end."""
    merged = list(new_keys)
    for i, key in enumerate(old_keys):
        if key not in removed:
            continue
        placed = set(merged)
        anchor = next((k for k in reversed(old_keys[:i]) if k in placed), None)
        if anchor is not None:
            merged.insert(merged.index(anchor) + 1, key)
        elif i == 0:
            merged.insert(0, key)
        else:
            merged.append(key)
    return merged


def _ordered(parent: _Key | None, item_type: ItemType, before: _Index, after: _Index) -> list[_Key]:
    """The keys of a group's children of one type: the new ones in the new
    order, the removed ones in their old place."""
    new_keys = after.present_children(parent, item_type)
    old_keys = before.present_children(parent, item_type)
    removed = {key for key in old_keys if after.present(key) is None}
    return _merge(new_keys, old_keys, removed)


def revision_compare(*, old: Revision | None = None, new: Revision) -> Redline:
    """Compare ``new`` against ``old`` (by default the revision ``new`` is based
    on; ``NoBaseRevisionError`` if there is none)."""
    if old is None:
        old = new.based_on
        if old is None:
            raise NoBaseRevisionError(f"{new} is not based on an earlier revision.")
    before, after = _Index(old), _Index(new)

    def change(key: _Key) -> ItemChange | None:
        return _compare_nodes(before.present(key), after.present(key), after=after)

    def title(key: _Key) -> str:
        node = after.present(key) or before.nodes[key]
        return node.title

    focus_areas = []
    for fa_key in _ordered(None, ItemType.FOCUS_AREA, before, after):
        needs = []
        for need_key in _ordered(fa_key, ItemType.NEED, before, after):
            items = [
                item_change
                for item_type, _related_name in _NEED_ITEMS
                for key in _ordered(need_key, item_type, before, after)
                if (item_change := change(key)) is not None
            ]
            need_change = change(need_key)
            if need_change is not None or items:
                needs.append(
                    NeedGroup(
                        lineage_id=need_key[1],
                        title=title(need_key),
                        change=need_change,
                        items=tuple(items),
                    )
                )
        fa_change = change(fa_key)
        if fa_change is not None or needs:
            focus_areas.append(
                FocusAreaGroup(
                    lineage_id=fa_key[1],
                    title=title(fa_key),
                    change=fa_change,
                    needs=tuple(needs),
                )
            )
    return Redline(old=old, new=new, focus_areas=tuple(focus_areas))
