"""Hover names callers and callees as today's source does (`Block.parse`), not by the bare names
cProfile records (`parse`: which one?)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as T
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.e2e.conftest import server_command
from tests.e2e.test_server import open_and_wait

# two methods named `parse`, one calling the other, and a lambda the profile sees as `<lambda>`
PARSER = """\
import sys


class Inline:
    def parse(self, line):
        total = 0
        for ch in line:
            total += ord(ch) % 7
        return total


class Block:
    def parse(self, text):
        inline = Inline()
        key = lambda line: inline.parse(line[::-1])
        total = 0
        for line in text.splitlines():
            total += inline.parse(line) + key(line)
        return total


def main(rounds):
    text = "\\n".join("some words on a line %d" % i for i in range(200))
    for _ in range(rounds):
        Block().parse(text)


main(int(sys.argv[1]))
"""


@pytest.fixture(scope="module")
def parser_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hover-names")
    (root / "pyproject.toml").write_text("[tool.megawatt]\nhot-threshold = 0.01\n")
    (root / "parser.py").write_text(PARSER)
    profiles = root / ".megawatt" / "profiles"
    profiles.mkdir(parents=True)
    subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", str(profiles / "parser.pstats"), "parser.py",
         "150"],
        cwd=root, check=True, capture_output=True,
    )  # fmt: skip
    return root


@pytest_lsp.fixture(config=ClientServerConfig(server_command=server_command()))
async def client(lsp_client: LanguageClient, parser_workspace: Path):
    @lsp_client.feature(T.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: T.RegistrationParams) -> None:
        return None

    @lsp_client.feature(T.WORKSPACE_INLAY_HINT_REFRESH)
    def inlay_refresh(_params: None) -> None:
        return None

    await lsp_client.initialize_session(
        T.InitializeParams(
            capabilities=client_capabilities("neovim"),
            root_uri=parser_workspace.as_uri(),
            workspace_folders=[T.WorkspaceFolder(uri=parser_workspace.as_uri(), name="ws")],
        )
    )
    lsp_client.workspace_root = parser_workspace  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


async def _hover(client: LanguageClient, path: Path, def_line: str) -> str:
    line = path.read_text().splitlines().index(def_line)
    column = def_line.index("parse")
    hover = await client.text_document_hover_async(
        T.HoverParams(T.TextDocumentIdentifier(path.as_uri()), T.Position(line, column))
    )
    assert hover is not None, def_line
    return hover.contents.value  # type: ignore[union-attr]


async def test_callers_and_callees_carry_their_class(client: LanguageClient) -> None:
    root: Path = client.workspace_root  # type: ignore[attr-defined]
    path = root / "parser.py"
    await open_and_wait(client, path)
    inline = await _hover(client, path, "    def parse(self, line):")
    assert inline.startswith("**Inline.parse**"), inline
    # cProfile records both callers by bare names: `parse` and `<lambda>`
    assert "`Block.parse`" in inline and "`Block.parse.<locals>.<lambda>`" in inline, inline
    block = await _hover(client, path, "    def parse(self, text):")
    assert block.startswith("**Block.parse**"), block
    assert "Called from: `main`" in block, block
    assert "`Inline.parse`" in block and "`Block.parse.<locals>.<lambda>`" in block, block
    assert "`parse`" not in inline + block and "`<lambda>`" not in inline + block
