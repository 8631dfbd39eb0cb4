"""AI fixes in the editor: "Generate fix with Claude: …" actions on opportunities, computed in
codeAction/resolve (or by a command, for clients that cannot resolve) with work-done progress
that names the phase and honours cancellation. Nothing is applied but the edit the user picks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from functools import partial
from typing import Any

from lsprotocol import types as T

from megawatt.fixes.ai import AiOutcome, cache_dir, cached_fix, last_request, resolve_ai_fix
from megawatt.model import Finding
from megawatt.server import progress
from megawatt.server.edits import whole_document, workspace_edit
from megawatt.server.server import MegawattServer, guarded
from megawatt.server.session import Analysis, DocumentState
from megawatt.skills import load_skills
from megawatt.tools import ToolContext

GENERATE = "megawatt.generateAiFix"
SHOW_LAST_REQUEST = "megawatt.showLastRequest"


def _context(ls: MegawattServer, state: DocumentState, analysis: Analysis) -> ToolContext:
    folder = ls.folder_for(state.path)
    return ToolContext(
        root=folder.root,
        settings=folder.settings,
        skills=load_skills(folder.root),
        profile=folder.profile,
        index=folder.index,
        overrides={state.path: analysis.source},  # the text the user sees, saved or not
    )


def ai_actions(
    ls: MegawattServer,
    state: DocumentState,
    analysis: Analysis,
    finding: Finding,
    diag: T.Diagnostic,
) -> list[T.CodeAction]:
    """The AI actions for one opportunity: none unless AI fixes are enabled for the folder."""
    folder = ls.folder_for(state.path)
    llm = folder.settings.llm
    if not llm.enabled:
        return []
    what = f"{finding.skill} in {finding.function}" if finding.function else finding.skill
    base = {"uri": state.uri, "version": analysis.version, "key": finding.key, "action": "ai"}
    hit = cached_fix(load_skills(folder.root), analysis.source, finding, llm)
    offers: list[tuple[str, bool]] = []
    if hit is not None and hit.ok:
        offers.append((f"Apply Claude's fix (cached): {hit.title}", False))
        offers.append((f"Generate another fix with Claude: {what}", True))
    else:
        offers.append((f"Generate fix with Claude: {what}", False))
    actions = []
    for title, fresh in offers:
        data = {**base, "fresh": fresh}
        if ls.session.resolve_edits:
            actions.append(
                T.CodeAction(
                    title=title, kind=T.CodeActionKind.QuickFix, diagnostics=[diag], data=data
                )
            )
        else:  # no resolve: the click runs a command that applies the validated edit
            actions.append(
                T.CodeAction(
                    title=title,
                    kind=T.CodeActionKind.QuickFix,
                    diagnostics=[diag],
                    command=T.Command(title=title, command=GENERATE, arguments=[data]),
                )
            )
    return actions


async def compute(ls: MegawattServer, data: dict[str, Any]) -> tuple[T.WorkspaceEdit | None, str]:
    """The validated edit for an AI action's data, or None and the reason."""
    state = ls.session.documents.get(str(data.get("uri")))
    analysis = state.analysis if state is not None else None
    if state is None or analysis is None or data.get("version") != analysis.version:
        return None, "the document changed since the action was offered; ask again"
    finding = next((f for f in analysis.findings if f.key == data.get("key")), None)
    if finding is None:
        return None, "the opportunity is no longer reported"
    ctx = _context(ls, state, analysis)
    loop = asyncio.get_running_loop()
    cancel = threading.Event()
    title = f"Megawatt: Claude fix for {finding.function or finding.skill}"
    token = await progress.begin(ls, title, cancellable=True)

    def report(message: str) -> None:
        if token is not None:
            loop.call_soon_threadsafe(
                ls.work_done_progress.report, token, T.WorkDoneProgressReport(message=message)
            )

    if token is not None:
        client_cancel = ls.work_done_progress.tokens.get(token)
        if client_cancel is not None:
            client_cancel.add_done_callback(lambda _f: cancel.set())
    job = partial(
        resolve_ai_fix,
        ctx,
        state.path,
        analysis.source,
        finding,
        ctx.settings.llm,
        fresh=bool(data.get("fresh")),
        progress=report,
        cancel=cancel,
    )
    outcome: AiOutcome | None = None
    try:
        outcome = await loop.run_in_executor(ls.io_pool, job)
    except asyncio.CancelledError:  # the client cancelled the request: stop the worker too
        cancel.set()
        raise
    finally:
        message = "cancelled" if outcome is None else ("done" if outcome.ok else "no fix")
        progress.end(ls, token, message)
    if cancel.is_set():
        return None, "cancelled"
    if not outcome.ok or outcome.source is None:
        return None, outcome.reason
    current = ls.session.documents.get(state.uri)
    if current is None or current.version != analysis.version:
        return None, "the document changed while the fix was made; ask again"
    edits = whole_document(analysis.source, outcome.source.encode("utf-8"), analysis.lines)
    ls.info(f"Megawatt: {outcome.title}{' (cached)' if outcome.cached else ''}")
    return workspace_edit(state.uri, analysis.version, edits, ls.session.document_changes), ""


def _refused(ls: MegawattServer, reason: str) -> None:
    ls.window_show_message(
        T.ShowMessageParams(type=T.MessageType.Warning, message=f"Megawatt: no AI fix: {reason}")
    )


async def resolve_ai(ls: MegawattServer, action: T.CodeAction) -> T.CodeAction:
    data = action.data if isinstance(action.data, dict) else {}
    edit, reason = await compute(ls, data)
    if edit is None:
        _refused(ls, reason)
        return action
    action.edit = edit
    return action


def register(server: MegawattServer) -> None:
    @server.command(GENERATE)
    @guarded(server, "generating an AI fix")
    async def generate(ls: MegawattServer, data: dict[str, Any]) -> bool:
        edit, reason = await compute(ls, data)
        if edit is None:
            _refused(ls, reason)
            return False
        result = await ls.workspace_apply_edit_async(T.ApplyWorkspaceEditParams(edit=edit))
        return bool(result.applied)

    @server.command(SHOW_LAST_REQUEST)
    @guarded(server, "showing the last model request")
    async def show_last(ls: MegawattServer, *args: object) -> Any:
        sent = last_request()
        if sent is None:
            ls.info("Megawatt: no request has been sent to a model yet", show=True)
            return None
        path = cache_dir() / "last-request.json"
        # a client without showDocument still gets the JSON as the command's result
        with contextlib.suppress(Exception):
            await ls.window_show_document_async(T.ShowDocumentParams(uri=path.as_uri()))
        return json.loads(json.dumps(sent))
