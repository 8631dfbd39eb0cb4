"""What keeps sandboxed processes in: OS isolation, resource limits, and an audit-hook guard.

Detected at run time, once per process, by actually running a trivial command: a package can be
installed while user namespaces are disabled (containers, hardened kernels). In order of
preference, all without root:

- bubblewrap (`bwrap`): the file system read-only except the sandbox's own folder, no network,
  its own PID namespace (so nothing a test starts outlives the run), the session detached;
- `unshare` (util-linux): a user and network namespace, so no network, but writes go anywhere
  the user may write;
- nothing.

Where writes are not confined, a `sitecustomize` guard (see `GUARD_SOURCE`) refuses them from
Python code. `MEGAWATT_SANDBOX_ISOLATION=bubblewrap|unshare|none` caps what is tried (tests use
it to exercise the fallbacks).
"""

from __future__ import annotations

import functools
import math
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "GUARD_ENV",
    "GUARD_SOURCE",
    "ISOLATION_ENV",
    "Isolation",
    "Kind",
    "Limits",
    "detect",
]

Kind = Literal["bubblewrap", "unshare", "none"]
ISOLATION_ENV = "MEGAWATT_SANDBOX_ISOLATION"
GUARD_ENV = "MEGAWATT_SANDBOX_GUARD"
PROBE_TIMEOUT = 10.0
_ORDER: tuple[Kind, ...] = ("bubblewrap", "unshare", "none")

# New namespaces for everything but the user (bwrap makes one itself when it is not setuid and
# we are not root). The PID namespace matters most after the network: when bwrap dies its init
# gets SIGKILL (--die-with-parent), and the kernel kills every process left in the namespace,
# even one that left our process group.
_BWRAP_FLAGS = (
    "--ro-bind",
    "/",
    "/",
    "--dev",
    "/dev",
    "--proc",
    "/proc",
    "--unshare-net",
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-uts",
    "--unshare-cgroup-try",
    "--die-with-parent",
    "--new-session",
)
# Root inside the namespace (--map-root-user): only then can the guard bring loopback up (the
# new network namespace starts with it down), which test suites with local servers need. The
# cost: the tests run as uid 0 of the namespace, so permission checks on their own files pass.
_UNSHARE_VARIANTS = (("--user", "--map-root-user", "--net"),)


@dataclass(frozen=True)
class Isolation:
    """How sandboxed processes are isolated. `network` is True when they can reach the network."""

    kind: Kind
    network: bool
    writes_confined: bool
    note: str = ""  # why nothing better was used, in words
    tool: str = ""  # the bwrap or unshare executable
    flags: tuple[str, ...] = ()  # the unshare options that worked

    def describe(self) -> str:
        """The line for the user's verdict."""
        limits = "CPU/memory limits" if _HAS_RESOURCE else "no CPU/memory limits on this platform"
        if self.kind == "bubblewrap":
            return (
                "isolated with bubblewrap: no network, writes only in the sandbox copy, "
                f"scrubbed environment, {limits}"
            )
        why = f" ({self.note})" if self.note else ""
        if self.kind == "unshare":
            return (
                f"partly isolated with unshare: no network, but writes are not confined{why}; "
                f"an audit hook refuses writes outside the sandbox copy, scrubbed environment, "
                f"{limits}"
            )
        limits = "limits" if _HAS_RESOURCE else "no limits on this platform"
        return (
            f"not isolated: {self.note or 'no isolation available'}; an audit hook refuses "
            f"writes outside the sandbox copy and non-local connections, scrubbed environment "
            f"and {limits} only"
        )

    def wrap(self, argv: Sequence[str], *, cwd: str, writable: Sequence[str]) -> list[str]:
        """`argv` run under this isolation, starting in `cwd`, with `writable` folders writable.

        The environment is not on the command line (bwrap passes its own on): the caller gives
        the process the scrubbed environment, and nothing of it shows in `ps`."""
        if self.kind == "bubblewrap":
            binds = [arg for folder in writable for arg in ("--bind", folder, folder)]
            return [self.tool, *_BWRAP_FLAGS, *binds, "--chdir", cwd, "--", *argv]
        if self.kind == "unshare":
            return [self.tool, *self.flags, "--", *argv]
        return list(argv)


def _true() -> str:
    return shutil.which("true") or "/bin/true"


def _works(argv: list[str]) -> tuple[bool, str]:
    """Whether `argv` ran and exited 0; what it said if not."""
    try:
        done = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=PROBE_TIMEOUT,
            env={"PATH": os.defpath},
        )
    except (OSError, subprocess.SubprocessError) as err:
        return False, str(err)
    said = done.stderr.decode("utf-8", "replace").strip().splitlines()
    return done.returncode == 0, said[-1] if said else f"exit status {done.returncode}"


def _bubblewrap() -> Isolation | str:
    tool = shutil.which("bwrap")
    if tool is None:
        return "bubblewrap is not installed"
    folder = tempfile.mkdtemp(prefix="megawatt-probe-")
    try:
        probe = Isolation("bubblewrap", False, True, tool=tool)
        ok, said = _works(probe.wrap([_true()], cwd=folder, writable=[folder]))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return probe if ok else f"bubblewrap does not work here ({said})"


def _unshare() -> Isolation | str:
    tool = shutil.which("unshare")
    if tool is None:
        return "unshare is not installed"
    said = ""
    for flags in _UNSHARE_VARIANTS:
        ok, said = _works([tool, *flags, "--", _true()])
        if ok:
            return Isolation("unshare", False, False, tool=tool, flags=flags)
    return f"user namespaces are unavailable ({said})"


@functools.cache
def _detect(best: Kind) -> Isolation:
    reasons: list[str] = []
    if best == "unshare":
        reasons.append("bubblewrap not tried: isolation set to unshare")
    for kind in _ORDER[_ORDER.index(best) :]:
        if kind == "none":
            break
        found = _bubblewrap() if kind == "bubblewrap" else _unshare()
        if isinstance(found, Isolation):
            return Isolation(
                found.kind,
                found.network,
                found.writes_confined,
                "; ".join(reasons),
                found.tool,
                found.flags,
            )
        reasons.append(found)
    if best == "none":
        reasons.append("isolation turned off")
    return Isolation("none", True, False, "; ".join(reasons))


def detect(best: Kind | None = None) -> Isolation:
    """The best isolation that works here, trying nothing better than `best` (default: the
    `MEGAWATT_SANDBOX_ISOLATION` variable, else bubblewrap). Probed once per process per `best`."""
    if best is None:
        wanted = os.environ.get(ISOLATION_ENV, "").strip().lower()
        best = next((kind for kind in _ORDER if kind == wanted), "bubblewrap")
    return _detect(best)


try:
    import resource

    _HAS_RESOURCE = sys.platform != "emscripten"
except ImportError:  # Windows
    _HAS_RESOURCE = False

DEFAULT_MEMORY_BYTES = 4 * 1024**3
CPU_MARGIN_S = 10.0


@dataclass(frozen=True)
class Limits:
    """Per-process limits: CPU seconds (None: the run's timeout plus a margin) and address space
    in bytes (None: unlimited). The wall-clock deadline is `Sandbox.execute`'s."""

    cpu_seconds: float | None = None
    memory_bytes: int | None = DEFAULT_MEMORY_BYTES

    def preexec(self, timeout: float) -> Callable[[], None] | None:
        """A `preexec_fn` setting these limits in the child, or None where there are none.

        Everything is computed here in the parent: between fork and exec the child only calls
        setrlimit, which takes no lock a thread of ours could be holding."""
        if not _HAS_RESOURCE:
            return None
        cpu = self.cpu_seconds if self.cpu_seconds is not None else timeout + CPU_MARGIN_S
        settings: list[tuple[int, tuple[int, int]]] = []
        soft = max(1, math.ceil(cpu))
        # SIGXCPU at the soft limit (a handler may report), SIGKILL a little later
        settings.append((resource.RLIMIT_CPU, _clip(resource.RLIMIT_CPU, soft, soft + 5)))
        # no core files: a crash would leave one in the copy, or hand it to the host's handler
        settings.append((resource.RLIMIT_CORE, (0, 0)))
        if self.memory_bytes is not None:
            memory = int(self.memory_bytes)
            settings.append((resource.RLIMIT_AS, _clip(resource.RLIMIT_AS, memory, memory)))
        setrlimit = resource.setrlimit

        def apply() -> None:
            for which, values in settings:
                setrlimit(which, values)

        return apply


def _clip(which: int, soft: int, hard: int) -> tuple[int, int]:
    """(soft, hard) lowered to the hard limit already in force: raising it needs privileges, and
    the hard limit is lowered too so the code cannot lift the soft one back."""
    _, current = resource.getrlimit(which)
    if current != resource.RLIM_INFINITY:
        hard = min(hard, current)
        soft = min(soft, hard)
    return soft, hard


# Written as `sitecustomize.py` into the scratch folder (on PYTHONPATH) where the OS does not
# confine writes. Configured by MEGAWATT_SANDBOX_GUARD (JSON: writable folders, interpreters), so
# Python processes that a test starts carry it too.
GUARD_SOURCE = r'''"""Megawatt's guard in a sandboxed run (written by megawatt.fixes.isolation).

An audit hook (PEP 578) that refuses, from Python code: opening, creating, renaming or removing
files outside the sandbox's folders; starting any process but the sandbox's interpreter (with the
guard); connections and name look-ups beyond loopback. It catches mistakes and naive code; it is
not a security boundary (ctypes or a C extension go around it).
"""


def _install():
    import errno
    import json
    import os
    import sys

    raw = os.environ.get("MEGAWATT_SANDBOX_GUARD")
    if not raw:
        return
    config = json.loads(raw)
    if config.get("loopback") and os.geteuid() == 0:
        # a new network namespace (unshare) starts with loopback down: bring it up, so local
        # test servers work while the outside stays unreachable
        import fcntl
        import socket
        import struct

        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                request = struct.pack("16sH14x", b"lo", 0)
                flags = struct.unpack("16sH14x", fcntl.ioctl(s, 0x8913, request))[1]  # SIOCGIFFLAGS
                if not flags & 1:  # IFF_UP
                    fcntl.ioctl(s, 0x8914, struct.pack("16sH14x", b"lo", flags | 1))  # SIOCSIFFLAGS
        except OSError:
            pass
    writable = tuple(config["writable"])
    pythons = frozenset(config["pythons"])
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
    devices = frozenset(("/dev/null", "/dev/tty", "/dev/stdout", "/dev/stderr"))
    local_names = frozenset(("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"))
    realpath, join, isabs, sep = os.path.realpath, os.path.join, os.path.isabs, os.sep

    def refuse(what, target):
        raise PermissionError(
            errno.EACCES, "megawatt sandbox: " + what + " is not allowed in a sandboxed run",
            str(target),
        )

    def folder_of(fd):
        # shutil.rmtree (pytest's tmp_path clean-up) removes entries relative to a folder's fd
        try:
            return os.readlink("/proc/self/fd/%d" % fd)
        except OSError:
            import fcntl

            return os.fsdecode(fcntl.fcntl(fd, fcntl.F_GETPATH, bytes(1024)).rstrip(b"\0"))

    def inside(path, dir_fd=None):
        if path is None or isinstance(path, int):
            return True  # an open descriptor: checked when it was opened
        path = os.fsdecode(path)
        if path in devices:
            return True
        if not isabs(path):
            path = join(os.getcwd() if dir_fd is None else folder_of(dir_fd), path)
        real = realpath(path)
        return any(real == w or real.startswith(w + sep) for w in writable)

    def check_write(path, dir_fd=None):
        if not inside(path, dir_fd):
            refuse("writing outside the sandbox", path)

    def check_python(executable, args, env):
        args = [os.fsdecode(a) for a in (args if isinstance(args, (list, tuple)) else [args])]
        exe = os.fsdecode(executable) if executable is not None else (args[0] if args else "")
        if sep not in exe:
            import shutil

            exe = shutil.which(exe) or exe
        if realpath(exe) not in pythons:
            refuse("starting a process other than the sandbox's Python", exe)
        if env is not None and env.get("MEGAWATT_SANDBOX_GUARD") != raw:
            refuse("starting Python without the sandbox's guard", exe)
        skip = False
        for arg in args[1:]:
            if skip:
                skip = False
                continue
            if arg in ("-c", "-m", "-") or not arg.startswith("-") or arg.startswith("--"):
                break
            if arg in ("-W", "-X"):
                skip = True
            elif arg[1] not in "WX" and set(arg[1:]) & set("IES"):
                refuse("starting Python isolated from its environment (" + arg + ")", exe)

    def local_host(host):
        if host is None or host == "" or isinstance(host, int):
            return True
        host = os.fsdecode(host) if isinstance(host, bytes) else str(host)
        if host.lower() in local_names:
            return True
        import ipaddress

        try:
            address = ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return False
        return address.is_loopback or address.is_unspecified

    def check_address(sock, address):
        import socket

        family = getattr(sock, "family", None)
        if family in (socket.AF_INET, socket.AF_INET6):
            if isinstance(address, tuple) and address and local_host(address[0]):
                return
        elif family == getattr(socket, "AF_UNIX", None):
            if isinstance(address, (str, bytes)) and address[:1] not in ("\0", b"\0"):
                if inside(address):
                    return
        refuse("a connection beyond the sandbox", address)

    watched = frozenset(
        (
            "open", "os.mkdir", "os.remove", "os.rmdir", "os.chmod", "os.chown", "os.utime",
            "os.rename", "os.link", "os.symlink", "os.truncate", "os.setxattr", "os.removexattr",
            "subprocess.Popen", "os.exec", "os.posix_spawn", "os.spawn", "os.system",
            "os.startfile", "socket.connect", "socket.sendto", "socket.sendmsg",
            "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex",
            "socket.gethostbyaddr",
        )
    )

    def hook(event, args):
        if event not in watched:
            return  # most events (imports, compile, exec): as cheap as possible
        if event == "open":
            path, mode, flags = args
            writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & write_flags
            )
            if writes:
                check_write(path)
        elif event in ("os.mkdir", "os.remove", "os.rmdir", "os.chmod", "os.chown", "os.utime"):
            check_write(args[0], args[-1])
        elif event in ("os.rename", "os.link"):
            check_write(args[0], args[2])
            check_write(args[1], args[3])
        elif event == "os.symlink":
            check_write(args[1], args[2])
        elif event in ("os.truncate", "os.setxattr", "os.removexattr"):
            check_write(args[0])
        elif event == "subprocess.Popen":
            check_python(args[0], args[1], args[3])
        elif event in ("os.exec", "os.posix_spawn"):
            check_python(args[0], args[1], args[2])
        elif event == "os.spawn":
            check_python(args[1], args[2], args[3])
        elif event in ("os.system", "os.startfile"):
            refuse("starting a shell", args[0])
        elif event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
            if args[1] is not None:
                check_address(args[0], args[1])
        elif event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex"):
            if not local_host(args[0]):
                refuse("looking up a name beyond loopback", args[0])
        elif event == "socket.gethostbyaddr":
            if not local_host(args[0]):
                refuse("looking up an address beyond loopback", args[0])

    sys.addaudithook(hook)


def _chain():
    # we shadow any sitecustomize further down sys.path (the distribution's, the venv's): run it
    import importlib.machinery
    import importlib.util
    import os
    import sys

    here = os.path.dirname(os.path.realpath(__file__))
    rest = [p for p in sys.path if os.path.realpath(p or ".") != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is not None and spec.loader is not None:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)


_install()
_chain()
del _install, _chain
'''
