"""What the AI-fix editor tests share: a workspace with the opportunity, a client that answers
like a user (and like an editor, for the requests real editors answer), a model turn held until
the test opens it, and opening the file until its diagnostic arrives."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any, Union

import pytest
from lsprotocol import types as T
from pytest_lsp import LanguageClient

from tests import ai_project as P
from tests.fake_anthropic import RecordedRequest, Turn


class Gate:
    """A model turn that waits until the test opens it: a model that is still thinking, for as
    long as the test needs, with no clock involved."""

    def __init__(self, turn: Turn) -> None:
        self.turn = turn
        self.asked = threading.Event()
        self.opened = threading.Event()

    def __call__(self, _request: RecordedRequest) -> Turn:
        self.asked.set()
        self.opened.wait(120)
        return self.turn

    async def wait_asked(self) -> None:
        for _ in range(600):
            if self.asked.is_set():
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the model was never asked")


def ai_workspace(tmp_path_factory: pytest.TempPathFactory, prefix: str) -> Path:
    root = tmp_path_factory.mktemp(prefix)
    P.write_project(root)
    # a model that takes its time (a Gate) must not meet the SDK's timeout and retries
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("\ntimeout = 5\n", "\ntimeout = 120\n"))
    # a text of its own per client, so no test meets another's cached fix
    (root / "align.py").write_text(f"# {root.name}\n" + P.MODULE)
    return root


def act_as_user(lsp_client: LanguageClient, root: Path) -> None:
    """Answer what real editors answer; answer each question with the next of
    `lsp_client.answers`, recording what was applied when it was asked (`questions`) and what
    workspace/applyEdit sent (`applied`)."""

    @lsp_client.feature(T.WORKSPACE_INLAY_HINT_REFRESH)
    def inlay_refresh(_params: None) -> None:
        return None

    @lsp_client.feature(T.WORKSPACE_CODE_LENS_REFRESH)
    def lens_refresh(_params: None) -> None:
        return None

    @lsp_client.feature(T.CLIENT_REGISTER_CAPABILITY)
    def register_capability(_params: T.RegistrationParams) -> None:
        return None

    answers: list[str] = []
    questions: list[tuple[T.ShowMessageRequestParams, int]] = []
    applied: list[T.ApplyWorkspaceEditParams] = []

    @lsp_client.feature(T.WINDOW_SHOW_MESSAGE_REQUEST)
    def ask(params: T.ShowMessageRequestParams) -> T.MessageActionItem | None:
        questions.append((params, len(applied)))
        return T.MessageActionItem(title=answers.pop(0)) if answers else None

    @lsp_client.feature(T.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: T.ApplyWorkspaceEditParams) -> T.ApplyWorkspaceEditResult:
        applied.append(params)
        return T.ApplyWorkspaceEditResult(applied=True)

    lsp_client.answers = answers  # type: ignore[attr-defined]
    lsp_client.questions = questions  # type: ignore[attr-defined]
    lsp_client.applied = applied  # type: ignore[attr-defined]
    lsp_client.root = root  # type: ignore[attr-defined]


def tell_commands_from_actions(lsp_client: LanguageClient) -> None:
    """lsprotocol reads any code action with a `command` as a Command (its union hook looks for
    the key, not its type): tell them apart as the protocol does, by the type of `command`."""
    converter = lsp_client.protocol._converter

    def command_or_action(obj: Any, _type: object) -> T.Command | T.CodeAction:
        kind = T.Command if isinstance(obj.get("command"), str) else T.CodeAction
        return converter.structure(obj, kind)

    converter.register_structure_hook(Union[T.Command, T.CodeAction], command_or_action)  # noqa: UP007


async def open_align(client: LanguageClient) -> tuple[str, T.Diagnostic]:
    path = client.root / "align.py"  # type: ignore[attr-defined]
    uri = path.as_uri()
    client.text_document_did_open(
        T.DidOpenTextDocumentParams(
            T.TextDocumentItem(uri=uri, language_id="python", version=1, text=path.read_text())
        )
    )
    for _ in range(100):
        diags = [d for d in client.diagnostics.get(uri, ()) if d.code == "memoize"]
        if diags:
            return uri, diags[0]
        await asyncio.sleep(0.1)
    raise AssertionError("no memoize diagnostic")
