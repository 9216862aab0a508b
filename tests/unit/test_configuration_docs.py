"""docs/configuration.md documents every JOBPULSE_* variable the code reads."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from pydantic_settings import BaseSettings

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "src" / "jobpulse"
DOC = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
_ENV_READ = re.compile(
    r"""(?:environ(?:\.get)?\(|environ\[|getenv\(|envvar=)\s*["'](JOBPULSE_[A-Z0-9_]+)["']"""
)


def _settings_classes() -> list[type[BaseSettings]]:
    for path in SOURCE.rglob("*.py"):
        if "BaseSettings" in path.read_text(encoding="utf-8"):
            module = ".".join(path.relative_to(SOURCE.parent).with_suffix("").parts)
            importlib.import_module(module)
    found: list[type[BaseSettings]] = []
    pending = list(BaseSettings.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("jobpulse."):
            found.append(cls)
    return found


def test_every_server_setting_is_in_the_table() -> None:
    classes = _settings_classes()
    assert classes
    missing = [
        f"{cls.model_config.get('env_prefix', '')}{name}".upper()
        for cls in classes
        for name in cls.model_fields
        if f"`{cls.model_config.get('env_prefix', '')}{name}`".upper() not in DOC.upper()
    ]
    assert not missing, f"document these in docs/configuration.md: {missing}"


def test_every_variable_read_directly_is_in_the_table() -> None:
    read = {
        name
        for path in SOURCE.rglob("*.py")
        for name in _ENV_READ.findall(path.read_text(encoding="utf-8"))
    }
    missing = sorted(name for name in read if f"`{name}`" not in DOC)
    assert not missing, f"document these in docs/configuration.md: {missing}"
