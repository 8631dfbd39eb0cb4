"""`megawatt fix` as someone applying its patch: `--diff` output that `git apply` and `patch -p1`
take at the project root, skipped unsafe fixes listed with their reasons and the `--unsafe`
hint, and fixes refused when they would add ruff findings on the lines they touch."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.test_cli_profile import megawatt

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "shop.py"
RUFF = str(Path(sys.executable).parent / "ruff")
MEGAWATT_BIN = Path(sys.executable).parent / "megawatt"

# a module whose last line has no newline and that holds a form feed (as GNU-style code does):
# both must survive the round trip through a patch tool
QUEUE = (
    '"""Work queue for the nightly export."""\n'
    "\n"
    "\x0c\n"
    "def drain(jobs):\n"
    "    todo = list(jobs)\n"
    "    done = []\n"
    "    while todo:\n"
    "        done.append(todo.pop(0))\n"
    "    return done"
)


def make_project(root: Path) -> Path:
    """A small git repository: the shop example in a package, the queue module beside it."""
    pkg = root / "src" / "shop"
    pkg.mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "shop"\nversion = "1"\n')
    (pkg / "__init__.py").write_text("")
    shutil.copy(EXAMPLE, pkg / "orders.py")
    (pkg / "jobs.py").write_bytes(QUEUE.encode())
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "start")
    return pkg


def git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
    }
    proc = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return proc


def snapshot(pkg: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(pkg.glob("*.py"))}


def test_diff_applies_with_git_apply_and_patch(tmp_path: Path) -> None:
    pkg = make_project(tmp_path / "repo")
    root = pkg.parent.parent
    # run from a subdirectory, naming the folder by its absolute path: the patch still names
    # files from the project root
    diff = megawatt("fix", "--unsafe", str(pkg), cwd=pkg)
    assert diff.returncode == 1, diff.stderr
    heads = re.findall(r"^(---|\+\+\+) (\S+)", diff.stdout, re.M)
    assert heads == [
        ("---", "a/src/shop/jobs.py"),
        ("+++", "b/src/shop/jobs.py"),
        ("---", "a/src/shop/orders.py"),
        ("+++", "b/src/shop/orders.py"),
    ]
    assert "\\ No newline at end of file" in diff.stdout
    # and from outside the project (the paths once came out as `a//tmp/...`)
    assert megawatt("fix", "--unsafe", str(pkg), cwd=tmp_path).stdout == diff.stdout

    wrote_copy = tmp_path / "written"
    shutil.copytree(root, wrote_copy)
    wrote = megawatt("fix", "--write", "--unsafe", str(wrote_copy / "src"), cwd=wrote_copy)
    assert wrote.returncode == 0, wrote.stderr
    expected = snapshot(wrote_copy / "src" / "shop")
    assert expected != snapshot(pkg)

    patch_copy = tmp_path / "patched"
    shutil.copytree(root, patch_copy)

    subprocess.run(["git", "apply", "--check", "-"], input=diff.stdout, text=True, cwd=root,
                   check=True, timeout=60)  # fmt: skip
    subprocess.run(["git", "apply", "-"], input=diff.stdout, text=True, cwd=root, check=True,
                   timeout=60)  # fmt: skip
    assert snapshot(pkg) == expected
    assert "todo.popleft()" in (pkg / "jobs.py").read_text()
    assert (pkg / "jobs.py").read_bytes().count(b"\x0c") == 1
    assert not (pkg / "jobs.py").read_bytes().endswith(b"\n")

    subprocess.run(["patch", "-p1", "--quiet", "--batch"], input=diff.stdout, text=True,
                   cwd=patch_copy, check=True, timeout=60)  # fmt: skip
    assert snapshot(patch_copy / "src" / "shop") == expected
    for p in (pkg / "orders.py", pkg / "jobs.py"):
        compile(p.read_bytes(), str(p), "exec")

    # literally as a user types it: the command's output piped into git apply
    piped = tmp_path / "piped"
    shutil.copytree(patch_copy, piped)
    git(piped, "checkout", "-q", "--", ".")
    assert snapshot(piped / "src" / "shop") != expected
    command = f"'{MEGAWATT_BIN}' fix --diff --unsafe src | git apply"
    subprocess.run(command, shell=True, cwd=piped, check=True, timeout=120)
    assert snapshot(piped / "src" / "shop") == expected


def test_skipped_unsafe_fixes_say_why_and_how(tmp_path: Path) -> None:
    shop = tmp_path / "shop.py"
    shutil.copy(EXAMPLE, shop)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "shop"\nversion = "1"\n')
    safe = megawatt("fix", "shop.py", cwd=tmp_path)
    skipped = re.findall(
        r"^shop\.py:(\d+): ([a-z-]+): not applied \(unsafe\): (.+)$", safe.stderr, re.M
    )
    assert skipped, safe.stderr
    scan = megawatt("scan", "--no-cache", "--format", "json", "shop.py", cwd=tmp_path)
    found = {(str(o["line"]), o["skill"]) for o in _opportunities(scan.stdout)}
    for line, skill, reason in skipped:
        assert (line, skill) in found
        assert len(reason) > 20  # the fix's own note, not a bare "unsafe"
    assert "--unsafe" in safe.stderr.splitlines()[-1]
    assert f"{len(skipped)} unsafe fix" in safe.stderr
    every = megawatt("fix", "--unsafe", "shop.py", cwd=tmp_path)
    assert "not applied (unsafe)" not in every.stderr and "add --unsafe" not in every.stderr


def _opportunities(text: str) -> list[dict[str, object]]:
    doc = json.loads(text)
    return list(doc["opportunities"])


LEDGER = '''\
"""Month-end ledger export."""

import logging

log = logging.getLogger(__name__)


def settle(entries):
    pending = list(entries)
    while pending:
        entry = pending.pop(0)
        log.debug("settled %s", entry)
'''


def test_a_fix_that_adds_a_ruff_finding_is_not_applied(tmp_path: Path) -> None:
    # the project keeps lines to 38 columns: `pending = collections.deque(entries)` is longer
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "ledger"\nversion = "1"\n\n'
        '[tool.ruff]\nline-length = 38\n\n[tool.ruff.lint]\nselect = ["E", "F", "I"]\n'
    )
    path = tmp_path / "ledger.py"
    path.write_text(LEDGER)
    assert subprocess.run([RUFF, "check", "-q", "ledger.py"], cwd=tmp_path, check=False,
                          timeout=60).returncode == 0  # fmt: skip
    proc = megawatt("fix", "--write", "--select", "pop-front", "ledger.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert path.read_text() == LEDGER
    assert re.search(
        r"^ledger\.py:11: pop-front: not applied \(refused\): ruff check reports new problems "
        r"on the lines it touched: E501: Line too long \(\d+ > 38\)",
        proc.stderr,
        re.M,
    ), proc.stderr
    assert "add --unsafe" not in proc.stderr
    # with room on the line the same fix goes in, and the result is ruff-clean
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "ledger"\nversion = "1"\n\n[tool.ruff.lint]\nselect = ["E", "F", "I"]\n'
    )
    proc = megawatt("fix", "--write", "--select", "pop-front", "ledger.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "pending.popleft()" in path.read_text()
    assert subprocess.run([RUFF, "check", "-q", "ledger.py"], cwd=tmp_path, check=False,
                          timeout=60).returncode == 0  # fmt: skip


PLUGIN = '''\
"""Directive plugins."""

import logging

log = logging.getLogger(__name__)


class Base:
    def parse(self, block):
        return block


class Admonition(Base):
    def parse(self, block):
        import re
        super(Admonition, self).parse(block)
        return re.sub(r"^!!! ", "", block)
'''


def test_a_finding_the_next_line_already_had_does_not_refuse_a_fix(tmp_path: Path) -> None:
    # the project selects pyupgrade, which already reports the super() call below the import:
    # removing the import makes it the neighbour of the edit, not a new problem
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "plugins"\nversion = "1"\n\n'
        '[tool.ruff.lint]\nselect = ["E", "F", "I", "UP"]\n'
    )
    path = tmp_path / "plugins.py"
    path.write_text(PLUGIN)
    proc = megawatt("fix", "--write", "--select", "import-in-function", "plugins.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "not applied" not in proc.stderr
    after = path.read_text()
    assert after.startswith('"""Directive plugins."""\n\nimport logging\nimport re\n')
    assert "        import re\n" not in after
