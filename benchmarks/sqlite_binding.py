"""What binding None and booleans costs Python's sqlite3, with and without the adapters
jobpulse registers (store/db.py: bind_none_and_bool_directly).

Rows shaped like a task run's (30 values: 12 NULLs, 2 booleans, numbers and text) go into
an in-memory table with `executemany`, best of 5 passes, in microseconds per row.

    python benchmarks/sqlite_binding.py
"""

from __future__ import annotations

import sqlite3
import time

from jobpulse.store.db import bind_none_and_bool_directly

ROW = (None,) * 12 + (True, False, 1, 2, 3.5, 4.5) + ("app.tasks.job_1",) * 12
ROWS = [ROW] * 200_000


def per_row_us() -> float:
    db = sqlite3.connect(":memory:")
    db.execute(f"CREATE TABLE t ({', '.join(f'c{i}' for i in range(len(ROW)))})")
    insert = f"INSERT INTO t VALUES ({', '.join('?' * len(ROW))})"
    best = float("inf")
    for _ in range(5):
        db.execute("DELETE FROM t")
        started = time.perf_counter()
        db.executemany(insert, ROWS)
        best = min(best, time.perf_counter() - started)
    db.close()
    return best / len(ROWS) * 1e6


def main() -> None:
    without = per_row_us()
    bind_none_and_bool_directly()
    print(f"executemany, 30 values per row: {without:.2f} us/row without the adapters, "
          f"{per_row_us():.2f} with them")  # fmt: skip


if __name__ == "__main__":
    main()
