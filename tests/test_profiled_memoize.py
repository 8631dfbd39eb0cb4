"""A pure function the profile shows called very many times gets a memoize finding with the call
figures, recursive or not, wherever its callers live; impure look-alikes called as often, and
profiles without call counts, get none. Real cProfile and py-spy recordings of a real program."""

from __future__ import annotations

import json
import pstats
import shutil
import sys
from pathlib import Path

import pytest
from tree_sitter import Node

from megawatt.analyzers.context import FileContext
from megawatt.analyzers.detectors.memoize import Prover, purity_gate
from megawatt.analyzers.symbols import functions
from megawatt.config import load_settings
from megawatt.fixes.edits import apply_edits
from megawatt.profiled_memoize import MIN_CALLS, MIN_SHARE, profiled_memoize
from megawatt.profiles.project import load_project_profile
from megawatt.ranking import ProfileIndex
from megawatt.scanner import run_scan
from megawatt.tools import OpportunityInput, ToolContext, get_opportunity
from tests.conftest import BIN, run
from tests.test_cli_profile import megawatt

TEXTKIT = '''\
"""Text helpers shared by the report and the index."""

import time
import unicodedata
from dataclasses import dataclass

SEEN = []
STARTED = time.monotonic()


def normalize(word):
    """Fold case and accents and keep the letters: the key words are grouped by."""
    folded = unicodedata.normalize("NFKD", word.casefold())
    return "".join(ch for ch in folded if ch.isalpha())


def tally(word):
    """Count a word as seen, for the summary."""
    SEEN.append(word)
    return len(word)


def fresh(word):
    """Whether the text is still current (read within the hour)."""
    return bool(word) and time.monotonic() - STARTED < 3600


@dataclass
class Entry:
    word: str


def width(entry: Entry) -> int:
    """Pure, but of an object: a cache cannot hash an eq dataclass."""
    return len(entry.word)


def vowel_runs(word):
    """How many runs of vowels a word has (a rough syllable count), from its prefix's."""
    if not word:
        return 0
    rest = vowel_runs(word[:-1])
    starts = word[-1] in "aeiouy" and (len(word) == 1 or word[-2] not in "aeiouy")
    return rest + starts


class Shelf:
    def label(self, word):
        return word.upper()
'''
REPORT = '''\
"""Word counts of a text."""

from textkit import Entry, normalize, tally, width


def count_words(lines):
    counts = {}
    for line in lines:
        for word in line.split():
            tally(word)
            key = normalize(word)
            counts[key] = counts.get(key, 0) + 1
    return counts


def longest(lines):
    best = Entry("")
    for line in lines:
        for word in line.split():
            tally(word)
            entry = Entry(normalize(word))
            if width(entry) > width(best) or (width(entry) == width(best) and entry.word < best.word):
                best = entry
    return best.word
'''
INDEX = '''\
"""Where each word occurs."""

from textkit import fresh, normalize, tally, vowel_runs


def build_index(lines):
    where = {}
    for n, line in enumerate(lines):
        for word in line.split():
            tally(word)
            if fresh(word):
                key = normalize(word)
                where.setdefault(key, []).append((n, vowel_runs(key)))
    return where
'''
TOKENS = '''\
"""Tokens of a line, as a tokenizer hands them out."""

import itertools
from collections import deque


class Token:
    def __init__(self, kind, value):
        self.kind = kind
        self.value = value

    def match(self, kind, values):
        return self.kind == kind and self.value in values


def imt(token, kinds=None, m=None):
    """Whether a token is of one of `kinds` or matches one of the (kind, values) pairs `m`."""
    if kinds and token.kind in kinds:
        return True
    if m:
        if isinstance(m, list):
            if any(token.match(*pattern) for pattern in m):
                return True
        elif token.match(*m):
            return True
    return False


def consume(iterator, n):
    """Advance the iterator n steps."""
    deque(itertools.islice(iterator, n), maxlen=0)
'''
MAIN = '''\
"""A small text workload: the same words, counted, indexed and measured."""

import sys

from index import build_index
from report import count_words, longest
from textkit import SEEN
from tokens import Token, consume, imt

WORDS = ["Café", "naïve", "Élan", "RÉSUMÉ", "façade", "Crème", "brûlée", "jalapeño", "Über",
         "coöperate", "señor", "déjà-vu", "Smörgåsbord", "piñata", "Zoë", "Noël", "fiancée"]


def text(lines):
    out = []
    for n in range(lines):
        out.append(" ".join(WORDS[(n * 7 + k * 3) % len(WORDS)] for k in range(12)))
    return out


def keywords(lines):
    found = 0
    for line in lines:
        words = iter(line.split())
        for word in words:
            if imt(Token("word", word), m=[("word", ("Café", "Noël"))]):
                found += 1
                consume(words, 1)  # a keyword's argument is the word after it
    return found


def main(lines):
    body = text(lines)
    counts = count_words(body)
    where = build_index(body)
    print(sorted(counts.items()))
    print(longest(body))
    print({k: (len(v), sum(runs for _, runs in v)) for k, v in sorted(where.items())})
    print(len(SEEN), keywords(body))


main(int(sys.argv[1]))
'''
LINES = 3000  # 12 words a line: normalize() is called 3 × 36,000 times, tally() as often
CALLS = 3 * 12 * LINES
NORMALIZE_LINE = 11  # its `def`, in textkit.py
DISTINCT = 17  # distinct words: the calls a cache leaves


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("profiled_memoize")
    (root / "pyproject.toml").write_text("")
    for name, src in (
        ("textkit.py", TEXTKIT),
        ("report.py", REPORT),
        ("index.py", INDEX),
        ("tokens.py", TOKENS),
        ("main.py", MAIN),
    ):
        (root / name).write_text(src, encoding="utf-8")
    work = [str(root / "main.py"), str(LINES)]
    run([sys.executable, "-m", "cProfile", "-o", str(root / "work.pstats"), *work])
    run([str(BIN / "py-spy"), "record", "-r", "1000", "-f", "speedscope", "-o",
         str(root / "work.json"), "--", sys.executable, *work])  # fmt: skip
    return root


def scan(root: Path, profile: str, *extra: str) -> list[dict]:  # type: ignore[type-arg]
    proc = megawatt(
        "scan", ".", "--profile", profile, "--format", "json", "--no-cache", *extra, cwd=root
    )
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)["opportunities"]  # type: ignore[no-any-return]


def memoized(found: list[dict]) -> list[str]:  # type: ignore[type-arg]
    return sorted(o["function"] for o in found if o["skill"] == "memoize")


def test_a_pure_helper_called_very_often_from_two_modules_gets_a_memoize_finding(
    project: Path,
) -> None:
    found = scan(project, "work.pstats")
    assert memoized(found) == ["normalize", "vowel_runs"]
    (memo,) = [o for o in found if o["skill"] == "memoize" and o["function"] == "normalize"]
    assert memo["line"] == NORMALIZE_LINE, memo
    assert memo["path"].endswith("textkit.py")
    message = memo["message"]
    assert f"normalize() is called {CALLS:,} times from 3 callers in 2 files" in message, message
    assert "% of the run" in message and "pure: " in message
    assert "the profile cannot tell how often they do" in message
    evidence = memo["evidence"]
    assert evidence["profile_calls"] == f"{CALLS:,}"
    callers = evidence["callers"]
    for caller in ("count_words (report.py)", "longest (report.py)", "build_index (index.py)"):
        assert f"{caller}: {CALLS // 3:,}" in callers, callers
    assert memo["fixable"] and memo["confidence"] < 0.25  # below every static memoize finding
    # the estimate says it cannot know the hit rate: half the function's time, marked rough
    assert memo["savings_method"] == "function" and memo["savings_evidence"].startswith("rough: ")
    share = float(evidence["inclusive_share"].split("%", 1)[0]) / 100
    assert memo["estimated_savings"] == pytest.approx(share * 0.9 * 0.5, abs=0.002)
    # with a memoize finding it is no hot spot with no known pattern
    assert not [o for o in found if o["skill"] == "hot-spot" and o["function"] == "normalize"]


def test_a_recursive_one_counts_its_calls_from_outside(project: Path) -> None:
    """vowel_runs(word[:-1]) recurses once per level: the static detector leaves it alone (no
    overlap in the source, no loop calling it in its file); the profile shows it called from
    index.py once per word, with words that repeat."""
    (memo,) = [o for o in scan(project, "work.pstats") if o["function"] == "vowel_runs"]
    assert memo["skill"] == "memoize"
    assert (
        f"({CALLS // 3:,} from outside, the rest by its own recursion) from 1 caller"
        in (memo["message"])
    ), memo["message"]
    assert "pure: recursive, " in memo["message"]
    assert memo["evidence"]["recursive_calls"] == "1"


def test_impure_helpers_called_as_often_get_none(project: Path) -> None:
    prof = pstats.Stats(str(project / "work.pstats"))
    figures = {
        name: (nc, ct / prof.total_tt)  # type: ignore[attr-defined]
        for (path, _line, name), (_cc, nc, _tt, ct, _callers) in prof.stats.items()  # type: ignore[attr-defined]
        if path.endswith(("textkit.py", "tokens.py"))
    }
    # called as often, as large a part of the run
    for name in ("tally", "fresh", "width", "imt"):
        calls, share = figures[name]
        assert calls >= MIN_CALLS and share >= MIN_SHARE, (name, figures[name])
    # tally appends to a global list, fresh reads the clock: a cache would change the program;
    # width is pure but takes an eq dataclass, which a cache cannot hash
    assert memoized(scan(project, "work.pstats")) == ["normalize", "vowel_runs"]
    ctx = FileContext(str(project / "textkit.py"), TEXTKIT.encode())
    prover = Prover(ctx)
    gates = {
        ctx.qualname(fn): purity_gate(ctx, prover, fn)
        for fn in _defs(ctx)  # every def of the module, whatever the static detector says
    }
    assert gates["normalize"].passed and gates["normalize"].params == {"word": "unknown"}
    assert gates["tally"].reason == "changes module-level SEEN (.append())"
    assert gates["fresh"].reason == "calls time.monotonic"
    assert gates["Shelf.label"].reason.startswith("is an instance method")
    assert gates["width"].passed  # refused for its `entry: Entry` parameter, not by the gate


def test_effects_the_gate_cannot_see_are_refused(project: Path) -> None:
    """imt (sqlparse's shape) calls a method of the token it is given and takes lists; consume
    advances the iterator it is given and returns nothing. The purity gate passes both; from
    call counts alone, with no evidence of repeated arguments, they are refused, even with the
    thresholds down to nothing. The same call on textkit.py still finds normalize."""
    root = project.resolve()
    settings, _ = load_settings(root)
    loaded = load_project_profile(root, settings, [root / "work.pstats"])
    assert loaded.profile is not None
    index = ProfileIndex(loaded.profile)

    def found(name: str) -> list[str]:
        path = root / name
        source = path.read_bytes()
        ctx = FileContext(str(path), source)
        defs = functions(ctx.tree, ctx.defs_matches)
        made = profiled_memoize(str(path), source, defs, index, [], min_calls=1000, min_share=0)
        return sorted(f.function or "" for f in made)

    ctx = FileContext(str(root / "tokens.py"), TOKENS.encode())
    prover = Prover(ctx)
    assert all(
        purity_gate(ctx, prover, fn).passed
        for fn in _defs(ctx)
        if ctx.qualname(fn) in ("imt", "consume")
    )
    assert found("tokens.py") == []
    assert found("textkit.py") == ["normalize", "vowel_runs"]


def test_only_call_counts_make_it(project: Path) -> None:
    """py-spy samples stacks and counts no calls: how often a function runs is unknown, so the
    same program, sampled, gets no profiled memoize finding (and normalize shows as hot)."""
    assert memoized(scan(project, "work.pstats")) == ["normalize", "vowel_runs"]
    sampled = scan(project, "work.json")
    assert memoized(sampled) == [], sampled


def test_selection_applies(project: Path) -> None:
    assert memoized(scan(project, "work.pstats", "--ignore", "memoize")) == []
    only = scan(project, "work.pstats", "--select", "memoize")
    assert sorted((o["skill"], o["function"]) for o in only) == [
        ("memoize", "normalize"),
        ("memoize", "vowel_runs"),
    ]


def test_the_unsafe_fix_keeps_the_output_and_cuts_the_calls(project: Path, tmp_path: Path) -> None:
    root = project.resolve()
    settings, _ = load_settings(root)
    report = run_scan([root], root, settings, [root / "work.pstats"], select=["memoize"])
    fixes = {o.finding.function: o.finding.fix for o in report.opportunities}
    assert sorted(fixes) == ["normalize", "vowel_runs"]
    for name, fix in fixes.items():
        assert fix is not None and not fix.safe
        # bounded, recursive or not: nothing bounds the distinct arguments of a run
        assert fix.title == f"Memoize {name}() with functools.lru_cache"
        assert "cannot tell how often the arguments repeat" in (fix.note or ""), fix.note
        assert "only adds hashing, a lookup and memory" in (fix.note or "")
    assert "recursion limit" in (fixes["vowel_runs"].note or "")  # one call per level

    # differential: the program before and after both fixes prints the same
    after = tmp_path / "after"
    shutil.copytree(root, after)
    target = after / "textkit.py"
    edits = [*fixes["normalize"].edits]  # type: ignore[union-attr]
    # the second fix's own `import functools` is the first's
    edits += [e for e in fixes["vowel_runs"].edits if "import" not in e.text]  # type: ignore[union-attr]
    target.write_bytes(apply_edits(target.read_bytes(), edits))
    fixed = target.read_text()
    assert fixed.count("import functools\n") == 1
    assert "@functools.lru_cache(maxsize=1024)\ndef normalize(word):" in fixed
    assert "@functools.lru_cache(maxsize=1024)\ndef vowel_runs(word):" in fixed
    before_out = run([sys.executable, str(root / "main.py"), str(LINES)]).stdout
    after_out = run([sys.executable, str(after / "main.py"), str(LINES)]).stdout
    assert after_out == before_out and before_out.strip()
    # and the body now runs once per distinct word
    run([sys.executable, "-m", "cProfile", "-o", str(after / "fixed.pstats"),
         str(after / "main.py"), str(LINES)])  # fmt: skip
    stats = pstats.Stats(str(after / "fixed.pstats")).stats  # type: ignore[attr-defined]
    calls = {k[2]: v[1] for k, v in stats.items() if k[0] == str(target)}
    assert calls["normalize"] == DISTINCT
    # once per distinct prefix of the 17 folded words, against 245,000 calls before
    assert calls["vowel_runs"] < 200, calls


def test_the_agents_tool_offers_it(project: Path) -> None:
    ctx = ToolContext.for_root(project, [project / "work.pstats"])
    out = get_opportunity(ctx, OpportunityInput(path="textkit.py", line=NORMALIZE_LINE + 2))
    memo = [o for o in out.opportunities if o.skill == "memoize"]
    assert len(memo) == 1, out
    assert memo[0].evidence["profile_calls"] == f"{CALLS:,}"
    assert memo[0].fix is not None and not memo[0].fix.safe
    assert not [o for o in out.opportunities if o.skill == "hot-spot"]
    asked = get_opportunity(
        ctx, OpportunityInput(path="textkit.py", line=NORMALIZE_LINE, skill="memoize")
    )
    assert [o.skill for o in asked.opportunities] == ["memoize"]


def _defs(ctx: FileContext) -> list[Node]:
    found: list[Node] = []
    stack = [ctx.tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "function_definition":
            found.append(node)
        stack.extend(node.named_children)
    return found


def test_the_editor_shows_it_and_offers_the_fix(project: Path) -> None:
    """The language server's analysis of the open file (server/analysis.py) against the same
    recording: a memoize diagnostic with the call figures, no hot spot on the function, and the
    quick fix its code action computes is the unsafe memoize rewrite."""
    from megawatt.fixes.deterministic import fix_for
    from megawatt.server.analysis import analyze_snapshot
    from megawatt.server.session import FolderState, Snapshot
    from megawatt.skills import load_skills

    root = project.resolve()
    settings, _ = load_settings(root)
    loaded = load_project_profile(root, settings, [root / "work.pstats"])
    assert loaded.profile is not None
    folder = FolderState(root, settings, profile=loaded.profile, index=ProfileIndex(loaded.profile))
    path = root / "textkit.py"
    source = path.read_bytes()
    snap = Snapshot(path.as_uri(), str(path), 1, source, None, folder, "utf-16")
    analysis = analyze_snapshot(snap)
    memos = {f.function: f for f in analysis.findings if f.skill == "memoize"}
    assert sorted(memos) == ["normalize", "vowel_runs"]
    memo = memos["normalize"]
    assert memo.span.line == NORMALIZE_LINE
    assert not [f for f in analysis.findings if f.skill == "hot-spot" and f.function == "normalize"]
    (diag,) = [
        d
        for d in analysis.diagnostics
        if d.get("code") == "memoize" and d["range"]["start"]["line"] == NORMALIZE_LINE - 1
    ]
    assert f"called {CALLS:,} times from 3 callers in 2 files" in diag["message"], diag
    fix = fix_for(FileContext(str(path), source), memo, load_skills(root))
    assert fix is not None and not fix.safe and "call counts" in (fix.note or "")
