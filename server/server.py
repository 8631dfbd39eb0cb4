"""`MegawattServer`: the pygls server, its scheduler, and the one list of feature modules.

Notifications update the `Session` on the event loop (apply the edit, edit the tree; no parse).
Analysis starts at once and runs on a dedicated single-thread executor against a snapshot; edits
made meanwhile are coalesced into one analysis of the newest version when it ends. A keystroke
gets the quick pass (server/quick.py: the statements around the edit, parsed and analysed on
their own with the module's facts); once edits pause for SETTLE_SECONDS, the settled pass
(server/analysis.py: the whole file re-parsed incrementally, changed statements analysed with the
whole module in view) replaces it. A result is published only if the document is still at that
version, so stale results never land over fresh ones. Every handler goes through `guarded`: a failure is logged, the user is told once
per handler, and the server goes on.

AI fixes run on `AiJobs`, daemon threads of their own (never a pool's), so a model that takes
minutes holds no slot other requests need, a cancelled job stops waiting at once while its thread
finishes the call in hand, and `exit` ends the process even with one in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import importlib
import inspect
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Generator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types as T
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol, default_converter
from pygls.protocol.language_server import lsp_method
from pygls.uris import to_fs_path

from megawatt import __version__
from megawatt.analyzers.engine import Cancelled
from megawatt.server.session import Analysis, FolderState, Session, Snapshot, age

log = logging.getLogger("megawatt.server")
# after a quick pass, the whole-file pass runs once the edits have paused this long
SETTLE_SECONDS = 0.2
# the longest a lens or hint request waits for its document's analysis in flight
ANSWER_WAIT_SECONDS = 10.0

# one module per LSP message (or a small family of them); each exposes register(server)
FEATURES = (
    "megawatt.server.notifications.lifecycle",
    "megawatt.server.notifications.documents",
    "megawatt.server.notifications.workspace",
    "megawatt.server.requests.code_action",
    "megawatt.server.requests.code_lens",
    "megawatt.server.requests.hover",
    "megawatt.server.requests.inlay_hint",
    "megawatt.server.requests.commands",
    "megawatt.server.requests.ai_fix",
)

F = TypeVar("F", bound=Callable[..., Any])
R = TypeVar("R")

# AI jobs whose threads may be alive at once (cancelled ones count until their thread returns)
MAX_AI_JOBS = 3
# on exit, how long in-flight AI jobs get to stop their test processes after being cancelled
EXIT_GRACE_SECONDS = 0.5


class Busy(Exception):
    """Too many AI jobs are still running."""


class AiJobs:
    """AI fixes in flight, each on a daemon thread of its own.

    Daemon threads, not an executor: `concurrent.futures` joins its workers at interpreter exit,
    so one model call in flight would hold `exit` for as long as the model takes.
    """

    def __init__(self, limit: int = MAX_AI_JOBS) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._running: dict[threading.Thread, threading.Event] = {}
        self._serial = 0

    @property
    def running(self) -> int:
        with self._lock:
            return len(self._running)

    def start(self, fn: Callable[[], R], cancel: threading.Event) -> asyncio.Future[R]:
        """Run `fn` on a new thread; the future (on the running loop) gets its result.
        Raises Busy when `limit` jobs are alive."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()

        def settle(outcome: Callable[[], None]) -> None:
            if not future.done():
                outcome()

        def work() -> None:
            try:
                result = fn()
            except BaseException as err:  # handed to the awaiting coroutine, raised there
                done: Callable[[], None] = functools.partial(future.set_exception, err)
            else:
                done = functools.partial(future.set_result, result)
            finally:
                with self._lock:
                    self._running.pop(threading.current_thread(), None)
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
                loop.call_soon_threadsafe(settle, done)

        with self._lock:
            if len(self._running) >= self.limit:
                raise Busy(f"{len(self._running)} AI fixes are still running; wait or cancel one")
            self._serial += 1
            thread = threading.Thread(target=work, name=f"megawatt-ai-{self._serial}", daemon=True)
            self._running[thread] = cancel
        thread.start()
        return future

    def cancel_all(self) -> None:
        with self._lock:
            events = list(self._running.values())
        for event in events:
            event.set()

    def join(self, timeout: float) -> None:
        """Wait up to `timeout` seconds in all for the running jobs' threads to return."""
        deadline = time.monotonic() + timeout
        with self._lock:
            threads = list(self._running)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))


class Raw:
    """A message part already in wire form: the converter passes it through untouched."""

    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value


def _converter() -> Any:
    converter = default_converter()
    converter.register_unstructure_hook(Raw, lambda raw: raw.value)
    return converter


class MegawattProtocol(LanguageServerProtocol):
    _server: MegawattServer

    def get_message_type(self, method: str) -> type[Any] | None:
        # diagnostics leave as prepared wire dicts (`Raw`), not as typed lsprotocol params
        if method == T.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS:
            return None
        return super().get_message_type(method)

    @lsp_method(T.INITIALIZE)
    def lsp_initialize(self, params: T.InitializeParams) -> Generator[Any, Any, T.InitializeResult]:
        # read here, before any feature's handler, what decides how AI fixes reach the user
        self._server.session.adopt_client(params.capabilities, params.initialization_options)
        result: T.InitializeResult = yield from super().lsp_initialize(params)
        return result

    @lsp_method(T.SHUTDOWN)
    def lsp_shutdown(self, *args: Any) -> Generator[Any, Any, None]:
        self._server.ai_jobs.cancel_all()  # no model is asked anything after a shutdown
        yield from super().lsp_shutdown(*args)

    @lsp_method(T.EXIT)
    def lsp_exit(self, *args: Any) -> Generator[Any, Any, None]:
        self._server.exiting = True
        jobs = self._server.ai_jobs
        jobs.cancel_all()
        # a job between model turns stops at once and kills its test processes; one waiting on
        # the model is a daemon thread and dies with the process
        jobs.join(EXIT_GRACE_SECONDS)
        yield from super().lsp_exit(*args)


class MegawattServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "megawatt", __version__, protocol_cls=MegawattProtocol, converter_factory=_converter
        )
        self.session = Session()
        # one analysis at a time, off the loop: keystrokes never wait for a scan
        self.analysis_pool = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="megawatt-analysis"
        )
        self.io_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="megawatt-io")
        self.ai_jobs = AiJobs()
        self.exiting = False  # `exit` arrived: the client reads nothing more
        self._pending: dict[str, asyncio.TimerHandle] = {}
        self._told: set[str] = set()
        self._folder_lock = threading.Lock()
        # documents whose analysis is on the worker, and those edited again meanwhile
        self._running: set[str] = set()
        self._dirty: set[str] = set()
        self._settling: dict[str, asyncio.TimerHandle] = {}
        self._settle_cancel: dict[str, threading.Event] = {}
        # lens and hint requests waiting for the analysis in flight of their document
        self._waiters: dict[str, list[asyncio.Future[None]]] = {}
        # what the client's lenses and hints were last refreshed for, per document
        self._shown: dict[str, tuple[object, ...]] = {}
        self._refresh_due = False

    # -- failures --------------------------------------------------------------------------

    def report(self, where: str, err: BaseException) -> None:
        log.exception("%s failed", where, exc_info=err)
        message = f"Megawatt: {where} failed: {type(err).__name__}: {err}"
        try:
            self.window_log_message(T.LogMessageParams(type=T.MessageType.Error, message=message))
            if where not in self._told:
                self._told.add(where)
                self.window_show_message(
                    T.ShowMessageParams(
                        type=T.MessageType.Error,
                        message=message + " (details in the Megawatt log; this is shown once)",
                    )
                )
        except Exception:  # the client may be gone; stderr has it
            log.warning("could not tell the client about %s", where)

    def info(self, message: str, show: bool = False) -> None:
        log.info(message)
        self.window_log_message(T.LogMessageParams(type=T.MessageType.Info, message=message))
        if show:
            self.window_show_message(T.ShowMessageParams(type=T.MessageType.Info, message=message))

    def warn_once(self, key: str, message: str) -> None:
        if key in self._told:
            return
        self._told.add(key)
        log.warning(message)
        self.window_log_message(T.LogMessageParams(type=T.MessageType.Warning, message=message))
        self.window_show_message(T.ShowMessageParams(type=T.MessageType.Warning, message=message))

    # -- folders and profiles --------------------------------------------------------------

    def folder_for(self, path: str) -> FolderState:
        folder = self.session.folder_for(path)
        if folder is not None:
            return folder
        with self._folder_lock:
            root = self.session.fallback_root(path)
            folder = self.session.fallbacks.get(str(root))
            if folder is None:
                folder = self.load_folder(root, fallback=True)
        return folder

    def load_folder(self, root: Path, fallback: bool = False) -> FolderState:
        from megawatt.profiles.project import load_project_profile
        from megawatt.ranking import ProfileIndex
        from megawatt.server.settings import resolve

        key = str(root)
        folders = self.session.fallbacks if fallback else self.session.folders
        before = folders.get(key)
        layers = [self.session.global_options, self.session.folder_options.get(key, {})]
        settings, problems = resolve(root, *layers)
        folder = FolderState(root=root, settings=settings, problems=problems)
        loaded = load_project_profile(root, settings)
        folder.profile = loaded.profile
        folder.index = ProfileIndex(loaded.profile) if loaded.profile is not None else None
        folder.profile_files = loaded.files
        folder.profile_errors = [str(e) for e in loaded.errors]
        folder.loaded_at = time.time()
        kept = ""
        if folder.profile is None and loaded.errors and before is not None and before.profile:
            # a recording that failed to load (half-written, another tool's file) must not
            # wipe what the user sees: keep the last good profile and say so
            folder.profile, folder.index = before.profile, before.index
            folder.profile_files = before.profile_files
            names = ", ".join(f.name for f in before.profile_files) or before.profile.source
            kept = f"{age(before.loaded_at)} ({names})"
        for err in loaded.errors:
            message = f"Megawatt could not load a profile: {err}"
            stand_in = loaded.stand_ins.get(err.path)
            if stand_in is not None:
                message += f"; using the older {stand_in.name} instead"
            elif kept:
                message += f"; still using the profile loaded {kept}"
            self.warn_once(f"profile:{err}", message)
        for note in loaded.notes:
            self.info(f"Megawatt profiles of {root}: {note}")
        folders[key] = folder
        for p in problems:
            self.warn_once(f"settings:{root}:{p}", f"Megawatt settings: {p}")
        return folder

    # -- analysis --------------------------------------------------------------------------

    def schedule(self, uri: str, delay: float = 0) -> None:
        """Analyse `uri` soon. No fixed debounce: edits that arrive while an analysis of the
        document runs are coalesced into one analysis of the newest version when it ends."""
        loop = asyncio.get_event_loop()
        for timers in (self._pending, self._settling):
            pending = timers.pop(uri, None)
            if pending is not None:
                pending.cancel()
        running = self._settle_cancel.pop(uri, None)
        if running is not None:  # a settled pass of an older text: stop it, the keystroke first
            running.set()
        # call_later(0) still lets every change already read from the client apply first
        self._pending[uri] = loop.call_later(delay, self._start_analysis, uri)

    def _start_analysis(self, uri: str, settle: bool = False) -> None:
        from megawatt.server.analysis import analyze_snapshot

        (self._settling if settle else self._pending).pop(uri, None)
        state = self.session.documents.get(uri)
        if state is None:
            return
        if uri in self._running:
            self._dirty.add(uri)
            return
        if self.session.loading(state.path):
            # its workspace folder is loading (a document opened right after `initialized`):
            # bound to a guessed root now, it would miss the folder's profile and settings;
            # the folder's load analyses every open document
            return
        try:
            folder = self.folder_for(state.path)
            snap = self.session.snapshot(uri, folder)
        except Exception as err:
            self.report("preparing analysis", err)
            self._wake(uri)
            return
        if snap is None:
            return
        loop = asyncio.get_event_loop()
        previous, full = state.previous, state.full
        state.full = False
        if settle:
            # the whole file with the whole module in view, so nothing a quick pass could not
            # see stays stale; stopped between detectors by the next keystroke
            cancel = self._settle_cancel[uri] = threading.Event()
            job = functools.partial(analyze_snapshot, snap, previous, True, cancel)
        elif full or previous is None:
            job = functools.partial(analyze_snapshot, snap, previous, full)
        else:  # a keystroke: the quick pass, the settled one when the edits pause
            job = functools.partial(_quick_or_settled, snap, previous)
        future = loop.run_in_executor(self.analysis_pool, job)
        self._running.add(uri)
        future.add_done_callback(
            functools.partial(self._finish_analysis, uri, snap.version, folder)
        )

    def _finish_analysis(
        self, uri: str, version: int | None, folder: FolderState, fut: Any
    ) -> None:
        self._running.discard(uri)
        self._settle_cancel.pop(uri, None)
        if uri in self._dirty:
            self._dirty.discard(uri)
            self.schedule(uri)
        try:
            self._settle(uri, version, folder, fut)
        finally:
            if not self.in_flight(uri):
                self._wake(uri)

    def _settle(self, uri: str, version: int | None, folder: FolderState, fut: Any) -> None:
        if fut.cancelled():
            return
        err = fut.exception()
        if isinstance(err, Cancelled):
            return  # a newer text's analysis is scheduled already
        if err is not None:
            self.report("analysis", err)
            return
        state = self.session.documents.get(uri)
        if state is None:
            return
        analysis: Analysis = fut.result()
        state.previous = analysis  # by content digest, still the best base for the next one
        if state.version != version:
            return  # the document moved on: a newer analysis is coming
        if analysis.tree is not None:  # the settled pass parsed this very text: keep its tree
            if uri in self.session.edited:  # (for the documents being edited)
                state.tree = analysis.tree
            analysis.tree = None
        state.analysis = analysis
        self.publish(uri, analysis, folder)
        if not analysis.settled and uri not in self._pending:
            self._settling[uri] = asyncio.get_event_loop().call_later(
                SETTLE_SECONDS, self._start_analysis, uri, True
            )
        elif analysis.settled:
            self._lenses_changed(uri, analysis)

    # -- answering from the newest analysis ------------------------------------------------

    def in_flight(self, uri: str) -> bool:
        """Whether an analysis of `uri` is scheduled, running or due once edits pause."""
        return any(uri in s for s in (self._pending, self._running, self._dirty, self._settling))

    async def newest_analysis(self, uri: str) -> Analysis | None:
        """The analysis of the document's current text, waiting for the one in flight: a lens
        or hint request answered from an older one shows numbers the diagnostics no longer do
        (and one answered before the first analysis gets nothing, in a client that is never
        told to ask again)."""
        state = self.session.documents.get(uri)
        if state is None:
            return None
        # (nothing in flight and no analysis: the last one failed, and was reported)
        if self.in_flight(uri) or self.session.loading(state.path):
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.setdefault(uri, []).append(waiter)
            with contextlib.suppress(TimeoutError):
                # bounded: an analysis that never lands must not hold the request forever
                await asyncio.wait_for(asyncio.shield(waiter), ANSWER_WAIT_SECONDS)
            state = self.session.documents.get(uri)
        if state is None or state.analysis is None or state.analysis.version != state.version:
            return None
        return state.analysis

    def _wake(self, uri: str) -> None:
        for waiter in self._waiters.pop(uri, []):
            if not waiter.done():
                waiter.set_result(None)

    def _lenses_changed(self, uri: str, analysis: Analysis) -> None:
        """Ask the client to refresh lenses and hints once they would show something else: after
        the analysis that changed them is published, never before it."""
        shown = (
            id(analysis.profile),
            tuple((h.definition.line, h.fid, h.total_share) for h in analysis.hot),
            tuple(o.finding.span.line for o in analysis.opportunities),
        )
        if self._shown.get(uri) == shown:
            return
        first = uri not in self._shown
        self._shown[uri] = shown
        if first or self._refresh_due:
            return  # a client asks for a new document's lenses itself
        self._refresh_due = True
        asyncio.get_event_loop().call_soon(self._refresh_lenses)

    def _refresh_lenses(self) -> None:
        self._refresh_due = False
        if self.exiting:
            return
        # a refresh the client then fails to answer costs nothing: its future is left alone
        if self.session.code_lens_refresh:
            self.workspace_code_lens_refresh(None, callback=_ignore)
        if self.session.inlay_hint_refresh:
            self.workspace_inlay_hint_refresh(None, callback=_ignore)

    def forget(self, uri: str) -> None:
        """A closed document: nothing waits for it and nothing was shown of it."""
        self._shown.pop(uri, None)
        self._wake(uri)

    def publish(self, uri: str, analysis: Analysis, folder: FolderState) -> None:
        self.send_diagnostics(uri, analysis.version, analysis.diagnostics)

    def send_diagnostics(self, uri: str, version: int | None, diags: list[Any]) -> None:
        params: dict[str, Any] = {"uri": uri, "diagnostics": diags}
        if version is not None:
            params["version"] = version
        self.protocol.notify(T.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS, Raw(params))

    def refresh_all(self) -> None:
        """Re-analyse every open document; lenses and hints are refreshed once the analyses that
        change them are published."""
        for uri, state in list(self.session.documents.items()):
            state.full = True
            self.schedule(uri, 0)

    def reload_profiles(self) -> list[FolderState]:
        folders = []
        for root in list(self.session.folders):
            folders.append(self.load_folder(Path(root)))
        for root in list(self.session.fallbacks):
            folders.append(self.load_folder(Path(root), fallback=True))
        return folders


def _quick_or_settled(snap: Snapshot, previous: Analysis) -> Analysis:
    from megawatt.server.analysis import analyze_snapshot
    from megawatt.server.quick import quick_snapshot

    return quick_snapshot(snap, previous) or analyze_snapshot(snap, previous, False)


def _async_raise(where: str) -> Callable[..., Any]:
    async def failing(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"injected failure in {where}")

    return failing


def _ignore(*_args: Any) -> None:
    return None


def uri_path(uri: str) -> str:
    path = to_fs_path(uri)
    return str(Path(path).resolve()) if path else ""


# Names of handlers to fail on purpose (comma-separated "where" labels): the end-to-end tests use
# it to prove that a failing handler is reported once and the server keeps serving.
FAIL_ON = frozenset(filter(None, os.environ.get("MEGAWATT_TEST_FAIL", "").split(",")))


def guarded(server: MegawattServer, where: str, default: Any = None) -> Callable[[F], F]:
    """Run a handler so that its failure is logged and reported once, and it still answers."""

    def wrap(fn: F) -> F:
        if where in FAIL_ON:
            original = fn

            @functools.wraps(original)
            def failing(*args: Any, **kwargs: Any) -> Any:
                raise RuntimeError(f"injected failure in {where}")

            fn = (  # type: ignore[assignment]
                functools.wraps(original)(_async_raise(where))
                if inspect.iscoroutinefunction(original)
                else failing
            )

        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                try:
                    return await fn(*args, **kwargs)
                except Exception as err:
                    server.report(where, err)
                    return default

            return run_async  # type: ignore[return-value]

        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except Exception as err:
                server.report(where, err)
                return default

        return run  # type: ignore[return-value]

    return wrap


def create_server() -> MegawattServer:
    server = MegawattServer()
    for name in FEATURES:
        importlib.import_module(name).register(server)
    return server


def main() -> None:
    # stdout is the protocol's: everything Megawatt says goes to stderr
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="megawatt: %(message)s")
    # pygls logs every message it sends at INFO: far too much for an editor's log
    logging.getLogger("pygls").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per model request
    server = create_server()
    # the modules, queries and skills loaded so far live as long as the process: keep the
    # collector from walking them again and again (a full collection of them took tens of ms,
    # landing on random keystrokes), and collect young objects less often
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)
    server.start_io()
