"""The docs site describes what the code has: every setting, check and command."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "lambdactr_django"
DOCS = ROOT / "docs"


def _headings(page: str) -> set[str]:
    text = (DOCS / page).read_text()
    return set(re.findall(r"^#+ `([^`]+)`", text, re.MULTILINE))


def test_every_setting_has_its_heading() -> None:
    read = set(re.findall(r'"(LAMBDACTR_[A-Z_]+)"', (PACKAGE / "conf.py").read_text()))
    # The old name of LAMBDACTR_BEACON_DATABASE is documented under the new one.
    read.discard("LAMBDACTR_WRITE_DATABASE")
    assert read
    assert sorted(read - _headings("settings.md")) == []


def test_every_system_check_is_listed() -> None:
    source = "".join(path.read_text() for path in PACKAGE.glob("checks*.py"))
    ids = set(re.findall(r'"(lambdactr_django\.[EW]\d{3})"', source))
    assert ids
    listed = set(re.findall(r"`(lambdactr_django\.[EW]\d{3})`", (DOCS / "checks.md").read_text()))
    assert sorted(ids - listed) == []


def test_every_management_command_has_its_heading() -> None:
    commands = {path.stem for path in (PACKAGE / "management" / "commands").glob("lambdactr_*.py")}
    assert commands
    assert sorted(commands - _headings("commands.md")) == []


def test_the_docs_name_nothing_the_code_lacks() -> None:
    settings = {name for name in _headings("settings.md") if name.startswith("LAMBDACTR_")}
    read = set(re.findall(r'"(LAMBDACTR_[A-Z_]+)"', (PACKAGE / "conf.py").read_text()))
    assert sorted(settings - read) == []
    commands = {name for name in _headings("commands.md") if name.startswith("lambdactr_")}
    existing = {path.stem for path in (PACKAGE / "management" / "commands").glob("*.py")}
    assert sorted(commands - existing) == []
