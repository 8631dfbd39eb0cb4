"""A fixture workspace with a real profile, and a pytest-lsp client per editor capability set."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as T
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "shop.py"

# The example, plus lines the e2e tests lean on: an any([...]) with a deterministic fix and a
# non-ASCII line (identifiers and an emoji) before it.
EXTRA = """

def has_big(amounts: list[float]) -> bool:
    prix_réduit = "🛒 soldes"
    return any([a > 1000 for a in amounts]) and bool(prix_réduit)
"""


@pytest.fixture(scope="session")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ws")
    # two recordings of one run: cProfile for calls, py-spy for hot lines; one unit, so merged
    (root / "pyproject.toml").write_text(
        "[tool.megawatt]\nhot-threshold = 0.01\nprofiles = ['.megawatt/profiles/shop.pstats',"
        " '.megawatt/profiles/shop.speedscope.json']\n"
    )
    app = root / "shop.py"
    app.write_text(EXAMPLE.read_text() + EXTRA)
    profiles = root / ".megawatt" / "profiles"
    profiles.mkdir(parents=True)
    subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", str(profiles / "shop.pstats"), str(app), "4000"],
        cwd=root, check=True, capture_output=True,
    )  # fmt: skip
    subprocess.run(
        [str(Path(sys.executable).parent / "py-spy"), "record", "-r", "500", "-f", "speedscope",
         "-o", str(profiles / "shop.speedscope.json"), "--", sys.executable, str(app), "4000"],
        cwd=root, check=True, capture_output=True,
    )  # fmt: skip
    return root


def server_command() -> list[str]:
    return [sys.executable, "-m", "megawatt", "serve"]


@pytest_lsp.fixture(
    params=["visual-studio-code", "neovim"],
    config=ClientServerConfig(server_command=server_command()),
)
async def client(lsp_client: LanguageClient, request: pytest.FixtureRequest, workspace: Path):
    params = T.InitializeParams(
        capabilities=client_capabilities(request.param),
        root_uri=workspace.as_uri(),
        workspace_folders=[T.WorkspaceFolder(uri=workspace.as_uri(), name="ws")],
        initialization_options={"globalSettings": {}, "settings": []},
    )
    refreshes: list[str] = []
    lsp_client.refreshes = refreshes  # type: ignore[attr-defined]

    # the test client answers the refresh requests that real editors answer
    @lsp_client.feature(T.WORKSPACE_INLAY_HINT_REFRESH)
    def inlay_refresh(_params: None) -> None:
        refreshes.append("inlay")

    @lsp_client.feature(T.WORKSPACE_CODE_LENS_REFRESH)
    def lens_refresh(_params: None) -> None:
        refreshes.append("lens")

    registrations: list[T.Registration] = []
    lsp_client.registrations = registrations  # type: ignore[attr-defined]

    @lsp_client.feature(T.CLIENT_REGISTER_CAPABILITY)
    def register_capability(params: T.RegistrationParams) -> None:
        registrations.extend(params.registrations)

    await lsp_client.initialize_session(params)
    lsp_client.workspace_root = workspace  # type: ignore[attr-defined]
    lsp_client.client_name = request.param  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


def copy_workspace(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst
