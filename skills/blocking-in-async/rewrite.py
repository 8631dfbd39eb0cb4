"""`time.sleep(x)` in an async def -> `await asyncio.sleep(x)` (safe); other blocking calls ->
`await asyncio.to_thread(func, args...)` (offered as unsafe: the callee then runs in a worker
thread, and whether it is thread-safe is not visible here).

The library's own sleep is used where the module is written for trio or anyio; a module that
imports several async libraries, or curio, gets no rewrite. `await` inside a comprehension would
turn a generator expression into an async generator, so calls there are left alone; anywhere
else in an expression the awaited call is parenthesised.
"""

from __future__ import annotations

from tree_sitter import Node

from megawatt.analyzers.context import FileContext, text
from megawatt.analyzers.detectors._scope_facts import in_comprehension, place_import, statement_of
from megawatt.analyzers.detectors.blocking_in_async import async_scope, classify, framework
from megawatt.fixes.edits import ensure_from_import, ensure_import, node_covering
from megawatt.model import Edit, Finding, Fix

_THREADABLE = ("http", "subprocess", "socket", "dns", "input", "file")


def rewrite(ctx: FileContext, finding: Finding) -> Fix | None:
    call = node_covering(ctx, finding, "call")
    if call is None or (call.parent is not None and call.parent.type == "await"):
        return None
    fn = async_scope(call)
    if fn is None or in_comprehension(call, fn):
        return None
    hit = classify(ctx, call, fn, {})
    if hit is None:
        return None
    args = call.child_by_field_name("arguments")
    if args is None or args.type != "argument_list":
        return None
    lib = framework(ctx)
    if hit.kind == "sleep":
        return _sleep(ctx, call, args, fn, lib)
    if hit.kind in _THREADABLE and lib == "asyncio":
        return _to_thread(ctx, call, args, fn, hit.resolved)
    return None


def _sleep(ctx: FileContext, call: Node, args: Node, fn: Node, lib: str) -> Fix | None:
    if lib in ("trio", "anyio"):
        if ctx.is_local(call, lib):
            return None
        import_edit = ensure_import(ctx, lib)
        sleep = f"{lib}.sleep"
    elif lib == "asyncio":
        if ctx.is_local(call, "asyncio") or ctx.is_local(call, "sleep"):
            return None
        import_edit, sleep = ensure_from_import(ctx, "asyncio", "sleep")
    else:
        return None
    awaited = _await(call, f"{sleep}{text(args)}")
    edits = [Edit(call.start_byte, call.end_byte, awaited)]
    if import_edit is not None:
        edits.append(place_import(ctx, import_edit))
    name = text(fn.child_by_field_name("name"))
    return Fix(
        title=f"Await {sleep}() instead of blocking {name}() with time.sleep()",
        edits=tuple(edits),
    )


def _to_thread(ctx: FileContext, call: Node, args: Node, fn: Node, resolved: str) -> Fix | None:
    if resolved == "open" or resolved.endswith(".open"):
        return None  # the file object is used afterwards, and its reads block too
    values = args.named_children
    if any(v.type in ("generator_expression", "comment") for v in values):
        return None
    if ctx.is_local(call, "asyncio"):
        return None
    import_edit, to_thread = ensure_from_import(ctx, "asyncio", "to_thread")
    func = call.child_by_field_name("function")
    inner = text(args)[1:-1].strip().rstrip(",")
    parts = ", ".join(p for p in (text(func), inner) if p)
    edits = [Edit(call.start_byte, call.end_byte, _await(call, f"{to_thread}({parts})"))]
    if import_edit is not None:
        edits.append(place_import(ctx, import_edit))
    return Fix(
        title=f"Run {text(func)}() in a worker thread with asyncio.to_thread",
        edits=tuple(edits),
        safe=False,
        note=f"{resolved} will run in another thread while other tasks proceed: it must be "
        "thread-safe (a shared requests.Session or a non-thread-safe object is not), and the "
        "arguments are evaluated before the thread starts (as before). Needs Python 3.9+.",
    )


def _await(call: Node, expression: str) -> str:
    """`await expr` where the call is a whole statement, `(await expr)` anywhere else."""
    if statement_of(call) is not None:
        return f"await {expression}"
    parent = call.parent
    if parent is not None and parent.type in ("assignment", "return_statement"):
        value = parent.child_by_field_name("right") if parent.type == "assignment" else None
        if parent.type == "return_statement" or value == call:
            return f"await {expression}"
    return f"(await {expression})"
