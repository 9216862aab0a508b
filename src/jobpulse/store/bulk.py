"""Bulk inserts and updates straight to the driver: the ingest hot paths skip SQLAlchemy's
per-row parameter processing (its largest cost there), converting values once here instead."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Connection, Table

from jobpulse.store.tables import Timestamp

try:  # several times faster than json when installed; optional
    import orjson
except ImportError:  # pragma: no cover
    orjson = None  # type: ignore[assignment]

Converter = Callable[[Any], Any]


def to_epoch(value: datetime | None) -> float | None:
    """A Timestamp column's value as the drivers take it (epoch seconds); None stays NULL."""
    return value.timestamp() if value is not None else None


def to_json(value: Any) -> str | None:
    """A JSON column's value as the drivers take it (text); None stays NULL."""
    if value is None:
        return None
    if orjson is not None:
        try:
            return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
        except TypeError:  # integers beyond 64 bits, lone surrogates: json copes
            pass
    return json.dumps(value, separators=(",", ":"), default=str)


def _same(value: Any) -> Any:
    return value


def _converter(table: Table, column: str) -> Converter:
    kind = table.c[column].type
    if isinstance(kind, Timestamp):
        return to_epoch
    if isinstance(kind, JSON):
        return to_json
    return _same


class RowConverter:
    """Picks columns out of a dict row, in order, and converts what the driver can't take."""

    def __init__(self, table: Table, columns: Sequence[str]) -> None:
        self.columns = tuple(columns)
        self._pick = itemgetter(*self.columns)
        # Only timestamps and JSON need converting; other values go to the driver as they are.
        self._conversions = [
            (index, convert)
            for index, convert in enumerate(_converter(table, c) for c in self.columns)
            if convert is not _same
        ]

    def __call__(self, row: dict[str, Any]) -> tuple[Any, ...]:
        picked = self._pick(row)
        values = list(picked) if len(self.columns) > 1 else [picked]
        for index, convert in self._conversions:
            values[index] = convert(values[index])
        return tuple(values)


def _marks(conn: Connection, count: int) -> list[str]:
    return ["%s" if conn.dialect.name == "postgresql" else "?"] * count


class BulkUpdate:
    """UPDATE of many rows, each found by `key_columns`; `adding` columns are increments."""

    def __init__(
        self,
        table: Table,
        key_columns: Sequence[str],
        set_columns: Sequence[str],
        adding: Sequence[str] = (),
    ) -> None:
        self._convert = RowConverter(table, (*set_columns, *adding, *key_columns))
        self._table = table.name
        self._sets = [f"{c} = {{}}" for c in set_columns]
        self._sets += [f"{c} = {c} + {{}}" for c in adding]
        self._keys = [f"{c} = {{}}" for c in key_columns]

    def __call__(self, conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self.tuples(conn, [self._convert(row) for row in rows])

    def tuples(self, conn: Connection, values: Sequence[tuple[Any, ...]]) -> None:
        """Rows as tuples of the set columns, the added ones, then the key columns, with
        values the driver takes as they are (as BulkInsert.tuples)."""
        if not values:
            return
        marks = iter(_marks(conn, len(self._sets) + len(self._keys)))
        sets = ", ".join(part.format(next(marks)) for part in self._sets)
        keys = " AND ".join(part.format(next(marks)) for part in self._keys)
        sql = f"UPDATE {self._table} SET {sets} WHERE {keys}"
        conn.exec_driver_sql(sql, values)


class BulkInsert:
    """INSERT of many rows into some columns of a table.

    With `conflict_columns`, a row whose key exists is ignored, or, for the columns named in
    `adding`, added to the existing row (counters).
    """

    def __init__(
        self,
        table: Table,
        columns: Sequence[str],
        conflict_columns: Sequence[str] = (),
        adding: Sequence[str] = (),
    ) -> None:
        self.columns = tuple(columns)
        self._convert = RowConverter(table, self.columns)
        self._table = table.name
        self._names = ", ".join(self.columns)
        self._conflict_names = ", ".join(conflict_columns)
        self._oids: list[int] | None = None  # PostgreSQL: see _wire_types
        self._conflict = ""
        if conflict_columns:
            sums = ", ".join(f"{c} = {table.name}.{c} + excluded.{c}" for c in adding)
            action = f"DO UPDATE SET {sums}" if adding else "DO NOTHING"
            self._conflict = f" ON CONFLICT ({', '.join(conflict_columns)}) {action}"

    def __call__(self, conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self.tuples(conn, [self._convert(row) for row in rows])

    def tuples(self, conn: Connection, values: Sequence[tuple[Any, ...]]) -> None:
        """Rows given as tuples in `columns` order, with values the driver takes as they are
        (no timestamps or JSON): the hot paths that build rows themselves skip the dicts."""
        if not values:
            return
        if conn.dialect.name == "postgresql":
            self._copy(conn, values)
            return
        # SQLite runs one prepared statement per row in C: executemany is its fast path.
        marks = ", ".join(_marks(conn, len(self.columns)))
        sql = f"INSERT INTO {self._table} ({self._names}) VALUES ({marks}){self._conflict}"
        conn.exec_driver_sql(sql, values)

    def _copy(self, conn: Connection, values: Sequence[tuple[Any, ...]]) -> None:
        """PostgreSQL: COPY, straight into the table, or through a temporary stage table
        when conflicts must be resolved (key order, so concurrent nodes never deadlock)."""
        if not self._conflict:
            self._copy_into(conn, self._table, values)
            return
        stage = f"jobpulse_stage_{self._table}"
        conn.exec_driver_sql(
            f"CREATE TEMP TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS AS "
            f"SELECT {self._names} FROM {self._table} WITH NO DATA"
        )
        self._copy_into(conn, stage, values)
        conn.exec_driver_sql(
            f"INSERT INTO {self._table} ({self._names}) SELECT {self._names} FROM {stage} "
            f"ORDER BY {self._conflict_names}{self._conflict}"
        )
        conn.exec_driver_sql(f"DELETE FROM {stage}")

    def _copy_into(self, conn: Connection, table: str, values: Sequence[tuple[Any, ...]]) -> None:
        # Binary: a float or an integer goes over as its bytes instead of its decimal text,
        # which the driver had to format and the server to parse again (formatting text
        # rows was half of the writer's time in a task ingest).
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            types = self._wire_types(cursor)
            with cursor.copy(f"COPY {table} ({self._names}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(types)
                for row in values:
                    copy.write_row(row)
        finally:
            cursor.close()

    def _wire_types(self, cursor: Any) -> list[int]:
        """The type oids of the table's columns, as the database has them (once: the schema
        does not change under a running process). Text-like types all go over as text, whose
        binary form is their text's bytes (json's too, which the server still validates)."""
        if self._oids is None:
            found = dict(
                cursor.execute(
                    "SELECT attname, atttypid::int FROM pg_attribute "
                    "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                    (self._table,),
                ).fetchall()
            )
            self._oids = [_AS_TEXT.get(found[column], found[column]) for column in self.columns]
        return self._oids


# json, varchar, char: their binary form is the same bytes as text's.
_TEXT_OID = 25
_AS_TEXT = {114: _TEXT_OID, 1043: _TEXT_OID, 1042: _TEXT_OID}
