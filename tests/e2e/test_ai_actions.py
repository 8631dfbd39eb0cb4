"""AI fixes through the language server: the action on a memoize opportunity of an instance
method, resolved with progress into a validated per-instance cache (its tests run, its speed-up
measured) from a scripted model on a local Messages-API server; and a refused candidate."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile

import pytest
import pytest_lsp
from lsprotocol import types as T
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests import ai_project as P
from tests.fake_anthropic import FakeAnthropic, delay

# one scripted model for this module; each test queues the turns it expects
FAKE = FakeAnthropic().start()
CACHE = tempfile.mkdtemp(prefix="megawatt-ai-cache-")
ENV = {
    **os.environ,
    "ANTHROPIC_BASE_URL": FAKE.base_url,
    "ANTHROPIC_API_KEY": "test-key",
    "XDG_CACHE_HOME": CACHE,
    "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
}


@pytest_lsp.fixture(
    params=["visual-studio-code", "neovim"],
    config=ClientServerConfig(
        server_command=[sys.executable, "-m", "megawatt", "serve"], server_env=ENV
    ),
)
async def ai_client(
    lsp_client: LanguageClient,
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
):
    root = tmp_path_factory.mktemp("ai")
    P.write_project(root)
    # a text of its own per client, so no test meets another's cached fix
    (root / "align.py").write_text(f"# {root.name}\n" + P.MODULE)

    # the requests real editors answer
    @lsp_client.feature(T.WORKSPACE_INLAY_HINT_REFRESH)
    def inlay_refresh(_params: None) -> None:
        return None

    @lsp_client.feature(T.WORKSPACE_CODE_LENS_REFRESH)
    def lens_refresh(_params: None) -> None:
        return None

    @lsp_client.feature(T.CLIENT_REGISTER_CAPABILITY)
    def register_capability(_params: T.RegistrationParams) -> None:
        return None

    await lsp_client.initialize_session(
        T.InitializeParams(
            capabilities=client_capabilities(request.param),
            root_uri=root.as_uri(),
            workspace_folders=[T.WorkspaceFolder(uri=root.as_uri(), name="ai")],
        )
    )
    lsp_client.root = root  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


async def _open(client: LanguageClient) -> tuple[str, T.Diagnostic]:
    path = client.root / "align.py"  # type: ignore[attr-defined]
    uri = path.as_uri()
    client.text_document_did_open(
        T.DidOpenTextDocumentParams(
            T.TextDocumentItem(uri=uri, language_id="python", version=1, text=path.read_text())
        )
    )
    for _ in range(100):
        diags = [d for d in client.diagnostics.get(uri, ()) if d.code == "memoize"]
        if diags:
            return uri, diags[0]
        await asyncio.sleep(0.1)
    raise AssertionError("no memoize diagnostic")


async def _ai_action(client: LanguageClient, uri: str, diag: T.Diagnostic) -> T.CodeAction:
    actions = await client.text_document_code_action_async(
        T.CodeActionParams(
            text_document=T.TextDocumentIdentifier(uri=uri),
            range=diag.range,
            context=T.CodeActionContext(diagnostics=[diag]),
        )
    )
    titles = [a.title for a in actions or [] if isinstance(a, T.CodeAction)]
    assert "Generate fix with Claude: memoize in Aligner.distance" in titles, titles
    return next(
        a for a in actions if isinstance(a, T.CodeAction) and a.title.startswith("Generate")
    )  # type: ignore[union-attr]


def _apply(text: str, edit: T.WorkspaceEdit, uri: str) -> str:
    edits = (
        edit.changes[uri]
        if edit.changes
        else [e for dc in edit.document_changes or [] for e in dc.edits]  # type: ignore[union-attr]
    )
    lines = text.splitlines(keepends=True)
    for e in sorted(
        edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True
    ):
        start = sum(len(ln) for ln in lines[: e.range.start.line]) + e.range.start.character
        end = sum(len(ln) for ln in lines[: e.range.end.line]) + e.range.end.character
        joined = "".join(lines)
        lines = (joined[:start] + e.new_text + joined[end:]).splitlines(keepends=True)
    return "".join(lines)


@pytest.mark.asyncio
async def test_resolve_gives_a_validated_per_instance_cache(ai_client: LanguageClient) -> None:
    uri, diag = await _open(ai_client)
    action = await _ai_action(ai_client, uri, diag)
    assert action.edit is None  # nothing is computed (or sent) until the user picks it
    before = len(FAKE.message_requests)
    FAKE.add(P.read_source(), P.submit(P.GOOD))
    resolved = await asyncio.wait_for(ai_client.code_action_resolve_async(action), 120)
    assert resolved.edit is not None, [m.message for m in ai_client.messages]
    path = ai_client.root / "align.py"  # type: ignore[attr-defined]
    new = _apply(path.read_text(), resolved.edit, uri)
    assert 'cache = self.__dict__.setdefault("_distance_cache", {})' in new
    assert new.count("def distance") == 1 and "def __init__" in new
    assert path.read_text().endswith(P.MODULE)  # the server never writes the file
    assert len(FAKE.message_requests) == before + 2
    # work-done progress named the phases, the tests ran and the speed-up was measured
    every = [r for rs in ai_client.progress_reports.values() for r in rs]
    titles = [r.title for r in every if isinstance(r, T.WorkDoneProgressBegin)]
    assert "Megawatt: Claude fix for Aligner.distance" in titles
    assert all(r.cancellable for r in every if isinstance(r, T.WorkDoneProgressBegin))
    reports = [r.message or "" for r in every if not isinstance(r, T.WorkDoneProgressBegin)]
    assert "gathering context" in reports and "validating the candidate" in reports
    assert any(r.startswith("running 3 test") for r in reports), reports
    logged = "\n".join(m.message for m in ai_client.log_messages)
    assert "✓ opportunity gone ✓ 3 tests" in logged and "faster in tests" in logged
    # asked again, the validated fix is offered from the cache, beside a fresh attempt
    actions = await ai_client.text_document_code_action_async(
        T.CodeActionParams(
            text_document=T.TextDocumentIdentifier(uri=uri),
            range=diag.range,
            context=T.CodeActionContext(diagnostics=[diag]),
        )
    )
    titles = [a.title for a in actions or [] if isinstance(a, T.CodeAction)]
    cached = next(a for a in actions or [] if a.title.startswith("Apply Claude's fix (cached)"))  # type: ignore[union-attr]
    assert "Generate another fix with Claude: memoize in Aligner.distance" in titles
    again = await asyncio.wait_for(ai_client.code_action_resolve_async(cached), 30)  # type: ignore[arg-type]
    assert again.edit == resolved.edit and len(FAKE.message_requests) == before + 2
    # what was sent, exactly as the model API received it
    shown = await ai_client.workspace_execute_command_async(
        T.ExecuteCommandParams(command="megawatt.showLastRequest")
    )
    assert shown == FAKE.message_requests[-1].body


@pytest.mark.asyncio
async def test_a_refused_candidate_says_why_and_changes_nothing(ai_client: LanguageClient) -> None:
    uri, diag = await _open(ai_client)
    action = await _ai_action(ai_client, uri, diag)
    FAKE.add(P.read_source(), P.submit(P.SUBPROCESS, ["import subprocess"]))
    FAKE.add(P.submit(P.SUBPROCESS, ["import subprocess"]))
    resolved = await asyncio.wait_for(ai_client.code_action_resolve_async(action), 120)
    assert resolved.edit is None
    for _ in range(50):
        if ai_client.messages:
            break
        await asyncio.sleep(0.1)
    message = ai_client.messages[-1].message
    assert message.startswith("Megawatt: no AI fix:") and "imports subprocess" in message


@pytest.mark.asyncio
async def test_cancelling_the_progress_stops_the_fix(ai_client: LanguageClient) -> None:
    uri, diag = await _open(ai_client)
    action = await _ai_action(ai_client, uri, diag)
    before = len(FAKE.message_requests)
    FAKE.add(delay(2.0, P.read_source()))  # the model is slow; the user gives up meanwhile
    known = set(ai_client.progress_reports)
    task = asyncio.ensure_future(ai_client.code_action_resolve_async(action))
    for _ in range(100):  # the fix's progress began and the model was asked
        fresh = [t for t in ai_client.progress_reports if t not in known]
        if fresh and len(FAKE.message_requests) > before:
            break
        await asyncio.sleep(0.05)
    ai_client.window_work_done_progress_cancel(T.WorkDoneProgressCancelParams(token=fresh[0]))
    resolved = await asyncio.wait_for(task, 60)
    assert resolved.edit is None
    assert len(FAKE.message_requests) == before + 1  # no model turn after the cancel
    assert any("no AI fix: cancelled" in m.message for m in ai_client.messages)
    assert FAKE.remaining == 0
