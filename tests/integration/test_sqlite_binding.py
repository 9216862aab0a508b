"""SQLite parameters: None and booleans bind through registered adapters (store/db.py), and
SQLite stores exactly what it stored without them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from jobpulse.store.db import make_engine


def test_none_and_booleans_are_stored_as_null_and_integers(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'binding.db'}")
    for kind in (type(None), bool):  # found at the registry's first lookup
        assert (kind, sqlite3.PrepareProtocol) in sqlite3.adapters
    values = [None, True, False, 7, 2.5, "text", b"\x00raw"]
    with engine.begin() as conn:
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cursor.execute("CREATE TABLE t (n INTEGER PRIMARY KEY, v)")
        cursor.executemany("INSERT INTO t (n, v) VALUES (?, ?)", list(enumerate(values)))
        stored = cursor.execute("SELECT typeof(v), v FROM t ORDER BY n").fetchall()
    assert stored == [
        ("null", None),
        ("integer", 1),
        ("integer", 0),
        ("integer", 7),
        ("real", 2.5),
        ("text", "text"),
        ("blob", b"\x00raw"),
    ]
    engine.dispose()
