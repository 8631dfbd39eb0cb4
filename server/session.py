"""Server state: documents (text, tree, last analysis), folders (settings, profile), capabilities.

Notifications change the session on the event loop; analysis runs on a worker against a frozen
`Snapshot`, so no worker ever reads text that an edit is changing.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types as T
from tree_sitter import Tree

from megawatt.analyzers.symbols import FunctionDef
from megawatt.config import Settings, find_project_root
from megawatt.model import Finding, Opportunity
from megawatt.profiles.profile import Profile
from megawatt.ranking import ProfileIndex
from megawatt.server.positions import LineIndex
from megawatt.server.settings import trusted_option

KEEP_TREES = 8


@dataclass
class FolderState:
    root: Path
    settings: Settings
    problems: list[str] = field(default_factory=list)
    profile: Profile | None = None
    index: ProfileIndex | None = None
    profile_files: list[Path] = field(default_factory=list)
    profile_errors: list[str] = field(default_factory=list)
    loaded_at: float = 0.0


@dataclass(frozen=True)
class HotSpot:
    """A profiled function of this document, matched to its `def`."""

    definition: FunctionDef
    fid: int
    total_share: float
    self_share: float
    calls: int | None
    fids: tuple[int, ...] = ()  # every profile entry on this function (merged recordings)


@dataclass
class Chunk:
    """One top-level statement of an analysis, kept by its text digest for the next one."""

    start_byte: int
    end_byte: int
    line: int
    findings: list[Finding]
    defs: list[FunctionDef]
    digest: bytes
    fact: bool  # an import or assignment: a fact every detector may read
    partial: bool = False  # analysed without the rest of the module in view (a quick pass)


@dataclass
class Analysis:
    version: int | None
    source: bytes
    findings: list[Finding]
    opportunities: list[Opportunity]
    hot: list[HotSpot]
    defs: list[FunctionDef]
    lines: LineIndex
    # for incremental re-analysis: the top-level statements, in source order, with their digests
    order: list[Chunk] = field(default_factory=list)
    module_digest: bytes = b""
    settled: bool = True  # False for a quick pass: the settled one follows when edits pause
    tree: Tree | None = None  # the whole file's tree a settled pass parsed
    diagnostics: list[dict] = field(default_factory=list)  # type: ignore[type-arg]  # wire form
    # id(finding) → (finding, savings, its wire dict), for the next analysis to reuse
    wire_cache: dict = field(default_factory=dict)  # type: ignore[type-arg]
    # the profile `hot` was read from: its function ids index this one, not a reloaded one
    profile: Profile | None = None


@dataclass
class DocumentState:
    uri: str
    path: str
    version: int | None
    source: bytes
    tree: Tree | None  # the last parsed tree, edited since; None: parse from scratch
    analysis: Analysis | None = None
    previous: Analysis | None = None  # the last analysis of any version, for reuse
    full: bool = True  # analyse the whole file next time (open, save, settings change)


@dataclass(frozen=True)
class Snapshot:
    uri: str
    path: str
    version: int | None
    source: bytes
    tree: Tree | None
    folder: FolderState
    encoding: str


@dataclass
class Session:
    encoding: str = "utf-16"
    documents: dict[str, DocumentState] = field(default_factory=dict)
    folders: dict[str, FolderState] = field(default_factory=dict)
    global_options: dict = field(default_factory=dict)  # type: ignore[type-arg]
    folder_options: dict[str, dict] = field(default_factory=dict)  # type: ignore[type-arg]
    resolve_edits: bool = False  # client can resolve a code action's edit lazily
    document_changes: bool = False  # client takes versioned documentChanges
    dynamic_watch: bool = False
    code_lens_refresh: bool = False
    inlay_hint_refresh: bool = False
    diagnostic_refresh: bool = False
    configuration: bool = False  # client answers workspace/configuration
    # client asks the user before applying an annotated edit with needsConfirmation (annotated
    # edits travel only inside versioned documentChanges)
    confirms_annotations: bool = False
    show_document: bool = False  # client opens a document the server names (window/showDocument)
    # the editor trusts the workspace (VS Code's Workspace Trust); editors that do not say are
    # trusted. Untrusted: no AI fixes (no model asked, no tests run), no profile recording
    trusted: bool = True
    # AI fixes validated and previewed, waiting for the user's "Apply": key → the fix
    ai_previews: OrderedDict[str, Any] = field(default_factory=OrderedDict)
    # workspace folders the client named that are still loading: a document inside one waits
    # for it rather than being bound to a guessed root it would keep
    pending_roots: list[str] = field(default_factory=list)
    # roots guessed for documents outside every workspace folder (by marker, else the server's
    # current directory); never preferred over a workspace folder that holds the document
    fallbacks: dict[str, FolderState] = field(default_factory=dict)
    # documents edited lately keep their tree for incremental re-parsing; the others drop it (a
    # tree costs more memory than its text, and re-parsing a file from scratch takes ms)
    edited: OrderedDict[str, None] = field(default_factory=OrderedDict)

    def adopt_client(self, caps: T.ClientCapabilities, options: object) -> None:
        """What the client can do for AI fixes, and whether the workspace is trusted."""
        ws = caps.workspace
        edit = ws.workspace_edit if ws else None
        self.confirms_annotations = bool(
            edit and edit.document_changes and edit.change_annotation_support
        )
        window = caps.window
        self.show_document = bool(window and window.show_document and window.show_document.support)
        self.trusted = trusted_option(options)

    def touched(self, uri: str) -> None:
        self.edited[uri] = None
        self.edited.move_to_end(uri)
        while len(self.edited) > KEEP_TREES:
            old, _ = self.edited.popitem(last=False)
            state = self.documents.get(old)
            if state is not None:
                state.tree = None

    def open(self, uri: str, path: str, version: int | None, source: bytes) -> DocumentState:
        state = DocumentState(uri, path, version, source, None)  # parsed by the analysis
        self.documents[uri] = state
        return state

    def folder_for(self, path: str) -> FolderState | None:
        """The workspace folder holding `path`, by longest prefix, else the fallback folder
        holding it."""
        return _holding(self.folders, path) or _holding(self.fallbacks, path)

    def loading(self, path: str) -> bool:
        """Whether `path` lies in a workspace folder that has not finished loading."""
        return any(_within(path, root) and root not in self.folders for root in self.pending_roots)

    def all_folders(self) -> list[FolderState]:
        return [*self.folders.values(), *self.fallbacks.values()]

    def fallback_root(self, path: str) -> Path:
        return find_project_root(Path(path)) if path else Path.cwd()

    def snapshot(self, uri: str, folder: FolderState) -> Snapshot | None:
        state = self.documents.get(uri)
        if state is None:
            return None
        return Snapshot(
            uri,
            state.path,
            state.version,
            state.source,
            state.tree.copy() if state.tree is not None else None,
            folder,
            self.encoding,
        )


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _holding(folders: dict[str, FolderState], path: str) -> FolderState | None:
    best: FolderState | None = None
    for root, folder in folders.items():
        if _within(path, root) and (best is None or len(root) > len(str(best.root))):
            best = folder
    return best


def age(seconds_since_epoch: float | None) -> str:
    if not seconds_since_epoch:
        return "age unknown"
    minutes = (time.time() - seconds_since_epoch) / 60
    if minutes < 1:
        return "just now"
    if minutes < 120:
        return f"{minutes:.0f} min ago"
    if minutes < 60 * 48:
        return f"{minutes / 60:.0f} h ago"
    return f"{minutes / 1440:.0f} days ago"
