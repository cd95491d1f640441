"""A list of ids bound as one parameter (``OneOf``): right rows on both databases, and on PostgreSQL
one statement text whatever the list's length, which psycopg then prepares."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import bindparam, select, text
from sqlalchemy.dialects import postgresql, sqlite

from connector.storage import Database, claims
from connector.storage.models import Tenant
from connector.storage.value_lists import OneOf

from .conftest import query_plan

_TENANTS = Tenant.__table__
_BY_ID = select(_TENANTS.c.name).where(OneOf(_TENANTS.c.id, "ids")).order_by(_TENANTS.c.id)


def test_the_worker_statements_bind_one_array_on_postgresql_and_expand_on_sqlite() -> None:
    on_postgresql = str(claims._JOB_ROWS.compile(dialect=postgresql.psycopg.dialect()))
    on_sqlite = str(claims._JOB_ROWS.compile(dialect=sqlite.dialect()))
    assert "deliveries.id = ANY (%(ids)s::VARCHAR(64)[])" in on_postgresql
    assert "POSTCOMPILE" not in on_postgresql and " IN (" not in on_postgresql
    assert "deliveries.id IN (__[POSTCOMPILE_ids])" in on_sqlite


def test_on_sqlite_it_is_the_expanding_in_itself_among_other_conditions() -> None:
    """Not a boolean to compare with 1 (``(... IN (...)) = 1``), for which SQLite uses no index."""
    name_is = _TENANTS.c.name == "x"
    ours = select(_TENANTS.c.id).where(OneOf(_TENANTS.c.id, "ids"), name_is)
    expanding = select(_TENANTS.c.id).where(_TENANTS.c.id.in_(bindparam("ids", expanding=True)), name_is)
    assert str(ours.compile(dialect=sqlite.dialect())) == str(expanding.compile(dialect=sqlite.dialect()))


def test_the_list_is_looked_up_in_the_primary_key(db: Database) -> None:
    plan = query_plan(db, claims._PRESENT.params(ids=["dlv_a", "dlv_b"]))
    if db.dialect == "sqlite":
        assert "SEARCH deliveries USING COVERING INDEX sqlite_autoindex_deliveries_1 (id=?)" in plan, plan
    else:
        assert "Index Scan on pk_deliveries" in plan or "using pk_deliveries on deliveries" in plan, plan
        assert re.search(r"Index Cond: \(\(?id\)?(::text)? = ANY \(", plan), plan


def test_rows_are_those_of_the_list_whatever_its_length(db: Database) -> None:
    with db.engine.begin() as connection:
        ids = [
            connection.execute(_TENANTS.insert().values(name=f"t{n}").returning(_TENANTS.c.id)).scalar_one()
            for n in range(6)
        ]
    with db.engine.connect() as connection:
        assert list(connection.scalars(_BY_ID, {"ids": []})) == []
        assert list(connection.scalars(_BY_ID, {"ids": ids[2:3]})) == ["t2"]
        assert list(connection.scalars(_BY_ID, {"ids": [ids[5], ids[0], ids[0], -1]})) == ["t0", "t5"]
        assert list(connection.scalars(_BY_ID, {"ids": ids})) == [f"t{n}" for n in range(6)]


def test_postgresql_prepares_the_statement_across_lengths(db: Database) -> None:
    if db.dialect != "postgresql":
        pytest.skip("SQLite prepares nothing across calls: the expanding IN is what it gets")
    with db.engine.connect() as connection:
        for length in range(1, 9):  # psycopg prepares a statement text it ran 5 times
            connection.execute(_BY_ID, {"ids": list(range(length))}).all()
        prepared = connection.execute(
            text("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE :shape"),
            {"shape": "%tenants.id = ANY%"},
        ).scalar_one()
        expanding = select(_TENANTS.c.name).where(_TENANTS.c.id.in_(bindparam("ids", expanding=True)))
        for length in range(1, 9):  # the same lists as IN: a new text for each length, none prepared
            connection.execute(expanding, {"ids": list(range(length))}).all()
        prepared_in = connection.execute(
            text("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE :shape"),
            {"shape": "%tenants.id IN (%"},
        ).scalar_one()
    assert (prepared, prepared_in) == (1, 0)
