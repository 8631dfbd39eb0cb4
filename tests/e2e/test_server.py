"""The language server end to end: a real server over stdio, VS Code's and Neovim's capabilities."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types as T
from pytest_lsp import LanguageClient

TIMEOUT = 20


async def open_and_wait(
    client: LanguageClient, path: Path, text: str | None = None
) -> list[T.Diagnostic]:
    uri = path.as_uri()
    fut = client.protocol.wait_for_notification_async(T.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    client.text_document_did_open(
        T.DidOpenTextDocumentParams(
            T.TextDocumentItem(uri=uri, language_id="python", version=1,
                               text=path.read_text() if text is None else text)
        )
    )  # fmt: skip
    params = await asyncio.wait_for(fut, TIMEOUT)
    assert params.uri == uri
    return list(params.diagnostics)


async def wait_version(
    client: LanguageClient, uri: str, version: int
) -> T.PublishDiagnosticsParams:
    """The first publication for `uri` at `version` (earlier ones may still be in flight)."""
    while True:
        fut = client.protocol.wait_for_notification_async(T.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        params = await asyncio.wait_for(fut, TIMEOUT)
        if params.uri == uri and params.version == version:
            return params


def find(diags: list[T.Diagnostic], code: str) -> list[T.Diagnostic]:
    return [d for d in diags if d.code == code]


async def test_hot_functions_and_opportunities(client: LanguageClient) -> None:
    root: Path = client.workspace_root  # type: ignore[attr-defined]
    diags = await open_and_wait(client, root / "shop.py")
    hot = find(diags, "hot-function")
    names = {d.message for d in hot}
    assert hot, diags
    edit = next(d for d in hot if d.range.start.line == 43)  # def edit_distance (line 44)
    assert edit.message.endswith("calls") and "% of CPU (self " in edit.message
    assert edit.severity in (T.DiagnosticSeverity.Information, T.DiagnosticSeverity.Hint)
    assert edit.range.start.character == 4 and edit.range.end.character == 4 + len("edit_distance")
    assert names
    any_all = find(diags, "any-all-materialized")
    assert len(any_all) == 1
    assert any_all[0].source == "megawatt"
    assert any_all[0].code_description is not None
    assert any_all[0].code_description.href.endswith("any-all-materialized/SKILL.md")


async def test_non_ascii_positions(client: LanguageClient) -> None:
    root: Path = client.workspace_root  # type: ignore[attr-defined]
    text = 'prix_réduit = "🛒"; ok = any([x for x in range(3)])\n'
    path = root / "accents.py"
    path.write_text(text)
    diags = find(await open_and_wait(client, path, text), "any-all-materialized")
    (d,) = diags
    prefix = text[: text.index("any(")]
    utf8 = len(prefix.encode())
    utf16 = len(prefix.encode("utf-16-le")) // 2
    name = client.client_name  # type: ignore[attr-defined]
    expected = utf8 if name == "neovim" else utf16
    assert d.range.start.character == expected, (name, d.range)


async def test_code_action_fix_and_resolve(client: LanguageClient) -> None:
    root: Path = client.workspace_root  # type: ignore[attr-defined]
    diags = await open_and_wait(client, root / "shop.py")
    (target,) = find(diags, "any-all-materialized")
    uri = (root / "shop.py").as_uri()
    actions = await asyncio.wait_for(
        client.text_document_code_action_async(
            T.CodeActionParams(
                text_document=T.TextDocumentIdentifier(uri=uri),
                range=target.range,
                context=T.CodeActionContext(diagnostics=[target]),
            )
        ),
        TIMEOUT,
    )
    assert actions
    titles = [a.title for a in actions]
    fix = next(a for a in actions if a.title == "Pass a generator to any() so it can stop early")
    assert fix.kind == T.CodeActionKind.QuickFix
    assert any(t == "Ignore any-all-materialized on this line" for t in titles)
    if fix.edit is None:  # resolved lazily for clients that support it
        fix = await asyncio.wait_for(client.code_action_resolve_async(fix), TIMEOUT)
    assert fix.edit is not None
    edits = (
        fix.edit.document_changes[0].edits  # type: ignore[index, union-attr]
        if fix.edit.document_changes
        else fix.edit.changes[uri]  # type: ignore[index]
    )
    assert sorted(e.new_text for e in edits) == ["", ""]
    assert all(e.range.start.line == target.range.start.line for e in edits)


async def test_fix_all(client: LanguageClient) -> None:
    root: Path = client.workspace_root  # type: ignore[attr-defined]
    diags = await open_and_wait(client, root / "shop.py")
    uri = (root / "shop.py").as_uri()
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
    (action,) = actions
    if action.edit is None:
        action = await asyncio.wait_for(client.code_action_resolve_async(action), TIMEOUT)
    assert action.edit is not None and diags


async def test_code_lens_hover_inlay(client: LanguageClient) -> None:
    root: Path = client.workspace_root  # type: ignore[attr-defined]
    await open_and_wait(client, root / "shop.py")
    uri = (root / "shop.py").as_uri()
    lenses = await client.text_document_code_lens_async(
        T.CodeLensParams(T.TextDocumentIdentifier(uri))
    )
    lens = next(lens for lens in lenses if lens.range.start.line == 43)
    assert lens.command is not None and lens.command.title.startswith("⚡ ")
    hover = await client.text_document_hover_async(
        T.HoverParams(T.TextDocumentIdentifier(uri), T.Position(43, 6))
    )
    assert hover is not None
    value = hover.contents.value  # type: ignore[union-attr]
    assert "edit_distance" in value and "Called from" in value and "Profile: shop.pstats" in value
    hints = await client.text_document_inlay_hint_async(
        T.InlayHintParams(
            T.TextDocumentIdentifier(uri), T.Range(T.Position(0, 0), T.Position(200, 0))
        )
    )
    assert hints and all(str(h.label).strip().endswith("%") for h in hints)
    assert any(43 <= h.position.line <= 56 for h in hints)


async def test_edits_move_the_function_and_close_clears(client: LanguageClient) -> None:
    root: Path = client.workspace_root  # type: ignore[attr-defined]
    path = root / "shop.py"
    await open_and_wait(client, path)
    uri = path.as_uri()
    waiting = asyncio.ensure_future(wait_version(client, uri, 2))
    await asyncio.sleep(0)
    client.text_document_did_change(
        T.DidChangeTextDocumentParams(
            text_document=T.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                T.TextDocumentContentChangePartial(
                    range=T.Range(T.Position(0, 0), T.Position(0, 0)),
                    text="# one\n# two\n# three\n",
                )
            ],
        )
    )
    params = await waiting
    assert params.version == 2
    hot = [
        d
        for d in params.diagnostics
        if d.code == "hot-function" and "edit_distance" not in d.message
    ]
    moved = [d for d in params.diagnostics if d.code == "hot-function" and d.range.start.line == 46]
    assert moved and hot is not None
    fut = client.protocol.wait_for_notification_async(T.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    client.text_document_did_close(T.DidCloseTextDocumentParams(T.TextDocumentIdentifier(uri)))
    params = await asyncio.wait_for(fut, TIMEOUT)
    assert params.uri == uri and list(params.diagnostics) == []


async def test_half_typed_file(client: LanguageClient) -> None:
    root: Path = client.workspace_root  # type: ignore[attr-defined]
    text = (
        "def ok(xs):\n    return all([x for x in xs])\n\ndef broken(:\n    return any([x for x in\n"
    )
    path = root / "half.py"
    path.write_text(text)
    diags = await open_and_wait(client, path, text)
    assert [d.range.start.line for d in find(diags, "any-all-materialized")] == [1]
