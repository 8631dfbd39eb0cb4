"""Fix-all in the editor runs the same style check as the CLI and the AI path: a rewrite that
would add a ruff finding (the project's own configuration) on the lines it touched is left out."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as T
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.e2e.conftest import server_command
from tests.e2e.test_server import TIMEOUT, open_and_wait
from tests.test_fix_patches import LEDGER

RUFF = str(Path(sys.executable).parent / "ruff")


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    root = tmp_path / "ledger"
    root.mkdir()
    # lines of at most 38 columns: `pending = collections.deque(entries)` is longer
    (root / "pyproject.toml").write_text(
        '[project]\nname = "ledger"\nversion = "1"\n\n'
        '[tool.ruff]\nline-length = 38\n\n[tool.ruff.lint]\nselect = ["E", "F", "I"]\n'
    )
    (root / "ledger.py").write_text(LEDGER)
    check = [RUFF, "check", "-q", "ledger.py"]
    assert subprocess.run(check, cwd=root, check=False, timeout=60).returncode == 0
    return root


@pytest_lsp.fixture(config=ClientServerConfig(server_command=server_command()))
async def client(lsp_client: LanguageClient, ledger: Path):
    @lsp_client.feature(T.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: T.RegistrationParams) -> None:
        return None

    lsp_client.workspace_root = ledger  # type: ignore[attr-defined]
    await lsp_client.initialize_session(
        T.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            root_uri=ledger.as_uri(),
            workspace_folders=[T.WorkspaceFolder(uri=ledger.as_uri(), name="ledger")],
        )
    )
    yield
    await lsp_client.shutdown_session()


async def test_fix_all_leaves_out_a_fix_that_breaks_the_projects_style(
    client: LanguageClient,
) -> None:
    root: Path = client.workspace_root  # type: ignore[attr-defined]
    uri = (root / "ledger.py").as_uri()
    diags = await open_and_wait(client, root / "ledger.py")
    assert any(d.code == "pop-front" for d in diags), diags  # offered one at a time
    actions = await asyncio.wait_for(
        client.text_document_code_action_async(
            T.CodeActionParams(
                text_document=T.TextDocumentIdentifier(uri=uri),
                range=T.Range(T.Position(0, 0), T.Position(0, 0)),
                context=T.CodeActionContext(diagnostics=[], only=["source.fixAll.megawatt"]),
            )
        ),
        TIMEOUT,
    )
    for action in actions:
        if action.edit is None:
            action = await asyncio.wait_for(client.code_action_resolve_async(action), TIMEOUT)
        text = str(action.edit)
        assert "deque" not in text, text  # the rewrite would make a 40-column line
