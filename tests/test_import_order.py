"""Imports a fix adds go where the project's isort settings put them: ruff's I001 passes on the
result whenever it passed on the original."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from megawatt.analyzers.context import FileContext
from megawatt.fixes.edits import apply_edits, ensure_import
from megawatt.fixes.fixall import fix_source
from megawatt.fixes.imports import import_edit
from megawatt.skills import load_skills

RUFF = str(Path(sys.executable).parent / "ruff")


def unsorted(path: Path) -> str:
    """ruff's I001 findings for the file, with the project's configuration."""
    run = subprocess.run(
        [
            RUFF,
            "check",
            "-q",
            "--select",
            "I001",
            "--no-fix",
            "--output-format",
            "concise",
            str(path),
        ],
        capture_output=True,
        text=True,
        cwd=path.parent,
        timeout=60,
        check=False,
    )
    return run.stdout.strip()


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


SERVICE = '''
    """Order lookups for the web shop."""

    from __future__ import annotations

    import json
    import os
    from typing import Any

    import requests

    from shop import models

    API = os.environ.get("SHOP_API", "http://localhost")


    def pending(session: requests.Session) -> list[dict[str, Any]]:
        queue = list(json.loads(session.get(API).text))
        done = []
        while queue:
            item = queue.pop(0)
            if models.is_open(item):
                done.append(item)
        return done
'''


def project(tmp_path: Path, isort: str = "") -> Path:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "shop"\n\n[tool.ruff.lint]\nselect = ["E", "F", "I"]\n' + isort
    )
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("")
    (tmp_path / "shop" / "models.py").write_text("def is_open(item):\n    return True\n")
    return tmp_path


@pytest.mark.parametrize(
    ("isort", "expected"),
    [
        ("", "import collections\nimport json\nimport os\nfrom typing import Any\n"),
        (
            "\n[tool.ruff.lint.isort]\nforce-sort-within-sections = true\n",
            "import collections\nimport json\nimport os\nfrom typing import Any\n",
        ),
    ],
)
def test_stdlib_import_joins_the_stdlib_section(tmp_path: Path, isort: str, expected: str) -> None:
    root = project(tmp_path, isort)
    path = write(root / "shop", "service.py", SERVICE)
    assert unsorted(path) == ""
    out = fix_source(str(path), path.read_bytes(), load_skills(root), select=["pop-front"])
    assert [a.skill for a in out.applied] == ["pop-front"]
    path.write_bytes(out.after)
    assert expected in out.after.decode()
    assert unsorted(path) == ""


def test_force_sort_within_sections_interleaves_from_imports(tmp_path: Path) -> None:
    root = project(tmp_path, "\n[tool.ruff.lint.isort]\nforce-sort-within-sections = true\n")
    path = write(
        root / "shop",
        "report.py",
        """
        from dataclasses import dataclass
        import os
        import sys


        @dataclass
        class Row:
            name: str
        """,
    )
    assert unsorted(path) == ""
    ctx = FileContext(str(path), path.read_bytes())
    edit = ensure_import(ctx, "functools")
    assert edit is not None
    path.write_bytes(apply_edits(ctx.source, [edit]))
    assert path.read_text().startswith(
        "from dataclasses import dataclass\nimport functools\nimport os\n"
    )
    assert unsorted(path) == ""


def test_new_sections_and_new_blocks(tmp_path: Path) -> None:
    root = project(tmp_path)
    cases = [
        # a stdlib import into a module that imports only third-party code: a section above it
        ("import requests\n\n\ndef f():\n    return requests\n", "import itertools"),
        # a third-party import (moved out of a function) below the stdlib section
        ('"""Jobs."""\nimport os\n\n\ndef f():\n    return os\n', "import numpy as np  # heavy"),
        # a first-party import: its own section after third-party
        ("import os\n\nimport requests\n\nX = 1\n", "from shop import models"),
        # no imports yet: a block after the docstring, two blank lines before the definition
        ('"""Jobs."""\n\ndef f():\n    pass\n', "import functools"),
        # after a shebang and coding line, one blank line before code
        ("#!/usr/bin/env python\n# -*- coding: utf-8 -*-\nX = 1\n", "import functools"),
        # `from __future__` stays first, in a section of its own
        ("from __future__ import annotations\n\nimport requests\n\nX = 1\n", "import re"),
        # no newline at the end of the file
        ("import os", "import re"),
    ]
    for i, (src, statement) in enumerate(cases):
        path = root / "shop" / f"case{i}.py"
        path.write_text(src)
        assert unsorted(path) == "", src
        ctx = FileContext(str(path), src.encode())
        path.write_bytes(apply_edits(ctx.source, [import_edit(ctx, statement)]))
        after = path.read_text()
        assert statement.split("  #")[0] in after
        assert unsorted(path) == "", after
        compile(after, str(path), "exec")


def test_memoize_and_import_hoist_keep_the_block_sorted(tmp_path: Path) -> None:
    root = project(tmp_path)
    path = write(
        root / "shop",
        "pricing.py",
        '''
        """Prices."""

        import logging
        import sys

        log = logging.getLogger(__name__)


        def fib(n: int) -> int:
            return n if n < 2 else fib(n - 1) + fib(n - 2)


        def tiers(rows: list[str]) -> list[list[str]]:
            out = []
            for row in rows:
                import re

                out.append(re.split(r",", row))
            return out


        def main() -> int:
            print(fib(20), tiers(sys.argv[1:]))
            return 0
        ''',
    )
    assert unsorted(path) == ""
    out = fix_source(
        str(path),
        path.read_bytes(),
        load_skills(root),
        select=["memoize", "import-in-function"],
    )
    assert {a.skill for a in out.applied} == {"memoize", "import-in-function"}
    path.write_bytes(out.after)
    text = path.read_text()
    assert "import functools\nimport logging\nimport re\nimport sys\n" in text
    assert unsorted(path) == "", text


def test_isort_settings_are_honoured_without_ruff(tmp_path: Path) -> None:
    # a project sorted by isort itself: [tool.isort], underscores; checked with ruff told the same
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "shop"\n\n[tool.isort]\nforce_sort_within_sections = true\n'
        'known_first_party = ["shop"]\n'
    )
    path = write(
        tmp_path,
        "jobs.py",
        """
        from dataclasses import dataclass
        import os

        from shop import models


        @dataclass
        class Job:
            name: str = os.sep + models.__name__
        """,
    )
    ctx = FileContext(str(path), path.read_bytes())
    edit = ensure_import(ctx, "functools")
    assert edit is not None
    path.write_bytes(apply_edits(ctx.source, [edit]))
    assert path.read_text().startswith(
        "from dataclasses import dataclass\nimport functools\nimport os\n\nfrom shop import models\n"
    )
    run = subprocess.run(
        [RUFF, "check", "-q", "--isolated", "--select", "I001",
         "--config", "lint.isort.force-sort-within-sections = true",
         "--config", 'lint.isort.known-first-party = ["shop"]', str(path)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout
