"""The fake Anthropic server, driven by the real `anthropic` client over HTTP.

These tests pin down what the SDK does with each scripted failure, so code that calls the API
knows which exceptions it must handle.
"""

from __future__ import annotations

import json
import time
from typing import Any

import anthropic
import pytest
from anthropic.types import TextBlock, ToolUseBlock

from tests.fake_anthropic import (
    MAX_DELAY,
    FakeAnthropic,
    RecordedRequest,
    Status,
    Turn,
    delay,
    disconnect,
    fake_anthropic,
    malformed,
    overloaded,
    rate_limited,
    status,
    text,
    tool_use,
)

MODEL = "claude-sonnet-4-6"
TOOL = {
    "name": "propose_fix",
    "description": "Propose a rewrite of the function.",
    "input_schema": {
        "type": "object",
        "properties": {"code": {"type": "string"}, "confidence": {"type": "number"}},
        "required": ["code"],
    },
}
USER = [{"role": "user", "content": "Speed up `total`."}]


def _client(
    fake: FakeAnthropic, *, max_retries: int = 0, timeout: float = 5.0
) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        api_key="test-key", base_url=fake.base_url, max_retries=max_retries, timeout=timeout
    )


def _ask(client: anthropic.Anthropic, **extra: Any) -> Any:
    return client.messages.create(model=MODEL, max_tokens=256, messages=USER, **extra)


def test_tool_use_round_trip() -> None:
    def answer_result(request: RecordedRequest) -> Turn:
        # the second call carries the tool result; answer with the id it names
        result = request.body["messages"][-1]["content"][0]
        return text(f"applied {result['tool_use_id']}: {result['content']}")

    first = tool_use("propose_fix", {"code": "return sum(xs)", "confidence": 0.9}, text="Here:")
    with fake_anthropic(first, answer_result) as fake:
        client = _client(fake)
        msg = _ask(
            client,
            system="You are Megawatt. The key is [REDACTED].",
            tools=[TOOL],
            tool_choice={"type": "tool", "name": "propose_fix"},
        )

        assert msg.stop_reason == "tool_use"
        assert msg.model == MODEL  # echoed from the request
        assert msg.role == "assistant" and msg.type == "message" and msg.id.startswith("msg_")
        assert msg.stop_sequence is None
        assert msg.usage.input_tokens > 0 and msg.usage.output_tokens > 0
        assert msg._request_id is not None and msg._request_id.startswith("req_")
        assert [type(b) for b in msg.content] == [TextBlock, ToolUseBlock]
        block = msg.content[1]
        assert isinstance(block, ToolUseBlock)
        assert block.name == "propose_fix"
        assert block.input == {"code": "return sum(xs)", "confidence": 0.9}
        assert block.id == first.tool_use_ids[0] and block.id.startswith("toolu_")

        sent = fake.requests[0]
        assert (sent.method, sent.path) == ("POST", "/v1/messages")
        assert sent.headers["authorization"] == "Bearer test-key"
        assert sent.api_key == "test-key"
        assert "x-api-key" not in sent.headers
        assert sent.headers["anthropic-version"]
        assert sent.body["model"] == MODEL and sent.body["max_tokens"] == 256
        assert sent.body["tools"] == [TOOL] and sent.tool_names == ["propose_fix"]
        assert sent.body["tool_choice"] == {"type": "tool", "name": "propose_fix"}
        assert sent.system_text == "You are Megawatt. The key is [REDACTED]."
        assert "sk-ant-" not in sent.text

        follow_up = [
            *USER,
            {
                "role": "assistant",
                "content": [b.model_dump(exclude_none=True) for b in msg.content],
            },
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": block.id, "content": "ok"}],
            },
        ]
        final = client.messages.create(model=MODEL, max_tokens=256, messages=follow_up)
        assert final.stop_reason == "end_turn"
        assert isinstance(final.content[0], TextBlock)
        assert final.content[0].text == f"applied {block.id}: ok"
        assert len(fake.message_requests) == 2 and fake.remaining == 0 and fake.errors == []


def test_rate_limit_is_retried() -> None:
    with fake_anthropic(rate_limited(), text("ok")) as fake:
        start = time.monotonic()
        msg = _ask(_client(fake, max_retries=2))
        elapsed = time.monotonic() - start

    assert isinstance(msg.content[0], TextBlock) and msg.content[0].text == "ok"
    assert len(fake.requests) == 2
    assert [r.headers["x-stainless-retry-count"] for r in fake.requests] == ["0", "1"]
    assert elapsed < 0.3, "retry-after-ms: 10 should replace the SDK's backoff (at least 0.375 s)"
    assert fake.errors == []


def test_server_error_is_retried() -> None:
    with fake_anthropic(status(500, error_type="overloaded_error"), text("ok")) as fake:
        msg = _ask(_client(fake, max_retries=1))

    assert isinstance(msg.content[0], TextBlock) and msg.content[0].text == "ok"
    assert [r.headers["x-stainless-retry-count"] for r in fake.requests] == ["0", "1"]


@pytest.mark.parametrize(
    ("turn", "error", "attempts"),
    [
        (rate_limited(), anthropic.RateLimitError, 3),
        (overloaded(), anthropic.OverloadedError, 3),
        (status(500), anthropic.InternalServerError, 3),
        (status(400, message="max_tokens: too large"), anthropic.BadRequestError, 1),
    ],
    ids=["429", "529", "500", "400"],
)
def test_errors_once_retries_run_out(
    turn: Status, error: type[anthropic.APIStatusError], attempts: int
) -> None:
    with fake_anthropic(turn, turn, turn) as fake, pytest.raises(error) as caught:
        _ask(_client(fake, max_retries=2))

    assert len(fake.requests) == attempts  # 4xx other than 408/409/429 is not retried
    assert caught.value.status_code == turn.code
    assert caught.value.type == json.loads(turn.body)["error"]["type"]
    assert caught.value.request_id is not None


def test_delay_longer_than_timeout_raises_timeout_and_does_not_block_shutdown() -> None:
    start = time.monotonic()
    with fake_anthropic(delay(MAX_DELAY, then=text("too late"))) as fake:
        with pytest.raises(anthropic.APITimeoutError):
            _ask(_client(fake, max_retries=0, timeout=0.3))
        assert len(fake.requests) == 1
    # stop() wakes the sleeping handler instead of waiting out the delay
    assert time.monotonic() - start < 1.5


def test_delay_shorter_than_timeout_answers() -> None:
    with fake_anthropic(delay(0.1, then=text("slow"))) as fake:
        msg = _ask(_client(fake, timeout=2.0))
    assert isinstance(msg.content[0], TextBlock) and msg.content[0].text == "slow"


def test_delay_is_capped() -> None:
    with pytest.raises(ValueError, match="delay"):
        delay(MAX_DELAY + 1)


def test_malformed_json_raises_json_decode_error() -> None:
    # Observed: the SDK does not wrap it; a bare json.JSONDecodeError (a ValueError) escapes
    with fake_anthropic(malformed(b'{"id": "msg_1", "content": [tru')) as fake:
        with pytest.raises(json.JSONDecodeError) as caught:
            _ask(_client(fake, max_retries=2))
        assert not isinstance(caught.value, anthropic.AnthropicError)
        assert len(fake.requests) == 1  # not retried


def test_non_json_content_type_comes_back_as_a_string() -> None:
    # Observed: without strict validation, create() returns the body text instead of a Message
    with fake_anthropic(malformed(b"<html>bad gateway</html>", content_type="text/html")) as fake:
        result = _ask(_client(fake))
    assert result == "<html>bad gateway</html>"
    assert not isinstance(result, anthropic.types.Message)


def test_json_of_the_wrong_shape_is_not_validated() -> None:
    # Observed: the SDK builds a Message without validation; the missing fields are None
    with fake_anthropic(malformed(b'{"hello": 1}')) as fake:
        result = _ask(_client(fake))
    assert isinstance(result, anthropic.types.Message)
    assert result.content is None and result.stop_reason is None


def test_disconnect_raises_connection_error() -> None:
    with (
        fake_anthropic(disconnect()) as fake,
        pytest.raises(anthropic.APIConnectionError) as caught,
    ):
        _ask(_client(fake, max_retries=0))
    assert not isinstance(caught.value, anthropic.APITimeoutError)
    assert len(fake.requests) == 1


def test_exhausted_script_fails_loudly_without_retries() -> None:
    with fake_anthropic(text("only one")) as fake:
        client = _client(fake, max_retries=2)
        _ask(client)
        with pytest.raises(anthropic.APIStatusError, match="script exhausted") as caught:
            _ask(client)

    assert caught.value.status_code == 500
    assert caught.value.api_message is not None and "request #2" in caught.value.api_message
    assert len(fake.requests) == 2  # x-should-retry: false stops the SDK's retries
    assert len(fake.errors) == 1 and "script exhausted" in fake.errors[0]


def test_responder_that_raises_is_reported() -> None:
    def broken(request: RecordedRequest) -> Turn:
        raise KeyError("tool_use_id")

    with fake_anthropic(broken) as fake, pytest.raises(anthropic.InternalServerError) as caught:
        _ask(_client(fake, max_retries=2))
    assert "responder raised KeyError" in str(caught.value)
    assert len(fake.requests) == 1 and len(fake.errors) == 1


def test_wrong_api_key_is_rejected_without_using_the_script() -> None:
    with FakeAnthropic([text("unused")], api_key="right-key") as fake:
        with pytest.raises(anthropic.AuthenticationError):
            _ask(_client(fake))
        assert fake.remaining == 1
        assert fake.requests[0].api_key == "test-key"


def test_streaming_replays_the_same_turn() -> None:
    turn = tool_use("propose_fix", {"code": "x = {" + "'k': 1, " * 10 + "}"}, text="Thinking...")
    with fake_anthropic(turn, text("streamed words arrive in pieces")) as fake:
        client = _client(fake)
        with client.messages.stream(
            model=MODEL, max_tokens=256, messages=USER, tools=[TOOL]
        ) as stream:
            final = stream.get_final_message()
        with client.messages.stream(model=MODEL, max_tokens=256, messages=USER) as stream:
            pieces = list(stream.text_stream)

    assert final.stop_reason == "tool_use"
    block = final.content[1]
    assert isinstance(block, ToolUseBlock)
    assert block.input == turn.content[1]["input"] and block.id == turn.tool_use_ids[0]
    assert len(pieces) > 1 and "".join(pieces) == "streamed words arrive in pieces"
    assert all(r.body["stream"] is True for r in fake.requests)


def test_count_tokens_and_script_added_later() -> None:
    with FakeAnthropic() as fake:
        client = _client(fake)
        counted = client.messages.count_tokens(model=MODEL, messages=USER)
        assert counted.input_tokens > 0
        fake.add(text("added while running"))
        msg = _ask(client)
        assert (
            isinstance(msg.content[0], TextBlock) and msg.content[0].text == "added while running"
        )
        assert [r.path for r in fake.requests] == ["/v1/messages/count_tokens", "/v1/messages"]
        assert fake.remaining == 0
