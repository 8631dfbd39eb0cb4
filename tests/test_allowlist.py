"""The allowlist an AI candidate passes before anything runs: every bypass shape of the old deny
list is refused with a reason naming the construct and its line; correct fixes pass; the
signature is kept; a project skill can narrow the allowlist but never widen it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from megawatt.analyzers.engine import analyze
from megawatt.fixes.allowlist import (
    BASE_ALLOW,
    check_candidate,
    check_imports,
    check_signature,
    skill_allowlist,
)
from megawatt.fixes.guardrails import Candidate, Rejected, locate_function, splice, static_checks
from megawatt.skills import load_skill
from tests import ai_project as P

MODULE = """\
import functools
import os


def helper(x):
    return x


def total(a, b=1):
    return a + b
"""
ORIGINAL = "def total(a, b=1):\n    return a + b\n"


def problems(body: str, skill: str = "memoize", module: str = MODULE) -> list[str]:
    """The refusals for a candidate `total` whose first body lines are `body`."""
    candidate = "def total(a, b=1):\n" + textwrap.indent(textwrap.dedent(body), "    ")
    candidate += "    return a + b\n"
    return [str(p) for p in check_candidate(candidate, ORIGINAL, module, skill_allowlist(skill))]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ('__builtins__["op" + "en"]("x", "a").write("y")\n', "__builtins__ is a dunder name"),
        ('posix.system("touch x")\n', "posix.system is not defined"),
        ('getattr(os, "sys" + "tem")("touch x")\n', "getattr(…, 'sys' + 'tem') has a computed"),
        ('globals()["helper"]\n', "globals is refused"),
        ("().__class__.__base__.__subclasses__()\n", ".__class__ is a dunder attribute"),
        ('eval("a + b")\n', "eval is refused: it runs a string as code"),
        ('exec("a = 1")\n', "exec is refused"),
        ('compile("a", "f", "exec")\n', "compile is refused"),
        ('importlib.import_module("o" + "s")\n', "importlib.import_module is refused"),
        ('__import__("os")\n', "__import__ is a dunder name"),
        ('open("notes.txt")\n', "open is not allowed: it opens files"),
        ('run = lambda: os.system("touch x")\n', "os.system is not allowed"),
        ('def hidden():\n    os.system("touch x")\n', "os.system is not allowed"),
        ("type(a).__mro__\n", ".__mro__ is a dunder attribute"),
        ("helper(a)\n", "helper is a module-level name of this file"),
        ('os.system("touch x")\n', "network, process or file-system"),
        ("g = (x for x in [])\ng.gi_frame.f_globals\n", ".gi_frame reaches a frame"),
        ('"{0.gi_frame}".format(a)\n', "in a format field"),
        ('str.format("{0.gi_" + "frame}", a)\n', "formats a template the check cannot read"),
        ('("{0." + "gi_frame}").format(a)\n', "formats a template that is not a string literal"),
        ("import os\n", "an import inside the function is not allowed"),
        ("global helper\n", "global helper is new"),
        ("pick = getattr\n", "getattr used as a value"),
        ('getattr(a, "__class__")\n', "'__class__' names a dunder in a string"),
        ("functools.reduce(max, [a, b])\n", "not on the reviewed allowlist of the memoize skill"),
    ],
)
def test_bypass_shapes_are_refused_with_the_construct_and_line(body: str, words: str) -> None:
    found = problems(body)
    assert found, body
    assert any(words in p for p in found), found
    assert "(line 2 of the new function)" in found[0] or "(line 3" in found[0]


def test_eval_in_a_candidate_does_not_crash_static_checks(tmp_path: Path) -> None:
    # the old deny list crashed here (a Counter of bytes joined as str)
    target = _target(tmp_path, P.MODULE, "memoize")
    bad = P.GOOD.replace("    key = (a, b)", '    key = eval("(a, b)")')
    with pytest.raises(Rejected) as err:
        static_checks(target, splice(target, Candidate(bad)), tmp_path, None)
    assert err.value.stage == "safety" and "eval is refused" in err.value.reason
    assert "line 4 of the new function" in err.value.reason


def test_what_the_original_used_stays_allowed() -> None:
    original = "def save(path, rows):\n    os.remove(path)\n    print(rows)\n    return rows\n"
    kept = "def save(path, rows):\n    os.remove(path)\n    print(rows)\n    return list(rows)\n"
    assert check_candidate(kept, original, MODULE, skill_allowlist("loop-invariant")) == []
    # the same module, another chain: refused
    other = kept.replace("os.remove", "os.system")
    assert check_candidate(other, original, MODULE, skill_allowlist("loop-invariant"))


def test_locals_parameters_and_safe_builtins_are_fine() -> None:
    body = """\
    seen = {x: i for i, x in enumerate(sorted([a, b]))}
    def twice(v):
        return v * 2
    if (n := len(seen)) > max(a, b):
        raise ValueError(repr(n))
    parts = [twice(k) for k in seen if isinstance(k, int)]
    parts.append(sum(map(abs, parts)))
    """
    assert problems(body) == []


def test_skill_entries_and_module_attributes() -> None:
    assert problems("q = collections.deque([a])\n", "pop-front", "import collections\n") == []
    assert problems("x = re.compile('a').match\n", "regex-in-function", "import re\n") == []
    # a module-wide entry does not reach the modules that module imported
    found = problems("re.enum\n", "regex-in-function", "import re\n")
    assert found and "reaches another module" in found[0]
    found = problems("re._compiler\n", "regex-in-function", "import re\n")
    assert found and "private attribute" in found[0]
    # io is risky, but the reviewed io.StringIO entry of quadratic-concat is exactly that
    assert problems("buf = io.StringIO()\n", "quadratic-concat", "import io\n") == []
    assert problems("io.open('x')\n", "quadratic-concat", "import io\n")


def test_the_per_instance_cache_of_a_method_passes(tmp_path: Path) -> None:
    target = _target(tmp_path, P.MODULE, "memoize")
    assert static_checks(target, splice(target, Candidate(P.GOOD)), tmp_path, None) == [
        "syntax",
        "opportunity gone",
    ]
    # only the method's own first parameter may reach __dict__
    other = P.GOOD.replace("self.__dict__.setdefault", "a.__dict__.setdefault")
    with pytest.raises(Rejected, match=r"\.__dict__ is a dunder attribute"):
        static_checks(target, splice(target, Candidate(other)), tmp_path, None)


FIB = """\
def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)
"""


def test_a_cache_decorator_with_its_import_passes(tmp_path: Path) -> None:
    target = _target(tmp_path, FIB, "memoize")
    fixed = "@functools.cache\n" + FIB
    spliced = splice(target, Candidate(fixed, ("import functools",)), root=tmp_path)
    assert static_checks(target, spliced, tmp_path, None) == ["syntax", "opportunity gone"]
    lru = "@lru_cache(maxsize=1024)\n" + FIB
    spliced = splice(target, Candidate(lru, ("from functools import lru_cache",)), root=tmp_path)
    assert static_checks(target, spliced, tmp_path, None)[-1] == "opportunity gone"


@pytest.mark.parametrize(
    ("imports", "words"),
    [
        (["import posix"], "the fix imports posix (network, process or file-system"),
        (["import subprocess"], "the fix imports subprocess"),
        (["from functools import reduce"], "imports functools.reduce, which is not on"),
        (["from . import helpers"], "the project's own code"),
        (["import importlib"], "imports importlib, which is refused"),
        (["from math import *"], "imports * (not allowed)"),
        (["from math import sqrt as helper"], "imports 'helper', which the file already uses"),
    ],
)
def test_the_imports_list_is_checked_with_the_same_allowlist(
    imports: list[str], words: str
) -> None:
    found = [str(p) for p in check_imports(imports, ORIGINAL, MODULE, skill_allowlist("memoize"))]
    assert found and words in found[0], found


def test_imports_the_fix_may_add() -> None:
    allow = skill_allowlist("memoize")
    ok = ["import functools", "from functools import cache", "import os"]  # os: already there
    assert check_imports(ok, ORIGINAL, MODULE, allow) == []
    # an import moved out of the function (import-in-function) is the original's own
    moved = "def total(a, b=1):\n    import json\n    return json.dumps(a)\n"
    assert (
        check_imports(["import json"], moved, MODULE, skill_allowlist("import-in-function")) == []
    )
    assert (
        check_candidate(
            "def total(a, b=1):\n    return json.dumps(a)\n",
            moved,
            MODULE + "import json\n",
            skill_allowlist("import-in-function"),
        )
        == []
    )


@pytest.mark.parametrize(
    ("original", "candidate", "words"),
    [
        ("def f(a, b):\n", "def f(a, other):\n", "renames parameter 'b' to 'other'"),
        ("def f(a, n=1):\n", "def f(a, n=2):\n", "changes its default from 1 to 2"),
        ("def f(a, *, k):\n", "def f(a, k):\n", "from keyword-only to positional-or-keyword"),
        ("def f(a, b):\n", "def f(a):\n", "drops parameter 'b'"),
        ("@staticmethod\ndef f(a):\n", "def f(a):\n", "drops the decorator @staticmethod"),
        ("async def f(a):\n", "def f(a):\n", "is made sync"),
        ("def f(a):\n", "@functools.wraps(f)\ndef f(a):\n", "a decorator the fix may not add"),
        ("def f(a):\n", "@functools.cache\ndef f(a):\n", "a decorator the fix may not add"),
    ],
)
def test_the_signature_stays(original: str, candidate: str, words: str) -> None:
    skill = "sort-for-extreme" if "cache" in candidate else "memoize"
    found = check_signature(
        candidate + "    pass\n", original + "    pass\n", skill_allowlist(skill), MODULE
    )
    assert found and words in str(found[0]), found


def test_added_cache_decorators_are_allowed_for_memoize() -> None:
    allow = skill_allowlist("memoize")
    original = "@staticmethod\ndef f(a: int) -> list[int]:\n    pass\n"
    candidate = "@staticmethod\n@functools.lru_cache(maxsize=64)\ndef f(a: int) -> tuple[int]:\n"
    assert check_signature(candidate + "    pass\n", original, allow, MODULE) == []


def _project_skill(tmp_path: Path, name: str, fix_extra: str) -> object:
    folder = tmp_path / ".megawatt" / "skills" / name
    folder.mkdir(parents=True)
    (folder / "SKILL.md").write_text(
        f"---\nname: {name}\ndescription: d\ntrigger: {name}\nexpected_gain: 0.5\n"
        f"fix:\n  recipe: r\n{fix_extra}---\nbody\n"
    )
    return load_skill(folder / "SKILL.md", "project")


def test_a_project_skill_narrows_but_never_widens(tmp_path: Path) -> None:
    wide = _project_skill(
        tmp_path / "a", "memoize", "  allow: [functools.cache, os, subprocess.run]\n"
    )
    allow = skill_allowlist("memoize", wide)  # type: ignore[arg-type]
    assert allow.extras() == ["functools.cache"]
    assert allow.decorators == frozenset({"functools.cache", "functools.lru_cache"})
    whole = _project_skill(tmp_path / "b", "memoize", "  allow: [functools]\n")
    assert skill_allowlist("memoize", whole).extras() == sorted(  # type: ignore[arg-type]
        skill_allowlist("memoize").extras()
    )
    silent = _project_skill(tmp_path / "c", "memoize", "")
    assert skill_allowlist("memoize", silent) == skill_allowlist("memoize")  # type: ignore[arg-type]
    alone = _project_skill(tmp_path / "d", "my-rule", "  allow: [os, subprocess]\n")
    assert skill_allowlist("my-rule", alone).names == BASE_ALLOW  # type: ignore[arg-type]


def test_every_builtin_skill_declares_its_allowlist() -> None:
    from megawatt.skills import builtin_skills

    for skill in builtin_skills().skills.values():
        assert skill.meta.fix.allow is not None, skill.id
        assert skill.meta.fix.add_decorators is not None, skill.id
    assert "functools.cache" in skill_allowlist("memoize").decorators


def _target(tmp_path: Path, source: str, skill: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "mod.py"
    path.write_text(source)
    found = [f for f in analyze(str(path), source.encode()).findings if f.skill == skill]
    return locate_function(str(path), source.encode(), found[0])
