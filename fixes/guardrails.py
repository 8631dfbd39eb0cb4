"""The cheap guardrails an AI candidate passes before anything runs: each stage a function, run
cheapest first, the first failure ending the candidate with the reason the user (and the model,
on the retry) is told.

The candidate is a replacement for one function plus import lines; it is spliced in at the
function's place, so "the edit stays inside the function and the import block" holds by
construction once the replacement is shown to be exactly one definition of the same name.
"""

from __future__ import annotations

import difflib
import json
import shutil
import subprocess
import sys
import textwrap
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tree_sitter import Node

from megawatt.analyzers.context import FileContext
from megawatt.analyzers.engine import analyze_context
from megawatt.analyzers.parsing import error_nodes, parse
from megawatt.fixes.allowlist import (
    Problem,
    check_candidate,
    check_imports,
    check_signature,
    skill_allowlist,
)
from megawatt.fixes.edits import import_insertion_point
from megawatt.model import Finding
from megawatt.skills.model import Skill

__all__ = [
    "NO_FORMATTER",
    "Candidate",
    "FormatPolicy",
    "Rejected",
    "Spliced",
    "Target",
    "find_ruff",
    "format_policy",
    "locate_function",
    "ruff_findings",
    "splice",
    "static_checks",
]


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


_FIND = "find"  # splice's default: look for ruff beside the interpreter


def splice(
    target: Target, cand: Candidate, *, ruff: str | None = _FIND, root: Path | None = None
) -> Spliced:
    """The file with the candidate in the function's place and its imports in the import
    block, in the order the project's isort settings want when the block was sorted before.
    Raises Rejected("scope") for anything else (another definition, top-level code)."""
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
    spliced = Spliced(before + new_fn + after, start, start + len(new_fn), imports)
    if imports:
        tool = find_ruff() if ruff == _FIND else ruff
        if tool is not None:
            cwd = root if root is not None else Path(target.path).parent
            return _sort_imports(tool, target, spliced, cwd if cwd.is_dir() else Path.cwd())
    return spliced


def _sort_imports(ruff: str, target: Target, spliced: Spliced, cwd: Path) -> Spliced:
    """The spliced file with its import block sorted by ruff's isort rule (I001), if the
    original passed I001; otherwise as it was. Only the import block above the function
    changes, so the function keeps its distance from the end of the file."""
    try:
        before = _ruff(
            ruff,
            ["check", "--select", "I001", "--no-fix", "--output-format", "json", "--exit-zero"],
            target.source.decode("utf-8"),
            target.path,
            cwd,
        )
        if json.loads(before.stdout or "[]"):
            return spliced  # the project does not keep this block sorted
        fixed = _ruff(
            ruff,
            ["check", "--select", "I001", "--fix", "--exit-zero", "-q"],
            spliced.source.decode("utf-8"),
            target.path,
            cwd,
        )
    except (OSError, subprocess.SubprocessError, json.JSONDecodeError, UnicodeDecodeError):
        return spliced
    if fixed.returncode != 0 or not fixed.stdout:
        return spliced
    text = fixed.stdout.encode("utf-8")
    tail = len(spliced.source) - spliced.function_end
    end = len(text) - tail
    start = end - (spliced.function_end - spliced.function_start)
    if (
        start < 0
        or text[start:end] != spliced.source[spliced.function_start : spliced.function_end]
    ):
        return spliced  # the sort reached past the import block: keep the unsorted text
    if text[end:] != spliced.source[spliced.function_end :]:
        return spliced
    return Spliced(text, start, end, spliced.added_imports)


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


RuffFinding = tuple[int, int, str]  # first and last line (1-based), "CODE: message"


def ruff_findings(ruff: str, source: str, filename: str, cwd: Path) -> list[RuffFinding]:
    """What `ruff check` reports on `source`, with the project's configuration (ruff reads it
    from cwd and the filename), never fixing anything. Raises Rejected when ruff fails."""
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
    found: list[RuffFinding] = []
    for i in items:
        first = i.get("location", {}).get("row")
        last = i.get("end_location", {}).get("row", first)
        if isinstance(first, int):
            last = last if isinstance(last, int) and last >= first else first
            found.append((first, last, f"{i.get('code')}: {i.get('message')}"))
    return found


def _ruff_findings(
    ruff: str, source: str, filename: str, cwd: Path, lines: set[int]
) -> Counter[str]:
    return Counter(
        text for first, _, text in ruff_findings(ruff, source, filename, cwd) if first in lines
    )


# -- style ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FormatPolicy:
    """How the project formats: the extra ruff-format arguments, whether formatting is enforced
    on the touched lines, and what to tell the user about it."""

    args: tuple[str, ...] = ()
    enforced: bool = True
    note: str = ""


NO_FORMATTER = "format not checked: the project configures no formatter"


def format_policy(root: Path, path: str) -> FormatPolicy:
    """The formatter configuration nearest the file (as ruff finds it), up to the workspace."""
    here = Path(path).parent
    try:
        here.resolve().relative_to(root.resolve())
    except ValueError:
        here = root
    for folder in (here, *here.parents):
        if (folder / "ruff.toml").is_file() or (folder / ".ruff.toml").is_file():
            return FormatPolicy()
        project = folder / "pyproject.toml"
        if project.is_file():
            try:
                tool = tomllib.loads(project.read_text(encoding="utf-8")).get("tool", {})
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                tool = {}
            black, ruff = tool.get("black"), tool.get("ruff")
            if isinstance(black, dict) and not (isinstance(ruff, dict) and "format" in ruff):
                return _black_policy(
                    black, line_length_set=isinstance(ruff, dict) and "line-length" in ruff
                )
            if isinstance(ruff, dict):
                return FormatPolicy()
        if folder.resolve() == root.resolve():
            break
    # spacing inside a line is the one thing every style agrees on, so that still counts
    return FormatPolicy(enforced=False, note=NO_FORMATTER)


def _black_policy(black: dict[str, object], line_length_set: bool) -> FormatPolicy:
    # ruff format is black-compatible by design: black's own options, mapped, are close enough
    args: list[str] = []
    length = black.get("line-length", black.get("line_length"))
    if isinstance(length, int) and not line_length_set:
        args += ["--line-length", str(length)]
    if black.get("skip-string-normalization") or black.get("skip_string_normalization"):
        args += ["--config", 'format.quote-style = "preserve"']
    if black.get("skip-magic-trailing-comma") or black.get("skip_magic_trailing_comma"):
        args += ["--config", "format.skip-magic-trailing-comma = true"]
    return FormatPolicy(
        tuple(args), note="format checked with ruff format, black-compatible ([tool.black])"
    )


def _format(ruff: str, text: str, filename: str, cwd: Path, policy: FormatPolicy) -> str | None:
    run = _ruff(ruff, ["format", "-q", *policy.args], text, filename, cwd)
    return run.stdout if run.returncode == 0 else None


def _changed_lines(old: list[str], new: list[str]) -> set[int]:
    """1-based lines of `new` that are not in `old` (difflib, common ends trimmed first)."""
    head = 0
    while head < min(len(old), len(new)) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    a, b = old[head : len(old) - tail], new[head : len(new) - tail]
    touched: set[int] = set()
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, _i1, _i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            touched.update(range(head + j1 + 1, head + j2 + 1))
    return touched


Hunk = tuple[int, int, tuple[str, ...], tuple[str, ...]]  # new-file lines [i1, i2), was, wanted


def _formatter_hunks(text: str, formatted: str) -> list[Hunk]:
    """What the formatter changes, line by line where it can tell: difflib merges neighbouring
    changes into one block, so each block is split again comparing lines without whitespace
    (a respaced line then stands alone beside a rewrapped one)."""
    lines, wanted = text.splitlines(), formatted.splitlines()
    hunks: list[Hunk] = []
    matcher = difflib.SequenceMatcher(None, lines, wanted, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        a = ["".join(x.split()) for x in lines[i1:i2]]
        b = ["".join(x.split()) for x in wanted[j1:j2]]
        inner = difflib.SequenceMatcher(None, a, b, autojunk=False)
        for _t, k1, k2, m1, m2 in inner.get_opcodes():
            if _t == "equal":  # whitespace only: one hunk per line, unchanged ones dropped
                for k, m in zip(range(k1, k2), range(m1, m2), strict=True):
                    if lines[i1 + k] != wanted[j1 + m]:
                        hunks.append((i1 + k, i1 + k + 1, (lines[i1 + k],), (wanted[j1 + m],)))
            else:
                hunks.append(
                    (
                        i1 + k1,
                        i1 + k2,
                        tuple(lines[i1 + k1 : i1 + k2]),
                        tuple(wanted[j1 + m1 : j1 + m2]),
                    )
                )
    return hunks


def _spacing_only(hunk: Hunk) -> bool:
    """The formatter only changes spaces inside lines (not indentation, quotes or wrapping)."""
    _, _, was, wanted = hunk
    if len(was) != len(wanted):
        return False
    return all(
        a[: len(a) - len(a.lstrip())] == b[: len(b) - len(b.lstrip())]
        and "".join(a.split()) == "".join(b.split())
        for a, b in zip(was, wanted, strict=True)
    )


def _hunk_lines(hunk: Hunk) -> set[int]:
    i1, i2, _, _ = hunk
    # an insertion sits between two lines: both neighbours count
    return set(range(i1 + 1, i2 + 1)) if i2 > i1 else {i1, i1 + 1}


def _wanted_diff(hunks: list[Hunk], limit: int = 20) -> str:
    out: list[str] = []
    for i1, _i2, was, wanted in hunks:
        out.append(f"@@ line {i1 + 1} @@")
        out += [f"-{line}" for line in was] + [f"+{line}" for line in wanted]
    if len(out) > limit:
        out = [*out[:limit], f"… ({len(out) - limit} more diff lines)"]
    return "\n".join(out)


def _style(target: Target, spliced: Spliced, root: Path, ruff: str, notes: list[str]) -> None:
    """No formatter change and no new lint finding on the lines the fix touched, with the
    project's own configuration (ruff reads it from cwd and --stdin-filename)."""
    filename = target.path
    old_text, new_text = target.source.decode("utf-8"), spliced.source.decode("utf-8")
    old_lines, new_lines = old_text.splitlines(), new_text.splitlines()
    touched = _changed_lines(old_lines, new_lines)
    policy = format_policy(root, filename)
    if policy.note:
        notes.append(policy.note)
    formatted_new = _format(ruff, new_text, filename, root, policy)
    if formatted_new is None:
        raise Rejected("style", "ruff format could not format the new file")
    formatted_old = _format(ruff, old_text, filename, root, policy)
    # the formatter's wishes the original already had are not the fix's doing
    known = (
        {(was, wanted) for _, _, was, wanted in _formatter_hunks(old_text, formatted_old)}
        if formatted_old is not None
        else set()
    )
    bad = [
        h
        for h in _formatter_hunks(new_text, formatted_new)
        if (h[2], h[3]) not in known
        and _hunk_lines(h) & touched
        and (policy.enforced or _spacing_only(h))
    ]
    if bad:
        what = (
            "the lines the fix touched"
            if policy.enforced
            else "the spacing inside lines the fix touched (the project configures no "
            "formatter, so only spacing is checked)"
        )
        raise Rejected("style", f"ruff format would change {what}; it wants:\n{_wanted_diff(bad)}")
    old_fn_lines = set(range(target.first_line, target.end_line + 1))
    old_side = _changed_lines(new_lines, old_lines)  # lines of the original the fix replaced
    old_found = _ruff_findings(ruff, old_text, filename, root, old_fn_lines | old_side)
    new_found = _ruff_findings(ruff, new_text, filename, root, touched)
    added = new_found - old_found
    if added:
        raise Rejected("style", "ruff check reports new problems: " + "; ".join(sorted(added)[:3]))


# -- safety ---------------------------------------------------------------------------------------


def _is_method(target: Target) -> bool:
    """The target is defined directly in a class body (its first parameter is the instance)."""
    tree = parse(target.source)
    node = tree.root_node.descendant_for_byte_range(
        target.finding.span.start_byte, target.finding.span.start_byte
    )
    while node is not None and node.type != "function_definition":
        node = node.parent
    if node is None:
        return False
    up = node.parent
    if up is not None and up.type == "decorated_definition":
        up = up.parent
    return (
        up is not None
        and up.type == "block"
        and getattr(up.parent, "type", "") == "class_definition"
    )


def _safety(target: Target, spliced: Spliced, skill: Skill | None) -> None:
    """The allowlist and the signature, before anything runs."""
    allow = skill_allowlist(target.finding.skill, skill)
    original = target.source[target.start_byte : target.end_byte].decode("utf-8")
    candidate = spliced.function_text
    module = spliced.source.decode("utf-8")
    old_module = target.source.decode("utf-8", "replace")
    problems: list[Problem] = check_imports(spliced.added_imports, original, old_module, allow)
    problems += check_signature(candidate, original, allow, module)
    problems += check_candidate(candidate, original, module, allow, is_method=_is_method(target))
    if problems:
        first, rest = str(problems[0]), [str(p) for p in problems[1:3]]
        more = f"; also: {'; '.join(rest)}" if rest else ""
        extras = ", ".join(allow.extras()) or "nothing more"
        raise Rejected(
            "safety",
            f"{first}{more}. A fix may use what the original function uses, names it defines "
            f"itself, side-effect-free builtins and, for this skill: {extras}.",
        )


def static_checks(
    target: Target,
    spliced: Spliced,
    root: Path,
    ruff: str | None,
    select: list[str] | None = None,
    *,
    skill: Skill | None = None,
    notes: list[str] | None = None,
) -> list[str]:
    """Every guardrail short of running code, cheapest first. Returns what was verified
    (for the action's title); raises Rejected at the first failure.

    `skill` is the skill in effect (a project's own one may narrow the built-in allowlist, never
    widen it); without it the built-in skill of the finding decides. What the user should know
    but was not verified ("format not checked: …") goes to `notes`."""
    sink = notes if notes is not None else []
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
    _safety(target, spliced, skill)
    if ruff is not None:
        _style(target, spliced, root, ruff, sink)
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
