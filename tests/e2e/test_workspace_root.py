"""A workspace without pyproject.toml or .git: its profile applies to the documents inside it,
even to one opened while the folder is still loading."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as T
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.e2e.conftest import server_command
from tests.e2e.test_server import TIMEOUT, find, wait_version
from tests.test_project_root import unmarked_project


@pytest.fixture
def unmarked(tmp_path: Path) -> Path:
    return unmarked_project(tmp_path / "proj", rounds=3000)


@pytest_lsp.fixture(
    params=["visual-studio-code", "neovim"],
    config=ClientServerConfig(server_command=server_command()),
)
async def client(lsp_client: LanguageClient, request: pytest.FixtureRequest, unmarked: Path):
    @lsp_client.feature(T.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: T.RegistrationParams) -> None:
        return None

    @lsp_client.feature(T.WORKSPACE_INLAY_HINT_REFRESH)
    def inlay_refresh(_params: None) -> None:
        return None

    @lsp_client.feature(T.WORKSPACE_CODE_LENS_REFRESH)
    def lens_refresh(_params: None) -> None:
        return None

    lsp_client.workspace_root = unmarked  # type: ignore[attr-defined]
    await lsp_client.initialize_session(
        T.InitializeParams(
            capabilities=client_capabilities(request.param),
            root_uri=unmarked.as_uri(),
            workspace_folders=[T.WorkspaceFolder(uri=unmarked.as_uri(), name="proj")],
        )
    )
    yield
    await lsp_client.shutdown_session()


async def test_a_document_opened_at_once_gets_the_workspace_profile(
    client: LanguageClient,
) -> None:
    root: Path = client.workspace_root  # type: ignore[attr-defined]
    path = root / "app" / "shop.py"
    uri = path.as_uri()
    # right after `initialized`, as editors do: the folder's profile is still loading
    waiting = asyncio.ensure_future(wait_version(client, uri, 1))
    await asyncio.sleep(0)
    client.text_document_did_open(
        T.DidOpenTextDocumentParams(T.TextDocumentItem(uri, "python", 1, path.read_text()))
    )
    params = await asyncio.wait_for(waiting, TIMEOUT)
    hot = find(list(params.diagnostics), "hot-function")
    assert any(d.range.start.line == 43 for d in hot), params.diagnostics  # edit_distance


async def test_a_folder_added_later_takes_its_documents(
    client: LanguageClient, tmp_path: Path
) -> None:
    # a second project, not yet a workspace folder: its document is bound to a guessed root
    other = unmarked_project(tmp_path / "other", folder="lib", rounds=3000)
    path = other / "lib" / "shop.py"
    uri = path.as_uri()
    waiting = asyncio.ensure_future(wait_version(client, uri, 1))
    await asyncio.sleep(0)
    client.text_document_did_open(
        T.DidOpenTextDocumentParams(T.TextDocumentItem(uri, "python", 1, path.read_text()))
    )
    first = await asyncio.wait_for(waiting, TIMEOUT)
    assert not find(list(first.diagnostics), "hot-function")

    async def profiled() -> None:
        # publications made before the folder was added may still be in flight
        while True:
            params = await wait_version(client, uri, 1)
            if any(
                d.range.start.line == 43 for d in find(list(params.diagnostics), "hot-function")
            ):
                return

    waiting = asyncio.ensure_future(asyncio.wait_for(profiled(), TIMEOUT))
    await asyncio.sleep(0)
    client.workspace_did_change_workspace_folders(
        T.DidChangeWorkspaceFoldersParams(
            T.WorkspaceFoldersChangeEvent(
                added=[T.WorkspaceFolder(uri=other.as_uri(), name="other")], removed=[]
            )
        )
    )
    await waiting
