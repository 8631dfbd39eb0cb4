"""textDocument/codeAction and codeAction/resolve: quick fixes, suppressions, fix-all.

Quick fixes are rebuilt from the diagnostics' `data` against the analysis of that version; the
edit itself is computed in resolve when the client can resolve edits, eagerly otherwise.
"""

from __future__ import annotations

from typing import Any

from lsprotocol import types as T

from megawatt.analyzers.context import FileContext
from megawatt.fixes.deterministic import fix_for
from megawatt.fixes.fixall import fix_source
from megawatt.fixes.guardrails import find_ruff
from megawatt.model import Edit, Finding
from megawatt.server.edits import text_edits, whole_document, workspace_edit
from megawatt.server.requests.ai_fix import ai_actions, resolve_ai
from megawatt.server.server import MegawattServer, guarded
from megawatt.server.session import Analysis, DocumentState
from megawatt.skills import load_skills

FIX_ALL = "source.fixAll.megawatt"
KINDS = (T.CodeActionKind.QuickFix, FIX_ALL)


def _wanted(kind: str, only: list[str] | None) -> bool:
    return only is None or any(kind == k or kind.startswith(k + ".") for k in only)


def _finding(analysis: Analysis, key: str) -> Finding | None:
    return next((f for f in analysis.findings if f.key == key), None)


def _fix_edit(
    ls: MegawattServer,
    state: DocumentState,
    analysis: Analysis,
    finding: Finding,
    verify: bool = True,
) -> tuple[str, T.WorkspaceEdit] | None:
    folder = ls.folder_for(state.path)
    ctx = FileContext(state.path, analysis.source)
    fix = fix_for(ctx, finding, load_skills(folder.root), verify=verify)
    if fix is None:
        return None
    title = fix.title if fix.safe else f"{fix.title} (unsafe: {fix.note})"
    edit = workspace_edit(
        state.uri,
        analysis.version,
        text_edits(fix.edits, analysis.lines),
        ls.session.document_changes,
    )
    return title, edit


def _suppress_edit(
    ls: MegawattServer, state: DocumentState, analysis: Analysis, finding: Finding
) -> T.WorkspaceEdit:
    line = finding.span.line
    text = analysis.lines.line(line - 1)
    base = analysis.lines.byte_starts[line - 1]

    def at(col: int) -> int:
        return base + len(text[:col].encode("utf-8"))

    marker = "# megawatt: ignore["
    close = text.find("]", text.find(marker)) if marker in text else -1
    if close >= 0:
        edit = Edit(at(close), at(close), f", {finding.skill}")
    else:  # replaces trailing blanks, so the comment sits two spaces after the code
        edit = Edit(at(len(text.rstrip())), at(len(text)), f"  # megawatt: ignore[{finding.skill}]")
    return workspace_edit(
        state.uri,
        analysis.version,
        text_edits([edit], analysis.lines),
        ls.session.document_changes,
    )


def _fix_all_edit(
    ls: MegawattServer, state: DocumentState, analysis: Analysis
) -> T.WorkspaceEdit | None:
    folder = ls.folder_for(state.path)
    settings = folder.settings
    # the CLI's and the AI path's style check: a rewrite adding a ruff finding (the project's
    # configuration) on the lines it touched is left out (ruff is a test/extra dependency;
    # without it the check is skipped, as in the CLI)
    outcome = fix_source(
        state.path,
        analysis.source,
        load_skills(folder.root),
        settings.select,
        settings.ignore,
        ruff=find_ruff(),
        root=folder.root,
    )
    if not outcome.changed or outcome.problem:
        return None
    edits = whole_document(analysis.source, outcome.after, analysis.lines)
    return workspace_edit(state.uri, analysis.version, edits, ls.session.document_changes)


def register(server: MegawattServer) -> None:
    @server.feature(
        T.TEXT_DOCUMENT_CODE_ACTION,
        T.CodeActionOptions(code_action_kinds=list(KINDS), resolve_provider=True),
    )
    @guarded(server, "code actions", default=[])
    def code_action(ls: MegawattServer, params: T.CodeActionParams) -> list[T.CodeAction]:
        state = ls.session.documents.get(params.text_document.uri)
        if state is None or state.analysis is None or state.analysis.version != state.version:
            return []
        analysis = state.analysis
        only = params.context.only
        actions: list[T.CodeAction] = []
        lazy = ls.session.resolve_edits
        if _wanted(T.CodeActionKind.QuickFix, only):
            for diag in params.context.diagnostics:
                data = diag.data if isinstance(diag.data, dict) else None
                if diag.source != "megawatt" or not data or data.get("kind") != "opportunity":
                    continue
                finding = _finding(analysis, str(data.get("key")))
                if finding is None:
                    continue
                base: dict[str, Any] = {
                    "uri": state.uri,
                    "version": analysis.version,
                    "key": finding.key,
                }
                # with resolve, the (cheap) rewrite names the action; verification waits
                fix = _fix_edit(ls, state, analysis, finding, verify=not lazy)
                if lazy and fix is not None:
                    actions.append(
                        T.CodeAction(
                            title=fix[0],
                            kind=T.CodeActionKind.QuickFix,
                            diagnostics=[diag],
                            is_preferred=True,
                            data={**base, "action": "fix"},
                        )
                    )
                elif fix is not None:
                    actions.append(
                        T.CodeAction(
                            title=fix[0],
                            kind=T.CodeActionKind.QuickFix,
                            diagnostics=[diag],
                            is_preferred=True,
                            edit=fix[1],
                        )
                    )
                actions.extend(ai_actions(ls, state, analysis, finding, diag))
                actions.append(
                    T.CodeAction(
                        title=f"Ignore {finding.skill} on this line",
                        kind=T.CodeActionKind.QuickFix,
                        diagnostics=[diag],
                        edit=_suppress_edit(ls, state, analysis, finding),
                    )
                )
        if _wanted(FIX_ALL, only) and any(True for _ in analysis.findings):
            data = {"uri": state.uri, "version": analysis.version, "action": "fixAll"}
            if lazy:
                actions.append(
                    T.CodeAction(title="Megawatt: apply every safe fix", kind=FIX_ALL, data=data)
                )
            else:
                edit = _fix_all_edit(ls, state, analysis)
                if edit is not None:
                    actions.append(
                        T.CodeAction(
                            title="Megawatt: apply every safe fix", kind=FIX_ALL, edit=edit
                        )
                    )
        return actions

    @server.feature(T.CODE_ACTION_RESOLVE)
    @guarded(server, "resolving a code action")
    async def resolve(ls: MegawattServer, action: T.CodeAction) -> T.CodeAction:
        data = action.data if isinstance(action.data, dict) else {}
        if data.get("action") == "ai":
            return await resolve_ai(ls, action)
        state = ls.session.documents.get(str(data.get("uri")))
        if state is None or state.analysis is None:
            return action
        analysis = state.analysis
        if data.get("version") != analysis.version:
            # the text moved on: only an edit computed on the current text may be applied
            return action
        if data.get("action") == "fixAll":
            action.edit = _fix_all_edit(ls, state, analysis)
            return action
        finding = _finding(analysis, str(data.get("key")))
        if finding is not None:
            fix = _fix_edit(ls, state, analysis, finding)
            if fix is not None:
                action.edit = fix[1]
            else:
                ls.warn_once(
                    f"unverified:{finding.key}",
                    f"Megawatt: the {finding.skill} fix did not pass its checks and was withdrawn",
                )
        return action
