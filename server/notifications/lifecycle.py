"""initialize / initialized: capabilities, settings, workspace folders, profile watching."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path

from lsprotocol import types as T

from megawatt.server.positions import encoding_name
from megawatt.server.server import MegawattServer, guarded, uri_path
from megawatt.server.settings import split_options

POLL_SECONDS = 2.0
WATCH_GLOBS = ("**/.megawatt/profiles/**", "**/pyproject.toml")


def _capabilities(server: MegawattServer, caps: T.ClientCapabilities) -> None:
    s = server.session
    td = caps.text_document
    ws = caps.workspace
    ca = td.code_action if td else None
    s.resolve_edits = bool(
        ca and ca.resolve_support and "edit" in (ca.resolve_support.properties or [])
    )
    s.document_changes = bool(ws and ws.workspace_edit and ws.workspace_edit.document_changes)
    s.dynamic_watch = bool(
        ws and ws.did_change_watched_files and ws.did_change_watched_files.dynamic_registration
    )
    s.code_lens_refresh = bool(ws and ws.code_lens and ws.code_lens.refresh_support)
    s.inlay_hint_refresh = bool(ws and ws.inlay_hint and ws.inlay_hint.refresh_support)
    s.configuration = bool(ws and ws.configuration)


def register(server: MegawattServer) -> None:
    @server.feature(T.INITIALIZE)
    @guarded(server, "initialize")
    def initialize(ls: MegawattServer, params: T.InitializeParams) -> None:
        global_, per_folder = split_options(params.initialization_options)
        ls.session.global_options = global_
        ls.session.folder_options = per_folder
        _capabilities(ls, params.capabilities)
        roots = [uri_path(f.uri) for f in params.workspace_folders or []]
        if not roots and params.root_uri:
            roots = [uri_path(params.root_uri)]
        ls.session.pending_roots = [r for r in roots if r]

    @server.feature(T.INITIALIZED)
    @guarded(server, "initialized")
    async def initialized(ls: MegawattServer, params: T.InitializedParams) -> None:
        ls.session.encoding = encoding_name(ls.workspace.position_encoding)
        roots = getattr(ls.session, "pending_roots", [])
        if getattr(ls.session, "configuration", False) and roots:
            await _pull_configuration(ls, roots)
        await load_roots(ls, roots)
        watching = False
        if ls.session.dynamic_watch:
            try:
                await asyncio.wait_for(_register_watchers(ls), 5)
                watching = True
            except Exception as err:  # the client offered but refused: poll instead
                ls.info(f"file watching unavailable ({err}); polling profiles instead")
        if not watching:
            _start_polling(ls)
        ls.refresh_all()


async def load_roots(ls: MegawattServer, roots: list[str]) -> None:
    """Load workspace folders off the loop; documents inside one wait for it (see
    `MegawattServer._start_analysis`) and are analysed by the caller's refresh."""
    loop = asyncio.get_running_loop()
    for root in roots:
        try:
            await loop.run_in_executor(ls.io_pool, ls.load_folder, Path(root))
        except Exception as err:  # one unreadable folder must not hold the others' documents
            ls.report(f"loading the workspace folder {root}", err)
        finally:
            if root in ls.session.pending_roots:
                ls.session.pending_roots.remove(root)


async def _pull_configuration(ls: MegawattServer, roots: list[str]) -> None:
    items = [T.ConfigurationItem(scope_uri=Path(r).as_uri(), section="megawatt") for r in roots]
    try:
        answers = await asyncio.wait_for(
            ls.workspace_configuration_async(T.ConfigurationParams(items=items)), 5
        )
    except Exception as err:  # an editor that cannot answer keeps the initialization options
        ls.info(f"workspace/configuration unavailable: {err}")
        return
    for root, answer in zip(roots, answers or [], strict=False):
        if isinstance(answer, dict) and answer:
            merged = {**ls.session.folder_options.get(root, {}), **answer}
            ls.session.folder_options[root] = merged


async def _register_watchers(ls: MegawattServer) -> None:
    watchers = [T.FileSystemWatcher(glob_pattern=g) for g in WATCH_GLOBS]
    for folder in ls.session.all_folders():
        for f in folder.profile_files:
            watchers.append(T.FileSystemWatcher(glob_pattern=str(f)))
    await ls.client_register_capability_async(
        T.RegistrationParams(
            registrations=[
                T.Registration(
                    id="megawatt-profiles",
                    method=T.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                    register_options=T.DidChangeWatchedFilesRegistrationOptions(watchers=watchers),
                )
            ]
        )
    )


def _fingerprint(ls: MegawattServer) -> tuple[tuple[str, float], ...]:
    from megawatt.profiles.project import configured_files

    marks = []
    for folder in ls.session.all_folders():
        for path in [
            *configured_files(folder.root, folder.settings),
            folder.root / "pyproject.toml",
        ]:
            try:
                marks.append((str(path), os.stat(path).st_mtime))
            except OSError:
                continue
    return tuple(sorted(marks))


def _start_polling(ls: MegawattServer) -> None:
    """For clients that cannot watch files for us: look at the profiles every few seconds."""
    loop = asyncio.get_running_loop()

    def poll() -> None:
        seen = _fingerprint(ls)
        while not getattr(ls, "_stop_event", None) or not ls._stop_event.is_set():
            time.sleep(POLL_SECONDS)
            now = _fingerprint(ls)
            if now != seen:
                seen = now
                loop.call_soon_threadsafe(_reload, ls)

    threading.Thread(target=poll, name="megawatt-profile-poll", daemon=True).start()


def _reload(ls: MegawattServer) -> None:
    try:
        ls.reload_profiles()
        ls.refresh_all()
    except Exception as err:
        ls.report("reloading profiles", err)
