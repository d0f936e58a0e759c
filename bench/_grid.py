"""Widening a hyperparameter grid whose winner sits at an edge, shared by the reproductions'
selection (``bench/reproduce.py``) and the defaults' (``bench/defaults.py``).

A numeric axis whose best value is its smallest or largest gets one more value a geometric step
beyond that edge (``edge^2 / inner``, ``inner`` the next value in), at most ``max_widen`` times per
axis; the caller trains the new candidates and asks again until no winner is at a widenable edge.
"""

from __future__ import annotations

from typing import Any


def numeric_axis(values: list[Any], *, integers: bool) -> bool:
    """Whether an axis can be widened: two or more numbers (floats; ints too with ``integers``)."""
    kinds = (int, float) if integers else (float,)
    return len(values) > 1 and all(isinstance(v, kinds) and not isinstance(v, bool) for v in values)


def step_beyond(edge: Any, inner: Any) -> Any | None:
    """The next value past ``edge`` away from ``inner`` (None when there is none: a non-positive
    edge, or an integer axis whose step would not move)."""
    if edge <= 0:
        return None
    if isinstance(edge, int) and isinstance(inner, int):
        new = round(edge * edge / inner)
        return new if new >= 1 and new != edge else None
    return float(f"{edge * edge / inner:.6g}")


def widen(
    grid: dict[str, list[Any]],
    best: dict[str, Any],
    widened: dict[str, int],
    max_widen: int,
    *,
    integers: bool,
) -> tuple[list[dict[str, Any]], list[str]]:
    """New candidates one step beyond each edge ``best`` sits on (``grid`` and ``widened`` are
    extended in place), and the axes whose winner stays at an edge that can no longer widen."""
    candidates: list[dict[str, Any]] = []
    edges: list[str] = []
    for axis, values in grid.items():
        if not numeric_axis(values, integers=integers):
            continue
        ordered = sorted(values)
        if best[axis] not in (ordered[0], ordered[-1]):
            continue
        low = best[axis] == ordered[0]
        edge, inner = (ordered[0], ordered[1]) if low else (ordered[-1], ordered[-2])
        new = step_beyond(edge, inner) if widened[axis] < max_widen else None
        if new is None or new in values:
            edges.append(axis)
            continue
        widened[axis] += 1
        values.append(new)
        candidates.append({**best, axis: new})
    return candidates, edges
