"""Error fingerprints and redaction of what tasks report."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobpulse.domain.errors import fingerprint, normalise_message, signature, top_frame
from jobpulse.domain.redact import REDACTED, Redactor
from jobpulse.tasks_config import TaskLogSettings

TRACEBACK = """Traceback (most recent call last):
  File "/app/worker.py", line 10, in run
    job()
  File "/app/tasks/mail.py", line 42, in send_mail
    raise ConnectionError("host 10.0.0.12 refused")
ConnectionError: host 10.0.0.12 refused
"""


def test_ids_numbers_uuids_and_hex_are_normalised() -> None:
    message = (
        "user 42 not found in 3f2b9c1d-0e5a-4a5b-9c1d-2e3f4a5b6c7d at 0x7f3a9 (hash a1b2c3d4e5)"
    )
    assert normalise_message(message) == "user <n> not found in <uuid> at <hex> (hash <hex>)"


def test_failures_differing_only_in_ids_share_a_fingerprint() -> None:
    assert fingerprint("KeyError: user 1") == fingerprint("KeyError: user 2")
    assert fingerprint("KeyError: user 1") != fingerprint("ValueError: user 1")
    assert fingerprint("KeyError: user 1", TRACEBACK) != fingerprint("KeyError: user 1")
    assert fingerprint(None, None) is None


def test_the_signature_names_type_message_and_top_frame() -> None:
    found = signature(None, TRACEBACK)
    assert found is not None
    assert found.error_type == "ConnectionError"
    assert found.message == "host <n> refused"
    assert found.top_frame == "mail.py in send_mail" == top_frame(TRACEBACK)


def test_sensitive_keys_are_redacted_at_any_depth() -> None:
    redactor = Redactor()
    value = {"user": "ann", "Password": "x", "nested": [{"api-key": "k", "n": 1}], "X-Token": "t"}
    assert redactor.redact(value) == {
        "user": "ann",
        "Password": REDACTED,
        "nested": [{"api-key": REDACTED, "n": 1}],
        "X-Token": REDACTED,
    }
    assert Redactor(("ssn",)).redact({"ssn": 1, "password": 2}) == {"ssn": REDACTED, "password": 2}


def test_large_values_are_cut_and_marked() -> None:
    redactor = Redactor(max_chars=100)
    cleaned = redactor.clean({"blob": "x" * 1000})
    assert isinstance(cleaned, str) and len(cleaned) < 200 and "chars cut" in cleaned
    text = redactor.clean_text("line\n" * 100)
    assert text is not None and text.startswith("[… 400 chars cut …]") and text.endswith("line\n")


@given(st.recursive(st.none() | st.integers() | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=8), inner, max_size=3)))  # fmt: skip
def test_redacting_twice_changes_nothing_more(value: object) -> None:
    redactor = Redactor()
    once = redactor.redact(value)
    assert redactor.redact(once) == once


def test_the_sensitive_keys_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBPULSE_TASKS_REDACT_KEYS", " ssn , iban ")
    keys = TaskLogSettings().redact_key_list
    assert keys == ("ssn", "iban")
    assert Redactor(keys).redact({"SSN": 1, "password": 2}) == {"SSN": REDACTED, "password": 2}


def _reference_redact(value: object, redactor: Redactor) -> object:
    """What redaction means, written plainly: the fast path must agree with it."""
    if isinstance(value, dict):
        return {
            k: REDACTED if redactor.is_sensitive(str(k)) else _reference_redact(v, redactor)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_reference_redact(v, redactor) for v in value]
    return value


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(
            st.sampled_from(["id", "Token", "user", "db-password", "x"]) | st.text(),
            inner,
            max_size=4,
        )
    ),
    max_leaves=30,
)


@given(json_values)
def test_redaction_matches_its_plain_definition_and_bounds_the_json_size(value: object) -> None:
    redactor = Redactor()
    redacted, bound = redactor._redact_sized(value)
    assert redacted == _reference_redact(value, redactor)
    # The bound is for the compact JSON that clean() measures and the store writes.
    assert len(json.dumps(redacted, default=str, separators=(",", ":"))) <= bound
