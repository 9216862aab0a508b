"""Python's cyclic garbage collector, tuned for a server process (`jobpulse serve`).

Ingest allocates several container objects per event (decoded events, folded runs and their
attempts, driver rows), nearly all freed by reference counting, none part of a cycle. At the
default thresholds (a young collection every 700 allocations, and older generations that take
in every module, class and function the server imported) the collector walked them and the
whole heap over and over: in `benchmarks/tasklog_cpu.py --gc`, decoding, converting and
folding cost 15.4 us per event with the server's modules loaded, 8.2 us with this tuning and
7.7 us with no collector at all. Cycles (an exception and its traceback, some asyncio
objects) are still collected, only in larger steps.

Only the server's entry points call this; tests and the SDK keep Python's defaults.
"""

from __future__ import annotations

import gc

# A young collection every 50,000 net allocations of container objects, a middle one every
# 20 of those, a full one every 100 middle ones (and then only once the objects that survived
# since the last one reach a quarter of the heap, CPython's own rule).
THRESHOLDS = (50_000, 20, 100)


def tune_for_serving() -> None:
    """Move everything allocated so far (imports, settings, the app) out of the collector's
    sight for good (`gc.freeze`), and collect the rest less often. Call once per process,
    when its start-up is done."""
    gc.collect()  # what start-up left behind, before it is frozen for good
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
