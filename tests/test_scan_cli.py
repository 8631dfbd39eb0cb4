"""`megawatt scan`, `fix` and `skills` as a user runs them: real processes on real files."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.test_cli_profile import megawatt

SEL = ["--select", "any-all-materialized"]
HOT = """
def slow(xs):
    total = 0
    for _ in range(300):
        total += any([x > 10**9 for x in xs])
    return total


def cold(xs):
    return all([x >= 0 for x in xs])


slow(list(range(2000)))
cold([1, 2])
"""


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[tool.megawatt]\n")
    (tmp_path / "app.py").write_text(HOT)
    (tmp_path / "other.py").write_text("def f(xs):\n    return any([x for x in xs])\n")
    (tmp_path / "clean.py").write_text("def g(xs):\n    return any(x for x in xs)\n")
    return tmp_path


def _json(proc: subprocess.CompletedProcess[str]) -> dict:  # type: ignore[type-arg]
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def test_json_document_and_exit_codes(project: Path, tmp_path: Path) -> None:
    proc = megawatt("scan", str(project), "--format", "json", "--no-cache", *SEL, cwd=project)
    assert proc.returncode == 1  # findings
    doc = _json(proc)
    assert {"hot_functions", "opportunities"} <= set(doc)
    opp = doc["opportunities"][0]
    for key in ("skill", "path", "line", "end_line", "column", "end_column", "function",
                "message", "confidence", "estimated_savings"):  # fmt: skip
        assert key in opp
    assert {(Path(o["path"]).name, o["line"]) for o in doc["opportunities"]} == {
        ("app.py", 5), ("app.py", 10), ("other.py", 2)
    }  # fmt: skip
    clean = megawatt("scan", str(project / "clean.py"), "--no-cache", *SEL, cwd=project)
    assert clean.returncode == 0, clean.stderr
    bad = megawatt("scan", str(project), "--select", "no-such-skill", cwd=project)
    assert (
        bad.returncode == 2 and "unknown skill id" in bad.stderr and "Traceback" not in bad.stderr
    )
    missing = megawatt("scan", str(project / "nope.py"), "--no-cache", cwd=project)
    assert missing.returncode == 2 and "no such file" in missing.stderr


def test_profile_ranks_hot_code_first(project: Path) -> None:
    prof = project / "run.pstats"
    subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", str(prof), "app.py"], cwd=project, check=True
    )
    doc = _json(megawatt("scan", str(project), "--profile", str(prof), "--format", "json",
                         "--no-cache", *SEL, cwd=project))  # fmt: skip
    opps = doc["opportunities"]
    assert [o["function"] for o in opps] == ["slow", "cold", "f"]
    assert opps[0]["function_share"] > 0.5 and opps[0]["estimated_savings"] > 0
    # other.py never ran: it ranks below every profiled finding
    assert opps[-1]["estimated_savings"] == 0
    assert any(h["function"] == "slow" for h in doc["hot_functions"])
    text = megawatt("scan", str(project), "--profile", str(prof), "--format", "full",
                    "--no-cache", *SEL, cwd=project)  # fmt: skip
    assert "Hot functions" in text.stdout and "slow" in text.stdout
    assert "saves" in text.stdout.splitlines()[-4].split()  # the ranking figure's header
    # piped: the hot functions and the savings on `path:line` lines too
    lines = megawatt("scan", str(project), "--profile", str(prof), "--no-cache", *SEL,
                     cwd=project).stdout.splitlines()  # fmt: skip
    assert any(line.startswith("app.py:2: hot: slow ") for line in lines), lines
    # the savings with what they were read from
    assert lines[-3].startswith("app.py:5:") and " (saves " in lines[-3], lines
    assert lines[-3].endswith(")") and " of the run" in lines[-3], lines


def test_sarif_is_well_formed(project: Path) -> None:
    doc = _json(
        megawatt("scan", str(project), "--format", "sarif", "--no-cache", *SEL, cwd=project)
    )
    assert doc["version"] == "2.1.0"
    run = doc["runs"][0]
    rules = {r["id"]: i for i, r in enumerate(run["tool"]["driver"]["rules"])}
    assert "any-all-materialized" in rules
    for result in run["results"]:
        assert result["ruleIndex"] == rules[result["ruleId"]]
        loc = result["locations"][0]["physicalLocation"]
        assert not loc["artifactLocation"]["uri"].startswith("/")
        assert loc["region"]["startLine"] >= 1 and loc["region"]["startColumn"] >= 1
        assert result["level"] in ("note", "warning", "error")


def test_cache_is_used_and_invalidated(project: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    args = ["scan", str(project), "--format", "json", "--cache-dir", str(cache), *SEL]
    first = _json(megawatt(*args, cwd=project))
    assert list(cache.glob("scan-*.pickle"))
    second = megawatt(*args, cwd=project)
    assert _json(second)["opportunities"] == first["opportunities"]
    text = megawatt("scan", str(project), "--cache-dir", str(cache), *SEL, cwd=project)
    assert "3 from cache" in text.stderr
    (project / "other.py").write_text("def f(xs):\n    return 1\n")
    third = _json(megawatt(*args, cwd=project))
    assert len(third["opportunities"]) == 2
    cleared = megawatt(
        "scan", str(project), "--cache-dir", str(cache), "--clear-cache", *SEL, cwd=project
    )
    assert "removed 1 cache file" in cleared.stderr and "from cache" not in cleared.stderr


def test_gitignore_and_virtualenvs_are_skipped(project: Path) -> None:
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    (project / ".gitignore").write_text("generated/\n")
    for folder in ("generated", "env/lib", "build"):
        (project / folder).mkdir(parents=True)
        (project / folder / "x.py").write_text("def h(xs):\n    return any([x for x in xs])\n")
    (project / "env" / "pyvenv.cfg").write_text("home = /usr\n")
    doc = _json(megawatt("scan", str(project), "--format", "json", "--no-cache", *SEL, cwd=project))
    names = {str(Path(o["path"]).relative_to(project.resolve())) for o in doc["opportunities"]}
    assert "generated/x.py" not in names
    assert "build/x.py" in names  # not ignored by anything
    # a folder git ignores is still scanned when the user names it
    named = _json(megawatt("scan", str(project / "generated"), "--format", "json", "--no-cache", *SEL,
                           cwd=project))  # fmt: skip
    assert [Path(o["path"]).name for o in named["opportunities"]] == ["x.py"]
    # outside git, the walk skips virtualenvs by their pyvenv.cfg
    subprocess.run(["rm", "-rf", str(project / ".git")], check=True)
    doc = _json(megawatt("scan", str(project), "--format", "json", "--no-cache", *SEL, cwd=project))
    names = {str(Path(o["path"]).relative_to(project.resolve())) for o in doc["opportunities"]}
    assert "env/lib/x.py" not in names and "build/x.py" in names


def test_fix_previews_then_writes(project: Path) -> None:
    target = project / "other.py"
    preview = megawatt("fix", str(target), *SEL, cwd=project)
    assert preview.returncode == 1
    assert "-    return any([x for x in xs])" in preview.stdout
    assert "+    return any(x for x in xs)" in preview.stdout
    assert target.read_text() == "def f(xs):\n    return any([x for x in xs])\n"  # untouched
    wrote = megawatt("fix", str(target), "--write", *SEL, cwd=project)
    assert wrote.returncode == 0, wrote.stderr
    assert target.read_text() == "def f(xs):\n    return any(x for x in xs)\n"
    again = megawatt("fix", str(target), *SEL, cwd=project)
    assert again.returncode == 0 and again.stdout == ""


def test_fix_leaves_unsafe_rewrites_unless_asked(tmp_path: Path) -> None:
    target = tmp_path / "side.py"
    original = "def f(xs):\n    return any([g(x) for x in xs])\n"
    target.write_text(original)
    assert megawatt("fix", str(target), "--write", *SEL, cwd=tmp_path).returncode == 0
    assert target.read_text() == original
    assert megawatt("fix", str(target), "--write", "--unsafe", *SEL, cwd=tmp_path).returncode == 0
    assert target.read_text() == "def f(xs):\n    return any(g(x) for x in xs)\n"


def test_skills_list_and_show() -> None:
    listed = megawatt("skills", "list")
    assert listed.returncode == 0, listed.stderr
    assert "any-all-materialized" in listed.stdout
    shown = megawatt("skills", "show", "any-all-materialized")
    assert shown.stdout.startswith("---\nname: any-all-materialized")
    missing = megawatt("skills", "show", "nope")
    assert missing.returncode == 2 and "no skill 'nope'" in missing.stderr


def test_project_skills_override_extend_and_errors(tmp_path: Path) -> None:
    from megawatt.skills import load_skills

    skills_dir = tmp_path / ".megawatt" / "skills"
    good = skills_dir / "any-all-materialized"
    good.mkdir(parents=True)
    good.joinpath("SKILL.md").write_text(
        textwrap.dedent("""\
        ---
        name: any-all-materialized
        description: Our team's rules for any/all.
        trigger: any-all-materialized
        fix: {recipe: "as the built-in"}
        expected_gain: 0.5
        mode: extend
        ---
        In this codebase predicates are always pure.
        """)
    )
    bad = skills_dir / "broken"
    bad.mkdir()
    bad.joinpath("SKILL.md").write_text("---\nname: broken\ndescription: x\nfix: {recipe: r}\n"
                                        "expected_gain: 2\n---\nbody\n")  # fmt: skip
    found = load_skills(tmp_path)
    skill = found.get("any-all-materialized")
    assert skill is not None
    assert skill.expected_gain == 0.3  # `extend` adds guidance; the built-in's keys stand
    assert "always pure" in skill.body and "When it hurts" in skill.body
    assert len(found.errors) == 1
    assert str(bad / "SKILL.md") in found.errors[0]
    assert "key 'trigger'" in found.errors[0] and "key 'expected_gain'" in found.errors[0]
    assert set(found.skills) == set(load_skills(None).skills)  # every other skill still loads
    good.joinpath("SKILL.md").write_text(
        good.joinpath("SKILL.md").read_text().replace("mode: extend", "mode: override")
    )
    replaced = load_skills(tmp_path).get("any-all-materialized")
    assert replaced is not None and replaced.expected_gain == 0.5 and replaced.origin == "project"
    assert "When it hurts" not in replaced.body


def test_hot_functions_are_named_as_the_source_names_them(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.megawatt]\n")
    (tmp_path / "shapes.py").write_text(
        textwrap.dedent("""\
        class Square:
            def area(self, n):
                return sum(i * i for i in range(n))


        class Circle:
            def area(self, n):
                return sum(3 * i * i for i in range(n))


        for _ in range(30):
            Square().area(20000)
            Circle().area(20000)
        """)
    )
    prof = tmp_path / "run.pstats"
    subprocess.run([sys.executable, "-m", "cProfile", "-o", str(prof), "shapes.py"], cwd=tmp_path,
                   check=True)  # fmt: skip
    doc = _json(megawatt("scan", "--profile", str(prof), "--format", "json", "--no-cache",
                         cwd=tmp_path))  # fmt: skip
    names = {(h["function"], h["line"]) for h in doc["hot_functions"]}
    # cProfile calls both `area`; the module's own code is no function to show
    assert {("Square.area", 2), ("Circle.area", 7)} <= names, names
    assert not any(name == "<module>" for name, _ in names)
    lines = megawatt("scan", "--profile", str(prof), "--no-cache", cwd=tmp_path).stdout
    assert "shapes.py:2: hot: Square.area " in lines and "shapes.py:7: hot: Circle.area " in lines
