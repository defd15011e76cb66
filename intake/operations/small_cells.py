"""Which cells of a published table to hide, so that no count from 1 to ``threshold - 1``
can be read or worked out by subtraction from the figures shown (exact arithmetic over the
published sums: intake/operations/stats.py lists which cells make up which sum)."""

from __future__ import annotations

from fractions import Fraction


def _determined(hidden: list[int], total: int, threshold: int) -> bool:
    """Could a reader pin down a hidden cell, knowing their sum and that each hidden cell
    is either small (1..threshold-1) or withheld (threshold or more)?"""
    if len(hidden) == 1:
        return True
    small = sum(1 for value in hidden if value < threshold)
    large = len(hidden) - small
    if total == small + threshold * large:  # every hidden cell at its least
        return True
    return large == 0 and total == small * (threshold - 1)  # every one at its most


def _reduce(vector: list[Fraction], basis: list[tuple[int, list[Fraction]]]) -> list[Fraction]:
    for pivot, row in basis:
        if vector[pivot] != 0:
            factor = vector[pivot]
            vector = [value - factor * other for value, other in zip(vector, row, strict=True)]
    return vector


def _row_basis(rows: list[list[Fraction]]) -> list[tuple[int, list[Fraction]]]:
    """A reduced basis of the rows' span: (pivot column, row with 1 at its pivot)."""
    basis: list[tuple[int, list[Fraction]]] = []
    for row in rows:
        reduced = _reduce(row, basis)
        pivot = next((index for index, value in enumerate(reduced) if value != 0), None)
        if pivot is None:
            continue
        reduced = [value / reduced[pivot] for value in reduced]
        basis = [(p, [v - r[pivot] * w for v, w in zip(r, reduced, strict=True)]) for p, r in basis]
        basis.append((pivot, reduced))
    return basis


def _solvable(hidden: set[str], equations: list[dict[str, int]]) -> list[str]:
    """Hidden cells whose value follows from the published ones by adding and subtracting
    (a unit vector in the span of the equations restricted to hidden cells)."""
    names = sorted(hidden)
    column = {name: index for index, name in enumerate(names)}
    rows = []
    for equation in equations:
        row = [Fraction(0)] * len(names)
        for name, coefficient in equation.items():
            if name in column:
                row[column[name]] += coefficient
        if any(row):
            rows.append(row)
    basis = _row_basis(rows)
    solvable = []
    for name in names:
        unit = [Fraction(0)] * len(names)
        unit[column[name]] = Fraction(1)
        if not any(_reduce(unit, basis)):
            solvable.append(name)
    return solvable


def suppress(
    cells: dict[str, int], partitions: list[tuple[str, list[str]]], threshold: int
) -> set[str]:
    """The names of the cells to hide.

    1. Primary: a count from 1 to threshold - 1 is hidden ("fewer than N").
    2. Complementary: every published sum is an equation a reader can use (a total
       equals its parts). While any hidden cell can be worked out from the shown
       figures by adding and subtracting across all those equations together, or
       one sum's hidden parts are pinned by their bounds (each small one is 1 to
       N-1, each withheld one N or more, and their sum is known), the smallest shown
       non-zero figure of an equation that involves it is hidden too ("withheld").
    """
    hidden = {name for name, value in cells.items() if 0 < value < threshold}
    equations = [{total: 1, **{part: -1 for part in parts}} for total, parts in partitions]
    while True:
        exposed = set(_solvable(hidden, equations))
        for total, parts in partitions:
            in_hiding = [cells[name] for name in parts if name in hidden]
            if total not in hidden and in_hiding:
                shown_sum = sum(cells[name] for name in parts if name not in hidden)
                if _determined(in_hiding, cells[total] - shown_sum, threshold):
                    exposed.update(name for name in parts if name in hidden)
        if not exposed:
            return hidden
        candidates = sorted(
            (cells[name], name)
            for equation in equations
            if exposed & equation.keys()
            for name in equation
            if name not in hidden and cells[name] > 0
        )
        if not candidates:  # cannot happen: a cell is only exposed through a shown figure
            raise AssertionError("suppression found no figure to withhold")
        hidden.add(candidates[0][1])
