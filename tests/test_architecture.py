"""The package's layout keeps a hit's trip one-way, and docs/architecture.md names it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "lambdactr_django"
DOC = PACKAGE.parent / "docs" / "architecture.md"
# "About 400 lines" is where a module starts doing two jobs.
MAX_LINES = 420


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if "migrations" in parts:
            continue
        name = ".".join(parts).removesuffix(".__init__")
        found[name] = path
    return found


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def _importing(prefix: str) -> dict[str, set[str]]:
    return {
        name: _imports(path)
        for name, path in _modules().items()
        if name == prefix or name.startswith(prefix + ".")
    }


# Each side may not reach these: the arrows point down the trip only.
FORBIDDEN = {
    "lambdactr_django.hits": ("django.db", "lambdactr_django."),
    "lambdactr_django.models": (
        "lambdactr_django.beacon",
        "lambdactr_django.store",
        "lambdactr_django.stats",
        "lambdactr_django.admin",
        "lambdactr_django.api",
        "lambdactr_django.digest",
    ),
    "lambdactr_django.beacon": (
        "lambdactr_django.stats",
        "lambdactr_django.admin",
        "lambdactr_django.api",
        "lambdactr_django.digest",
    ),
    "lambdactr_django.logs": (
        "lambdactr_django.stats",
        "lambdactr_django.admin",
        "lambdactr_django.api",
        "lambdactr_django.digest",
    ),
    "lambdactr_django.store": (
        "lambdactr_django.beacon",
        "lambdactr_django.stats",
        "lambdactr_django.admin",
        "lambdactr_django.api",
        "lambdactr_django.digest",
    ),
    "lambdactr_django.stats": (
        "lambdactr_django.beacon",
        "lambdactr_django.store",
        "lambdactr_django.admin",
        "lambdactr_django.api",
        "lambdactr_django.digest",
    ),
    # Readers beside the admin: they count through the statistics (the API parses
    # the statistics page's query with admin.filters.selection), never store.
    "lambdactr_django.api": ("lambdactr_django.beacon", "lambdactr_django.store"),
    "lambdactr_django.digest": (
        "lambdactr_django.beacon",
        "lambdactr_django.store",
        "lambdactr_django.admin",
        "lambdactr_django.api",
    ),
}


@pytest.mark.parametrize("side", sorted(FORBIDDEN))
def test_imports_point_down_the_trip(side: str) -> None:
    wrong = {
        module: sorted(n for n in names if n.startswith(FORBIDDEN[side]))
        for module, names in _importing(side).items()
    }
    assert {module: names for module, names in wrong.items() if names} == {}


def test_the_beacon_stores_through_the_one_door() -> None:
    used = {
        name
        for names in _importing("lambdactr_django.beacon").values()
        for name in names
        if name.startswith("lambdactr_django.store")
    }
    # store.save, never durable or buffer or the database module directly.
    assert used == {"lambdactr_django.store"}


def test_the_logs_store_through_the_one_door() -> None:
    used = {
        name
        for names in _importing("lambdactr_django.logs").values()
        for name in names
        if name.startswith("lambdactr_django.store")
    }
    assert used == {"lambdactr_django.store"}


def test_only_the_store_database_module_writes_hits() -> None:
    writers = {
        name
        for name, path in _modules().items()
        if any(word in path.read_text() for word in ("INSERT INTO", "cursor.copy(", "COPY {"))
    }
    # The rollups insert their own table, never a hit.
    assert writers == {"lambdactr_django.store.database", "lambdactr_django.stats.rollup_sql"}


def test_the_architecture_page_names_every_module() -> None:
    text = DOC.read_text()
    missing = [
        name
        for name, path in _modules().items()
        if path.name != "__init__.py"
        and "management" not in path.parts
        and "templatetags" not in path.parts
        and path.name not in text
    ]
    assert missing == []


def test_no_module_does_two_jobs() -> None:
    long = {
        name: lines
        for name, path in _modules().items()
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}
