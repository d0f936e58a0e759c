"""Widening a hyperparameter grid whose winner sits at an edge, shared by the reproductions'
selection (``bench/reproduce.py``) and the defaults' (``bench/defaults.py``).

A numeric axis whose best value is its smallest or largest gets one more value a geometric step
beyond that edge (``edge^2 / inner``, ``inner`` the next value in), at most ``max_widen`` times per
axis; the caller trains the new candidates and asks again until no winner is at a widenable edge.
"""

from __future__ import annotations

from typing import Any


def numeric_axis(values: list[Any], *, floats_only: bool) -> bool:
    """Whether an axis can be widened: two or more numbers (only floats with ``floats_only``)."""
    kinds = (float,) if floats_only else (int, float)
    return len(values) > 1 and all(isinstance(v, kinds) and not isinstance(v, bool) for v in values)


def step_beyond(edge: Any, inner: Any, *, integer: bool) -> Any | None:
    """The next value past ``edge`` away from ``inner`` (None when there is none: a non-positive
    edge, or an ``integer`` axis whose step would not move or would fall below 1)."""
    if edge <= 0:
        return None
    if integer:
        new = round(edge * edge / inner)
        return new if new >= 1 and new != edge else None
    return float(f"{edge * edge / inner:.6g}")


def widen(
    grid: dict[str, list[Any]],
    best: dict[str, Any],
    widened: dict[str, int],
    max_widen: int,
    *,
    integer_axes: frozenset[str] | None,
) -> tuple[list[dict[str, Any]], list[str]]:
    """New candidates one step beyond each edge ``best`` sits on (``grid`` and ``widened`` are
    extended in place), and the axes whose winner stays at an edge that can no longer widen.

    ``integer_axes``: None widens float axes only (an axis written with integers is left as
    given); a set widens every numeric axis, those named in it in integer steps, the others as
    floats (a strength written ``1,100`` widens to 0.01)."""
    candidates: list[dict[str, Any]] = []
    edges: list[str] = []
    for axis, values in grid.items():
        if not numeric_axis(values, floats_only=integer_axes is None):
            continue
        ordered = sorted(values)
        if best[axis] not in (ordered[0], ordered[-1]):
            continue
        low = best[axis] == ordered[0]
        edge, inner = (ordered[0], ordered[1]) if low else (ordered[-1], ordered[-2])
        integer = integer_axes is not None and axis in integer_axes
        new = step_beyond(edge, inner, integer=integer) if widened[axis] < max_widen else None
        if new is None or new in values:
            edges.append(axis)
            continue
        widened[axis] += 1
        values.append(new)
        candidates.append({**best, axis: new})
    return candidates, edges
