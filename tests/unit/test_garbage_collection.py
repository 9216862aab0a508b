"""The collector settings `jobpulse serve` runs with (in a process of their own: they would
change this test session's collector too)."""

from __future__ import annotations

import json
import subprocess
import sys

from jobpulse.garbage_collection import THRESHOLDS

_PROBE = """
import gc, json
from jobpulse.garbage_collection import tune_for_serving
before = gc.get_threshold()
tune_for_serving()
cycle = []
cycle.append(cycle)  # garbage only the collector can free
del cycle
print(json.dumps({"before": before, "after": gc.get_threshold(),
                  "frozen": gc.get_freeze_count(), "collected": gc.collect()}))
"""


def test_serving_freezes_start_up_objects_and_collects_less_often_but_still_collects() -> None:
    found = json.loads(
        subprocess.run(
            [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True
        ).stdout
    )
    assert found["before"] == [700, 10, 10]  # Python's defaults, left alone on import
    assert found["after"] == list(THRESHOLDS) and THRESHOLDS[0] > 700
    assert found["frozen"] > 1000  # the modules, classes and functions loaded so far
    assert found["collected"] >= 1  # cycles made after start-up are still found
