"""Classify a recorded frame as user code, library code, native code or idle waiting."""

from __future__ import annotations

import re
import sys
import sysconfig

from megawatt.model import FunctionKind

_NATIVE_PATHS = {"", "~", "<built-in>", "<native>", "<unknown>", "[native]"}

# Calls that wait rather than compute; sampled profilers that record idle threads show them.
_IDLE_NAME = re.compile(
    r"(^|[\s.'<\[])(sleep|select|poll|epoll_wait|kqueue|wait|wait_for|_wait_for_tstate_lock|"
    r"acquire|accept|recv|recv_into|await|idle)(\b|'|\])"
)
_IDLE_PATH_TAILS = ("threading.py", "selectors.py", "queue.py", "socket.py", "subprocess.py")

# generated code (dataclass methods, namedtuples) is compiled from "<string>": not the user's source
_LIBRARY_MARKERS = (
    "site-packages",
    "dist-packages",
    "/lib/python3",
    "\\lib\\python3",
    "<frozen ",
    "<string>",
    "<exec@",  # Scalene's name for generated dataclass methods
)
# shared objects and C sources that native-aware profilers name
_NATIVE_FILE = re.compile(r"\.(so(\.\d+)*|dylib|dll|pyd|c|cc|cpp|h)$")


def _stdlib_roots() -> tuple[str, ...]:
    roots = {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    roots.add(sys.base_prefix)
    return tuple(sorted(r for r in roots if r))


_STDLIB_ROOTS = _stdlib_roots()


def classify(path: str, name: str) -> FunctionKind:
    """Best guess from what the profiler recorded; workspace mapping can later promote to USER."""
    native = (
        path in _NATIVE_PATHS
        or name.startswith(("<built-in", "<method '"))
        or (
            path.startswith("<") and not path.startswith(("<frozen", "<string", "<stdin", "<exec@"))
        )
        or _NATIVE_FILE.search(path) is not None
    )
    if _IDLE_NAME.search(name) and (native or path.endswith(_IDLE_PATH_TAILS)):
        return FunctionKind.IDLE
    if name in ("[await]", "[sleep]", "[idle]", "[out-of-context]"):
        return FunctionKind.IDLE
    if native:
        return FunctionKind.NATIVE
    if any(m in path for m in _LIBRARY_MARKERS) or path.startswith(_STDLIB_ROOTS):
        return FunctionKind.LIBRARY
    return FunctionKind.USER
