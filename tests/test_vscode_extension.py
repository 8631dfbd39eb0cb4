"""The VS Code extension's own tests (settings flow, interpreter choice, launch), run under Node;
and its Workspace Trust: the capability it declares, and the `trusted` initialization option that
reaches the real server."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from tests.conftest import REPO

EXT = REPO / "editors" / "vscode"
needs_npm = pytest.mark.skipif(
    shutil.which("npm") is None, reason="Node.js and npm are not installed"
)


def _passed(stdout: str, name: str) -> bool:
    """Whether node's TAP output has `name` as a test that ran and passed (not skipped)."""
    return re.search(rf"^\s*ok \d+ - {re.escape(name)}$", stdout, re.MULTILINE) is not None


def _npm_ci() -> None:
    if not (EXT / "node_modules").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=EXT, check=True,
                       capture_output=True, timeout=600)  # fmt: skip


@needs_npm
def test_extension_unit_tests_pass() -> None:
    _npm_ci()
    proc = subprocess.run(["npm", "test"], cwd=EXT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "# fail 0" in proc.stdout
    for name in (
        "tells the server whether the workspace is trusted",
        "declares limited support for untrusted workspaces, restricting exactly the restricted"
        " settings",
    ):
        assert _passed(proc.stdout, name), name


def test_the_extension_declares_limited_support_for_untrusted_workspaces() -> None:
    package = json.loads((EXT / "package.json").read_text(encoding="utf-8"))
    untrusted = package["capabilities"]["untrustedWorkspaces"]
    assert untrusted["supported"] == "limited"
    assert untrusted["description"] == (
        "In a restricted window Megawatt shows profiles and opportunities but runs no tests and "
        "asks no model for fixes."
    )
    restricted = set(untrusted["restrictedConfigurations"])
    # the settings that run a program or send code to a model
    assert {
        "megawatt.interpreter",
        "megawatt.path",
        "megawatt.profileCommand",
        "megawatt.llm.enabled",
    } <= restricted
    assert restricted <= set(package["contributes"]["configuration"]["properties"])


@needs_npm
def test_an_untrusted_window_reaches_the_server_and_trust_restarts_it() -> None:
    # the bundled extension in a stand-in VS Code (editors/vscode/e2e) against the real server:
    # `trusted: false` in the initialization options, then a restart when trust is granted
    _npm_ci()
    for script in ("build", "pretest"):
        proc = subprocess.run(["npm", "run", script], cwd=EXT, capture_output=True, text=True,
                              timeout=600)  # fmt: skip
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    proc = subprocess.run(
        ["node", "--test", "--test-name-pattern", "untrusted workspace is untrusted",
         "out/test/e2e/activate.test.js"],
        cwd=EXT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "MEGAWATT_PYTHON": sys.executable},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    name = "tells the server an untrusted workspace is untrusted, and restarts it once trusted"
    assert _passed(proc.stdout, name), proc.stdout[-4000:]
    assert "# pass 1\n" in proc.stdout and "# fail 0\n" in proc.stdout, proc.stdout[-2000:]
