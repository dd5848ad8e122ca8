"""One page of filtered rows plus the total count: the shape every list endpoint returns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

Row = TypeVar("Row")


def page_of(
    session: Session,
    model: type[Row],
    *,
    conditions: Sequence[ColumnElement[bool]],
    order_by: Sequence[Any],
    page: int,
    page_size: int,
) -> tuple[Sequence[Row], int]:
    """Rows of ``model`` matching ``conditions`` on 1-based ``page``, and how many match."""
    total = session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0
    rows = session.scalars(
        select(model)
        .where(*conditions)
        .order_by(*order_by)
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return rows, total
