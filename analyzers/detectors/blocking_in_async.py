"""`blocking-in-async`: a blocking call (time.sleep, requests, subprocess, sockets, file I/O,
input) made directly inside an `async def`.

An event loop runs one task at a time; a call that blocks the thread stops every other task
(and timers, and I/O callbacks) until it returns. Calls inside a nested regular `def` or a
lambda are not reported (they run wherever they are called, often in a thread), nor awaited
calls (an async API of the same name), nor functions passed by reference to
`asyncio.to_thread` / `run_in_executor` (they are not called there).

The engine's query finds the async functions; the candidate calls inside each are matched by a
second query (blocking_in_async_calls.scm) run on that function's subtree only, so the C
matcher never hands Python the thousands of `.get(...)` calls outside async code.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from tree_sitter import Node, Query, QueryCursor

from megawatt.analyzers.context import FileContext, text
from megawatt.analyzers.detector import Captures, Detector
from megawatt.analyzers.detectors._loop_facts import decorator_names, walk
from megawatt.analyzers.detectors._scope_facts import ScopeFacts, scope_facts, snippet
from megawatt.analyzers.parsing import PYTHON
from megawatt.model import Finding

_HTTP_VERBS = ("get", "post", "put", "delete", "patch", "head", "options", "request")
# qualified name -> (kind, confidence)
_BLOCKING: dict[str, tuple[str, float]] = {
    "time.sleep": ("sleep", 0.9),
    **{f"requests.{v}": ("http", 0.9) for v in _HTTP_VERBS},
    **{f"httpx.{v}": ("http", 0.9) for v in _HTTP_VERBS},
    "urllib.request.urlopen": ("http", 0.9),
    "urllib.request.urlretrieve": ("http", 0.9),
    "subprocess.run": ("subprocess", 0.85),
    "subprocess.call": ("subprocess", 0.85),
    "subprocess.check_call": ("subprocess", 0.85),
    "subprocess.check_output": ("subprocess", 0.85),
    "subprocess.getoutput": ("subprocess", 0.85),
    "subprocess.getstatusoutput": ("subprocess", 0.85),
    "os.system": ("subprocess", 0.85),
    "os.waitpid": ("subprocess", 0.8),
    "os.wait": ("subprocess", 0.8),
    "socket.create_connection": ("socket", 0.75),
    "socket.getaddrinfo": ("dns", 0.75),
    "socket.gethostbyname": ("dns", 0.75),
    "socket.gethostbyname_ex": ("dns", 0.75),
    "socket.gethostbyaddr": ("dns", 0.75),
    "io.open": ("file", 0.4),
}
_CLIENT_FACTORIES = {
    "requests.Session": "http",
    "requests.session": "http",
    "httpx.Client": "http",
}
_SOCKET_FACTORIES = ("socket.socket", "socket.create_connection", "socket.socketpair")
_SOCKET_METHODS = frozenset(
    ("recv", "recv_into", "recvfrom", "send", "sendall", "sendto", "connect", "accept")
)
_PATH_METHODS = frozenset(("read_text", "write_text", "read_bytes", "write_bytes"))
_PATH_FACTORIES = ("pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath", "pathlib.WindowsPath")

_ADVICE = {
    "sleep": "use `await {sleep}(...)`, which lets other tasks run while waiting",
    "http": "use an async HTTP client (httpx.AsyncClient, aiohttp) or "
    "`await asyncio.to_thread(...)`",
    "subprocess": "use asyncio.create_subprocess_exec/_shell, or `await asyncio.to_thread(...)`",
    "socket": "use asyncio streams (asyncio.open_connection) or the loop's sock_* methods",
    "dns": "use `await loop.getaddrinfo(...)` (asyncio.get_running_loop())",
    "file": "fine for a small local file; for large or remote files use "
    "`await asyncio.to_thread(...)` or aiofiles",
    "input": "read stdin in a thread (`await asyncio.to_thread(input, ...)`) or with a stream",
}
_WHAT = {
    "sleep": "sleeps",
    "http": "waits for the network",
    "subprocess": "waits for the child process",
    "socket": "waits on the socket",
    "dns": "waits for the DNS lookup",
    "file": "waits for the disk",
    "input": "waits for the user",
}


@dataclass(frozen=True)
class Blocking:
    kind: str  # sleep, http, subprocess, socket, dns, file, input
    resolved: str  # what the call was resolved to: "time.sleep", "requests.Session().get"
    confidence: float


@cache
def _calls_query() -> Query:
    path = Path(__file__).with_name("blocking_in_async_calls.scm")
    return Query(PYTHON, path.read_text(encoding="utf-8"))


def is_async(fn: Node) -> bool:
    return fn.type == "function_definition" and any(c.type == "async" for c in fn.children[:1])


def async_scope(call: Node) -> Node | None:
    """The async def whose body runs `call` directly (not in a nested def, lambda or class)."""
    parent = call.parent
    while parent is not None:
        if parent.type in ("function_definition", "lambda", "class_definition"):
            return parent if is_async(parent) else None
        parent = parent.parent
    return None


def framework(ctx: FileContext) -> str:
    """Which async library the module uses: asyncio, trio, anyio, curio, or 'mixed'."""
    heads = {target.split(".", 1)[0] for target in ctx.imports.bindings.values()}
    if "anyio" in heads:
        return "anyio"
    found = [f for f in ("trio", "curio") if f in heads]
    if not found:
        return "asyncio"
    return found[0] if len(found) == 1 and "asyncio" not in heads else "mixed"


def classify(
    ctx: FileContext, call: Node, fn: Node, cache: dict[int, ScopeFacts]
) -> Blocking | None:
    """Whether `call` blocks the thread, resolved through imports and local bindings."""
    func = call.child_by_field_name("function")
    if func is None:
        return None
    qualified = ctx.qualified(func)
    if qualified is not None:
        hit = _BLOCKING.get(qualified)
        return Blocking(hit[0], qualified, hit[1]) if hit else None
    if func.type == "identifier":
        name = text(func)
        if name in ("open", "input") and ctx.is_builtin(func):
            return Blocking(
                "file" if name == "open" else "input", name, 0.4 if name == "open" else 0.8
            )
        return None
    if func.type != "attribute":
        return None
    method = text(func.child_by_field_name("attribute"))
    recv = func.child_by_field_name("object")
    if recv is None or _on_own_object(recv, fn):
        return None  # the class's own method (aiohttp's `async def write_bytes`), not a library's
    made_by = _made_by(ctx, recv, fn, cache)
    if method in _HTTP_VERBS and made_by in _CLIENT_FACTORIES:
        return Blocking("http", f"{made_by}().{method}", 0.85)
    if method in ("wait", "communicate") and made_by == "subprocess.Popen":
        return Blocking("subprocess", f"subprocess.Popen().{method}", 0.85)
    if method in _SOCKET_METHODS and made_by in _SOCKET_FACTORIES:
        if recv.type == "identifier" and _set_non_blocking(fn, text(recv)):
            return None
        if _expects_would_block(call, fn):
            return None  # a non-blocking socket driven by hand
        return Blocking("socket", f"{made_by}().{method}", 0.75)
    if method in _PATH_METHODS:
        # by what the receiver is bound to, never by the method's name: `writer.write_bytes`
        # on an unknown object is any class's method
        path = path_origin(ctx, recv, fn, cache)
        if path is not None:
            return Blocking("file", f"{path}.{method}", 0.45 if path.endswith(")") else 0.4)
    return None


def _on_own_object(recv: Node, fn: Node) -> bool:
    """`self.x(...)` / `cls.x(...)` (or any chain rooted at them) in a method: the call goes to
    the instance or class, whose methods are the project's own."""
    root = recv
    while root.type in ("attribute", "subscript", "call"):
        nxt = root.child_by_field_name(
            "object"
            if root.type == "attribute"
            else "value"
            if root.type == "subscript"
            else "function"
        )
        if nxt is None:
            return False
        root = nxt
    if root.type != "identifier":
        return False
    name = text(root)
    return name in ("self", "cls") or (_is_method(fn) and name == _first_parameter(fn))


def _is_method(fn: Node) -> bool:
    """A def directly in a class body, binding its instance or class as the first parameter."""
    parent = fn.parent
    if parent is not None and parent.type == "decorated_definition":
        if "staticmethod" in {d.rsplit(".", 1)[-1] for d in decorator_names(fn)}:
            return False
        parent = parent.parent
    return (
        parent is not None
        and parent.type == "block"
        and parent.parent is not None
        and parent.parent.type == "class_definition"
    )


def _first_parameter(fn: Node) -> str | None:
    params = fn.child_by_field_name("parameters")
    for p in params.named_children if params is not None else ():
        ident = p if p.type == "identifier" else p.child_by_field_name("name")
        if ident is None and p.named_children:
            ident = p.named_children[0]
        return text(ident) if ident is not None and ident.type == "identifier" else None
    return None


def _uses_pytest(ctx: FileContext) -> bool:
    """A test module: pytest binds a `tmp_path` parameter to a pathlib.Path."""
    name = Path(ctx.path).name
    return (
        name.startswith("test_")
        or name == "conftest.py"
        or any(t.split(".", 1)[0] == "pytest" for t in ctx.imports.bindings.values())
    )


_PATH_RETURNING = frozenset(
    {"with_suffix", "with_name", "with_stem", "joinpath", "resolve", "absolute", "expanduser",
     "relative_to", "parent"}
)  # fmt: skip


def path_origin(
    ctx: FileContext, node: Node, fn: Node, cache: dict[int, ScopeFacts], depth: int = 0
) -> str | None:
    """How `node` is known to be a pathlib path: "pathlib.Path()" for a factory call, the
    name of a parameter annotated with a path class, or None when nothing binds it to one."""
    if depth > 4:
        return None
    t = node.type
    if t == "parenthesized_expression" and node.named_children:
        return path_origin(ctx, node.named_children[0], fn, cache, depth + 1)
    if t == "call":
        func = node.child_by_field_name("function")
        qualified = ctx.qualified(func)
        if qualified in _PATH_FACTORIES:
            return f"{qualified}()"
        if func is not None and func.type == "attribute":
            name = text(func.child_by_field_name("attribute"))
            obj = func.child_by_field_name("object")
            if name in _PATH_RETURNING and obj is not None:
                return path_origin(ctx, obj, fn, cache, depth + 1)
        return None
    if t == "binary_operator":
        op = node.child_by_field_name("operator")
        left = node.child_by_field_name("left")
        if op is not None and op.type == "/" and left is not None:
            return path_origin(ctx, left, fn, cache, depth + 1)
        return None
    if t == "attribute":
        obj = node.child_by_field_name("object")
        if text(node.child_by_field_name("attribute")) == "parent" and obj is not None:
            return path_origin(ctx, obj, fn, cache, depth + 1)
        return None
    if t != "identifier":
        return None
    name = text(node)
    facts = scope_facts(ctx, fn, cache)
    if name in facts.params:
        annotation = facts.params[name]
        if annotation is None:
            return name if name == "tmp_path" and _uses_pytest(ctx) else None
        kind = annotation.named_children[0] if annotation.named_children else None
        return name if kind is not None and ctx.qualified(kind) in _PATH_FACTORIES else None
    scope = fn if name in facts.binds else ctx.tree.root_node
    values = scope_facts(ctx, scope, cache).values(name)
    if not values or any(v is None for _, v in values):
        return None
    origins = {path_origin(ctx, v, fn, cache, depth + 1) for _, v in values if v is not None}
    return origins.pop() if len(origins) == 1 and None not in origins else None


def _made_by(ctx: FileContext, recv: Node, fn: Node, cache: dict[int, ScopeFacts]) -> str | None:
    """The qualified factory a receiver comes from: `requests.Session()` directly, or a name
    bound (in the function, else in the module) only to calls of that factory."""
    if recv.type == "call":
        return ctx.qualified(recv.child_by_field_name("function"))
    if recv.type == "parenthesized_expression" and recv.named_children:
        return _made_by(ctx, recv.named_children[0], fn, cache)
    if recv.type != "identifier":
        return None
    name = text(recv)
    facts = scope_facts(ctx, fn, cache)
    if name in facts.params:
        annotation = facts.params[name]
        return (
            ctx.qualified(annotation.named_children[0])
            if annotation is not None and (annotation.named_children)
            else None
        )
    if name not in facts.binds:
        facts = scope_facts(ctx, ctx.tree.root_node, cache)
    factories = {_factory_of(ctx, b) for b in facts.binds.get(name, ())}
    return factories.pop() if len(factories) == 1 else None


def _factory_of(ctx: FileContext, binding: Node) -> str | None:
    if binding.type == "assignment":
        value = binding.child_by_field_name("right")
    elif binding.type == "as_pattern":
        value = binding.named_children[0] if binding.named_children else None
    else:
        return None
    if value is None or value.type != "call":
        return None
    return ctx.qualified(value.child_by_field_name("function"))


def _set_non_blocking(fn: Node, name: str) -> bool:
    """`name.setblocking(False)` / `name.settimeout(0)` anywhere in the function, with `name`
    the receiver itself (an identifier node), not a name that merely ends in it."""
    for node in walk(fn):
        if node.type != "call":
            continue
        func = node.child_by_field_name("function")
        if func is None or func.type != "attribute":
            continue
        obj = func.child_by_field_name("object")
        method = text(func.child_by_field_name("attribute"))
        if obj is None or obj.type != "identifier" or text(obj) != name:
            continue
        args = node.child_by_field_name("arguments")
        values = [a for a in args.named_children if a.type != "comment"] if args else []
        first = text(values[0]) if values else ""
        if (method, first) in (("setblocking", "False"), ("setblocking", "0")):
            return True
        if method == "settimeout" and first in ("0", "0.0"):
            return True
    return False


def _expects_would_block(call: Node, fn: Node) -> bool:
    """The call sits in a try that catches BlockingIOError: the socket is non-blocking."""
    node = call.parent
    while node is not None and node != fn:
        if node.type == "try_statement":
            for clause in node.named_children:
                if clause.type == "except_clause" and any(
                    "BlockingIOError" in _caught(c) for c in clause.named_children[:1]
                ):
                    return True
        node = node.parent
    return False


def _caught(expr: Node) -> set[str]:
    """The exception names an except clause's type names: `(BlockingIOError, OSError) as e`."""
    names: set[str] = set()
    for n in walk(expr):
        if n.type == "identifier" and (
            n.parent is None
            or n.parent.type != "attribute"
            or n.parent.child_by_field_name("attribute") == n
        ):
            if n.parent is not None and n.parent.type == "as_pattern_target":
                continue  # the `as e` name
            names.add(text(n))
    return names


class BlockingInAsync(Detector):
    id = "blocking-in-async"
    query_file = "blocking_in_async.scm"

    def check(self, ctx: FileContext, matches: list[Captures]) -> Iterator[Finding]:
        facts_cache: dict[int, ScopeFacts] = {}
        seen: set[int] = set()
        query = _calls_query()
        for m in matches:
            outer = m["async_fn"][0]
            for _, caps in QueryCursor(query).matches(outer):
                call = caps["call"][0]
                if call.id in seen:
                    continue  # nested async defs are matched once per enclosing one
                seen.add(call.id)
                parent = call.parent
                if parent is not None and parent.type == "await":
                    continue  # an async API of the same name
                fn = async_scope(call)
                if fn is None:
                    continue
                hit = classify(ctx, call, fn, facts_cache)
                if hit is not None:
                    yield self._report(ctx, call, fn, hit)

    def _report(self, ctx: FileContext, call: Node, fn: Node, hit: Blocking) -> Finding:
        in_loop = bool(ctx.loops_around(call))
        lib = framework(ctx)
        sleep = {"trio": "trio.sleep", "anyio": "anyio.sleep", "curio": "curio.sleep"}.get(
            lib, "asyncio.sleep"
        )
        advice = _ADVICE[hit.kind].format(sleep=sleep)
        if lib in ("trio", "anyio"):
            advice = advice.replace("asyncio.to_thread(", f"{lib}.to_thread.run_sync(")
        name = text(fn.child_by_field_name("name"))
        confidence = min(hit.confidence + (0.05 if in_loop else 0.0), 0.95)
        return self.finding(
            ctx,
            call,
            f"`{snippet(call)}` blocks the event loop inside async def {name}(): while it "
            f"{_WHAT[hit.kind]}, no other task runs; {advice}",
            confidence=round(confidence, 2),
            evidence=[
                ("call", snippet(call, 80)),
                ("resolved", hit.resolved),
                ("async_function", ctx.qualname(fn)),
                ("in_loop", str(in_loop).lower()),
            ],
        )
