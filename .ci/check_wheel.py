"""Check that the built wheel ships what the app needs and nothing from tests or the example."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

REQUIRED = [
    "lambdactr_django/py.typed",
    "lambdactr_django/migrations/0001_initial.py",
    "lambdactr_django/templates/lambdactr_django/admin/date_filter.html",
    "lambdactr_django/static/lambdactr_django/admin.css",
    "lambdactr_django/templatetags/lambdactr.py",
    # The JSON statistics' published schema, served by api/views.py.
    "lambdactr_django/api/openapi.json",
    "lambdactr_django/templates/lambdactr_django/email/digest.txt",
    "lambdactr_django/templates/lambdactr_django/email/digest.html",
]
FORBIDDEN_PREFIXES = ("tests/", "example_project/", "scripts/")


def main(path: str) -> int:
    if Path(path).is_dir():
        (path,) = (str(wheel) for wheel in Path(path).glob("*.whl"))
    names = zipfile.ZipFile(path).namelist()
    problems = [f"missing: {name}" for name in REQUIRED if name not in names]
    problems += [f"must not ship: {name}" for name in names if name.startswith(FORBIDDEN_PREFIXES)]
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{path}: {len(names)} files, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
