"""import-in-function: positives, the traps that are deliberate, and the hoisting fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.detectors import findings, fixed, lines, run

SKILL = "import-in-function"


def test_finds_imports_that_rerun_on_every_call() -> None:
    src = """
    import json

    def dump(obj):
        import json
        return json.dumps(obj, sort_keys=True)

    def parse_rows(lines):
        out = []
        for line in lines:
            import re
            out.append(re.split(r"\\s*,\\s*", line))
        return out

    def width(text):
        import unicodedata
        return sum(2 if unicodedata.east_asian_width(c) == "W" else 1 for c in text)

    def cwd_name():
        from os import path, getcwd
        return path.basename(getcwd())
    """
    found = findings(src, SKILL)
    assert [f.span.line for f in found] == [5, 11, 16, 20]
    kinds = [dict(f.evidence)["kind"] for f in found]
    assert kinds == ["redundant", "light", "light", "startup"]
    assert [f.function for f in found] == ["dump", "parse_rows", "width", "cwd_name"]
    redundant, in_loop, light, startup = found
    assert in_loop.confidence > light.confidence  # re-runs on every iteration
    assert redundant.confidence > light.confidence
    assert "already imports it at the top" in redundant.message
    assert "every iteration" in in_loop.message and "every call" in light.message
    assert "getattr per name" in startup.message  # from-imports cost more


def test_deliberate_lazy_imports_are_not_flagged() -> None:
    src = """
    from typing import TYPE_CHECKING

    def cycle_guard():
        from . import models                 # relative: breaks an import cycle
        from .views import render
        return models, render

    def optional():
        try:
            import yaml                      # optional dependency
        except ImportError:
            yaml = None
        return yaml

    def optional_fallback():
        try:
            import ujson as json
        except ModuleNotFoundError:
            import json
        return json

    def typing_only():
        if TYPE_CHECKING:
            from decimal import Decimal
        return 1

    def platform():
        import winreg                        # exists on Windows only
        return winreg

    def main():
        import argparse                      # an entry point runs once
        return argparse

    def test_something():
        import json                          # a test runs once
        return json

    def heavy_and_rare():
        import tkinter                       # deliberate: slow to import, rarely needed
        return tkinter

    def third_party():
        import numpy as np                   # deliberate: start-up time
        return np.zeros(3)

    def fast_path(s):
        if s.isascii():
            return len(s)
        import unicodedata                   # only on the slow path
        return len(unicodedata.normalize("NFC", s))

    def rare_branch(flag):
        if flag:
            import json                      # only when asked
            return json.dumps(flag)
        return None

    def explained():
        # imported here to keep start-up fast
        import json
        return json

    def __getattr__(name):
        import json                          # PEP 562 lazy module attribute
        return getattr(json, name)
    """
    assert lines(src, SKILL) == []


def test_own_package_is_a_cycle_guard() -> None:
    src = """
    def load(names):
        for name in names:
            import shop.models
            from shop import views
        return shop.models, views
    """
    assert lines(src, SKILL) == [4, 5]  # in a loop: flagged, even for a third-party module
    assert [f.span.line for f in findings(src, SKILL, path="shop/orders.py")] == []


def test_fix_hoists_and_keeps_behaviour() -> None:
    src = '''
    """Orders."""
    import os

    def parse_rows(lines):
        out = []
        for line in lines:
            import re  # split on commas
            out.append(re.split(r"\\s*,\\s*", line))
        return out

    def here():
        import os
        return os.sep

    def only_import():
        import math
    '''
    after = fixed(src, SKILL, only_safe=True)
    assert after == (
        '\n"""Orders."""\n'
        "import math\n"
        "import os\n"
        "import re  # split on commas\n"
        "\n"
        "def parse_rows(lines):\n"
        "    out = []\n"
        "    for line in lines:\n"
        '        out.append(re.split(r"\\s*,\\s*", line))\n'
        "    return out\n"
        "\n"
        "def here():\n"
        "    return os.sep\n"
        "\n"
        "def only_import():\n"
        "    pass\n"
    )
    call = "parse_rows(['a, b', 'c ,d']), here(), only_import()"
    assert run(src, call) == run(after, call) == ([["a", "b"], ["c", "d"]], "/", None)


def test_fix_titles_and_safety() -> None:
    src = """
    import json

    def a(x):
        import json
        return json.dumps(x)

    def b(x):
        import re
        return re.escape(x)
    """
    first, second = findings(src, SKILL)
    assert first.fix is not None and first.fix.safe
    assert first.fix.title == "Remove `import json` from a(): the module imports it"
    assert second.fix is not None and second.fix.safe
    assert second.fix.title == "Move `import re` out of b() to the module's imports"


def test_no_fix_where_hoisting_would_change_names() -> None:
    src = """
    path = "/tmp"

    def clash():
        from os import path                  # module-level `path` means something else
        return path.sep

    def shadows_builtin():
        from os import open                  # a module-level `open` would hide the builtin
        return open

    def rebinds():
        import json
        json = json.dumps
        return json

    def same_line():
        import re; return re
    """
    found = findings(src, SKILL)
    assert [f.span.line for f in found] == [5, 9, 13, 18]
    assert all(f.fix is None for f in found)


def test_fix_in_a_loop_inside_a_method() -> None:
    src = """
    class Report:
        def lines(self, rows):
            out = []
            for row in rows:
                import textwrap
                out.extend(textwrap.wrap(row, 10))
            return out
    """
    (finding,) = findings(src, SKILL)
    assert finding.function == "Report.lines" and finding.confidence >= 0.8
    after = fixed(src, SKILL)
    assert after.startswith("import textwrap\n")
    call = "Report().lines(['a b c d e f g h i j k l m'])"
    assert run(src, call) == run(after, call)


def test_inside_the_stdlib_only_loops_and_redundant_imports_count() -> None:
    """The stdlib defers its own imports for start-up and to break cycles between its modules."""
    path = "/usr/lib/python3.11/email/utils2.py"
    src = "def f(x):\n    import json\n    return json.dumps(x)\n"
    assert findings(src, SKILL, path=path) == []
    src = "def f(xs):\n    for x in xs:\n        import json\n        print(json.dumps(x))\n"
    (finding,) = findings(src, SKILL, path=path)
    assert finding.confidence <= 0.5
    assert finding.fix is not None and not finding.fix.safe and "cycle" in finding.fix.note


def test_suppression_and_half_typed_file() -> None:
    src = """
    def f(x):
        import json  # megawatt: ignore[import-in-function]
        return json.dumps(x)

    def g(x):  # megawatt: ignore
        import json
        return json.dumps(x)

    def h(x):
        import json
        return json.dumps(x)

    def broken(:
        import json
    """
    assert lines(src, SKILL) == [11]


def test_redundant_import_is_deleted_from_any_branch() -> None:
    src = """
    import warnings

    def urlopen(url, cafile=None):
        if cafile:
            import warnings
            warnings.warn("cafile is deprecated", DeprecationWarning)
        if url is None:
            import warnings
        return url
    """
    assert lines(src, SKILL) == [6, 9]
    after = fixed(src, SKILL, only_safe=True)
    assert after.count("import warnings") == 1
    assert "    if url is None:\n        pass\n" in after
    with pytest.warns(DeprecationWarning):
        assert run(src, "urlopen('u', 'c')") == "u"
    with pytest.warns(DeprecationWarning):
        assert run(after, "urlopen('u', 'c')") == "u"
    assert run(src, "urlopen(None)") is None and run(after, "urlopen(None)") is None


CLI = '''
"""Command line for the report tool."""

import sys


def run(argv=None):
    import argparse
    import json

    parser = argparse.ArgumentParser(prog="report")
    sub = parser.add_subparsers(required=True)
    sub.add_parser("rows").set_defaults(handler=print_rows)
    sub.add_parser("excel").set_defaults(handler=to_excel)
    args = parser.parse_args(argv)
    print(json.dumps({"command": sys.argv[1:]}), file=sys.stderr)
    return args.handler(args)


def print_rows(args):
    import csv

    writer = csv.writer(sys.stdout)
    for row in load():
        writer.writerow([format_cell(cell) for cell in row])
    return 0


def to_excel(args):
    try:
        import openpyxl
    except ImportError as err:
        raise SystemExit("the excel command needs: pip install report[excel]") from err
    import datetime

    book = openpyxl.Workbook()
    book.active.append([datetime.date.today().isoformat()])
    for row in load():
        import decimal

        book.active.append([decimal.Decimal(str(cell)) for cell in row])
    book.save("report.xlsx")
    return 0


def serve():
    import json
    from http.server import HTTPServer, BaseHTTPRequestHandler

    print(json.dumps({"port": 8000}))
    HTTPServer(("", 8000), BaseHTTPRequestHandler).serve_forever()


def format_cell(cell):
    import json

    return json.dumps(cell)


def load():
    return [[1, "a"], [2, "b"]]


if __name__ == "__main__":
    sys.exit(serve())
'''


@pytest.mark.parametrize(
    ("config", "text"),
    [
        (
            "pyproject.toml",
            '[project]\nname = "report"\nversion = "1"\n\n'
            '[project.scripts]\nreport = "report.cli:run"\n',
        ),
        (
            "setup.cfg",
            "[metadata]\nname = report\n\n[options.entry_points]\n"
            "console_scripts =\n    report = report.cli:run\n",
        ),
    ],
)
def test_lazy_imports_in_functions_run_once_per_process_are_left_alone(
    tmp_path: Path, config: str, text: str
) -> None:
    # run() is the installed command, print_rows/to_excel its argparse subcommands, serve() what
    # `python -m` runs, to_excel the lazy path of an optional dependency: hoisting their imports
    # costs start-up on every run (0.5-1.3 ms) to save ~0.2 µs once
    (tmp_path / config).write_text(text)
    pkg = tmp_path / "src" / "report"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    path = pkg / "cli.py"
    path.write_text(CLI)
    found = findings(CLI, SKILL, path=str(path))
    # still reported: the helper called per cell, and the import in to_excel's loop
    assert [(f.function, f.span.line) for f in found] == [
        ("to_excel", 39),
        ("format_cell", 55),
    ]
