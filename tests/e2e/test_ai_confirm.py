"""AI fixes at the edges of the editor session: a client without codeAction/resolve (the command
route, its preview inside the question), an "Apply" refused once the text moved on, a workspace
the editor does not trust, and `exit` with a model call in flight."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import tempfile
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types as T
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests import ai_project as P
from tests.e2e.ai_editor import (
    Gate,
    act_as_user,
    ai_workspace,
    open_align,
    tell_commands_from_actions,
)
from tests.fake_anthropic import FakeAnthropic

FAKE = FakeAnthropic().start()
ENV = {
    **os.environ,
    "ANTHROPIC_BASE_URL": FAKE.base_url,
    "ANTHROPIC_API_KEY": "test-key",
    "XDG_CACHE_HOME": tempfile.mkdtemp(prefix="megawatt-ai-cache-"),
    "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
}
TRUSTED: dict[str, Any] = {"globalSettings": {}, "settings": []}
UNTRUSTED: dict[str, Any] = {**TRUSTED, "trusted": False}


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=[sys.executable, "-m", "megawatt", "serve"], server_env=ENV
    ),
)
async def editor(
    lsp_client: LanguageClient,
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
):
    """A client with the capabilities and initialization options of `request.param`."""
    spec, options = getattr(request, "param", ("neovim", TRUSTED))
    root = ai_workspace(tmp_path_factory, "confirm")
    act_as_user(lsp_client, root)
    tell_commands_from_actions(lsp_client)
    await lsp_client.initialize_session(
        T.InitializeParams(
            capabilities=client_capabilities(spec),
            root_uri=root.as_uri(),
            workspace_folders=[T.WorkspaceFolder(uri=root.as_uri(), name="confirm")],
            initialization_options=options,
        )
    )
    yield
    server = lsp_client._server
    if server is not None and server.returncode is None:  # a test may have ended it already
        await lsp_client.shutdown_session()


async def _actions(client: LanguageClient, uri: str, diag: T.Diagnostic) -> list[T.CodeAction]:
    actions = await client.text_document_code_action_async(
        T.CodeActionParams(
            text_document=T.TextDocumentIdentifier(uri=uri),
            range=diag.range,
            context=T.CodeActionContext(diagnostics=[diag]),
        )
    )
    return [a for a in actions or [] if isinstance(a, T.CodeAction)]


async def _run(client: LanguageClient, command: T.Command) -> Any:
    return await asyncio.wait_for(
        client.workspace_execute_command_async(
            T.ExecuteCommandParams(command=command.command, arguments=command.arguments)
        ),
        120,
    )


def _applied_text(client: LanguageClient, edit: T.WorkspaceEdit, uri: str) -> str:
    (change,) = edit.document_changes or []
    assert isinstance(change, T.TextDocumentEdit)
    assert change.text_document.uri == uri and change.text_document.version == 1
    text = (client.root / "align.py").read_text()  # type: ignore[attr-defined]
    lines = text.splitlines(keepends=True)
    for e in sorted(change.edits, key=lambda e: (e.range.start.line, e.range.start.character))[
        ::-1
    ]:
        start = sum(len(ln) for ln in lines[: e.range.start.line]) + e.range.start.character
        end = sum(len(ln) for ln in lines[: e.range.end.line]) + e.range.end.character
        joined = "".join(lines)
        lines = (joined[:start] + e.new_text + joined[end:]).splitlines(keepends=True)
    return "".join(lines)


@pytest.mark.parametrize("editor", [("emacs", TRUSTED)], indirect=True)
@pytest.mark.asyncio
async def test_a_client_without_resolve_sees_the_preview_and_is_asked(
    editor: LanguageClient,
) -> None:
    caps = client_capabilities("emacs")
    code_action = caps.text_document.code_action if caps.text_document else None
    assert code_action is not None and code_action.resolve_support is None
    assert caps.window is not None and caps.window.show_document is None
    uri, diag = await open_align(editor)
    path = editor.root / "align.py"  # type: ignore[attr-defined]
    (generate,) = [a for a in await _actions(editor, uri, diag) if "Claude" in a.title]
    assert generate.title == "Generate fix with Claude: memoize in Aligner.distance"
    assert generate.edit is None and generate.command is not None
    assert generate.command.command == "megawatt.generateAiFix"
    before = len(FAKE.message_requests)
    FAKE.add(P.read_source(), P.submit(P.GOOD))
    # the user reads the verdict and the diff in the question, and says no
    editor.answers.append("Cancel")  # type: ignore[attr-defined]
    assert await _run(editor, generate.command) is False
    assert len(FAKE.message_requests) == before + 2, FAKE.errors
    ((question, applied_before),) = editor.questions  # type: ignore[attr-defined]
    assert applied_before == 0
    assert [a.title for a in question.actions or []] == ["Apply", "Cancel"]
    assert "Cache per instance" in question.message and "3 tests" in question.message
    assert '+        cache = self.__dict__.setdefault("_distance_cache", {})' in question.message
    assert "--- a/align.py" in question.message
    assert editor.applied == [] and path.read_text().endswith(P.MODULE)  # type: ignore[attr-defined]
    verdicts = [m for m in editor.messages if m.type == T.MessageType.Info]
    assert any("Cache per instance" in m.message for m in verdicts)
    # asked again: the cached fix, and this time "Apply"
    (cached,) = [
        a
        for a in await _actions(editor, uri, diag)
        if a.title.startswith("Apply Claude's fix (cached)")
    ]
    assert cached.command is not None and cached.command.command == "megawatt.generateAiFix"
    editor.answers.append("Apply")  # type: ignore[attr-defined]
    assert await _run(editor, cached.command) is True
    assert len(FAKE.message_requests) == before + 2  # from the cache
    assert [n for _q, n in editor.questions] == [0, 0]  # type: ignore[attr-defined]
    (applied,) = editor.applied  # type: ignore[attr-defined]
    new = _applied_text(editor, applied.edit, uri)
    assert 'cache = self.__dict__.setdefault("_distance_cache", {})' in new
    assert new.count("def distance") == 1


@pytest.mark.asyncio
async def test_apply_is_refused_once_the_document_changed(editor: LanguageClient) -> None:
    uri, diag = await open_align(editor)
    (generate,) = [a for a in await _actions(editor, uri, diag) if "Claude" in a.title]
    FAKE.add(P.read_source(), P.submit(P.GOOD))
    resolved = await asyncio.wait_for(editor.code_action_resolve_async(generate), 120)
    assert resolved.edit is None and resolved.command is not None
    assert resolved.command.command == "megawatt.applyAiFix"
    # the user types before choosing "Apply": the previewed fix is for the old text
    editor.text_document_did_change(
        T.DidChangeTextDocumentParams(
            text_document=T.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                T.TextDocumentContentChangePartial(
                    range=T.Range(T.Position(0, 0), T.Position(0, 0)), text="# edited\n"
                )
            ],
        )
    )
    editor.answers.append("Apply")  # type: ignore[attr-defined]
    assert await _run(editor, resolved.command) is False
    assert editor.questions == [] and editor.applied == []  # type: ignore[attr-defined]
    for _ in range(50):
        if any("changed since the fix was previewed" in m.message for m in editor.messages):
            break
        await asyncio.sleep(0.1)
    assert any("changed since the fix was previewed" in m.message for m in editor.messages)


@pytest.mark.parametrize("editor", [("visual-studio-code", UNTRUSTED)], indirect=True)
@pytest.mark.asyncio
async def test_an_untrusted_workspace_gets_no_ai_fix_and_says_why(editor: LanguageClient) -> None:
    uri, diag = await open_align(editor)
    titles = [a.title for a in await _actions(editor, uri, diag)]
    assert "Ignore memoize on this line" in titles  # opportunities and their fixes remain
    assert not any("Claude" in t for t in titles), titles
    before = len(FAKE.message_requests)
    data = {"uri": uri, "version": 1, "key": diag.data["key"], "action": "ai", "fresh": False}  # type: ignore[index]
    done = await _run(
        editor, T.Command(title="", command="megawatt.generateAiFix", arguments=[data])
    )
    assert done is False
    resolved = await asyncio.wait_for(
        editor.code_action_resolve_async(T.CodeAction(title="Generate fix with Claude", data=data)),
        30,
    )
    assert resolved.edit is None and resolved.command is None
    recorded = await _run(editor, T.Command(title="", command="megawatt.recordProfile"))
    assert recorded is None
    said = [m.message for m in editor.messages]
    assert sum("no AI fix: this workspace is not trusted" in m for m in said) == 2, said
    assert any("not trusted" in m and "profile" in m for m in said), said
    assert len(FAKE.message_requests) == before and editor.questions == []  # type: ignore[attr-defined]


@pytest.mark.asyncio
async def test_exit_ends_the_server_with_an_ai_fix_in_flight(editor: LanguageClient) -> None:
    uri, diag = await open_align(editor)
    (generate,) = [a for a in await _actions(editor, uri, diag) if "Claude" in a.title]
    gate = Gate(P.read_source())
    FAKE.add(gate)
    server = editor._server
    assert server is not None
    try:
        task = asyncio.ensure_future(editor.code_action_resolve_async(generate))
        for _ in range(600):
            if gate.asked.is_set():
                break
            await asyncio.sleep(0.05)
        assert gate.asked.is_set(), "the model was never asked"
        await asyncio.wait_for(editor.shutdown_async(None), 30)
        editor.exit(None)
        # the worker is still waiting on the model, and the process is gone all the same
        await asyncio.wait_for(server.wait(), 15)
        assert server.returncode == 0
        assert not gate.opened.is_set()
        with contextlib.suppress(Exception):  # shutdown cancelled the pending resolve
            await asyncio.wait_for(task, 5)
    finally:
        gate.opened.set()
