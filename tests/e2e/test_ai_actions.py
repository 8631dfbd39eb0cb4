"""AI fixes through the language server: the action on a memoize opportunity of an instance
method, resolved with progress into a validated per-instance cache (its tests run, its speed-up
measured) from a scripted model on a local Messages-API server, and applied only once the user
confirms: VS Code (annotated edits) asks before applying the resolved edit; Neovim (no versioned
documentChanges) gets a preview document and an "Apply" question. Also: a refused candidate, a
cancelled one, and other requests answering while AI fixes run."""

from __future__ import annotations

import asyncio
import os
import stat
import sys
import tempfile
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as T
from pygls.uris import to_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests import ai_project as P
from tests.e2e.ai_editor import Gate, act_as_user, ai_workspace, open_align
from tests.fake_anthropic import MAX_DELAY, FakeAnthropic, delay

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
    root = ai_workspace(tmp_path_factory, "ai")
    act_as_user(lsp_client, root)
    await lsp_client.initialize_session(
        T.InitializeParams(
            capabilities=client_capabilities(request.param),
            root_uri=root.as_uri(),
            workspace_folders=[T.WorkspaceFolder(uri=root.as_uri(), name="ai")],
        )
    )
    lsp_client.client_name = request.param  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


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


def _verdict_shown(client: LanguageClient) -> str:
    """The information message that showed Megawatt's verdict."""
    shown = [
        m.message
        for m in client.messages
        if m.type == T.MessageType.Info and "Cache per instance" in m.message
    ]
    assert len(shown) == 1, [m.message for m in client.messages]
    return shown[0]


async def _confirm_in_vscode(client: LanguageClient, uri: str, resolved: T.CodeAction) -> str:
    """VS Code's route: the edit comes with the resolve, annotated so that VS Code asks first."""
    path = client.root / "align.py"  # type: ignore[attr-defined]
    assert resolved.command is None
    edit = resolved.edit
    assert edit is not None and edit.changes is None
    (change,) = edit.document_changes or []
    assert isinstance(change, T.TextDocumentEdit)
    assert change.text_document.uri == uri and change.text_document.version == 1
    assert change.edits and all(isinstance(e, T.AnnotatedTextEdit) for e in change.edits)
    ids = {e.annotation_id for e in change.edits}  # type: ignore[union-attr]
    assert len(ids) == 1 and set((edit.change_annotations or {}).keys()) == ids
    annotation = (edit.change_annotations or {})[ids.pop()]
    assert annotation.needs_confirmation is True
    # the verdict first: the label is the verdict line the user was shown, the description the
    # whole verdict (the checks with their figures, the model's own title last)
    assert annotation.label in _verdict_shown(client)
    assert "3 tests" in (annotation.description or "") and "Cache per instance" in (
        annotation.description or ""
    )
    # the server applies nothing itself: no applyEdit, no question, the file untouched
    assert client.applied == [] and client.questions == []  # type: ignore[attr-defined]
    assert path.read_text().endswith(P.MODULE)
    return _apply(path.read_text(), edit, uri)  # what VS Code applies once the user accepts


async def _confirm_in_neovim(client: LanguageClient, uri: str, resolved: T.CodeAction) -> str:
    """Neovim's route: no edit on resolve; a preview document, then "Apply" asked and applied."""
    path = client.root / "align.py"  # type: ignore[attr-defined]
    caps = client_capabilities("neovim").workspace
    assert caps is not None and caps.workspace_edit is not None
    assert not caps.workspace_edit.document_changes  # so annotated edits cannot reach it
    assert resolved.edit is None
    command = resolved.command
    assert command is not None and command.command == "megawatt.applyAiFix"
    assert list(command.arguments or [])[:2] == [uri, 1]
    previews = [d for d in client.shown_documents if d.uri.endswith(".diff")]
    assert len(previews) == 1
    preview = Path(to_fs_path(previews[0].uri) or "")
    assert preview.parent == Path(CACHE) / "megawatt" / "ai"
    assert stat.S_IMODE(preview.stat().st_mode) == 0o600
    shown = preview.read_text()
    assert "3 tests" in shown and "Cache per instance" in shown
    assert '+        cache = self.__dict__.setdefault("_distance_cache", {})' in shown
    assert "--- a/align.py" in shown and "+++ b/align.py" in shown
    assert _verdict_shown(client).removeprefix("Megawatt: ") in shown
    assert client.applied == [] and client.questions == []  # type: ignore[attr-defined]
    # Neovim runs the resolved action's command: the server asks, the user says "Apply"
    client.answers.append("Apply")  # type: ignore[attr-defined]
    done = await asyncio.wait_for(
        client.workspace_execute_command_async(
            T.ExecuteCommandParams(command=command.command, arguments=command.arguments)
        ),
        30,
    )
    assert done is True
    ((question, applied_before),) = client.questions  # type: ignore[attr-defined]
    assert applied_before == 0  # asked before anything was applied
    assert [a.title for a in question.actions or []] == ["Apply", "Cancel"]
    assert "Cache per instance" in question.message and "in the preview" in question.message
    (applied,) = client.applied  # type: ignore[attr-defined]
    assert path.read_text().endswith(P.MODULE)  # the editor applies it, to the buffer
    return _apply(path.read_text(), applied.edit, uri)


@pytest.mark.asyncio
async def test_resolve_gives_a_validated_fix_applied_on_confirmation(
    ai_client: LanguageClient,
) -> None:
    uri, diag = await open_align(ai_client)
    action = await _ai_action(ai_client, uri, diag)
    assert action.edit is None  # nothing is computed (or sent) until the user picks it
    before = len(FAKE.message_requests)
    FAKE.add(P.read_source(), P.submit(P.GOOD))
    resolved = await asyncio.wait_for(ai_client.code_action_resolve_async(action), 120)
    assert len(FAKE.message_requests) == before + 2, FAKE.errors
    if ai_client.client_name == "visual-studio-code":  # type: ignore[attr-defined]
        new = await _confirm_in_vscode(ai_client, uri, resolved)
    else:
        new = await _confirm_in_neovim(ai_client, uri, resolved)
    assert 'cache = self.__dict__.setdefault("_distance_cache", {})' in new
    assert new.count("def distance") == 1 and "def __init__" in new
    # work-done progress named the phases, the tests ran and the speed-up was measured
    every = [r for rs in ai_client.progress_reports.values() for r in rs]
    titles = [r.title for r in every if isinstance(r, T.WorkDoneProgressBegin)]
    assert "Megawatt: Claude fix for Aligner.distance" in titles
    assert all(r.cancellable for r in every if isinstance(r, T.WorkDoneProgressBegin))
    reports = [r.message or "" for r in every if not isinstance(r, T.WorkDoneProgressBegin)]
    assert "gathering context" in reports and "validating the candidate" in reports
    assert any(r.startswith("running 3 test") for r in reports), reports


@pytest.mark.asyncio
async def test_the_cached_fix_is_offered_again_and_confirmed_the_same_way(
    ai_client: LanguageClient,
) -> None:
    uri, diag = await open_align(ai_client)
    action = await _ai_action(ai_client, uri, diag)
    before = len(FAKE.message_requests)
    FAKE.add(P.read_source(), P.submit(P.GOOD))
    first = await asyncio.wait_for(ai_client.code_action_resolve_async(action), 120)
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
    assert len(FAKE.message_requests) == before + 2  # the cache answered
    assert again.edit == first.edit and again.command == first.command
    if ai_client.client_name == "visual-studio-code":  # type: ignore[attr-defined]
        assert again.edit is not None and again.edit.change_annotations
    else:
        assert again.edit is None and again.command is not None
    assert ai_client.applied == []  # type: ignore[attr-defined]
    # what was sent, exactly as the model API received it
    shown = await ai_client.workspace_execute_command_async(
        T.ExecuteCommandParams(command="megawatt.showLastRequest")
    )
    assert shown == FAKE.message_requests[-1].body


@pytest.mark.asyncio
async def test_a_refused_candidate_says_why_and_changes_nothing(ai_client: LanguageClient) -> None:
    uri, diag = await open_align(ai_client)
    action = await _ai_action(ai_client, uri, diag)
    FAKE.add(P.read_source(), P.submit(P.SUBPROCESS, ["import subprocess"]))
    FAKE.add(P.submit(P.SUBPROCESS, ["import subprocess"]))
    resolved = await asyncio.wait_for(ai_client.code_action_resolve_async(action), 120)
    assert resolved.edit is None and resolved.command is None
    for _ in range(50):
        if ai_client.messages:
            break
        await asyncio.sleep(0.1)
    message = ai_client.messages[-1].message
    assert message.startswith("Megawatt: no AI fix:") and "imports subprocess" in message
    assert ai_client.shown_documents == [] and ai_client.applied == []  # type: ignore[attr-defined]


async def _wait_logged(client: LanguageClient, text: str, times: int = 1) -> None:
    for _ in range(600):
        if sum(text in m.message for m in client.log_messages) >= times:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never logged {times}×: {text!r}")


async def _fresh_progress(client: LanguageClient, known: set[object]) -> str:
    for _ in range(600):
        fresh = [t for t in client.progress_reports if t not in known]
        if fresh:
            return str(fresh[0])
        await asyncio.sleep(0.05)
    raise AssertionError("no progress began")


@pytest.mark.asyncio
async def test_cancelling_the_progress_stops_the_fix(ai_client: LanguageClient) -> None:
    uri, diag = await open_align(ai_client)
    action = await _ai_action(ai_client, uri, diag)
    before = len(FAKE.message_requests)
    FAKE.add(delay(MAX_DELAY, P.read_source()))  # the model is slow; the user gives up meanwhile
    known = set(ai_client.progress_reports)
    task = asyncio.ensure_future(ai_client.code_action_resolve_async(action))
    token = await _fresh_progress(ai_client, known)
    for _ in range(600):
        if len(FAKE.message_requests) > before:
            break
        await asyncio.sleep(0.05)
    asked = FAKE.message_requests[before]
    number = next(i for i, r in enumerate(FAKE.requests, 1) if r is asked)
    ai_client.window_work_done_progress_cancel(T.WorkDoneProgressCancelParams(token=token))
    resolved = await asyncio.wait_for(task, 30)
    assert resolved.edit is None and resolved.command is None
    assert any("no AI fix: cancelled" in m.message for m in ai_client.messages)
    ends = [r for r in ai_client.progress_reports[token] if isinstance(r, T.WorkDoneProgressEnd)]
    assert [e.message for e in ends] == ["cancelled"]
    # the model's server saw the connection end while it was still "thinking" (a hang-up is
    # recorded only during the delay), and the worker returned without asking anything more
    for _ in range(600):
        if any(h.request == number for h in FAKE.hangups):
            break
        await asyncio.sleep(0.05)
    assert [h.request for h in FAKE.hangups if h.request == number] == [number]
    await _wait_logged(ai_client, "the cancelled Claude fix for Aligner.distance has stopped")
    assert len(FAKE.message_requests) == before + 1 and FAKE.errors == []
    assert FAKE.remaining == 0


@pytest.mark.asyncio
async def test_other_requests_answer_while_ai_fixes_run(ai_client: LanguageClient) -> None:
    uri, diag = await open_align(ai_client)
    action = await _ai_action(ai_client, uri, diag)
    before = len(FAKE.message_requests)
    gates = [Gate(P.read_source()), Gate(P.read_source())]
    known = set(ai_client.progress_reports)
    tasks, tokens = [], []

    def cancel(token: str) -> None:
        ai_client.window_work_done_progress_cancel(T.WorkDoneProgressCancelParams(token=token))

    try:
        # two AI fixes wait on the model, as many as the server's io pool has threads
        for gate in gates:
            FAKE.add(gate)
            tasks.append(asyncio.ensure_future(ai_client.code_action_resolve_async(action)))
            tokens.append(await _fresh_progress(ai_client, known))
            known.add(tokens[-1])
            await gate.wait_asked()
        where = T.TextDocumentIdentifier(uri=uri)
        hover = await asyncio.wait_for(
            ai_client.text_document_hover_async(
                T.HoverParams(text_document=where, position=diag.range.start)
            ),
            30,
        )
        assert hover is not None and "memoize" in str(hover.contents)
        lenses = await asyncio.wait_for(
            ai_client.text_document_code_lens_async(T.CodeLensParams(text_document=where)), 30
        )
        assert lenses is not None
        # a command that needs a thread of the server's pool answers too
        reloaded = await asyncio.wait_for(
            ai_client.workspace_execute_command_async(
                T.ExecuteCommandParams(command="megawatt.reloadProfiles")
            ),
            30,
        )
        assert reloaded == 0  # this project has no profile; what matters is that it answered
        assert not any(g.opened.is_set() for g in gates) and not any(t.done() for t in tasks)
        for token, task in zip(tokens, tasks, strict=True):
            cancel(token)
            resolved = await asyncio.wait_for(task, 30)
            assert resolved.edit is None and resolved.command is None
    finally:
        for gate in gates:
            gate.opened.set()
    await _wait_logged(ai_client, "the cancelled Claude fix for Aligner.distance has stopped", 2)
    assert len(FAKE.message_requests) == before + 2 and FAKE.errors == []
