"""A local stand-in for the Anthropic Messages API: a real HTTP server that replays scripted turns.

Tests point the real `anthropic.Anthropic` client at it (``base_url=fake.base_url``); nothing is
mocked, so retries, timeouts, headers and response parsing all run through the SDK's own code.

    with fake_anthropic(tool_use("propose_fix", {"patch": "..."}), text("done")) as fake:
        client = anthropic.Anthropic(api_key="test-key", base_url=fake.base_url, max_retries=0)
        message = client.messages.create(model="claude-sonnet-4-6", max_tokens=100, messages=[...])
        assert fake.requests[0].api_key == "test-key"

The script is a queue: every ``POST /v1/messages`` takes the next item. An item is a turn made by
the constructors below, or a callable ``(RecordedRequest) -> Turn`` for answers that depend on the
request (echoing a ``tool_use`` id, say).

- `text` / `tool_use` / `message`: a 200 with a well-formed Message (id, type, role, the request's
  model, content, stop_reason, stop_sequence, usage) and a ``request-id`` header.
- `status` / `rate_limited` / `overloaded`: an error status with a body in Anthropic's error shape.
  They send ``retry-after-ms: 10`` by default so the SDK's retries are quick; the SDK honours
  ``retry-after`` with no upper bound, so never script a long one without ``max_retries=0``.
- `delay`: sleeps (at most `MAX_DELAY` seconds; `FakeAnthropic.stop` cuts it short) and then
  answers with another turn, to provoke client timeouts. A client that hangs up during the
  sleep ends it: the hang-up is recorded in `FakeAnthropic.hangups` with how long after the
  request arrived it came (`wait_for_hangup` waits for one), so a test can prove that a
  cancelled or timed-out request really closed its connection.
- `malformed`: a 200 whose body is the given bytes (invalid JSON, or JSON of the wrong shape).
- `disconnect`: closes the connection without answering.

Requests with ``"stream": true`` are answered with Server-Sent Events of the same turn
(message_start, content_block_start, content_block_delta with text_delta / input_json_delta,
content_block_stop, message_delta, message_stop), so ``client.messages.stream(...)`` works too.
Error, malformed and disconnect turns answer a streaming request exactly as a plain one.

Every request is recorded (`FakeAnthropic.requests`) before it is answered. A request that cannot
be answered from the script (it is exhausted, the body is not a Messages request, a responder
raised) gets a 500 or 400 with ``x-should-retry: false`` and a message naming the problem, and the
problem is also kept in `FakeAnthropic.errors`, so a test fails loudly instead of hanging.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import select
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

__all__ = [
    "MAX_DELAY",
    "Delay",
    "Disconnect",
    "FakeAnthropic",
    "Hangup",
    "Malformed",
    "RecordedRequest",
    "Reply",
    "Responder",
    "ScriptItem",
    "Status",
    "Turn",
    "delay",
    "disconnect",
    "fake_anthropic",
    "malformed",
    "message",
    "overloaded",
    "rate_limited",
    "status",
    "text",
    "tool_use",
]

MAX_DELAY = 5.0
"""The longest a `delay` turn may sleep, so a forgotten one cannot stall the test suite."""

DEFAULT_MODEL = "claude-fake"
"""The model a reply names when the request named none."""

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}


def _new_id(prefix: str) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return prefix + "01" + "".join(secrets.choice(alphabet) for _ in range(22))


# --- what was sent -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request the server received, as the SDK sent it."""

    method: str
    path: str
    """The path without the query string, e.g. ``/v1/messages``."""
    query: str
    headers: dict[str, str]
    """Header names lower-cased; repeated headers joined with ``", "``."""
    body: Any
    """The parsed JSON body, or None when there was none or it was not JSON."""
    raw: bytes
    """The body exactly as received: search it to prove a secret was never sent."""

    @property
    def api_key(self) -> str | None:
        """The key from ``Authorization: Bearer <key>`` (what the SDK sends), else ``x-api-key``."""
        auth = self.headers.get("authorization", "")
        scheme, _, credentials = auth.partition(" ")
        if scheme.lower() == "bearer" and credentials:
            return credentials.strip()
        return self.headers.get("x-api-key")

    @property
    def text(self) -> str:
        """The raw body decoded as UTF-8 (undecodable bytes replaced)."""
        return self.raw.decode("utf-8", errors="replace")

    @property
    def system_text(self) -> str:
        """The system prompt as one string, whether it was sent as a string or as text blocks."""
        system = self.body.get("system") if isinstance(self.body, dict) else None
        if isinstance(system, str):
            return system
        if isinstance(system, list):
            return "\n".join(
                str(block.get("text", "")) for block in system if isinstance(block, dict)
            )
        return ""

    @property
    def tool_names(self) -> list[str]:
        """The names of the tools offered in the request, in order."""
        tools = self.body.get("tools") if isinstance(self.body, dict) else None
        return [t["name"] for t in tools or [] if isinstance(t, dict) and "name" in t]


@dataclass(frozen=True)
class Hangup:
    """A client closed its connection while a `delay` turn was still sleeping."""

    request: int
    """The request's number (1-based, as in `FakeAnthropic.requests`)."""
    after: float
    """Seconds from the request's arrival to the hang-up, on the server's clock."""


# --- turns -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """A successful Message: content blocks (as the API's JSON) and a stop reason."""

    content: tuple[dict[str, Any], ...]
    stop_reason: str = "end_turn"
    stop_sequence: str | None = None

    @property
    def tool_use_ids(self) -> list[str]:
        return [b["id"] for b in self.content if b.get("type") == "tool_use"]


@dataclass(frozen=True)
class Status:
    """An HTTP error (or any status) with a body and extra headers."""

    code: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Delay:
    """Sleep, then answer with `then`."""

    seconds: float
    then: Turn


@dataclass(frozen=True)
class Malformed:
    """A response whose body is `raw` as given, with this status and content type."""

    raw: bytes
    code: int = 200
    content_type: str = "application/json"


@dataclass(frozen=True)
class Disconnect:
    """Close the connection without sending any response."""


Turn = Reply | Status | Delay | Malformed | Disconnect
Responder = Callable[[RecordedRequest], Turn]
ScriptItem = Turn | Responder


def message(
    content: Iterable[dict[str, Any]],
    stop_reason: str = "end_turn",
    stop_sequence: str | None = None,
) -> Reply:
    """A Message with these content blocks (the API's JSON shape), e.g. several ``tool_use``s."""
    return Reply(tuple(content), stop_reason, stop_sequence)


def text(content: str, stop_reason: str = "end_turn") -> Reply:
    """A Message with one text block (``stop_reason="max_tokens"`` for a truncated answer)."""
    return Reply(({"type": "text", "text": content, "citations": None},), stop_reason)


def tool_use(
    name: str, input: dict[str, Any], text: str | None = None, *, id: str | None = None
) -> Reply:
    """A Message calling tool `name` with `input`, after an optional text block.

    The block's id is ``toolu_…`` (random unless given); read it back with `Reply.tool_use_ids`.
    """
    blocks: list[dict[str, Any]] = []
    if text is not None:
        blocks.append({"type": "text", "text": text, "citations": None})
    blocks.append(
        {"type": "tool_use", "id": id or _new_id("toolu_"), "name": name, "input": dict(input)}
    )
    return Reply(tuple(blocks), "tool_use")


def status(
    code: int,
    body: dict[str, Any] | str | bytes | None = None,
    headers: dict[str, str] | None = None,
    *,
    message: str | None = None,
    error_type: str | None = None,
    retry_after_ms: float | None = 10,
) -> Status:
    """An answer with status `code`.

    Without `body`, the body is Anthropic's error shape,
    ``{"type": "error", "error": {"type": error_type, "message": message}}``, with the error type
    the API uses for that status. A dict `body` is sent as JSON, a str or bytes as it is.
    ``retry-after-ms`` is sent unless `retry_after_ms` is None (or `headers` sets a retry header),
    so the SDK retries after milliseconds instead of its backoff (0.375 s or more; note that
    ``retry-after: 0`` does not help, as the SDK ignores a zero and backs off).
    """
    if body is None:
        err_type = error_type or _ERROR_TYPES.get(code, "api_error")
        msg = message or f"fake {code} {err_type} from the scripted FakeAnthropic server"
        raw = json.dumps({"type": "error", "error": {"type": err_type, "message": msg}}).encode()
    elif isinstance(body, dict):
        raw = json.dumps(body).encode()
    elif isinstance(body, str):
        raw = body.encode()
    else:
        raw = body
    extra = {k.lower(): v for k, v in (headers or {}).items()}
    if retry_after_ms is not None and not {"retry-after", "retry-after-ms"} & extra.keys():
        extra["retry-after-ms"] = f"{retry_after_ms:g}"
    return Status(code, raw, tuple(extra.items()))


def rate_limited(message: str = "Number of request tokens has exceeded your rate limit") -> Status:
    """A 429 ``rate_limit_error`` (the SDK retries it)."""
    return status(429, message=message)


def overloaded(message: str = "Overloaded") -> Status:
    """A 529 ``overloaded_error``, as the API sends when it is overloaded (the SDK retries it)."""
    return status(529, message=message)


def delay(seconds: float, then: Turn | None = None) -> Delay:
    """Sleep `seconds` (at most `MAX_DELAY`), then answer with `then` (default: a text reply)."""
    if not 0 <= seconds <= MAX_DELAY:
        raise ValueError(f"delay must be between 0 and {MAX_DELAY} s, not {seconds}")
    return Delay(seconds, then if then is not None else text("(after a delay)"))


def malformed(raw: bytes, *, code: int = 200, content_type: str = "application/json") -> Malformed:
    """A response with this raw body: invalid JSON, or JSON that is not a Message."""
    return Malformed(raw, code, content_type)


def disconnect() -> Disconnect:
    """Drop the connection without answering (the SDK sees a connection error and retries)."""
    return Disconnect()


# --- the server --------------------------------------------------------------------------------


class FakeAnthropic:
    """An HTTP server on 127.0.0.1 answering the Messages API from a script of turns.

    `api_key`, when given, is the only key accepted (others get a 401 ``authentication_error``);
    otherwise any key is accepted, but a request with no key at all still gets a 401.
    """

    def __init__(self, script: Iterable[ScriptItem] = (), *, api_key: str | None = None) -> None:
        self.api_key = api_key
        self.requests: list[RecordedRequest] = []
        self.errors: list[str] = []
        self.hangups: list[Hangup] = []
        self._hung_up = threading.Event()
        self._script: deque[ScriptItem] = deque(script)
        self._scripted = len(self._script)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle

    def start(self) -> Self:
        if self._server is not None:
            raise RuntimeError("FakeAnthropic is already running")
        self._stopping.clear()
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True  # a handler still sleeping never blocks shutdown
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"FakeAnthropic:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes delayed handlers
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeAnthropic is not running")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # the script

    def add(self, *items: ScriptItem) -> None:
        """Append turns to the script (also while the server runs)."""
        with self._lock:
            self._script.extend(items)
            self._scripted += len(items)

    @property
    def remaining(self) -> int:
        """How many scripted turns have not been used yet."""
        with self._lock:
            return len(self._script)

    @property
    def message_requests(self) -> list[RecordedRequest]:
        """The recorded ``POST /v1/messages`` requests (the ones that consume turns)."""
        with self._lock:
            return [r for r in self.requests if r.method == "POST" and r.path == "/v1/messages"]

    # used by the handler

    def _record(self, request: RecordedRequest) -> int:
        with self._lock:
            self.requests.append(request)
            return len(self.requests)

    def _next(self, number: int) -> ScriptItem | None:
        with self._lock:
            if self._script:
                return self._script.popleft()
            problem = (
                f"FakeAnthropic script exhausted: request #{number} (POST /v1/messages) arrived "
                f"but all {self._scripted} scripted turns were already used"
            )
            self.errors.append(problem)
            return None

    def _problem(self, text: str) -> None:
        with self._lock:
            self.errors.append(text)

    def _hangup(self, hangup: Hangup) -> None:
        with self._lock:
            self.hangups.append(hangup)
        self._hung_up.set()

    def wait_for_hangup(self, timeout: float) -> Hangup | None:
        """The first hang-up during a delay, waiting at most `timeout` seconds for one."""
        self._hung_up.wait(timeout)
        with self._lock:
            return self.hangups[0] if self.hangups else None


@contextlib.contextmanager
def fake_anthropic(*script: ScriptItem, api_key: str | None = None) -> Iterator[FakeAnthropic]:
    """A running `FakeAnthropic` with this script, stopped on exit (for fixtures and ``with``)."""
    fake = FakeAnthropic(script, api_key=api_key)
    with fake:
        yield fake


# --- HTTP --------------------------------------------------------------------------------------


def _error_body(code: int, text: str) -> bytes:
    err_type = _ERROR_TYPES.get(code, "api_error")
    return json.dumps({"type": "error", "error": {"type": err_type, "message": text}}).encode()


def _chunks(value: str, size: int) -> list[str]:
    return [value[i : i + size] for i in range(0, len(value), size)] or [""]


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.0: one request per connection, so no idle keep-alive thread outlives the server
    protocol_version = "HTTP/1.0"
    server_version = "FakeAnthropic/1.0"

    @property
    def fake(self) -> FakeAnthropic:
        return self.server.fake  # type: ignore[attr-defined,no-any-return]

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def _handle(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = None
        split = urlsplit(self.path)
        request = RecordedRequest(self.command, split.path, split.query, headers, body, raw)
        self._arrived = time.monotonic()
        number = self.fake._record(request)
        # a client that gave up (timed out) before the answer is what a delay turn is for
        try:
            self._answer(request, number)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            pass  # the client gave up (timed out) before the answer: that is what a delay is for
        except Exception as exc:  # a bug here must reach the test as a failure, not a hang
            problem = f"request #{number}: FakeAnthropic failed while answering: {exc!r}"
            self.fake._problem(problem)
            with contextlib.suppress(OSError):
                self._send_error(500, problem, retry=False)

    def _answer(self, request: RecordedRequest, number: int) -> None:
        key = request.api_key
        if not key or (self.fake.api_key is not None and key != self.fake.api_key):
            problem = (
                f"request #{number}: missing or wrong API key (expected Authorization: Bearer)"
            )
            self.fake._problem(problem)
            self._send_error(401, problem, retry=None)
            return
        if request.path == "/v1/messages/count_tokens" and request.method == "POST":
            tokens = max(1, len(request.raw) // 4)
            self._send(200, json.dumps({"input_tokens": tokens}).encode())
            return
        if request.path != "/v1/messages" or request.method != "POST":
            problem = (
                f"request #{number}: FakeAnthropic does not serve {request.method} {request.path}"
            )
            self.fake._problem(problem)
            self._send_error(404, problem, retry=False)
            return
        body = request.body
        missing = (
            ["a JSON object body"]
            if not isinstance(body, dict)
            else [k for k in ("model", "max_tokens", "messages") if k not in body]
        )
        if missing:
            problem = f"request #{number}: not a Messages request, missing {', '.join(missing)}"
            self.fake._problem(problem)
            self._send_error(400, problem, retry=False)
            return

        item = self.fake._next(number)
        if item is None:
            self._send_error(500, self.fake.errors[-1], retry=False)
            return
        turn: object = item
        if callable(item):
            try:
                turn = item(request)
            except Exception as exc:
                problem = f"request #{number}: the scripted responder raised {exc!r}"
                self.fake._problem(problem)
                self._send_error(500, problem, retry=False)
                return
        while isinstance(turn, Delay):
            if not self._sleep(turn.seconds, number):
                return  # the server is stopping or the client hung up: answer nothing
            turn = turn.then
        stream = bool(body.get("stream"))
        if isinstance(turn, Reply):
            if stream:
                self._send_stream(request, turn)
            else:
                self._send(200, json.dumps(self._message(request, turn)).encode())
        elif isinstance(turn, Status):
            self._send(turn.code, turn.body, turn.headers)
        elif isinstance(turn, Malformed):
            self._send(turn.code, turn.raw, content_type=turn.content_type)
        elif isinstance(turn, Disconnect):
            self.close_connection = True
        else:
            problem = f"request #{number}: the script gave {turn!r}, which is not a turn"
            self.fake._problem(problem)
            self._send_error(500, problem, retry=False)

    def _sleep(self, seconds: float, number: int) -> bool:
        """Sleep unless the server stops or the client hangs up first; True if it slept."""
        end = time.monotonic() + min(seconds, MAX_DELAY)
        while (left := end - time.monotonic()) > 0:
            if self.fake._stopping.wait(min(0.01, left)):
                return False
            if self._client_gone():
                self.fake._hangup(Hangup(number, time.monotonic() - self._arrived))
                return False
        return True

    def _client_gone(self) -> bool:
        # the whole request was read, so anything readable now is the end of the stream
        sock = self.connection
        try:
            readable, _, _ = select.select([sock], [], [], 0)
            return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    # responses

    def _message(self, request: RecordedRequest, reply: Reply) -> dict[str, Any]:
        out_tokens = max(1, len(json.dumps(reply.content)) // 4)
        return {
            "id": _new_id("msg_"),
            "type": "message",
            "role": "assistant",
            "model": request.body.get("model") or DEFAULT_MODEL,
            "content": [dict(block) for block in reply.content],
            "stop_reason": reply.stop_reason,
            "stop_sequence": reply.stop_sequence,
            "usage": {"input_tokens": max(1, len(request.raw) // 4), "output_tokens": out_tokens},
        }

    def _send(
        self,
        code: int,
        payload: bytes,
        headers: Iterable[tuple[str, str]] = (),
        content_type: str = "application/json",
    ) -> None:
        self.send_response(code)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(payload)))
        self.send_header("request-id", _new_id("req_"))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()

    def _send_error(self, code: int, text: str, *, retry: bool | None) -> None:
        headers = [] if retry is None else [("x-should-retry", "true" if retry else "false")]
        self._send(code, _error_body(code, text), headers)

    def _send_stream(self, request: RecordedRequest, reply: Reply) -> None:
        full = self._message(request, reply)
        start = dict(full, content=[], stop_reason=None, stop_sequence=None)
        start["usage"] = dict(full["usage"], output_tokens=1)
        events: list[tuple[str, dict[str, Any]]] = [
            ("message_start", {"type": "message_start", "message": start}),
            ("ping", {"type": "ping"}),
        ]
        for index, block in enumerate(full["content"]):
            if block.get("type") == "tool_use":
                opening = dict(block, input={})
                deltas = [
                    {"type": "input_json_delta", "partial_json": part}
                    for part in _chunks(json.dumps(block["input"]), 12)
                ]
            elif block.get("type") == "text":
                opening = dict(block, text="")
                deltas = [{"type": "text_delta", "text": t} for t in _chunks(block["text"], 16)]
            else:
                opening, deltas = block, []
            events.append(
                (
                    "content_block_start",
                    {"type": "content_block_start", "index": index, "content_block": opening},
                )
            )
            events.extend(
                ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": d})
                for d in deltas
            )
            events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
        events.append(
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {
                        "stop_reason": reply.stop_reason,
                        "stop_sequence": reply.stop_sequence,
                    },
                    "usage": {"output_tokens": full["usage"]["output_tokens"]},
                },
            )
        )
        events.append(("message_stop", {"type": "message_stop"}))

        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("cache-control", "no-cache")
        self.send_header("request-id", _new_id("req_"))
        self.end_headers()  # no content-length: the body ends when the connection closes
        for name, data in events:
            self.wfile.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
            self.wfile.flush()
