"""AI fixes in the editor: "Generate fix with Claude: …" actions on opportunities, computed in
codeAction/resolve (or by a command, for clients that cannot resolve) with work-done progress
that names the phase and honours cancellation.

Megawatt's verdict comes first and is seen before anything changes; nothing is applied without
the user's confirmation, by whichever route the client allows:

- a client that asks before applying an annotated edit (versioned documentChanges and
  changeAnnotationSupport, e.g. VS Code) gets the edit on resolve, annotated with
  needsConfirmation and the whole verdict as its description;
- any other client gets no edit on resolve: a preview (the verdict and a unified diff) opens as a
  document, and the resolved action carries `megawatt.applyAiFix`, which asks "Apply"/"Cancel"
  (window/showMessageRequest, with the preview in the message when no document could be shown)
  and applies through workspace/applyEdit only if the document is still at the previewed version;
- a client without resolve runs `megawatt.generateAiFix`: the same preview, the same question.

Each successful fix also shows the verdict line as an information message.
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import hashlib
import json
import logging
import os
import re
import threading
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from lsprotocol import types as T

from megawatt.fixes.ai import AiOutcome, cache_dir, cached_fix, last_request, resolve_ai_fix
from megawatt.model import Finding
from megawatt.server import progress
from megawatt.server.edits import whole_document, workspace_edit
from megawatt.server.server import Busy, MegawattServer, guarded
from megawatt.server.session import Analysis, DocumentState
from megawatt.skills import load_skills
from megawatt.tools import ToolContext

log = logging.getLogger("megawatt.server")

GENERATE = "megawatt.generateAiFix"
APPLY = "megawatt.applyAiFix"
SHOW_LAST_REQUEST = "megawatt.showLastRequest"
APPLY_CHOICE = "Apply"
CANCEL_CHOICE = "Cancel"
ANNOTATION_ID = "megawatt.aiFix"
KEEP_PREVIEWS = 8
UNTRUSTED = (
    "this workspace is not trusted: in a restricted window Megawatt asks no model for fixes and "
    "runs no tests; trust the workspace to enable them"
)


@dataclass
class Validated:
    """A fix that passed Megawatt's checks, for one version of one document."""

    uri: str
    path: str
    version: int | None
    before: bytes
    after: str
    subject: str  # the function (or skill) fixed
    title: str  # Megawatt's verdict line
    report: str  # the whole verdict, line by line
    cached: bool
    edits: list[T.TextEdit]
    key: str  # names the preview file and the fix `megawatt.applyAiFix` applies
    shown: bool = False  # the preview was opened as a document


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
    """The AI actions for one opportunity: none unless AI fixes are enabled for the folder and
    the workspace is trusted."""
    if not ls.session.trusted:
        return []
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
        else:  # no resolve: the click runs a command that previews, asks, then applies
            actions.append(
                T.CodeAction(
                    title=title,
                    kind=T.CodeActionKind.QuickFix,
                    diagnostics=[diag],
                    command=T.Command(title=title, command=GENERATE, arguments=[data]),
                )
            )
    return actions


# -- making the fix ------------------------------------------------------------------------


_KEY = re.compile(r"[0-9a-f]{16,64}")


def _fix_key(outcome: AiOutcome, after: str) -> str:
    """The fix's cache key when the resolver gives one (hex, so it is safe in a file name), else
    the new text's digest."""
    key = str(getattr(outcome, "key", "") or "")
    if _KEY.fullmatch(key):
        return key
    return hashlib.sha256(after.encode("utf-8")).hexdigest()[:32]


def _job_ended(
    ls: MegawattServer, subject: str, cancel: threading.Event, job: asyncio.Future[AiOutcome]
) -> None:
    if job.cancelled():
        return
    err = job.exception()  # retrieved here too, so an abandoned job's failure is not lost
    if cancel.is_set():
        if err is not None:
            log.info("cancelled AI fix for %s ended with %r", subject, err)
        if not ls.exiting:
            ls.info(f"Megawatt: the cancelled Claude fix for {subject} has stopped")


async def compute(ls: MegawattServer, data: dict[str, Any]) -> Validated | str:
    """The validated fix for an AI action's data, or the reason there is none."""
    state = ls.session.documents.get(str(data.get("uri")))
    analysis = state.analysis if state is not None else None
    if state is None or analysis is None or data.get("version") != analysis.version:
        return "the document changed since the action was offered; ask again"
    finding = next((f for f in analysis.findings if f.key == data.get("key")), None)
    if finding is None:
        return "the opportunity is no longer reported"
    ctx = _context(ls, state, analysis)
    loop = asyncio.get_running_loop()
    cancel = threading.Event()
    stopped: asyncio.Future[None] = loop.create_future()  # the user cancelled the progress
    subject = finding.function or finding.skill
    token = await progress.begin(ls, f"Megawatt: Claude fix for {subject}", cancellable=True)
    ended = False

    def report(message: str) -> None:  # on the job's thread
        if token is None or ended or cancel.is_set():
            return  # no report after the bar's end
        with contextlib.suppress(RuntimeError):  # the loop closed: the server is exiting
            loop.call_soon_threadsafe(
                ls.work_done_progress.report, token, T.WorkDoneProgressReport(message=message)
            )

    def on_cancel() -> None:
        cancel.set()
        if not stopped.done():
            stopped.set_result(None)

    if token is not None:
        client_cancel = ls.work_done_progress.tokens.get(token)
        if client_cancel is not None:
            client_cancel.add_done_callback(lambda _f: loop.call_soon_threadsafe(on_cancel))
    work = partial(
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
        try:
            job = ls.ai_jobs.start(work, cancel)
        except Busy as err:
            return str(err)
        job.add_done_callback(partial(_job_ended, ls, subject, cancel))
        # a cancel ends the wait at once; the job's thread sees the event (the resolver hangs up
        # a model call in flight) and returns without asking the model anything more
        await asyncio.wait({job, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if job.done() and not cancel.is_set():
            outcome = job.result()
    except asyncio.CancelledError:  # the client cancelled the request, or the server exits
        cancel.set()
        raise
    finally:
        ended = True
        if not stopped.done():
            stopped.cancel()
        if not ls.exiting:  # after exit the client is gone: nothing more is written
            if outcome is not None:
                message = "done" if outcome.ok else "no fix"
            else:
                message = "cancelled" if cancel.is_set() else "not started"
            progress.end(ls, token, message)
    if outcome is None:
        return "cancelled"
    if not outcome.ok or outcome.source is None:
        return outcome.reason
    current = ls.session.documents.get(state.uri)
    if current is None or current.version != analysis.version:
        return "the document changed while the fix was made; ask again"
    return Validated(
        uri=state.uri,
        path=state.path,
        version=analysis.version,
        before=analysis.source,
        after=outcome.source,
        subject=subject,
        title=outcome.title,
        report=outcome.report or outcome.title,
        cached=outcome.cached,
        edits=whole_document(analysis.source, outcome.source.encode("utf-8"), analysis.lines),
        key=_fix_key(outcome, outcome.source),
    )


# -- showing it ----------------------------------------------------------------------------


def _refused(ls: MegawattServer, reason: str) -> None:
    ls.window_show_message(
        T.ShowMessageParams(type=T.MessageType.Warning, message=f"Megawatt: no AI fix: {reason}")
    )


def _tell_verdict(ls: MegawattServer, fix: Validated) -> None:
    ls.info(f"Megawatt: {fix.title}{' (cached)' if fix.cached else ''}", show=True)


def _relative(ls: MegawattServer, path: str) -> str:
    root = ls.folder_for(path).root
    with contextlib.suppress(ValueError):
        return str(Path(path).relative_to(root))
    return Path(path).name


def preview_text(ls: MegawattServer, fix: Validated) -> str:
    """Megawatt's verdict, then the change as a unified diff."""
    rel = _relative(ls, fix.path)
    diff = difflib.unified_diff(
        fix.before.decode("utf-8").splitlines(keepends=True),
        fix.after.splitlines(keepends=True),
        fromfile=f"a/{rel}",
        tofile=f"b/{rel}",
    )
    head = (
        f"Claude's fix for {fix.subject} in {rel}, as Megawatt checked it. "
        f'Nothing is applied until you choose "{APPLY_CHOICE}".'
    )
    body = "".join(line if line.endswith("\n") else line + "\n" for line in diff)
    verdict = (
        fix.title if fix.report.strip() == fix.title.strip() else f"{fix.title}\n\n{fix.report}"
    )
    return f"{head}\n\n{verdict.rstrip()}\n\n{body}"


def _write_preview(ls: MegawattServer, fix: Validated) -> Path | None:
    folder = cache_dir()
    path = folder / f"preview-{fix.key}.diff"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            os.fchmod(out.fileno(), 0o600)  # a file left by an older run keeps no wider mode
            out.write(preview_text(ls, fix))
    except OSError as err:
        log.warning("could not write the AI fix preview %s: %s", path, err)
        return None
    return path


async def _preview(ls: MegawattServer, fix: Validated) -> None:
    """Keep the fix for "Apply" and open its preview where the client can show documents."""
    previews = ls.session.ai_previews
    previews[fix.key] = fix
    previews.move_to_end(fix.key)
    while len(previews) > KEEP_PREVIEWS:
        previews.popitem(last=False)
    path = _write_preview(ls, fix)
    if path is None or not ls.session.show_document:
        return
    try:
        shown = await asyncio.wait_for(
            ls.window_show_document_async(T.ShowDocumentParams(uri=path.as_uri(), take_focus=True)),
            5,
        )
    except Exception as err:  # the question then carries the preview itself
        log.info("showDocument failed for the AI fix preview: %s", err)
        return
    fix.shown = bool(shown and shown.success)


def _stale(ls: MegawattServer, fix: Validated) -> str | None:
    state = ls.session.documents.get(fix.uri)
    if state is None or state.version != fix.version or state.source != fix.before:
        return "the document changed since the fix was previewed; ask again"
    return None


def _annotated(fix: Validated) -> T.WorkspaceEdit:
    """The edit for clients that ask the user first: every change needs confirmation."""
    edits: list[T.TextEdit | T.AnnotatedTextEdit] = [
        T.AnnotatedTextEdit(range=e.range, new_text=e.new_text, annotation_id=ANNOTATION_ID)
        for e in fix.edits
    ]
    return T.WorkspaceEdit(
        document_changes=[
            T.TextDocumentEdit(
                text_document=T.OptionalVersionedTextDocumentIdentifier(
                    uri=fix.uri, version=fix.version
                ),
                edits=edits,
            )
        ],
        change_annotations={
            ANNOTATION_ID: T.ChangeAnnotation(
                label=fix.title, needs_confirmation=True, description=fix.report
            )
        },
    )


async def _confirm_and_apply(ls: MegawattServer, fix: Validated) -> bool:
    """Ask "Apply"/"Cancel"; on "Apply", apply the validated edit if the text is unchanged."""
    rel = _relative(ls, fix.path)
    question = f"Megawatt: apply Claude's fix to {rel}? {fix.title}"
    if fix.shown:
        question += " (the verdict and the diff are in the preview)"
    else:
        question += "\n\n" + preview_text(ls, fix)
    choice = await ls.window_show_message_request_async(
        T.ShowMessageRequestParams(
            type=T.MessageType.Info,
            message=question,
            actions=[
                T.MessageActionItem(title=APPLY_CHOICE),
                T.MessageActionItem(title=CANCEL_CHOICE),
            ],
        )
    )
    if choice is None or choice.title != APPLY_CHOICE:
        ls.info("Megawatt: Claude's fix was not applied")
        return False
    stale = _stale(ls, fix)  # the user may have typed while the question was open
    if stale is not None:
        _refused(ls, stale)
        return False
    edit = workspace_edit(fix.uri, fix.version, fix.edits, ls.session.document_changes)
    result = await ls.workspace_apply_edit_async(
        T.ApplyWorkspaceEditParams(edit=edit, label="Megawatt: Claude's fix")
    )
    if not result.applied:
        _refused(ls, f"the editor did not apply the edit ({result.failure_reason or 'no reason'})")
        return False
    ls.session.ai_previews.pop(fix.key, None)
    return True


async def resolve_ai(ls: MegawattServer, action: T.CodeAction) -> T.CodeAction:
    if not ls.session.trusted:
        _refused(ls, UNTRUSTED)
        return action
    data = action.data if isinstance(action.data, dict) else {}
    fix = await compute(ls, data)
    if isinstance(fix, str):
        _refused(ls, fix)
        return action
    _tell_verdict(ls, fix)
    if ls.session.confirms_annotations:
        action.edit = _annotated(fix)
        return action
    await _preview(ls, fix)
    # a client runs the resolved action's command at once: the command is what asks the user
    action.command = T.Command(
        title=f"Apply Claude's fix: {fix.title}",
        command=APPLY,
        arguments=[fix.uri, fix.version, fix.key],
    )
    return action


def register(server: MegawattServer) -> None:
    @server.command(GENERATE)
    @guarded(server, "generating an AI fix")
    async def generate(ls: MegawattServer, data: dict[str, Any]) -> bool:
        if not ls.session.trusted:
            _refused(ls, UNTRUSTED)
            return False
        fix = await compute(ls, data)
        if isinstance(fix, str):
            _refused(ls, fix)
            return False
        _tell_verdict(ls, fix)
        await _preview(ls, fix)
        return await _confirm_and_apply(ls, fix)

    @server.command(APPLY)
    @guarded(server, "applying an AI fix")
    async def apply(ls: MegawattServer, uri: str, version: int | None, key: str) -> bool:
        fix = ls.session.ai_previews.get(key)
        if fix is None or fix.uri != uri or fix.version != version:
            _refused(ls, "that fix is no longer at hand (applied already, or the server restarted)")
            return False
        stale = _stale(ls, fix)
        if stale is not None:
            _refused(ls, stale)
            return False
        return await _confirm_and_apply(ls, fix)

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
