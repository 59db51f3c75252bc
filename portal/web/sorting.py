"""Sorting by a request parameter (IN-01): SQL cannot bind a column name, so the name is looked
up in an allowlist; anything else is a 400, never a string in ORDER BY."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import abort, request

DIRECTIONS = ("asc", "desc")


def order_by_request(allowed: Mapping[str, Any], default: str) -> tuple[Any, str, str]:
    """(ORDER BY clause, sort key, direction) from ?sort= and ?order=; 400 for anything else."""
    key = request.args.get("sort", default)
    direction = request.args.get("order", "asc")
    if key not in allowed or direction not in DIRECTIONS:
        abort(400)
    column = allowed[key]
    return (column.desc() if direction == "desc" else column.asc()), key, direction
