"""The sandbox's isolation: real processes and real pytest runs in real temporary projects.

Each isolation this machine offers is exercised (bubblewrap, unshare, none: forced through the
Sandbox's `isolation` argument); a kind that is unavailable here is skipped with the reason.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import signal
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from megawatt.fixes import isolation as isolation_module
from megawatt.fixes.isolation import Isolation, Kind, detect
from megawatt.fixes.sandbox import (
    Interpreter,
    Sandbox,
    find_interpreter,
    find_python,
    needs_plugin_autoload,
)

KINDS: tuple[Kind, ...] = ("bubblewrap", "unshare", "none")
SECRETS = {
    "ANTHROPIC_API_KEY": "sk-ant-api03-" + "x" * 40,
    "GITHUB_TOKEN": "ghp_" + "y" * 36,
    "AWS_SECRET_ACCESS_KEY": "z" * 40,
    "PYTEST_API_TOKEN": "t" * 20,  # a PYTEST_ name is passed on, unless it looks secret
    "LC_SNEAKY": "sk-ant-api03-" + "w" * 40,  # an allowed name with a secret-looking value
}


def _kind_params() -> list[object]:
    params: list[object] = []
    for kind in KINDS:
        found = detect(kind)
        skip = found.kind != kind
        marks = [pytest.mark.skip(reason=f"{kind} unavailable: {found.note}")] if skip else []
        params.append(pytest.param(kind, marks=marks, id=kind))
    return params


KIND_PARAMS = _kind_params()


@pytest.fixture(autouse=True)
def _parent_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("TZ", "Europe/Paris")
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    monkeypatch.delenv("MEGAWATT_SANDBOX_ISOLATION", raising=False)


def _project(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return root


def _running(marker: str) -> bool:
    """Whether a live process has `marker` in its command line."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if marker.encode() not in f.read():
                    continue
            with open(f"/proc/{entry}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] != "Z":
                    return True
        except OSError:
            continue
    return False


def _gone(marker: str) -> bool:
    deadline = time.monotonic() + 10  # SIGKILL is asynchronous: give the kernel a moment
    while _running(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not _running(marker)


ENV_TEST = """
import json, os, tempfile


def test_environment(tmp_path):
    with open("seen-env.json", "w") as f:  # the copy is the working directory
        json.dump({"env": dict(os.environ), "tmp_path": str(tmp_path),
                   "gettempdir": tempfile.gettempdir()}, f)
    for name in ("ANTHROPIC_API_KEY", "GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY"):
        assert name not in os.environ
"""


@pytest.mark.parametrize("kind", KIND_PARAMS)
def test_no_secrets_reach_a_sandboxed_test_run(tmp_path: Path, kind: Kind) -> None:
    root = _project(tmp_path / "proj", {"tests/test_env.py": ENV_TEST})
    with Sandbox(root, isolation=kind) as sandbox:
        run = sandbox.run(["tests/test_env.py"], timeout=60)
        assert run.passed, run.output_tail
        assert run.isolation == sandbox.isolation.describe()
        seen = json.loads(sandbox.read("seen-env.json") or b"{}")
        scratch = os.path.realpath(sandbox.scratch("."))
    env: dict[str, str] = seen["env"]
    for name in SECRETS:
        assert name not in env
    assert not any(value in env.values() for value in SECRETS.values())
    assert env["TZ"] == "Europe/Paris"
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] == "1"  # the project needs no plugin
    assert "PYTEST_CURRENT_TEST" not in env or env["PYTEST_CURRENT_TEST"].startswith("tests/")
    # HOME and the temporary folders are in the scratch area, which the run may write
    for name in ("HOME", "TMPDIR"):
        assert os.path.realpath(env[name]).startswith(scratch + os.sep), name
    assert os.path.realpath(seen["tmp_path"]).startswith(scratch + os.sep)
    assert os.path.realpath(seen["gettempdir"]).startswith(scratch + os.sep)
    path = env["PATH"].split(os.pathsep)
    assert path[0] == os.path.dirname(sys.executable)
    assert set(path[1:]) <= {"/usr/local/bin", "/usr/bin", "/bin"}
    if sys.prefix != sys.base_prefix:  # we run from a venv: the sandbox says so too
        assert env["VIRTUAL_ENV"] == sys.prefix
    allowed = {"PATH", "HOME", "TMPDIR", "TMP", "TEMP", "VIRTUAL_ENV", "PYTHONPATH"}
    allowed |= {"PYTHONDONTWRITEBYTECODE", "LANG", "LANGUAGE", "TZ", "TERM", "PWD"}
    for name in env:
        ok = name in allowed or name.startswith(("LC_", "PYTEST_", "MEGAWATT_SANDBOX_"))
        assert ok, f"{name} passed on"


def test_environment_and_execute_drop_secret_looking_names(tmp_path: Path) -> None:
    root = _project(tmp_path / "proj", {"m.py": "x = 1\n"})
    with Sandbox(root, isolation="none") as sandbox:
        env = sandbox.environment()
        assert not set(SECRETS) & set(env)
        # a caller's additions pass, except secret-looking ones
        extra = {"MEGAWATT_REPLAY_TAG": "abc", "MY_SERVICE_TOKEN": "hunter22"}
        done = sandbox.execute(
            [sandbox.python, "-c", "import json, os; print(json.dumps(dict(os.environ)))"],
            30,
            env=env | extra,
        )
    assert done.returncode == 0, done.output
    seen = json.loads(done.output.strip().splitlines()[-1])
    assert seen["MEGAWATT_REPLAY_TAG"] == "abc"
    assert "MY_SERVICE_TOKEN" not in seen


REPLAY = """
import json, os, sys

calls, out = sys.argv[1], sys.argv[2]
with open(calls) as f:
    data = json.load(f)
with open(out, "w") as f:
    json.dump({"doubled": [2 * x for x in data], "tag": os.environ["MEGAWATT_REPLAY_TAG"],
               "cwd": os.getcwd()}, f)
"""


@pytest.mark.parametrize("kind", KIND_PARAMS)
def test_a_driver_script_in_the_scratch_folder_reads_and_writes_there(
    tmp_path: Path, kind: Kind
) -> None:
    """How the replay driver runs: a script in the scratch folder, results written beside it."""
    root = _project(tmp_path / "proj", {"m.py": "x = 1\n"})
    with Sandbox(root, isolation=kind) as sandbox:
        script = sandbox.scratch("replay.py")
        script.write_text(REPLAY, encoding="utf-8")
        sandbox.scratch("calls.json").write_text("[1, 2, 3]", encoding="utf-8")
        out = sandbox.scratch("replay-out.json")
        done = sandbox.execute(
            [sandbox.python, str(script), str(sandbox.scratch("calls.json")), str(out)],
            30,
            env=sandbox.environment() | {"MEGAWATT_REPLAY_TAG": "t1"},
        )
        assert done.returncode == 0, done.output
        assert done.isolation == sandbox.isolation.describe()
        result = json.loads(out.read_text(encoding="utf-8"))
        assert result["doubled"] == [2, 4, 6] and result["tag"] == "t1"
        assert os.path.realpath(result["cwd"]) == os.path.realpath(sandbox.path)


NETWORK_PROBE = """
import json, socket, sys

port = int(sys.argv[1])
seen = {}
for name, address in (("loopback", ("127.0.0.1", port)), ("outside", ("192.0.2.1", 9))):
    s = socket.socket()
    s.settimeout(5)
    try:
        s.connect(address)
        seen[name] = "connected"
    except OSError as err:
        seen[name] = f"{type(err).__name__}: {err}"
    finally:
        s.close()
try:
    socket.getaddrinfo("example.com", 80)
    seen["lookup"] = "resolved"
except OSError as err:
    seen["lookup"] = f"{type(err).__name__}: {err}"
print(json.dumps(seen))
"""


@pytest.fixture
def listener() -> Iterator[int]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    try:
        yield server.getsockname()[1]
    finally:
        server.close()


@pytest.mark.parametrize("kind", KIND_PARAMS)
def test_network_is_cut_off(tmp_path: Path, kind: Kind, listener: int) -> None:
    root = _project(tmp_path / "proj", {"probe.py": NETWORK_PROBE})
    with Sandbox(root, isolation=kind) as sandbox:
        done = sandbox.execute([sandbox.python, "probe.py", str(listener)], 30)
    assert done.returncode == 0, done.output
    seen = json.loads(done.output.strip().splitlines()[-1])
    if kind == "none":
        # no namespace: loopback is reachable (local test servers work); beyond, the guard says no
        assert seen["loopback"] == "connected"
        assert (
            seen["outside"].startswith("PermissionError") and "megawatt sandbox" in seen["outside"]
        )
        assert seen["lookup"].startswith("PermissionError")
        assert sandbox.isolation.network
    else:
        # a network namespace of its own (loopback up, for local test servers): our listener
        # on 127.0.0.1 is not in it
        assert seen["loopback"].startswith("ConnectionRefusedError"), seen
        assert seen["outside"] != "connected"
        assert seen["lookup"] != "resolved"
        assert not sandbox.isolation.network


WRITE_PROBE = """
import json, os, subprocess, sys

marker = sys.argv[1]
seen = {}


def attempt(name, action):
    try:
        action()
        seen[name] = "done"
    except OSError as err:
        seen[name] = f"{type(err).__name__}: {err}"


def write():
    with open(marker, "w") as f:
        f.write("escaped")


attempt("open", write)
attempt("os.open", lambda: os.close(os.open(marker, os.O_WRONLY | os.O_CREAT)))
attempt("mkdir", lambda: os.mkdir(marker + ".d"))
attempt("inside", lambda: open("inside.txt", "w").close())
attempt("python", lambda: subprocess.run([sys.executable, "-c", "pass"], check=True))
attempt("shell", lambda: subprocess.run(["/bin/sh", "-c", f"echo escaped > {marker}.sh"]))
print(json.dumps(seen))
"""


@pytest.mark.parametrize("kind", KIND_PARAMS)
def test_writes_outside_the_copy_fail(tmp_path: Path, kind: Kind) -> None:
    root = _project(tmp_path / "proj", {"probe.py": WRITE_PROBE})
    marker = tmp_path / "outside" / "marker.txt"
    marker.parent.mkdir()
    with Sandbox(root, isolation=kind) as sandbox:
        done = sandbox.execute([sandbox.python, "probe.py", str(marker)], 30)
        inside = sandbox.file("inside.txt").is_file()
    assert done.returncode == 0, done.output
    seen = json.loads(done.output.strip().splitlines()[-1])
    assert not marker.exists() and not Path(f"{marker}.d").exists()
    assert not Path(f"{marker}.sh").exists()
    assert inside and seen["inside"] == seen["python"] == "done", seen
    if kind == "bubblewrap":
        assert sandbox.isolation.writes_confined
        assert seen["open"].startswith("OSError: [Errno 30]"), seen  # read-only file system
    else:
        assert not sandbox.isolation.writes_confined
        for name in ("open", "os.open", "mkdir", "shell"):  # the audit hook
            assert seen[name].startswith("PermissionError"), (name, seen)
            assert "megawatt sandbox" in seen[name]


ORDINARY_TESTS = """
import logging, multiprocessing, os, socket, subprocess, sys, tempfile


def test_tmp_path_and_tempfile(tmp_path):
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "sub").mkdir()
    os.rename(tmp_path / "a.txt", tmp_path / "sub" / "b.txt")
    with tempfile.NamedTemporaryFile("w") as f:
        f.write("x")
    with tempfile.TemporaryDirectory() as folder:
        open(os.path.join(folder, "c"), "w").close()
    assert (tmp_path / "sub" / "b.txt").read_text() == "a"


def test_a_python_subprocess():
    out = subprocess.run([sys.executable, "-c", "print(6 * 7)"], capture_output=True, text=True)
    assert out.stdout.strip() == "42"


def test_a_log_file_and_output(tmp_path, capsys, caplog, monkeypatch):
    monkeypatch.setenv("X", "1")
    handler = logging.FileHandler(tmp_path / "log.txt")
    logging.getLogger("t").addHandler(handler)
    logging.getLogger("t").warning("hello")
    handler.close()
    print("out")
    assert capsys.readouterr().out == "out\\n"
    assert "hello" in (tmp_path / "log.txt").read_text()


def test_a_lock():
    with multiprocessing.Lock():
        pass


def test_a_local_server():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    with socket.create_connection(server.getsockname(), timeout=5) as client:
        peer, _ = server.accept()
        client.sendall(b"ping")
        assert peer.recv(4) == b"ping"
        peer.close()
    server.close()
"""


@pytest.mark.parametrize("kind", KIND_PARAMS)
def test_ordinary_test_suites_still_pass(tmp_path: Path, kind: Kind) -> None:
    root = _project(tmp_path / "proj", {"tests/test_ordinary.py": ORDINARY_TESTS})
    with Sandbox(root, isolation=kind) as sandbox:
        run = sandbox.run(["tests/test_ordinary.py"], timeout=60)
    assert run.passed, run.output_tail
    assert run.counts.passed == 5


def test_memory_limit_stops_a_process_that_allocates_too_much(tmp_path: Path) -> None:
    root = _project(tmp_path / "proj", {"m.py": "x = 1\n"})
    with Sandbox(root, memory_bytes=256 * 1024**2) as sandbox:
        done = sandbox.execute([sandbox.python, "-c", "b = bytearray(1024 ** 3)"], 30)
    assert done.returncode not in (0, None)
    assert "MemoryError" in done.output


def test_cpu_limit_ends_a_busy_test(tmp_path: Path) -> None:
    busy = "def test_busy():\n    while True:\n        pass\n"
    root = _project(tmp_path / "proj", {"tests/test_busy.py": busy})
    with Sandbox(root, cpu_seconds=1) as sandbox:
        run = sandbox.run(["tests/test_busy.py"], timeout=120)
    assert not run.timed_out  # the CPU limit ended it, not the wall-clock deadline
    assert run.status == "error"
    assert run.reason == "the test process went over its CPU time limit"


LEAVES_BEHIND = """
import subprocess, sys

MARKER = {marker!r}


def test_leaves_processes_behind():
    sleep = [sys.executable, "-c", "import time; time.sleep(300)"]
    subprocess.Popen(sleep + [MARKER + "-grouped"])
    subprocess.Popen(sleep + [MARKER + "-detached"], start_new_session=True)
"""


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="finds processes through /proc")
@pytest.mark.parametrize("kind", KIND_PARAMS)
def test_processes_left_behind_are_killed(tmp_path: Path, kind: Kind) -> None:
    marker = f"megawatt-left-{os.getpid()}-{time.time_ns()}"
    root = _project(tmp_path / "proj", {"tests/test_left.py": LEAVES_BEHIND.format(marker=marker)})
    with Sandbox(root, isolation=kind) as sandbox:
        run = sandbox.run(["tests/test_left.py"], timeout=60)
    assert run.passed, run.output_tail
    # in its process group, or detached (a new session): both gone once the run ends
    assert _gone(marker + "-grouped")
    assert _gone(marker + "-detached")


# --- detection and wording ------------------------------------------------------------------


def test_detection_can_be_capped_by_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(tmp_path / "proj", {"m.py": "x = 1\n"})
    monkeypatch.setenv("MEGAWATT_SANDBOX_ISOLATION", "none")
    with Sandbox(root) as sandbox:
        assert sandbox.isolation.kind == "none"
        assert sandbox.isolation.describe().startswith("not isolated: isolation turned off;")
        assert sandbox.scratch("sitecustomize.py").is_file()  # the guard stands in
    monkeypatch.setenv("MEGAWATT_SANDBOX_ISOLATION", "unshare")
    assert detect().kind in ("unshare", "none")
    assert "bubblewrap not tried" in detect().note


def test_detection_without_bubblewrap_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PATH without bwrap (but with unshare and true): what a machine without it sees."""
    tools = tmp_path / "bin"
    tools.mkdir()
    for name in ("unshare", "true"):
        for folder in ("/usr/bin", "/bin"):
            if os.path.exists(f"{folder}/{name}"):
                (tools / name).symlink_to(f"{folder}/{name}")
                break
    monkeypatch.setenv("PATH", str(tools))
    isolation_module._detect.cache_clear()
    try:
        found = detect("bubblewrap")
    finally:
        isolation_module._detect.cache_clear()
    assert found.kind in ("unshare", "none")
    assert found.note.startswith("bubblewrap is not installed")
    assert "(bubblewrap is not installed" in found.describe()


def test_isolation_descriptions() -> None:
    bwrap = Isolation("bubblewrap", network=False, writes_confined=True)
    assert bwrap.describe() == (
        "isolated with bubblewrap: no network, writes only in the sandbox copy, "
        "scrubbed environment, CPU/memory limits"
    )
    unshare = Isolation("unshare", False, False, "bubblewrap is not installed")
    assert unshare.describe() == (
        "partly isolated with unshare: no network, but writes are not confined "
        "(bubblewrap is not installed); an audit hook refuses writes outside the sandbox copy, "
        "scrubbed environment, CPU/memory limits"
    )
    nothing = Isolation(
        "none", True, False, "bubblewrap is not installed; user namespaces are unavailable"
    )
    assert nothing.describe() == (
        "not isolated: bubblewrap is not installed; user namespaces are unavailable; an audit "
        "hook refuses writes outside the sandbox copy and non-local connections, scrubbed "
        "environment and limits only"
    )
    assert bwrap.wrap(["python", "-c", "pass"], cwd="/w/c", writable=["/w"])[-4:] == [
        "--",
        "python",
        "-c",
        "pass",
    ]


# --- the project's interpreter ---------------------------------------------------------------


def _venv(folder: Path, cfg: bool = True) -> str:
    """A fake venv: pyvenv.cfg and bin/python, a symlink to a real interpreter."""
    (folder / "bin").mkdir(parents=True)
    if cfg:
        (folder / "pyvenv.cfg").write_text(f"home = {os.path.dirname(sys.executable)}\n")
    python = folder / "bin" / "python"
    python.symlink_to(os.path.realpath(sys.executable))
    return str(python)


def test_interpreter_defaults_to_ours(tmp_path: Path) -> None:
    assert find_interpreter(tmp_path, {}) == Interpreter(
        sys.executable, "Megawatt's own interpreter"
    )


def test_interpreter_from_the_workspaces_venvs(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    env_python = _venv(root / "env")
    assert find_interpreter(root, {}) == Interpreter(env_python, "env")
    (root / "env" / "pyvenv.cfg").unlink()  # a folder called env is not enough
    assert find_interpreter(root, {}).source == "Megawatt's own interpreter"
    venv_python = _venv(root / "venv")
    assert find_interpreter(root, {}) == Interpreter(venv_python, "venv")
    dot = _venv(root / ".venv")
    assert find_interpreter(root, {}) == Interpreter(dot, ".venv")
    (root / "uv.lock").write_text("")
    assert find_interpreter(root, {}) == Interpreter(dot, "uv (.venv)")
    # the active VIRTUAL_ENV wins when it is the workspace's own, not when it is elsewhere
    active = _venv(root / "envs" / "dev")
    assert find_interpreter(root, {"VIRTUAL_ENV": str(root / "envs" / "dev")}) == Interpreter(
        active, "VIRTUAL_ENV"
    )
    elsewhere = tmp_path / "other"
    _venv(elsewhere)
    assert find_interpreter(root, {"VIRTUAL_ENV": str(elsewhere)}).source == "uv (.venv)"
    assert find_python(root) == dot


def _poetry_name(name: str, folder: Path) -> str:
    # Poetry's naming of cached venvs, spelled out independently of the code under test
    digest = hashlib.sha256(os.path.realpath(folder).encode()).digest()
    return f"{name}-{base64.urlsafe_b64encode(digest).decode()[:8]}-py3.11"


def test_interpreter_from_poetrys_cache(tmp_path: Path) -> None:
    root = _project(tmp_path / "ws", {"pyproject.toml": '[tool.poetry]\nname = "My-App"\n'})
    home = tmp_path / "home"
    venvs = home / ".cache" / "pypoetry" / "virtualenvs"
    env = {"HOME": str(home)}
    ours = _venv(venvs / _poetry_name("my-app", root))
    _venv(venvs / "other-app-AbCdEfGh-py3.11")
    assert find_interpreter(root, env) == Interpreter(ours, "poetry")
    # moved project: the hash no longer matches, the name alone still does when unambiguous
    moved = venvs / "my-app-ZZZZZZZZ-py3.12"
    (venvs / _poetry_name("my-app", root)).rename(moved)
    assert find_interpreter(root, env) == Interpreter(str(moved / "bin" / "python"), "poetry")
    _venv(venvs / "my-app-YYYYYYYY-py3.12")
    assert find_interpreter(root, env).source == "Megawatt's own interpreter"  # ambiguous
    # in-project venvs are .venv: the cache is not looked at
    (root / "poetry.toml").write_text("[virtualenvs]\nin-project = true\n")
    (venvs / "my-app-YYYYYYYY-py3.12" / "bin" / "python").unlink()
    assert find_interpreter(root, env).source == "Megawatt's own interpreter"
    custom = tmp_path / "custom"
    (root / "poetry.toml").unlink()
    other = _venv(custom / _poetry_name("my-app", root))
    env["POETRY_VIRTUALENVS_PATH"] = str(custom)
    assert find_interpreter(root, env) == Interpreter(other, "poetry")


def test_interpreter_from_uv_conda_and_pyenv(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    uv = _venv(root / "build" / "uv-env")
    assert find_interpreter(root, {"UV_PROJECT_ENVIRONMENT": "build/uv-env"}) == Interpreter(
        uv, "uv (UV_PROJECT_ENVIRONMENT)"
    )
    conda = _venv(root / "conda-env", cfg=False)  # conda environments have no pyvenv.cfg
    assert find_interpreter(root, {"CONDA_PREFIX": str(root / "conda-env")}) == Interpreter(
        conda, "conda (CONDA_PREFIX)"
    )
    (root / "environment.yml").write_text("name: science\ndependencies:\n  - numpy\n")
    envs = tmp_path / "conda" / "envs"
    named = _venv(envs / "science", cfg=False)
    assert find_interpreter(root, {"CONDA_ENVS_PATH": str(envs)}) == Interpreter(
        named, "conda (environment.yml)"
    )
    (root / "environment.yml").unlink()
    (root / ".python-version").write_text("# pinned\n3.12.1\n")
    pyenv = tmp_path / "pyenv"
    pinned = _venv(pyenv / "versions" / "3.12.1", cfg=False)
    assert find_interpreter(root, {"PYENV_ROOT": str(pyenv)}) == Interpreter(
        pinned, "pyenv (.python-version)"
    )
    (root / ".python-version").write_text("system\n")
    assert find_interpreter(root, {"PYENV_ROOT": str(pyenv)}).source == (
        "Megawatt's own interpreter"
    )


def test_sandbox_environment_follows_the_interpreter(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    python = _venv(root / ".venv")
    with Sandbox(root, isolation="none") as sandbox:
        assert sandbox.interpreter == Interpreter(python, ".venv")
        env = sandbox.environment()
    assert env["VIRTUAL_ENV"] == str(root / ".venv")
    assert env["PATH"].split(os.pathsep)[0] == str(root / ".venv" / "bin")


# --- plugin autoload -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "needed"),
    [
        ({}, False),
        ({"pytest.ini": "[pytest]\naddopts = -q -ra --strict-markers -p no:warnings\n"}, False),
        ({"pytest.ini": "[pytest]\naddopts = -x --cov=pkg\n"}, True),
        ({"pytest.ini": "[pytest]\naddopts = -n 4\n"}, True),
        ({"pytest.ini": "[pytest]\naddopts = -p xdist\n"}, True),
        ({"pytest.ini": "[pytest]\nmarkers =\n    slow: slow tests\ntestpaths = tests\n"}, False),
        ({"pyproject.toml": '[tool.pytest.ini_options]\nasyncio_mode = "auto"\n'}, True),
        ({"pyproject.toml": '[tool.pytest.ini_options]\nrequired_plugins = "pytest-x"\n'}, True),
        ({"pyproject.toml": '[tool.pytest]\naddopts = ["-q", "--timeout=5"]\n'}, True),
        ({"pyproject.toml": '[tool.pytest]\naddopts = ["-q", "-k", "fast"]\n'}, False),
        ({"setup.cfg": "[tool:pytest]\ntimeout = 5\n"}, True),
        ({"tox.ini": "[pytest]\naddopts = --benchmark-skip\n"}, True),
        ({"tox.ini": "[tox]\nenvlist = py311\n", "setup.cfg": "[metadata]\nname = x\n"}, False),
        # pytest.ini wins, even empty: the pyproject's plugin setting is not read by pytest
        (
            {
                "pytest.ini": "[pytest]\n",
                "pyproject.toml": '[tool.pytest.ini_options]\nasyncio_mode = "auto"\n',
            },
            False,
        ),
        ({"tests/test_a.py": "def test_a(tmp_path, monkeypatch, capsys):\n    pass\n"}, False),
        ({"tests/test_a.py": "def test_a(tmp_path, mocker):\n    pass\n"}, True),
        (
            {"tests/test_a.py": "import pytest\n@pytest.mark.asyncio\nasync def test_a(): ...\n"},
            True,
        ),
        ({"tests/conftest.py": "import pytest_asyncio\n"}, True),
        ({"tests/conftest.py": "pytest_plugins = ['pytester']\n"}, False),
        ({".venv/pyvenv.cfg": "", ".venv/lib/test_x.py": "def test_a(mocker): ...\n"}, False),
    ],
)
def test_needs_plugin_autoload(tmp_path: Path, files: dict[str, str], needed: bool) -> None:
    root = _project(tmp_path / "proj", files)
    assert needs_plugin_autoload(root) is needed


ASYNC_TEST = "async def test_async():\n    assert True\n"


@pytest.mark.skipif(
    not any(Path(p, "pytest_asyncio").is_dir() for p in sys.path if p and os.path.isdir(p)),
    reason="needs pytest-asyncio in this interpreter",
)
def test_autoload_follows_the_projects_configuration(tmp_path: Path) -> None:
    root = _project(
        tmp_path / "proj",
        {
            "pyproject.toml": '[tool.pytest.ini_options]\nasyncio_mode = "auto"\n',
            "tests/test_async.py": ASYNC_TEST,
        },
    )
    with Sandbox(root, isolation="none") as sandbox:
        assert sandbox.autoload
        assert "PYTEST_DISABLE_PLUGIN_AUTOLOAD" not in sandbox.environment()
        run = sandbox.run(["tests/test_async.py"], timeout=60)
    assert run.passed, run.output_tail
    with Sandbox(root, isolation="none", autoload=False) as sandbox:
        run = sandbox.run(["tests/test_async.py"], timeout=60)
    assert not run.passed  # without pytest-asyncio an async test cannot run


def test_signals_are_reported_by_name(tmp_path: Path) -> None:
    root = _project(tmp_path / "proj", {"tests/test_x.py": "def test_x():\n    pass\n"})
    kill = "import os, signal\nos.kill(os.getpid(), signal.SIGTERM)\n"
    _project(root, {"tests/conftest.py": kill})
    with Sandbox(root) as sandbox:
        run = sandbox.run(["tests/test_x.py"], timeout=60)
    assert run.status == "error"
    assert run.reason == f"the test process died (signal {int(signal.SIGTERM)})"
