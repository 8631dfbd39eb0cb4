"""`megawatt fix PATH --line N [--skill ID]`: the opportunities on one line, and no other."""

from __future__ import annotations

from pathlib import Path

from tests.test_cli_profile import megawatt

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "shop.py"


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_one_line_is_fixed_and_the_rest_left_alone(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    shop = tmp_path / "shop.py"
    shop.write_text(EXAMPLE.read_text())
    pop = _line(shop.read_text(), "queue.pop(0)")
    everything = megawatt("fix", "shop.py", "--unsafe", cwd=tmp_path)
    assert everything.stdout.count("\n-") > 3  # several fixes in the file
    proc = megawatt("fix", "shop.py", "--line", str(pop), "--unsafe", "--write", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "applied 1 fix in 1 file" in proc.stderr, proc.stderr
    fixed = shop.read_text()
    assert "queue.popleft()" in fixed
    original = EXAMPLE.read_text()
    # every other line as it was, but the deque's own (its import and the queue it makes)
    changed = {ln for ln in fixed.splitlines() if ln not in original.splitlines()}
    assert all("deque" in ln or "popleft" in ln or "collections" in ln for ln in changed), changed


def test_skill_narrows_the_line_and_needs_it(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "shop.py").write_text(EXAMPLE.read_text())
    pop = _line(EXAMPLE.read_text(), "queue.pop(0)")
    other = megawatt(
        "fix", "shop.py", "--line", str(pop), "--skill", "memoize", "--unsafe", cwd=tmp_path
    )
    assert other.returncode == 0 and other.stdout == "", other.stdout  # nothing of it there
    alone = megawatt("fix", "shop.py", "--skill", "pop-front", cwd=tmp_path)
    assert alone.returncode == 2 and "--skill goes with --line" in alone.stderr
