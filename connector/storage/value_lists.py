"""A column matched against a list of values that is bound as one parameter: :class:`OneOf`.

``column IN (...)`` with an expanding parameter renders one placeholder per value at every
execution. On PostgreSQL each length of the list is then a new statement text, which psycopg
neither caches nor prepares, and SQLAlchemy renders the list again each time: the worker's
statements (a batch of 32 to 128 delivery ids, several times per exchange) paid for it in CPU on
both sides. There the list is bound as one array, ``deliveries.id = ANY(%(ids)s::VARCHAR(64)[])``: one
statement text, which psycopg prepares once it has run a few times. SQLite has no arrays and no
prepared statements across calls to share, so it keeps ``IN``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import Boolean, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal


class OneOf(ColumnElement[bool]):
    """``column IN :name`` for a list bound at execution under *name*, written for the dialect."""

    inherit_cache = True
    type = Boolean()
    _traverse_internals: ClassVar[list[tuple[str, InternalTraversal]]] = [
        ("column", InternalTraversal.dp_clauseelement),
        ("name", InternalTraversal.dp_string),
    ]

    def __init__(self, column: ColumnElement[Any], name: str) -> None:
        self.column = column
        self.name = name

    def self_group(self, against: Any = None) -> ColumnElement[Any]:
        """Itself, as a comparison is: a boolean of another kind would be written ``(...) = 1`` on
        SQLite in a WHERE clause, and SQLite uses no index for that."""
        return self


@compiles(OneOf)
def _expanding_in(element: OneOf, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column.in_(bindparam(element.name, expanding=True)), **kw)


@compiles(OneOf, "postgresql")
def _equals_any(element: OneOf, compiler: SQLCompiler, **kw: Any) -> str:
    array = bindparam(element.name, type_=ARRAY(element.column.type))
    return compiler.process(element.column == any_(array), **kw)
