"""`logging-in-hot-loop`: a DEBUG/INFO logger call that runs on every iteration of a loop.

Each call costs a method call and a level check when the level is off, and a record, its
formatting and the handlers' I/O when it is on. Calls that leave the loop right after
(`log.info(...); return`), that run under a level check already, in loops over a few literal
items, in loops that block on I/O (sleep, accept, recv, open), in except handlers or in
close/cleanup functions are not reported: there the call is not what costs. Nor is a loop with
no sign that it runs often (nested, or a tight loop over the function's input; see
`hot_evidence`). WARNING and above are not reported either: they log anomalies, which do not
happen on every iteration of a healthy loop.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tree_sitter import Node

from megawatt.analyzers.context import FileContext, text
from megawatt.analyzers.detector import Captures, Detector, distinct
from megawatt.analyzers.detectors._logging import (
    GUESS,
    QUIET_LEVELS,
    LoggerCall,
    argument_cost,
    is_guarded,
    logger_call,
)
from megawatt.analyzers.detectors.logging_eager_format import STYLES, eager_style
from megawatt.model import Finding

STATEMENT_LOOPS = ("for_statement", "while_statement")
# a loop that waits or does I/O each iteration: the logger call is not what costs there
_BLOCKING = re.compile(
    rb"\bawait\b|\b(?:sleep|accept|recv|recv_into|recvfrom|select|poll|wait|wait_for|input|"
    rb"urlopen|urlretrieve|sendall|communicate|serve_forever|getresponse|open|write|writelines|"
    rb"readline|unlink|rename|rmtree|makedirs|mkdir|copyfile|copytree|copy2|"
    rb"move|check_call|check_output|Popen|run_command|call_subprocess|download|fetch|"
    rb"request|post|put|chmod|chown|stat|lstat|utime|symlink|listdir|scandir|import_module|"
    rb"__import__|result)"
    rb"\s*\("
)
# functions that run once, at the end of something: their loops are not hot
_ONCE = re.compile(
    r"^_*(?:close|shutdown|cleanup|clean_up|teardown|tear_down|rollback|stop|terminate|kill|"
    r"cancel|dispose|release)(?:_\w*)?$|^__(?:del|exit|aexit)__$"
)
_LEAVES = {"return_statement": "return", "raise_statement": "raise", "break_statement": "break"}


def _exit_after(node: Node, loop: Node) -> str | None:
    """'return'/'raise'/'break' when a statement after `node` (in its block or an enclosing one,
    up to `loop`) always leaves the loop once `node` has run."""
    child, parent = node, node.parent
    while parent is not None and parent != loop:
        if parent.type in ("block", "module"):
            after = False
            for stmt in parent.named_children:
                if stmt == child:
                    after = True
                elif after and stmt.type in _LEAVES:
                    return _LEAVES[stmt.type]
        child, parent = parent, parent.parent
    return None


def effective_loops(ctx: FileContext, call: Node) -> list[Node]:
    """The loops, innermost first, in which the call runs once per iteration."""
    loops = ctx.loops_around(call)
    node = call
    while loops:
        leave = _exit_after(node, loops[0])
        if leave in ("return", "raise"):
            return []
        if leave == "break":
            node = loops[0]
            loops = loops[1:]
            continue
        break
    return loops


def _few_items(loop: Node) -> bool:
    """`for x in (a, b, c)` / `for i in range(3)`: a handful of iterations."""
    if loop.type != "for_statement":
        return False
    right = loop.child_by_field_name("right")
    if right is None:
        return False
    if right.type in ("tuple", "list", "set", "string", "concatenated_string"):
        return True
    if right.type == "call":
        func = right.child_by_field_name("function")
        args = right.child_by_field_name("arguments")
        if func is not None and text(func) == "range" and args is not None:
            nums = args.named_children
            if nums and all(n.type == "integer" for n in nums):
                try:
                    values = [int(text(n), 0) for n in nums]
                except ValueError:
                    return False
                span = values[0] if len(values) == 1 else values[1] - values[0]
                return span <= 16
    return False


def _parameters(fn: Node) -> set[str]:
    params = fn.child_by_field_name("parameters")
    names: set[str] = set()
    for p in params.named_children if params is not None else ():
        ident = p if p.type == "identifier" else p.child_by_field_name("name")
        if ident is None and p.named_children:
            ident = p.named_children[0]
        if ident is not None and ident.type == "identifier":
            names.add(text(ident))
    return names - {"self", "cls"}


def _identifiers(node: Node | None) -> set[str]:
    if node is None:
        return set()
    found: set[str] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type == "identifier":
            found.add(text(n))
        elif n.type == "attribute":
            obj = n.child_by_field_name("object")
            if obj is not None:
                stack.append(obj)  # `rows.items` reads rows; the attribute name is no variable
            continue
        elif n.type == "keyword_argument":
            value = n.child_by_field_name("value")
            if value is not None:
                stack.append(value)
            continue
        stack.extend(n.named_children)
    return found


def _input_names(ctx: FileContext, fn: Node) -> set[str]:
    """Parameters, and locals assigned from an expression over parameters (`queue = list(xs)`)."""
    names = _parameters(fn)
    body = fn.child_by_field_name("body")
    if not names or body is None:
        return names
    derived: set[str] = set()
    for stmt in body.named_children:
        inner = stmt.named_children[0] if stmt.type == "expression_statement" else None
        if inner is not None and inner.type == "assignment":
            left = inner.child_by_field_name("left")
            if (
                left is not None
                and left.type == "identifier"
                and _identifiers(inner.child_by_field_name("right")) & (names | derived)
            ):
                derived.add(text(left))
    return names | derived


_TIGHT = 8  # statements in a loop body small enough for a logger call to be a visible share


def _statements(body: Node | None) -> int:
    count = 0
    stack = [body] if body is not None else []
    while stack:
        n = stack.pop()
        for c in n.named_children:
            t = c.type
            if t in ("function_definition", "class_definition", "decorated_definition"):
                count += 1
            elif t.endswith("_statement") or t.endswith("_clause") or t == "block":
                if not t.endswith("_clause") and t != "block":
                    count += 1
                stack.append(c)
    return count


def hot_evidence(ctx: FileContext, loops: list[Node]) -> str | None:
    """Why the loop plausibly runs many times with the logger call a visible share of it:
    it is nested, a comprehension, or a tight loop (a few statements) walking the function's
    input (a parameter, or a local built from one). None when nothing says so: a loop over
    `self._handlers` or a config dict is usually short, and a long body does other work."""
    if len(loops) > 1:
        return "nested loops"
    loop = loops[0]
    if loop.type not in ("for_statement", "while_statement"):
        return "comprehension"
    fn = ctx.function_of(loop)
    if fn is None or _statements(loop.child_by_field_name("body")) > _TIGHT:
        return None  # a long body does enough else that one logger call is not what costs
    inputs = _input_names(ctx, fn)
    if loop.type == "for_statement":
        used = _identifiers(loop.child_by_field_name("right"))
    else:
        used = _identifiers(loop.child_by_field_name("condition"))
    hit = sorted(used & inputs)
    return f"iterates over the input {hit[0]}" if hit else None


def _branch(call: Node, loop: Node) -> str | None:
    """'except' when the call is in an exception handler inside the loop, 'if' when it is in a
    conditional branch, None when it runs on every iteration."""
    found = None
    parent = call.parent
    while parent is not None and parent != loop:
        if parent.type in ("except_clause", "except_group_clause", "finally_clause"):
            return "except"
        if parent.type in ("if_statement", "elif_clause", "else_clause", "case_clause"):
            found = "if"
        parent = parent.parent
    return found


def _runs_once(ctx: FileContext, call: Node) -> bool:
    fn = ctx.function_of(call)
    name = text(fn.child_by_field_name("name")) if fn is not None else ""
    return bool(name) and _ONCE.match(name) is not None


def _blocking(loop: Node) -> bool:
    body = loop.child_by_field_name("body")
    return body is not None and _BLOCKING.search(body.text or b"") is not None


class LoggingInHotLoop(Detector):
    id = "logging-in-hot-loop"
    query_file = "logging_in_hot_loop.scm"

    def check(self, ctx: FileContext, matches: list[Captures]) -> Iterator[Finding]:
        for call in distinct(matches, "call"):
            if not ctx.loops_around(call):
                continue  # cheap test first: most logger calls are not in loops
            lc = logger_call(ctx, call)
            if lc is None or lc.level not in QUIET_LEVELS:
                continue
            loops = effective_loops(ctx, call)
            if not loops or is_guarded(call):
                continue
            inner = loops[0]
            if _few_items(inner) or any(_blocking(loop) for loop in loops[:2]):
                continue
            if _branch(call, inner) == "except" or _runs_once(ctx, call):
                continue  # raising costs more than the log call; cleanup runs once
            evidence = hot_evidence(ctx, loops)
            if evidence is None:
                continue
            yield self._finding(ctx, lc, loops, evidence)

    def _finding(self, ctx: FileContext, lc: LoggerCall, loops: list[Node], hot: str) -> Finding:
        inner = loops[0]
        # Without a profile nothing says how many iterations there are: a single loop over the
        # input is often short in practice, so only nesting lifts the confidence much. DEBUG is
        # usually off (the waste is the call and its arguments); INFO is usually on, and
        # per-item INFO records are often the program's output (CLIs).
        confidence = 0.4 if lc.level == "DEBUG" else 0.3
        if len(loops) > 1:
            confidence += 0.2
        if _branch(lc.call, inner) == "if":
            confidence -= 0.1  # logs only some iterations
        if ctx.function_of(lc.call) is None:
            confidence -= 0.1  # module level: runs once per import
        costs = [c for a in lc.args if (c := argument_cost(ctx, a)) is not None]
        if costs:
            confidence += 0.05
        if lc.logger.kind == GUESS:
            confidence *= 0.8
        kind = {"for_statement": "for", "while_statement": "while"}.get(inner.type, "comprehension")
        where = f"the {kind} loop at line {inner.start_point.row + 1}"
        if len(loops) > 1:
            where += f", nested {len(loops)} deep"
        paid = "a method call and a level check"
        style = eager_style(lc.message) if lc.message is not None else None
        if style is not None:
            paid += f" plus building its message with {STYLES[style]}"
        elif costs:
            paid += f" plus {costs[0].what} for its arguments"
        receiver = text(lc.receiver) if lc.receiver is not None else "logging.getLogger()"
        flag = f"{lc.level.lower()}_enabled" if lc.level else "enabled"
        message = (
            f"{lc.label} runs on every iteration of {where}: with {lc.level} off each "
            f"iteration still pays {paid}; with it on, each iteration formats and emits a "
            f"record. Check the level once before the loop ({flag} = "
            f"{receiver}.isEnabledFor(logging.{lc.level})) and log under `if {flag}:`, or log "
            "a summary after the loop"
        )
        evidence = [
            ("call", text(lc.call)[:120]),
            ("level", lc.level or ""),
            ("loop", f"{kind} at line {inner.start_point.row + 1}"),
            ("depth", str(len(loops))),
            ("hot", hot),
        ]
        if costs:
            evidence.append(("costly", costs[0].what))
        return self.finding(
            ctx,
            lc.call,
            message,
            confidence=round(max(0.1, min(confidence, 0.9)), 2),
            evidence=evidence,
        )
