"""The cheap guardrails an AI candidate passes before anything runs: each stage a function, run
cheapest first, the first failure ending the candidate with the reason the user (and the model,
on the retry) is told.

The candidate is a replacement for one function plus import lines; it is spliced in at the
function's place, so "the edit stays inside the function and the import block" holds by
construction once the replacement is shown to be exactly one definition of the same name.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import textwrap
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tree_sitter import Node

from megawatt.analyzers.context import FileContext
from megawatt.analyzers.engine import analyze_context
from megawatt.analyzers.parsing import error_nodes, parse
from megawatt.fixes.edits import import_insertion_point
from megawatt.model import Finding

__all__ = [
    "Candidate",
    "Rejected",
    "Spliced",
    "Target",
    "find_ruff",
    "locate_function",
    "splice",
    "static_checks",
]

# modules a speed fix has no business bringing in: they reach the network, run processes or
# touch files. Allowed only where the original file already imported them.
RISKY_MODULES = frozenset(
    [
        "socket",
        "ssl",
        "subprocess",
        "os",
        "shutil",
        "pathlib",
        "tempfile",
        "glob",
        "io",
        "multiprocessing",
        "ctypes",
        "pty",
        "requests",
        "httpx",
        "urllib",
        "urllib3",
        "http",
        "ftplib",
        "smtplib",
        "telnetlib",
        "paramiko",
        "aiohttp",
        "asyncio.subprocess",
        "pickle",
        "marshal",
        "shelve",
        "sqlite3",
        "webbrowser",
        "importlib",
        "builtins",
        "sys",
    ]
)
RISKY_CALLS = frozenset({"eval", "exec", "__import__", "compile", "open", "breakpoint"})


class Rejected(Exception):
    """A candidate that failed a guardrail: `stage` names it, the message says why."""

    def __init__(self, stage: str, reason: str) -> None:
        super().__init__(reason)
        self.stage = stage
        self.reason = reason


@dataclass(frozen=True)
class Candidate:
    """What the model proposed (the forced `submit_fix` call)."""

    function: str
    imports: tuple[str, ...] = ()
    title: str = ""
    rationale: str = ""
    expected_gain: str = ""


@dataclass(frozen=True)
class Target:
    """The opportunity being fixed, in the text the user sees now."""

    path: str
    source: bytes
    finding: Finding
    qualname: str
    start_byte: int  # of the definition, decorators included
    end_byte: int
    indent: str
    first_line: int  # 1-based, decorators included
    end_line: int


@dataclass
class Spliced:
    source: bytes
    function_start: int  # byte range of the new function in `source`
    function_end: int
    added_imports: list[str] = field(default_factory=list)

    @property
    def function_text(self) -> str:
        return self.source[self.function_start : self.function_end].decode("utf-8")


def _definition(node: Node) -> Node | None:
    """The function_definition of a (decorated) definition node."""
    if node.type == "decorated_definition":
        node = node.child_by_field_name("definition") or node
    return node if node.type == "function_definition" else None


def locate_function(path: str, source: bytes, finding: Finding) -> Target:
    """The definition holding the finding: the innermost function around it."""
    tree = parse(source)
    node = tree.root_node.descendant_for_byte_range(
        finding.span.start_byte, finding.span.start_byte
    )
    fn: Node | None = None
    while node is not None:
        if node.type == "function_definition":
            fn = node
            break
        node = node.parent
    if fn is None:
        raise Rejected(
            "target", f"{finding.skill} at line {finding.span.line} is not in a function"
        )
    outer = fn.parent if fn.parent is not None and fn.parent.type == "decorated_definition" else fn
    line_start = source.rfind(b"\n", 0, outer.start_byte) + 1
    indent = source[line_start : outer.start_byte].decode("utf-8")
    ctx = FileContext(path, source, tree)
    qualname = finding.function or (ctx.qualified(fn) or "")
    return Target(
        path=path,
        source=source,
        finding=finding,
        qualname=qualname,
        start_byte=line_start,
        end_byte=outer.end_byte,
        indent=indent if not indent.strip() else "",
        first_line=outer.start_point.row + 1,
        end_line=outer.end_point.row + 1,
    )


def _name(fn: Node) -> str:
    name = fn.child_by_field_name("name")
    return "" if name is None or name.text is None else name.text.decode("utf-8")


def splice(target: Target, cand: Candidate) -> Spliced:
    """The file with the candidate in the function's place and its imports in the import
    block. Raises Rejected("scope") for anything else (another definition, top-level code)."""
    text = textwrap.dedent(cand.function.replace("\r\n", "\n")).strip("\n")
    if not text:
        raise Rejected("scope", "the answer had no function source")
    own = parse(text.encode("utf-8"))
    tops = [c for c in own.root_node.named_children if c.type != "comment"]
    old_name = target.qualname.rsplit(".", 1)[-1]
    if len(tops) != 1 or _definition(tops[0]) is None:
        kinds = ", ".join(c.type.replace("_", " ") for c in tops) or "nothing"
        raise Rejected(
            "scope",
            f"the replacement must be exactly one function definition, got: {kinds} "
            "(edits outside the function are not allowed)",
        )
    new_name = _name(_definition(tops[0]))  # type: ignore[arg-type]
    if new_name != old_name:
        raise Rejected("scope", f"the replacement defines {new_name!r}, not {old_name!r}")
    body = textwrap.indent(text, target.indent) if target.indent else text
    imports: list[str] = []
    for line in cand.imports:
        line = line.strip()
        if not line:
            continue
        parsed = parse(line.encode("utf-8")).root_node
        kids = parsed.named_children
        if (
            parsed.has_error
            or len(kids) != 1
            or kids[0].type not in ("import_statement", "import_from_statement")
        ):
            raise Rejected("scope", f"{line!r} is not a single import statement")
        if line not in target.source.decode("utf-8", "replace").splitlines():
            imports.append(line)
    src = target.source
    new_fn = body.encode("utf-8")
    before, after = src[: target.start_byte], src[target.end_byte :]
    if imports:
        point = import_insertion_point(FileContext(target.path, src))
        point = min(point, target.start_byte)
        block = ("\n".join(imports) + "\n").encode("utf-8")
        if point == 0 and src.startswith(b"#!"):
            point = src.find(b"\n") + 1
        before = src[:point] + block + src[point : target.start_byte]
    start = len(before)
    return Spliced(before + new_fn + after, start, start + len(new_fn), imports)


def find_ruff() -> str | None:
    """ruff beside our interpreter (installed with Megawatt's extras), else on PATH."""
    here = Path(sys.executable).parent / "ruff"
    return str(here) if here.exists() else shutil.which("ruff")


def _ruff(
    ruff: str, args: list[str], source: str, filename: str, cwd: Path
) -> subprocess.CompletedProcess[str]:
    # stdin, never the user's file; --stdin-filename lets the project's configuration apply
    return subprocess.run(
        [ruff, *args, "--stdin-filename", filename, "-"],
        input=source,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=30,
        check=False,
    )


def _ruff_findings(ruff: str, source: str, filename: str, cwd: Path, lines: range) -> Counter[str]:
    run = _ruff(
        ruff,
        ["check", "--no-fix", "--output-format", "json", "--exit-zero", "-q"],
        source,
        filename,
        cwd,
    )
    try:
        items = json.loads(run.stdout or "[]")
    except json.JSONDecodeError:
        raise Rejected("style", f"ruff check failed: {run.stderr.strip()[:200]}") from None
    return Counter(
        f"{i.get('code')}: {i.get('message')}"
        for i in items
        if i.get("location", {}).get("row") in lines
    )


def _imports_in(source: bytes) -> set[str]:
    tree = parse(source)
    found: set[str] = set()
    stack = [tree.root_node]
    while stack:
        n = stack.pop()
        if n.type == "import_statement":
            for c in n.named_children:
                name = c.child_by_field_name("name") if c.type == "aliased_import" else c
                if name is not None and name.text:
                    found.add(name.text.decode())
        elif n.type == "import_from_statement":
            mod = n.child_by_field_name("module_name")
            if mod is not None and mod.text:
                found.add(mod.text.decode())
        else:
            stack.extend(n.named_children)
    return found


def _calls_in(text: bytes) -> Counter[str]:
    return Counter(
        m.group(1)
        for m in re.finditer(rb"(?<![\w.])(\w+)\s*\(", text)
        if m.group(1).decode() in RISKY_CALLS
    )  # type: ignore[misc]


def _risky(module: str) -> bool:
    parts = module.split(".")
    return any(".".join(parts[: i + 1]) in RISKY_MODULES for i in range(len(parts)))


def static_checks(
    target: Target, spliced: Spliced, root: Path, ruff: str | None, select: list[str] | None = None
) -> list[str]:
    """Every guardrail short of running code, cheapest first. Returns what was verified
    (for the action's title); raises Rejected at the first failure."""
    verified: list[str] = []
    new = spliced.source
    tree = parse(new)
    errors = error_nodes(tree.root_node)
    if errors:
        e = errors[0]
        raise Rejected(
            "syntax",
            f"the new code does not parse: {'missing ' + e.type if e.is_missing else 'error'} "
            f"at line {e.start_point.row + 1}",
        )
    try:
        compile(new, target.path, "exec", dont_inherit=True)
    except SyntaxError as err:
        raise Rejected(
            "syntax", f"the new code does not compile: {err.msg} (line {err.lineno})"
        ) from None
    verified.append("syntax")
    old_text = target.source.decode("utf-8")
    new_text = new.decode("utf-8")
    before_imports, after_imports = _imports_in(target.source), _imports_in(new)
    risky = sorted(m for m in after_imports - before_imports if _risky(m))
    if risky:
        raise Rejected(
            "safety",
            f"the fix imports {', '.join(risky)} (network, process or file-system access) which "
            "the original file did not",
        )
    old_fn = target.source[target.start_byte : target.end_byte]
    fresh_calls = _calls_in(
        spliced.source[spliced.function_start : spliced.function_end]
    ) - _calls_in(old_fn)
    if fresh_calls:
        raise Rejected("safety", f"the fix adds calls to {', '.join(sorted(fresh_calls))}")
    if ruff is not None:
        filename = target.path
        fn_text = spliced.function_text
        formatted = _ruff(ruff, ["format", "-q"], textwrap.dedent(fn_text) + "\n", filename, root)
        if formatted.returncode != 0:
            raise Rejected("style", f"ruff format failed: {formatted.stderr.strip()[:200]}")
        if formatted.stdout.rstrip("\n") != textwrap.dedent(fn_text).rstrip("\n"):
            raise Rejected("style", "ruff format would change the new function")
        new_first = new[: spliced.function_start].count(b"\n") + 1
        new_last = new[: spliced.function_end].count(b"\n") + 1
        old_found = _ruff_findings(
            ruff, old_text, filename, root, range(target.first_line, target.end_line + 1)
        )
        new_found = _ruff_findings(ruff, new_text, filename, root, range(new_first, new_last + 1))
        added = new_found - old_found
        if added:
            raise Rejected(
                "style", "ruff check reports new problems: " + "; ".join(sorted(added)[:3])
            )
        verified.append("style")
    # the analyzer: the opportunity is gone, and nothing new appeared in the function
    f = target.finding
    new_ctx = FileContext(target.path, new, tree)
    after = analyze_context(new_ctx, select).findings
    in_new = [
        x for x in after if spliced.function_start <= x.span.start_byte < spliced.function_end
    ]
    old_ctx = FileContext(target.path, target.source)
    before = [
        x
        for x in analyze_context(old_ctx, select).findings
        if target.start_byte <= x.span.start_byte < target.end_byte
    ]
    if any(x.skill == f.skill for x in in_new) and len(
        [x for x in in_new if x.skill == f.skill]
    ) >= len([x for x in before if x.skill == f.skill]):
        raise Rejected("opportunity", f"the analyzer still reports {f.skill} in the function")
    new_skills = Counter(x.skill for x in in_new) - Counter(x.skill for x in before)
    if new_skills:
        raise Rejected(
            "opportunity", f"the fix brings new findings: {', '.join(sorted(new_skills))}"
        )
    verified.append("opportunity gone")
    return verified
