"""Real headless Neovim with editors/neovim on 'runtimepath': the :Megawatt command, the documents
the server shows (beside the user's file), progress in :messages, and no deprecated API."""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

from tests.e2e.test_neovim import REPO, run_nvim

SCRIPT = Path(__file__).with_name("nvim_commands.lua")
README = REPO / "editors" / "neovim" / "README.md"

# a second file with a finding, written between two scans: the second report must show it
EXTRA_FILE = """
local path = vim.fs.joinpath(vim.fn.getcwd(), "late.py")
vim.fn.writefile({ "def late(xs):", "    return any([x > 1 for x in xs])" }, path)
"""


def _run(
    root: Path, tmp_path: Path, steps: list[Any], settings: dict[str, Any] | None = None
) -> dict[str, Any]:
    env = {"MEGAWATT_TEST_STEPS": json.dumps(steps)}
    if settings is not None:
        env["MEGAWATT_TEST_SETTINGS"] = json.dumps(settings)
    result = run_nvim(root, root / "shop.py", "hot-function", tmp_path, env, script=SCRIPT)
    assert "error" not in result, result
    return result


def _copy(workspace: Path, tmp_path: Path) -> Path:
    # the commands write into the workspace (.megawatt/report.md, a new profile)
    return Path(shutil.copytree(workspace, tmp_path / "ws"))


def _names(step: dict[str, Any]) -> list[str]:
    return [Path(w["name"]).name for w in step["windows"]]


def _current(step: dict[str, Any]) -> dict[str, Any]:
    (win,) = [w for w in step["windows"] if w["current"]]
    return win  # type: ignore[no-any-return]


def test_scan_report_opens_beside_the_file_and_quit_keeps_it(
    workspace: Path, tmp_path: Path
) -> None:
    root = _copy(workspace, tmp_path)
    steps = [
        "Megawatt scan",
        "wincmd p",  # back to the file, the report left open
        {"lua": EXTRA_FILE},
        "Megawatt scan",
        "quit",
        "Megawatt skill memoize",
    ]
    result = _run(root, tmp_path, steps)
    assert not result.get("left_early"), f"Neovim quit at {result['steps'][-1]['step']!r}"
    scan, _, _, rescan, quit_, skill = result["steps"]
    source = str(root / "shop.py")
    report = root / ".megawatt" / "report.md"
    assert result["source"] == source

    # the report is in a window of its own and has the focus; the user's file is where it was
    assert not scan.get("error") and scan.get("err") is None, scan
    assert scan["result"] == str(report)
    assert sorted(_names(scan)) == ["report.md", "shop.py"], scan["windows"]
    assert _current(scan)["name"] == str(report)
    (mine,) = [w for w in scan["windows"] if w["name"] == source]
    assert mine["cursor"] == result["cursor"] != [1, 0]
    assert "# Megawatt report" in _current(scan)["lines"]
    assert "late.py" not in "\n".join(_current(scan)["lines"])
    assert any(re.fullmatch(r"\d+ opportunities in 1 file\.", ln) for ln in _current(scan)["lines"])

    # the next scan reuses the report's window, and it shows the new report, not the old buffer
    shown = _current(rescan)
    assert shown["name"] == str(report) and sorted(_names(rescan)) == ["report.md", "shop.py"]
    assert any("late.py" in line for line in shown["lines"]), shown["lines"]

    # :q closes the report, not Neovim, and the user is back in the file at the same place
    assert [(w["name"], w["current"], w["cursor"]) for w in quit_["windows"]] == [
        (source, True, result["cursor"])
    ]

    # a skill opens beside the file too
    assert skill["result"] == str(REPO / "skills" / "memoize" / "SKILL.md")
    assert sorted(_names(skill)) == ["SKILL.md", "shop.py"], skill["windows"]
    assert _current(skill)["name"].endswith("SKILL.md")
    assert "Megawatt: scanning the workspace" in skill["messages"]


def _readme_exec_cmd_snippet() -> str:
    blocks = re.findall(r"```lua\n(.*?)```", README.read_text(), re.S)
    (block,) = [b for b in blocks if "exec_cmd" in b]
    return block


def test_commands_show_progress_and_use_no_deprecated_api(workspace: Path, tmp_path: Path) -> None:
    root = _copy(workspace, tmp_path)
    record_with = [sys.executable, "shop.py", "3000"]
    steps = [
        "Megawatt record",
        "Megawatt reload",
        {"lua": _readme_exec_cmd_snippet()},
        # the README's way before, vim.lsp.buf.execute_command: deprecated in 0.12, and this
        # run must see the warning, or "no warning" above proves nothing
        {"lua": 'vim.lsp.buf.execute_command({ command = "megawatt.reloadProfiles" })'},
    ]
    result = _run(root, tmp_path, steps, settings={"profileCommand": record_with})
    record, reload, snippet, deprecated = result["steps"]

    # a real recording, its progress in :messages: what runs, then what was written
    assert record.get("err") is None, record
    written = Path(record["result"])
    assert written.parent == root / ".megawatt" / "profiles" and written.is_file()
    title = f"Megawatt: profiling {' '.join(record_with)}"
    lines = record["messages"].splitlines()
    assert any(line.startswith(title) for line in lines), lines
    (end,) = [line for line in lines if written.name in line]
    assert end.startswith(title) and re.search(r" in \d+\.\d s$", end), end
    # a recording's length is unknown: no percentage, rather than "0%" until it ends
    begin = next(p for p in result["progress"] if p["kind"] == "begin")
    assert begin["title"] == title
    assert "percentage" not in begin, begin
    assert [p["kind"] for p in result["progress"]][-1] == "end"
    assert any(
        p["kind"] == "report" and p["message"] == f"reading {written.name}"
        for p in result["progress"]
    )
    assert not re.search(r"(?<![\d.])0%", record["messages"]), record["messages"]

    assert reload.get("err") is None and reload["result"] >= 1, reload
    assert "Megawatt: profiles reloaded, 1 folder with a profile" in reload["messages"]

    assert not snippet.get("error"), snippet
    assert "deprecated" not in snippet["messages"], snippet["messages"]
    assert "deprecated" in deprecated["messages"]


SEVERITY_RULE = (
    "a hot function is Information when its total is at least 5% of the profile, Hint below that. "
    "With a profile loaded, an opportunity is a Warning when its estimated savings are at least "
    "0.5% of the profile, Information when they are smaller but the profile saw its function, and "
    "Hint when the profile never saw its function; without a profile, it is Information at "
    "confidence 0.8 or more and Hint below."
)
# an opportunity's message names its figures when the profile saw its function
# "(est. savings 56.2%: <evidence>)", "(est. savings <0.1%, rough: …)"
SAVINGS = re.compile(r"\(est\. savings <?([\d.]+)%(?:, rough)?: ")


def test_severities_in_neovim_are_the_ones_the_readmes_state(
    workspace: Path, tmp_path: Path
) -> None:
    for readme in (REPO / "README.md", README):
        assert SEVERITY_RULE in " ".join(readme.read_text().split()), readme
    result = _run(_copy(workspace, tmp_path), tmp_path, [])
    seen = set()
    for d in result["diagnostics"]:
        # figures are shown rounded to 0.1: one on the line itself may be either side of it
        if d["code"] == "hot-function":
            total = float(d["message"].split("%", 1)[0])
            if total == 5:
                continue
            want = "INFO" if total > 5 else "HINT"
        elif found := SAVINGS.search(d["message"]):
            savings = float(found.group(1))
            if savings == 0.5:
                continue
            want = "WARN" if savings > 0.5 else "INFO"
        else:
            want = "HINT"
        assert d["severity"] == want, d
        seen.add((d["code"] == "hot-function", want))
    # the fixture has both kinds of profiled finding: hot enough to warn, and too small to
    assert {(False, "WARN"), (False, "INFO"), (True, "INFO")} <= seen, result["diagnostics"]
