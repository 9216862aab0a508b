"""The import plan: create, update, delete, unchanged, keep; secrets never shown."""

from __future__ import annotations

from jobpulse.config_io.plan import Action, plan_section, summary
from jobpulse.config_io.sections import secret_reference


def actions(changes: list) -> dict[str, Action]:  # type: ignore[type-arg]
    return {change.key: change.action for change in changes}


def test_each_key_gets_one_action() -> None:
    current = {"same": {"a": 1}, "changed": {"a": 1}, "gone": {"a": 1}}
    desired = {"same": {"a": 1}, "changed": {"a": 2}, "new": {"a": 3}}
    kept = plan_section("checks", current, desired, prune=False)
    assert actions(kept) == {
        "same": Action.UNCHANGED,
        "changed": Action.UPDATE,
        "new": Action.CREATE,
        "gone": Action.KEEP,
    }
    pruned = plan_section("checks", current, desired, prune=True)
    assert actions(pruned)["gone"] == Action.DELETE
    assert summary(pruned) == "plan: 1 to create, 1 to update, 1 to delete, 1 unchanged"


def test_protected_objects_survive_prune() -> None:
    changes = plan_section("rules", {"builtin": {}}, {}, prune=True, protected={"builtin"})
    assert actions(changes) == {"builtin": Action.KEEP}


def test_a_changed_secret_is_reported_without_its_value() -> None:
    def masked(document: dict) -> dict:  # type: ignore[type-arg]
        return {**document, "url": "********"}

    changes = plan_section(
        "sources",
        {"main": {"url": "redis://:old@h/0", "interval": 15}},
        {"main": {"url": "redis://:new@h/0", "interval": 30}},
        prune=False,
        display=masked,
    )
    line = changes[0].describe()
    assert "url (secret) changed" in line and "interval 15 → 30" in line
    assert "old" not in line and "new@" not in line


def test_secret_references_are_environment_variable_names() -> None:
    assert secret_reference("channel", "ops slack", "webhook_url") == (
        "${JOBPULSE_SECRET_CHANNEL_OPS_SLACK_WEBHOOK_URL}"
    )
