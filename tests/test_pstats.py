"""cProfile output, recorded by the real cProfile on the bundled example."""

from __future__ import annotations

import marshal
import pstats
import sys
from pathlib import Path

import pytest

from megawatt.errors import ProfileError
from megawatt.model import FunctionKind
from megawatt.profiles import load
from tests.conftest import EXAMPLE, run


def _def_line(name: str) -> int:
    for no, text in enumerate(EXAMPLE.read_text().splitlines(), 1):
        if text.startswith(f"def {name}("):
            return no
    raise AssertionError(name)


def test_same_ranking_as_stdlib_pstats(shop_pstats: Path, reference_top: list[str]) -> None:
    prof = load(shop_pstats)
    assert prof.format == "pstats" and prof.unit == "seconds"
    ours = [h.function for h in prof.top(10, kinds=[FunctionKind.USER]) if h.path == str(EXAMPLE)]
    assert ours[:5] == reference_top[:5]
    stats = pstats.Stats(str(shop_pstats))
    assert prof.total_weight == pytest.approx(stats.total_tt)  # type: ignore[attr-defined]


def test_figures_lines_calls_and_recursion(shop_pstats: Path) -> None:
    prof = load(shop_pstats)
    fid = prof.find(str(EXAMPLE), "edit_distance", _def_line("edit_distance"))
    assert fid is not None
    hot = prof.hot_function(fid)
    assert hot.kind is FunctionKind.USER
    assert hot.calls is not None and hot.calls > 100_000  # recursive calls are counted
    # recursion never inflates inclusive time beyond the whole run
    assert hot.self_time <= hot.total_time <= prof.total_weight
    callers = {prof.names[e.function] for e in prof.callers(fid)}
    assert "edit_distance" in callers and "<lambda>" in callers
    lam = prof.find(str(EXAMPLE), "<lambda>")
    assert lam is not None
    assert "min" in " ".join(prof.names[e.function] for e in prof.callers(lam))


def test_code_objects_cprofile_merges_never_push_a_share_past_the_whole(tmp_path: Path) -> None:
    """Code made from one text (as dataclasses make every `__init__`) shares one pstats key, so
    cProfile's file keeps one of them; the others' time is only in their callers' cumulative time.
    """
    script = tmp_path / "generated.py"
    script.write_text(
        "SOURCE = 'def work(n):\\n    t = 0\\n    for i in range(n):\\n        t += i\\n    return t\\n'\n"
        "workers = []\n"
        "for _ in range(5):\n"
        "    space = {}\n"
        "    exec(compile(SOURCE, '<generated>', 'exec'), space)\n"
        "    workers.append(space['work'])\n"
        "for work in workers:\n"
        "    work(200_000)\n"
    )
    out = tmp_path / "generated.pstats"
    run([sys.executable, "-m", "cProfile", "-o", str(out), str(script)])
    stats = pstats.Stats(str(out))
    module = stats.stats[(str(script), 1, "<module>")]  # type: ignore[attr-defined]
    assert module[3] > 2 * stats.total_tt  # type: ignore[attr-defined]  # four works lost
    prof = load(out)
    top = prof.hot_function(prof.find(str(script), "<module>", 1))  # type: ignore[arg-type]
    assert top.total_share == pytest.approx(1.0, abs=0.01)
    assert max(prof.share(float(w)) for w in prof.total_weight_of) <= 1.0


def test_builtins_are_kept_apart(shop_pstats: Path) -> None:
    prof = load(shop_pstats)
    kinds = {prof.names[f]: prof.kind(f) for f in range(len(prof))}
    assert kinds["<built-in method builtins.min>"] is FunctionKind.NATIVE
    assert kinds["deepcopy"] is FunctionKind.LIBRARY
    shown = {h.function for h in prof.top(50)}
    assert "<built-in method builtins.min>" not in shown


def test_profile_module_output_loads(tmp_path: Path) -> None:
    """The pure-Python `profile` module writes the same format with plain call counts."""
    out = tmp_path / "slow.out"
    script = tmp_path / "work.py"
    script.write_text(
        "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n\n"
        "def main():\n    return sum(fib(15) for _ in range(5))\n\nmain()\n"
    )
    run([sys.executable, "-m", "profile", "-o", str(out), str(script)])
    prof = load(out)
    top = prof.top(3)
    assert top[0].function == "fib" and top[0].line == 1
    assert top[0].calls == 5 * 1973  # fib(15) makes 1973 calls


# real recordings by other CPython versions (see the folder's README)
OTHER_PYTHONS = Path(__file__).parent / "fixtures" / "pstats"


@pytest.mark.parametrize("version", ["3.6", "3.12", "3.13"])
def test_pstats_from_other_python3_versions_load(version: str) -> None:
    prof = load(OTHER_PYTHONS / f"fib-python{version}.pstats")
    top = prof.top(1)[0]
    assert (top.function, top.line, top.calls) == ("fib", 1, 1973)


def test_pstats_from_python2_is_a_clear_error() -> None:
    out = OTHER_PYTHONS / "fib-python2.7.pstats"
    with pytest.raises(ProfileError) as info:
        load(out)
    assert str(out) in str(info.value) and "incompatible Python version" in str(info.value)


def test_unreadable_marshal_names_the_file_and_the_version(tmp_path: Path) -> None:
    bad = tmp_path / "future.prof"
    # a marshal type code this Python does not know, as a newer interpreter could write
    bad.write_bytes(b"\xfb" + b"\x01" * 16)
    with pytest.raises(ProfileError) as info:
        load(bad)
    message = str(info.value)
    assert str(bad) in message and "Python 3." in message and "pstats" in message


def test_truncated_pstats(shop_pstats: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.prof"
    cut.write_bytes(shop_pstats.read_bytes()[:500])
    with pytest.raises(ProfileError, match=r"cut\.prof: pstats data"):
        load(cut)


def test_marshalled_non_stats(tmp_path: Path) -> None:
    odd = tmp_path / "odd.prof"
    odd.write_bytes(marshal.dumps({"a": 1}))
    with pytest.raises(ProfileError, match=r"odd\.prof: pstats entry"):
        load(odd)
    empty = tmp_path / "empty.prof"
    empty.write_bytes(marshal.dumps({}))
    with pytest.raises(ProfileError, match="holds no functions"):
        load(empty)
