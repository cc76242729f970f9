"""Survivor-privacy suppression of people counts in roll-ups (DOMAIN.md 'Roll-ups').

Primary suppression: a people count from 1 to the threshold (SUPPRESSION_THRESHOLD, 10) in a cell
smaller than a whole program is shown as "1-10".

Complementary suppression: every additive relation that is published together (a breakdown and
its total within a row; the rows of a table and their total; the communities of a state and the
state's row; the reports of the Detail sheet and their community's or program's cell) must have
either no hidden cell or at least two. When a relation has exactly one, the smallest visible
positive component is hidden too ("Suppressed"; whole-program figures only when no other is
left), or the relation's total when no component is left. Zeros are never picked: a hidden zero
next to a small total would give the value away. The pass repeats until no relation has a single
hidden cell, so hiding a cell in one table is carried into every relation the cell belongs to
(state rows against community rows, for example).

What this guarantees: for one choice of filters, no published relation lets a hidden value be
computed exactly by subtraction, across every publication of that choice: the dashboard, the API
and the workbook register the same cells and relations, the Detail sheet's report rows included
(`reporting.rollup.build_rollup`), so they hide the same figures. What it does not: combining
different filter choices (for example a fiscal year against its two halves), or solving several
overlapping relations together when every hidden value sits at an extreme of its range.
"""
from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Hashable, Iterable

PRIMARY = "primary"
COMPLEMENTARY = "complementary"
SUPPRESSED_LABEL = "Suppressed"


def range_label(threshold: int) -> str:
    return f"1-{threshold}"


class Suppressor:
    """Collects the people-count cells of a publication and its additive relations, then marks
    which cells are hidden (`run`). Keys are any hashable names of cells."""

    def __init__(self, threshold: int) -> None:
        self.threshold = threshold
        self.values: dict[Hashable, float] = {}
        self.exempt: set[Hashable] = set()
        self.relations: list[tuple[Hashable, tuple[Hashable, ...]]] = []
        self.marks: dict[Hashable, str] = {}
        self.labels = {PRIMARY: range_label(threshold), COMPLEMENTARY: SUPPRESSED_LABEL}  # mark -> as published

    def cell(self, key: Hashable, value, *, exempt: bool = False) -> None:
        """A published people count; exempt cells (whole programs) are never primary-suppressed."""
        if value is None:
            return
        self.values[key] = value
        if exempt:
            self.exempt.add(key)

    def relate(self, total: Hashable, components: Iterable[Hashable]) -> None:
        """total = sum(components), as a reader could check from what is published.

        Cells must be registered first. A relation that already holds two primary cells can never
        be left with a single hidden one (cells are only ever added to the hidden set), so it is
        not kept: on the Detail sheet that is most of them.
        """
        values, exempt, threshold = self.values, self.exempt, self.threshold
        value = values.get(total)
        primaries = int(value is not None and 1 <= value <= threshold and total not in exempt)
        kept = []
        for key in components:  # a generator is only read as far as needed to drop the relation
            value = values.get(key)
            if value is not None and 1 <= value <= threshold and key not in exempt:
                primaries += 1
                if primaries == 2:
                    return
            kept.append(key)
        self.relations.append((total, tuple(kept)))

    def run(self) -> dict[Hashable, str]:
        """Mark primary cells, then complete every relation left with a single hidden cell."""
        values, marks = self.values, self.marks
        index: dict[Hashable, list[int]] = defaultdict(list)
        for i, (total, components) in enumerate(self.relations):
            for key in (total, *components):
                if key in values:
                    index[key].append(i)
        hidden = [0] * len(self.relations)
        queue: deque[int] = deque()

        def hidden_in_relations(key: Hashable) -> None:
            for i in index.get(key, ()):
                hidden[i] += 1
                if hidden[i] == 1:
                    queue.append(i)

        def hide(key: Hashable, kind: str) -> None:
            marks[key] = kind
            hidden_in_relations(key)

        # primary cells in one pass (on the Detail sheet most report counts are), then what they hide
        primaries = [key for key, value in values.items() if 1 <= value <= self.threshold and key not in self.exempt]
        marks.update(dict.fromkeys(primaries, PRIMARY))
        for key in primaries:
            if key in index:  # most report counts are in no relation
                hidden_in_relations(key)
        while queue:
            i = queue.popleft()
            if hidden[i] != 1:
                continue
            total, components = self.relations[i]
            candidates = [c for c in components if c in values and c not in marks and values[c] > 0]
            if candidates:  # the smallest, sparing whole-program figures: hiding one spreads to programs
                hide(min(candidates, key=lambda c: (c in self.exempt, values[c], repr(c))), COMPLEMENTARY)
            elif total in values and total not in marks:
                hide(total, COMPLEMENTARY)
        return marks

    def mark(self, key: Hashable) -> str | None:
        return self.marks.get(key)

    def shown(self, key: Hashable, value):
        """The value as published: the number, "1-10" or "Suppressed"."""
        mark = self.marks.get(key)
        return value if mark is None else self.labels[mark]


def note(threshold: int) -> str:
    """The plain-language explanation printed with every suppressed table."""
    return (
        f"To protect survivors' privacy, counts of people from 1 to {threshold} are shown as "
        f"\"{range_label(threshold)}\" wherever the figure covers less than a whole program. "
        f"Where one hidden count could otherwise be worked out from a total, another figure is "
        f"hidden as well and shown as \"{SUPPRESSED_LABEL}\"."
    )
