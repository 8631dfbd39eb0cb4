"""What a command line to profile runs: `env` and its assignments, then a Python interpreter with
its options and a script, `-m module` or `-c code`, or any other program.

cProfile and pyinstrument must be started inside the interpreter, between its own options and the
program; py-spy takes the command whole. Both need to know what the program is, and so does the
name of the recording.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from megawatt.errors import MegawattError

Mode = Literal["script", "module", "code", "program"]

_PYTHON = re.compile(r"python(\d+(\.\d+)?)?[tw]?(\.exe)?")
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
# CPython's own options (`python --help`): those that take a value, and those that end the options
_PY_VALUE_OPTIONS = frozenset("WX")
_PY_PROGRAM_OPTIONS = frozenset("cm")
_PY_FLAG_OPTIONS = frozenset("bBdEhiIOPqRsSuvVx?")
_PY_LONG_VALUE_OPTIONS = frozenset({"--check-hash-based-pycs"})
# env(1) options that take a value as the next word
_ENV_VALUE_OPTIONS = frozenset({"-u", "--unset", "-C", "--chdir"})
_ENV_FLAG_OPTIONS = frozenset({"-i", "--ignore-environment", "-0", "--null", "-v", "--debug"})


def is_python(executable: str) -> bool:
    return _PYTHON.fullmatch(Path(executable).name) is not None


@dataclass(frozen=True, slots=True)
class Command:
    """A command split into the parts a profiler is put between."""

    given: list[str]  # the whole command, as given
    prefix: list[str]  # `env` with its options and VAR=value words, kept to run the rest with
    interpreter: str | None  # the Python that runs the program, when one does
    options: list[str]  # the interpreter's own options, before the program
    mode: Mode
    target: str  # the script, the module, the code, or the program
    args: list[str] = field(default_factory=list)  # what follows the target
    assignments: dict[str, str] = field(default_factory=dict)  # from the `env` prefix

    def label(self) -> str:
        """What the recording is named after: the program or module run and its first argument."""
        if self.mode == "code":
            words = ["python-c"]
        else:
            name = self.target if self.mode == "module" else Path(self.target).stem
            words = [name, *(Path(a).stem for a in self.args if not a.startswith("-"))][:2]
        label = re.sub(r"[^A-Za-z0-9_.-]+", "-", "-".join(w for w in words if w))
        return label.strip("-.")[:40] or "run"


def _split_env(command: list[str]) -> tuple[list[str], dict[str, str], list[str]]:
    """`env [OPTION]... [NAME=VALUE]... COMMAND` → (prefix, assignments, COMMAND)."""
    if not command or Path(command[0]).name != "env":
        return [], {}, command
    i = 1
    assignments: dict[str, str] = {}
    while i < len(command):
        word = command[i]
        if word == "--":
            i += 1
            break
        if word in _ENV_VALUE_OPTIONS:
            i += 2
        elif word in _ENV_FLAG_OPTIONS or word.startswith(("--unset=", "--chdir=")):
            i += 1
        elif word.startswith("-"):
            raise MegawattError(
                f"cannot tell which program `{shlex.join(command)}` runs: env's option {word} "
                "is not one Megawatt reads; set the variables without it, or write the command "
                "without `env`"
            )
        elif _ASSIGNMENT.match(word):
            name, _, value = word.partition("=")
            assignments[name] = value
            i += 1
        else:
            break
    while i < len(command) and _ASSIGNMENT.match(command[i]):
        name, _, value = command[i].partition("=")
        assignments[name] = value
        i += 1
    return command[:i], assignments, command[i:]


def _python_parts(words: list[str]) -> tuple[list[str], Mode, str, list[str]]:
    """(options, mode, target, args) of `python [OPTION]... (script | -m mod | -c code) ARG...`."""
    options: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word == "-":
            raise MegawattError(
                "a program read from standard input (`python -`) cannot be profiled: "
                "save it to a file and profile `python FILE`"
            )
        if word == "--":
            i += 1
            break
        if word.startswith("--"):
            name = word.partition("=")[0]
            takes_value = name in _PY_LONG_VALUE_OPTIONS and "=" not in word
            options.extend(words[i : i + 2] if takes_value else [word])
            i += 2 if takes_value else 1
            continue
        if not word.startswith("-"):
            break
        # a cluster such as -OO, -Wd, -uc CODE: the first option that takes a value takes the rest
        for pos, letter in enumerate(word[1:], 1):
            rest = word[pos + 1 :]
            if letter in _PY_PROGRAM_OPTIONS:
                if pos > 1:
                    options.append(word[:pos])
                value = rest or (words[i + 1] if i + 1 < len(words) else None)
                if value is None:
                    raise MegawattError(f"python's option -{letter} needs a value")
                after = words[i + 1 :] if rest else words[i + 2 :]
                return options, "module" if letter == "m" else "code", value, after
            if letter in _PY_VALUE_OPTIONS:
                if rest:
                    options.append(word)
                    i += 1
                else:
                    options.extend(words[i : i + 2])
                    i += 2
                break
            if letter not in _PY_FLAG_OPTIONS:
                raise MegawattError(f"{word} is not an option of python")
        else:
            options.append(word)
            i += 1
    if i >= len(words):
        raise MegawattError(
            "the interpreter is given no program: add a script, -m MODULE or -c CODE"
        )
    return options, "script", words[i], words[i + 1 :]


def _which(program: str, assignments: dict[str, str], cwd: Path) -> Path | None:
    if os.sep in program or (os.altsep and os.altsep in program):
        path = Path(program) if Path(program).is_absolute() else cwd / program
        return path if path.is_file() else None
    found = shutil.which(program, path=assignments.get("PATH"))
    return Path(found) if found else None


def _shebang_python(path: Path) -> str | None:
    """The interpreter a Python script's `#!` line names, when it is one; "" for an unnamed one."""
    try:
        with path.open("rb") as f:
            first = f.readline(200)
    except OSError:
        return None
    if not first.startswith(b"#!") or b"python" not in first:
        return "" if path.suffix in (".py", ".pyw") else None
    words = first[2:].decode("utf-8", "replace").split()
    if words and Path(words[0]).name == "env":
        words = [w for w in words[1:] if not w.startswith("-")]
    if words and is_python(words[0]):
        found = words[0] if os.path.isabs(words[0]) else shutil.which(words[0])
        return found if found and Path(found).is_file() else ""
    return ""


def parse(command: list[str], cwd: Path | None = None, python: str = sys.executable) -> Command:
    """Split `command`; raises `MegawattError` for a program that is not there.

    `python` runs Python scripts whose `#!` line names no interpreter that exists here.
    """
    if not command:
        raise MegawattError("no command to profile: give it after `--`")
    where = cwd or Path.cwd()
    prefix, assignments, rest = _split_env(command)
    if not rest:
        raise MegawattError(f"`{shlex.join(command)}` runs no program")
    program = rest[0]
    found = _which(program, assignments, where)
    if found is None and os.sep not in program and (where / program).is_file():
        found = where / program  # `work.py` for ./work.py: the interpreter runs it, not the shell
        if _shebang_python(found) is None:
            found = None
    if found is None:
        if os.sep in program:
            raise MegawattError(f"{program}: no such file")
        raise MegawattError(f"{program}: command not found")
    if is_python(program):
        options, mode, target, args = _python_parts(rest[1:])
        if mode == "script" and not (where / target).is_file():
            raise MegawattError(f"{target}: no such file")
        return Command(command, prefix, str(found), options, mode, target, args, assignments)
    interpreter = _shebang_python(found)
    if interpreter is not None:
        # a console script or a .py file: the interpreter runs it as a script
        return Command(
            command, prefix, interpreter or python, [], "script", str(found), rest[1:], assignments
        )
    return Command(command, prefix, None, [], "program", program, rest[1:], assignments)
