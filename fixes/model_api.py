"""One request to the Messages API, bounded in every way a user waits.

The SDK's own retries are off (it honours any `retry-after`, an hour included, and retries
timeouts, so a hanging API costs three timeouts). Here: at most `MAX_RETRIES` retries of
408/409/429/5xx and connection failures, each wait capped by `max_retry_wait` and never past the
fix's deadline, announced to the user; each request's time bounded by the smaller of the request
timeout and what is left of the deadline, on the wall clock (httpx's timeouts are per socket
operation, so a trickling answer would slip past them). A request runs in a short-lived thread
so cancelling can shut its socket down at once instead of waiting for the answer.
"""

from __future__ import annotations

import contextlib
import email.utils
import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from megawatt.errors import MegawattError
from megawatt.fixes.redact import redact

__all__ = ["MAX_RETRIES", "AiError", "Limits", "ModelApi"]

MAX_RETRIES = 2
_STEP = 0.05  # how often a waiting request looks at cancellation and the clock
_GRACE = 0.5  # past its timeout, a request still gets this long for the SDK to report it
_RETRYABLE = frozenset({408, 409, 429})


class AiError(MegawattError):
    """The model could not be asked, or gave no usable answer: the message says which."""


@dataclass(frozen=True)
class Limits:
    """The clock one fix runs against (monotonic seconds)."""

    timeout: float  # per request
    max_retry_wait: float
    started: float  # when the fix began
    deadline: float  # when it must be done

    @property
    def budget(self) -> float:
        return self.deadline - self.started


class _TimedOut(Exception):
    """The wall-clock bound of one request passed (the SDK had not reported it yet)."""


def _seconds(value: float) -> str:
    return f"{value:.2g}" if value < 10 else f"{value:.0f}"


def _api_message(err: Any) -> str:
    """The error's own words: `error.message` of Anthropic's error body, else the raw body."""
    body = getattr(err, "body", None)
    detail: object = None
    if isinstance(body, dict):
        inner = body.get("error")
        detail = inner.get("message") if isinstance(inner, dict) else body.get("message")
    elif isinstance(body, str | bytes):
        detail = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    if not isinstance(detail, str) or not detail.strip():
        detail = getattr(err, "api_message", None)
    if not isinstance(detail, str):
        return ""
    first = detail.strip().splitlines()[0] if detail.strip() else ""
    return first[:300]


def _phrase(code: int) -> str:
    try:
        return HTTPStatus(code).phrase.lower()
    except ValueError:
        return "error"


def _status_words(code: int, retries: int) -> str:
    """A failed status in plain words; `retries` made before giving up."""
    again = f" after {retries} {'retry' if retries == 1 else 'retries'}" if retries else ""
    if code == 401:
        return "the API key was refused (401): check ANTHROPIC_API_KEY or the editor's Megawatt API key"
    if code == 403:
        return "the API key may not do this (403 permission denied)"
    if code == 404:
        return "the model API does not know this model or endpoint (404 not found)"
    if code == 413:
        return "the request is too large for the model API (413)"
    if code == 429:
        return f"rate-limited (429) and still limited{again}" if retries else "rate-limited (429)"
    if code == 529:
        return (
            f"the model API is overloaded (529){' and still overloaded' + again if retries else ''}"
        )
    if code >= 500:
        return f"the model API failed ({code} {_phrase(code)}){again}"
    return f"the model API refused the request ({code} {_phrase(code)})"


def _retry_note(code: int | None) -> str:
    if code == 429:
        return "rate-limited"
    if code == 529:
        return "the model API answered 529 (overloaded)"
    if code is None:
        return "cannot reach the model API"
    return f"the model API answered {code} ({_phrase(code)})"


def _should_retry(err: Any) -> bool:
    headers = getattr(getattr(err, "response", None), "headers", None) or {}
    verdict = headers.get("x-should-retry")
    if verdict in ("true", "false"):
        return verdict == "true"  # the API's own word wins
    code = int(getattr(err, "status_code", 0))
    return code in _RETRYABLE or code >= 500


def _asked_wait(headers: Any) -> float | None:
    """What `retry-after-ms` or `retry-after` (seconds or an HTTP date) asks for, if anything."""
    if headers is None:
        return None
    with contextlib.suppress(TypeError, ValueError):
        ms = headers.get("retry-after-ms")
        if ms is not None:
            return max(0.0, float(ms) / 1000)
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    with contextlib.suppress(TypeError, ValueError, OverflowError):
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time())
    return None


def _backoff(retry: int) -> float:
    # jittered so that many clients limited together do not come back together
    return 0.5 * 2**retry * random.uniform(0.75, 1.0)


class ModelApi:
    """The API as one fix uses it: its own HTTP connections (so cancelling closes exactly
    these), bounded retries and the fix's clock.

    A client that is not an `anthropic.Anthropic` (a stand-in) is used as given, without
    per-request sockets to shut down.
    """

    def __init__(
        self,
        client: Any,
        limits: Limits,
        cancel: threading.Event | None = None,
        on_step: Callable[[str], None] | None = None,
    ) -> None:
        self._limits = limits
        self._cancel = cancel
        self._say = on_step or (lambda _m: None)
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._http: Any = None
        # a gateway URL may carry credentials; the key must never reach a message either
        self._base_url = redact(str(getattr(client, "base_url", "") or "the model API"))[0]
        key = getattr(client, "api_key", None)
        self._key = key if isinstance(key, str) and len(key) >= 4 else None
        self._client = self._own(client)

    def _own(self, client: Any) -> Any:
        import anthropic

        if not isinstance(client, anthropic.Anthropic):
            return client
        self._http = anthropic.DefaultHttpxClient(event_hooks={"request": [self._hook]})
        return client.with_options(http_client=self._http, max_retries=0)

    # --- the sockets of this fix's requests, for cancelling -----------------------------------

    def _hook(self, request: Any) -> None:
        # httpcore's trace extension reports each new connection's network stream
        request.extensions["trace"] = self._trace

    def _trace(self, event: str, info: dict[str, Any]) -> None:
        if not event.endswith(("connect_tcp.complete", "connect_unix_socket.complete")):
            return
        stream = info.get("return_value")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if isinstance(sock, socket.socket):
            with self._lock:
                self._sockets.append(sock)

    def _abort(self) -> None:
        """End whatever is in flight now: a shut-down socket wakes a thread blocked reading it
        (closing it alone does not)."""
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()

    def close(self) -> None:
        self._abort()
        if self._http is not None:
            with contextlib.suppress(Exception):
                self._http.close()

    # --- the clock ------------------------------------------------------------------------------

    def _cancelled(self) -> bool:
        return self._cancel is not None and self._cancel.is_set()

    def past_deadline(self, doing: str = "") -> AiError:
        took = time.monotonic() - self._limits.started
        what = f" {doing}" if doing else ""
        return AiError(
            f"the fix's deadline of {_seconds(self._limits.budget)} s was reached{what} "
            f"(stopped after {took:.1f} s; nothing was changed)"
        )

    def check(self) -> None:
        """Raise AiError if the fix was cancelled or its deadline passed."""
        if self._cancelled():
            raise AiError("cancelled")
        if time.monotonic() >= self._limits.deadline:
            raise self.past_deadline()

    def _pause(self, seconds: float, problem: str) -> None:
        left = self._limits.deadline - time.monotonic()
        if seconds >= left:
            raise AiError(
                f"{problem}; waiting {_seconds(seconds)} s to retry would pass the fix's "
                f"deadline of {_seconds(self._limits.budget)} s ({max(left, 0):.1f} s left)"
            )
        self._say(f"{problem}; retrying in {_seconds(seconds)} s")
        if self._cancel is None:
            time.sleep(seconds)
        elif self._cancel.wait(seconds):
            raise AiError("cancelled")

    # --- one request ----------------------------------------------------------------------------

    def _attempt(self, request: dict[str, Any], timeout: float) -> Any:
        outcome: dict[str, Any] = {}
        done = threading.Event()

        def work() -> None:
            try:
                outcome["message"] = self._client.messages.create(**request, timeout=timeout)
            except BaseException as err:  # handed to the waiting thread, which judges it
                outcome["error"] = err
            finally:
                done.set()

        threading.Thread(target=work, name="megawatt-model-request", daemon=True).start()
        give_up = time.monotonic() + timeout + _GRACE
        while not done.wait(_STEP):
            if self._cancelled():
                self.close()
                done.wait(1.0)  # the shut-down socket ends the request at once
                raise AiError("cancelled")
            if time.monotonic() >= give_up:
                self._abort()
                raise _TimedOut
        if "error" in outcome:
            raise outcome["error"]
        return outcome["message"]

    def create(self, request: dict[str, Any]) -> Any:
        """`messages.create(**request)`, retried and bounded; raises AiError in plain words."""
        import anthropic

        for retry in range(MAX_RETRIES + 1):
            self.check()
            left = self._limits.deadline - time.monotonic()
            timeout = min(self._limits.timeout, left)
            try:
                return self._attempt(request, timeout)
            except (_TimedOut, anthropic.APITimeoutError):
                # not retried: an API that let one request hang lets the next hang too
                if left < self._limits.timeout:
                    raise self.past_deadline("while waiting for the model") from None
                raise AiError(
                    f"the model did not answer within {_seconds(timeout)} s "
                    "(timeout; nothing was changed)"
                ) from None
            except anthropic.APIStatusError as err:
                code = err.status_code
                detail = _api_message(err)
                if self._key:
                    detail = detail.replace(self._key, "[the API key]")
                if retry == MAX_RETRIES or not _should_retry(err):
                    words = _status_words(code, retry)
                    raise AiError(f"{words}: {detail}" if detail else words) from None
                asked = _asked_wait(err.response.headers)
                wait = _backoff(retry) if asked is None else asked
                wait = min(wait, self._limits.max_retry_wait)
                note = _retry_note(code)
                if asked is not None and asked > self._limits.max_retry_wait:
                    note += f" (it asked for {_seconds(asked)} s)"
                self._pause(wait, note)
            except anthropic.APIConnectionError as err:
                cause = err.__cause__ or err.__context__
                reason = (str(cause).strip().rstrip(".") or type(cause).__name__) if cause else ""
                reason = reason or type(err).__name__
                problem = f"cannot reach the model API at {self._base_url} ({reason})"
                if retry == MAX_RETRIES:
                    raise AiError(f"{problem} after {retry} retries") from None
                self._pause(min(_backoff(retry), self._limits.max_retry_wait), problem)
            except ValueError as err:  # a body that is not JSON
                raise AiError(
                    f"the model API sent a malformed answer ({type(err).__name__})"
                ) from None
            except TypeError as err:
                if "authentication" not in str(err):
                    raise
                raise AiError(
                    "no API key: set ANTHROPIC_API_KEY (or the editor's Megawatt API key)"
                ) from None
            except anthropic.AnthropicError as err:
                raise AiError(f"the model API call failed ({type(err).__name__})") from None
        raise AssertionError("unreachable: the last retry raises")
