"""A handler that fails is reported once, and the server keeps serving; profiles reload."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as T
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.e2e.conftest import server_command
from tests.e2e.test_server import TIMEOUT, find, open_and_wait, wait_version


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=server_command(), server_env={"MEGAWATT_TEST_FAIL": "hover"}
    ),
)
async def failing(
    lsp_client: LanguageClient, workspace: Path, tmp_path_factory: pytest.TempPathFactory
):
    root = tmp_path_factory.mktemp("copy") / "ws"
    shutil.copytree(workspace, root)

    @lsp_client.feature(T.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: T.RegistrationParams) -> None:
        return None

    @lsp_client.feature(T.WORKSPACE_INLAY_HINT_REFRESH)
    def inlay_refresh(_params: None) -> None:
        return None

    lsp_client.workspace_root = root  # type: ignore[attr-defined]
    # answers the server's workspace/configuration request, as an editor's settings would
    lsp_client.set_configuration(
        {"profileCommand": [sys.executable, "shop.py", "3000"]}, section="megawatt"
    )
    await lsp_client.initialize_session(
        T.InitializeParams(
            capabilities=client_capabilities("neovim"),
            root_uri=root.as_uri(),
            workspace_folders=[T.WorkspaceFolder(uri=root.as_uri(), name="ws")],
        )
    )
    yield
    await lsp_client.shutdown_session()


async def test_failing_handler_is_reported_once_and_the_server_goes_on(
    failing: LanguageClient,
) -> None:
    client = failing
    root: Path = client.workspace_root  # type: ignore[attr-defined]
    await open_and_wait(client, root / "shop.py")
    uri = (root / "shop.py").as_uri()
    for _ in range(3):
        hover = await asyncio.wait_for(
            client.text_document_hover_async(
                T.HoverParams(T.TextDocumentIdentifier(uri), T.Position(43, 6))
            ),
            TIMEOUT,
        )
        assert hover is None  # it still answers
    await asyncio.sleep(0.2)
    told = [m.message for m in client.messages if "hover failed" in m.message]
    assert len(told) == 1 and "injected failure" in told[0]
    lenses = await client.text_document_code_lens_async(
        T.CodeLensParams(T.TextDocumentIdentifier(uri))
    )
    assert lenses  # the other features are unaffected


async def test_profile_reload_after_the_file_changes(failing: LanguageClient) -> None:
    client = failing
    root: Path = client.workspace_root  # type: ignore[attr-defined]
    diags = await open_and_wait(client, root / "shop.py")
    assert any(d.range.start.line == 43 for d in find(diags, "hot-function"))
    # a new recording in which edit_distance never runs (0 orders get fuzzy-matched)
    script = root / "only_orders.py"
    script.write_text("import shop\nshop.make_orders(30000)\n")
    for name in ("shop.pstats", "shop.speedscope.json"):
        (root / ".megawatt" / "profiles" / name).unlink()
    subprocess.run([sys.executable, "-m", "cProfile", "-o", str(root / ".megawatt/profiles/shop.pstats"),
                    str(script)], cwd=root, check=True, capture_output=True)  # fmt: skip
    uri = (root / "shop.py").as_uri()

    async def reloaded() -> T.PublishDiagnosticsParams:
        # publications of the old profile may still be in flight: wait for the new one
        while True:
            params = await wait_version(client, uri, 1)
            hot = find(list(params.diagnostics), "hot-function")
            if not any(d.range.start.line == 43 for d in hot):
                return params

    waiting = asyncio.ensure_future(asyncio.wait_for(reloaded(), TIMEOUT))
    await asyncio.sleep(0)
    client.workspace_did_change_watched_files(
        T.DidChangeWatchedFilesParams(
            changes=[
                T.FileEvent(
                    uri=(root / ".megawatt/profiles/shop.pstats").as_uri(),
                    type=T.FileChangeType.Changed,
                )
            ]
        )
    )
    params = await waiting
    hot = find(list(params.diagnostics), "hot-function")
    assert not any(d.range.start.line == 43 for d in hot)  # edit_distance is cold now
    assert any(d.range.start.line == 109 for d in hot)  # make_orders is hot


async def test_record_profile_command_reports_progress_and_reloads(failing: LanguageClient) -> None:
    client = failing
    root: Path = client.workspace_root  # type: ignore[attr-defined]
    await open_and_wait(client, root / "shop.py")
    before = set((root / ".megawatt" / "profiles").iterdir())
    written = await asyncio.wait_for(
        client.workspace_execute_command_async(
            T.ExecuteCommandParams(command="megawatt.recordProfile", arguments=[root.as_uri()])
        ),
        60,
    )
    assert written and Path(written).is_file() and Path(written) not in before
    assert Path(written).parent == root / ".megawatt" / "profiles"
    reports = [r for rs in client.progress_reports.values() for r in rs]
    assert isinstance(reports[0], T.WorkDoneProgressBegin) and "profiling" in reports[0].title
    assert isinstance(reports[-1], T.WorkDoneProgressEnd) and written.rsplit("/", 1)[-1] in (
        reports[-1].message or ""
    )
