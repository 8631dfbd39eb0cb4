"""Recording through Megawatt (`megawatt profile run`, `profiles.record`): real profilers on real
programs, what the recording is named, and commands it cannot run."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from megawatt.errors import MegawattError
from megawatt.profiles import load
from megawatt.profiles.record import record
from tests.test_cli_profile import megawatt

LEAVES = 150  # each leaf well under pyinstrument's default 1 % node filter


def _hub_program(path: Path) -> Path:
    """`hub` calls many small leaves and does next to nothing itself."""
    leaves = "".join(
        f"def leaf_{i}(n):\n    t = 0\n    for k in range(n):\n        t += k ^ {i}\n    return t\n\n"
        for i in range(LEAVES)
    )
    calls = "".join(f"        leaf_{i}(300)\n" for i in range(LEAVES))
    path.write_text(
        f"import sys\n\n{leaves}def hub(rounds):\n    for _ in range(rounds):\n{calls}\n\n"
        "hub(int(sys.argv[1]))\n"
    )
    return path


def test_pyinstrument_recording_keeps_self_time_of_a_function_with_many_small_callees(
    tmp_path: Path,
) -> None:
    script = _hub_program(tmp_path / "hub.py")
    rec = record([sys.executable, str(script), "300"], "pyinstrument", tmp_path / "out", quiet=True)
    assert rec.returncode == 0
    prof = load(rec.profile)
    hub = prof.find(str(script), "hub")
    assert hub is not None
    leaves = [f for f in range(len(prof)) if prof.names[f].startswith("leaf_")]
    # with the filter on, the leaves were dropped and hub showed ~100 % self time
    assert prof.share(float(prof.self_weight[hub])) < 0.25
    assert prof.share(float(prof.total_weight_of[hub])) > 0.9
    assert len(leaves) > LEAVES // 2
    assert prof.share(float(sum(prof.self_weight[f] for f in leaves))) > 0.6


def _module_project(root: Path) -> None:
    package = root / "src" / "app"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "main.py").write_text(
        "import sys\n\ndef work(n):\n    return sum(i * i for i in range(n))\n\n"
        "print(work(int(sys.argv[1])))\n"
    )


@pytest.mark.parametrize("profiler", ["cprofile", "py-spy"])
def test_recording_is_named_after_the_module_not_env_or_its_variables(
    profiler: str, tmp_path: Path
) -> None:
    _module_project(tmp_path)
    command = ["env", "PYTHONPATH=src", "LC_ALL=C", sys.executable, "-X", "dev", "-m", "app.main"]
    # long enough (≈ 0.3 s) that py-spy's 100 samples a second cannot all miss work()
    rec = record([*command, "3000000"], profiler, tmp_path / "out", cwd=tmp_path, quiet=True)
    assert rec.returncode == 0
    name = rec.profile.name
    assert f"-app.main-3000000-{profiler}." in name, name
    assert "env" not in name and "PYTHONPATH" not in name and "python" not in name
    prof = load(rec.profile)
    assert any(n.endswith("work") for n in prof.names)


def test_script_recording_named_after_the_script(tmp_path: Path) -> None:
    script = _hub_program(tmp_path / "hub.py")
    rec = record([sys.executable, "-OO", str(script), "2"], "cprofile", tmp_path, quiet=True)
    assert rec.profile.name.endswith("-hub-2-cprofile.pstats")


@pytest.mark.parametrize("profiler", ["cprofile", "pyinstrument"])
def test_python_c_is_profiled_with_its_arguments_and_exit_status(
    profiler: str, tmp_path: Path
) -> None:
    code = (
        "import sys\n"
        "def spin(n):\n    return sum(i % 7 for i in range(n))\n"
        "spin(300000)\n"
        "sys.exit(0 if sys.argv == ['-c', 'one', '--two'] else 9) if len(sys.argv) > 2 "
        "else sys.exit(3)\n"
    )
    rec = record([sys.executable, "-c", code, "one", "--two"], profiler, tmp_path, quiet=True)
    assert rec.returncode == 0  # the code saw the arguments as `python -c` gives them
    assert "python-c" in rec.profile.name
    prof = load(rec.profile)
    assert any(n.endswith("spin") for n in prof.names)
    failing = record([sys.executable, "-c", code], profiler, tmp_path, quiet=True)
    assert failing.returncode == 3
    assert failing.profile != rec.profile and rec.profile.is_file()  # same second, same name


def test_cli_python_c_and_a_missing_command(tmp_path: Path) -> None:
    proc = megawatt("profile", "run", "--", sys.executable, "-c", "print(6 * 7)", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "42" in proc.stdout and "no such option" not in proc.stderr
    missing = megawatt("profile", "run", "--", "nosuchcmd", "--flag", cwd=tmp_path)
    assert missing.returncode == 2
    assert "error: nosuchcmd: command not found" in missing.stderr
    assert "not a Python program" not in missing.stderr
    gone = megawatt("profile", "run", "--", sys.executable, "nosuch.py", cwd=tmp_path)
    assert gone.returncode == 2 and "error: nosuch.py: no such file" in gone.stderr


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (["env", "-S", "python x.py"], "env's option -S"),
        ([sys.executable, "-"], "standard input"),
        ([sys.executable, "-m"], "-m needs a value"),
        ([sys.executable, "-X", "dev"], "no program"),
        ([sys.executable, "-Z", "x.py"], "-Z is not an option of python"),
        (["ls", "-l"], "not a Python program"),
    ],
)
def test_commands_refused_up_front(command: list[str], message: str, tmp_path: Path) -> None:
    with pytest.raises(MegawattError, match=message):
        record(command, "cprofile", tmp_path / "out")
    assert not (tmp_path / "out").exists()
