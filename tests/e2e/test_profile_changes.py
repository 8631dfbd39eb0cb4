"""A profile that changes under an open document: lenses, hints and diagnostics follow the new one,
and a broken new recording never wipes the one in use."""

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

PROFILES = Path(".megawatt") / "profiles"
# a run of the example in which only the order generation is hot (edit_distance never runs)
ONLY_ORDERS = "import shop\nshop.make_orders(60000)\n"


def py_spy(root: Path, script: Path, out: Path) -> None:
    subprocess.run(
        [str(Path(sys.executable).parent / "py-spy"), "record", "-r", "500", "-f", "speedscope",
         "-o", str(out), "--", sys.executable, str(script)],
        cwd=root, check=True, capture_output=True,
    )  # fmt: skip


def watched(client: LanguageClient, path: Path) -> None:
    change = T.FileEvent(uri=path.as_uri(), type=T.FileChangeType.Changed)
    client.workspace_did_change_watched_files(T.DidChangeWatchedFilesParams(changes=[change]))


def failures(client: LanguageClient) -> list[str]:
    said = [m.message for m in client.messages] + [m.message for m in client.log_messages]
    return [m for m in said if " failed: " in m]


@pytest.fixture
def copied(workspace: Path, tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(workspace, root)
    return root


async def start(client: LanguageClient, root: Path, editor: str) -> list[dict]:  # type: ignore[type-arg]
    """Initialize like `editor`; the returned list gets, at each refresh request the server
    sends, the diagnostics the client held then (by uri)."""
    refreshes: list[dict] = []  # type: ignore[type-arg]

    @client.feature(T.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: T.RegistrationParams) -> None:
        return None

    @client.feature(T.WORKSPACE_INLAY_HINT_REFRESH)
    def inlay_refresh(_params: None) -> None:
        refreshes.append(dict(client.diagnostics))

    @client.feature(T.WORKSPACE_CODE_LENS_REFRESH)
    def lens_refresh(_params: None) -> None:
        refreshes.append(dict(client.diagnostics))

    await client.initialize_session(
        T.InitializeParams(
            capabilities=client_capabilities(editor),
            root_uri=root.as_uri(),
            workspace_folders=[T.WorkspaceFolder(uri=root.as_uri(), name="ws")],
        )
    )
    return refreshes


@pytest_lsp.fixture(config=ClientServerConfig(server_command=server_command()))
async def vscode(lsp_client: LanguageClient, copied: Path):
    lsp_client.workspace_root = copied  # type: ignore[attr-defined]
    lsp_client.events = await start(lsp_client, copied, "visual-studio-code")  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=ClientServerConfig(server_command=server_command()))
async def neovim(lsp_client: LanguageClient, copied: Path):
    lsp_client.workspace_root = copied  # type: ignore[attr-defined]
    lsp_client.events = await start(lsp_client, copied, "neovim")  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


def hints_params(uri: str) -> T.InlayHintParams:
    whole = T.Range(T.Position(0, 0), T.Position(400, 0))
    return T.InlayHintParams(T.TextDocumentIdentifier(uri), whole)


def record_only_orders(root: Path) -> Path:
    """Replace both recordings by a py-spy one of another run: far fewer functions than the
    merged cProfile + py-spy profile it replaces, so the old profile's ids are out of range."""
    script = root / "only_orders.py"
    script.write_text(ONLY_ORDERS)
    (root / PROFILES / "shop.pstats").unlink()
    out = root / PROFILES / "shop.speedscope.json"
    py_spy(root, script, out)
    return out


async def test_hints_after_a_profile_change_come_from_the_new_profile(
    neovim: LanguageClient,
) -> None:
    client = neovim
    root: Path = client.workspace_root  # type: ignore[attr-defined]
    uri = (root / "shop.py").as_uri()
    await open_and_wait(client, root / "shop.py")
    before = await client.text_document_inlay_hint_async(hints_params(uri))
    assert any(43 <= h.position.line <= 56 for h in before)  # edit_distance's lines
    changed = record_only_orders(root)
    watched(client, changed)
    # asked at once, before the re-analysis can have ended: answered from the new profile
    hints = await asyncio.wait_for(
        client.text_document_inlay_hint_async(hints_params(uri)), TIMEOUT
    )
    assert not failures(client), failures(client)
    assert hints, "the new profile has hot lines in make_orders"
    assert not any(43 <= h.position.line <= 56 for h in hints)  # edit_distance is cold now
    assert any(109 <= h.position.line <= 122 for h in hints)  # make_orders' body


async def test_lenses_wait_for_the_first_analysis(neovim: LanguageClient) -> None:
    # Neovim cannot be told to ask again (no codeLens/refresh): its first answer must count
    client = neovim
    root: Path = client.workspace_root  # type: ignore[attr-defined]
    path = root / "shop.py"
    uri = path.as_uri()
    client.text_document_did_open(
        T.DidOpenTextDocumentParams(T.TextDocumentItem(uri, "python", 1, path.read_text()))
    )
    lenses = await asyncio.wait_for(
        client.text_document_code_lens_async(T.CodeLensParams(T.TextDocumentIdentifier(uri))),
        TIMEOUT,
    )
    assert {lens.range.start.line for lens in lenses} >= {43}  # edit_distance


async def test_lenses_agree_with_the_diagnostics_after_an_edit(neovim: LanguageClient) -> None:
    client = neovim
    root: Path = client.workspace_root  # type: ignore[attr-defined]
    path = root / "shop.py"
    uri = path.as_uri()
    diags = await open_and_wait(client, path)
    lens_of = {
        lens.range.start.line: lens
        for lens in await client.text_document_code_lens_async(
            T.CodeLensParams(T.TextDocumentIdentifier(uri))
        )
    }
    hot = {d.range.start.line: d for d in find(diags, "hot-function")}
    for line, lens in lens_of.items():
        assert lens.command is not None
        title = lens.command.title
        # the lens says what can be done; the share is the diagnostic's to say
        assert hot[line].message not in title and "% of CPU (self" not in title, title
    # settle() is hot and holds opportunities (pop(0), an eager log argument); empty its body
    text = path.read_text()
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("def settle("))
    assert "opportunit" in lens_of[start].command.title  # type: ignore[union-attr]
    end = next(i for i in range(start + 1, len(lines)) if lines[i] and not lines[i][0].isspace())
    body = "\n".join(lines[start + 1 : end])
    new_text = text.replace(body, "    return []\n", 1)
    waiting = asyncio.ensure_future(wait_version(client, uri, 2))
    await asyncio.sleep(0)
    client.text_document_did_change(
        T.DidChangeTextDocumentParams(
            T.VersionedTextDocumentIdentifier(uri=uri, version=2),
            [T.TextDocumentContentChangeWholeDocument(text=new_text)],
        )
    )
    lenses = await asyncio.wait_for(
        client.text_document_code_lens_async(T.CodeLensParams(T.TextDocumentIdentifier(uri))),
        TIMEOUT,
    )
    published = await waiting
    settle_lens = [lens for lens in lenses if lens.range.start.line == start]
    inside = [
        d
        for d in published.diagnostics
        if d.code != "hot-function" and start <= d.range.start.line <= start + 2
    ]
    assert not inside
    assert settle_lens and "opportunit" not in settle_lens[0].command.title  # type: ignore[union-attr]


async def test_refresh_follows_the_publication_it_is_for(vscode: LanguageClient) -> None:
    client = vscode
    root: Path = client.workspace_root  # type: ignore[attr-defined]
    await open_and_wait(client, root / "shop.py")
    refreshes: list[dict] = client.events  # type: ignore[attr-defined,type-arg]
    changed = record_only_orders(root)
    uri = (root / "shop.py").as_uri()
    mark = len(refreshes)

    async def refreshed() -> None:
        while len(refreshes) == mark:
            await asyncio.sleep(0.05)

    watched(client, changed)
    await asyncio.wait_for(refreshed(), TIMEOUT)
    # the lenses and hints a client re-asks for must be the new analysis' ones: when asked,
    # the client already holds the diagnostics of the new profile
    held = find(list(refreshes[mark][uri]), "hot-function")
    assert held and not any(d.range.start.line == 43 for d in held), held


@pytest.fixture
def folder_configured(copied: Path) -> Path:
    """The workspace with the default setting: the newest recording of .megawatt/profiles/."""
    (copied / "pyproject.toml").write_text("[tool.megawatt]\nhot-threshold = 0.01\n")
    (copied / PROFILES / "shop.pstats").unlink()
    return copied


@pytest_lsp.fixture(config=ClientServerConfig(server_command=server_command()))
async def by_folder(lsp_client: LanguageClient, folder_configured: Path):
    lsp_client.workspace_root = folder_configured  # type: ignore[attr-defined]
    await start(lsp_client, folder_configured, "neovim")
    yield
    await lsp_client.shutdown_session()


async def wait_hot_reload(client: LanguageClient, uri: str, changed: Path) -> list[T.Diagnostic]:
    """Tell the server of `changed`, then the first publication after the reload warning."""
    seen = len(client.messages)
    waiting = asyncio.ensure_future(wait_version(client, uri, 1))
    await asyncio.sleep(0)
    watched(client, changed)
    params = await asyncio.wait_for(waiting, TIMEOUT)
    assert len(client.messages) > seen, "the broken file is reported"
    return list(params.diagnostics)


async def test_a_broken_newest_recording_keeps_the_older_one(by_folder: LanguageClient) -> None:
    client = by_folder
    root: Path = client.workspace_root  # type: ignore[attr-defined]
    uri = (root / "shop.py").as_uri()
    diags = await open_and_wait(client, root / "shop.py")
    hot_before = {d.range.start.line for d in find(diags, "hot-function")}
    assert 43 in hot_before
    # a profiler killed mid-write leaves the newest file of the folder truncated
    broken = root / PROFILES / "newer.speedscope.json"
    whole = (root / PROFILES / "shop.speedscope.json").read_text()
    broken.write_text(whole[: len(whole) // 2])
    diags = await wait_hot_reload(client, uri, broken)
    assert {d.range.start.line for d in find(diags, "hot-function")} == hot_before
    said = [m.message for m in client.messages if "newer.speedscope.json" in m.message]
    assert said and "using the older shop.speedscope.json instead" in said[-1], said


async def test_a_broken_configured_file_keeps_the_last_good_profile(
    neovim: LanguageClient,
) -> None:
    client = neovim
    root: Path = client.workspace_root  # type: ignore[attr-defined]
    uri = (root / "shop.py").as_uri()
    diags = await open_and_wait(client, root / "shop.py")
    hot_before = {d.range.start.line for d in find(diags, "hot-function")}
    severities = {d.range.start.line: d.severity for d in diags}
    # both configured files overwritten by something that is no profile
    for name in ("shop.pstats", "shop.speedscope.json"):
        (root / PROFILES / name).write_text("def f(x):\n    return x\n")
    diags = await wait_hot_reload(client, uri, root / PROFILES / "shop.pstats")
    assert {d.range.start.line for d in find(diags, "hot-function")} == hot_before
    assert {d.range.start.line: d.severity for d in diags} == severities  # no Warning → Hint
    said = [m.message for m in client.messages if "could not load a profile" in m.message]
    assert len(said) == 2, said
    assert all("still using the profile loaded " in m and "shop.pstats" in m for m in said), said
