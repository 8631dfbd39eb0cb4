"""Watched files, configuration and workspace folder changes: reload, then re-analyse."""

from __future__ import annotations

from lsprotocol import types as T

from megawatt.server.server import MegawattServer, guarded, uri_path
from megawatt.server.settings import split_options


def register(server: MegawattServer) -> None:
    @server.feature(T.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    @guarded(server, "changing workspace folders")
    async def did_change_workspace_folders(
        ls: MegawattServer, params: T.DidChangeWorkspaceFoldersParams
    ) -> None:
        from megawatt.server.notifications.lifecycle import load_roots

        for gone in params.event.removed:
            ls.session.folders.pop(uri_path(gone.uri), None)
        added = [r for r in (uri_path(f.uri) for f in params.event.added) if r]
        ls.session.pending_roots.extend(added)
        await load_roots(ls, added)
        # documents re-bind to the folder that now holds them (longest prefix) on re-analysis
        ls.refresh_all()

    @server.feature(T.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    @guarded(server, "reloading profiles")
    def did_change_watched_files(ls: MegawattServer, params: T.DidChangeWatchedFilesParams) -> None:
        if not params.changes:
            return
        ls.reload_profiles()
        ls.refresh_all()

    @server.feature(T.WORKSPACE_DID_CHANGE_CONFIGURATION)
    @guarded(server, "applying settings")
    def did_change_configuration(
        ls: MegawattServer, params: T.DidChangeConfigurationParams
    ) -> None:
        settings = params.settings
        if isinstance(settings, dict):
            section = settings.get("megawatt", settings)
            global_, per_folder = split_options(section)
            if global_ or per_folder:
                ls.session.global_options = global_ or ls.session.global_options
                ls.session.folder_options.update(per_folder)
        ls.reload_profiles()
        ls.refresh_all()
