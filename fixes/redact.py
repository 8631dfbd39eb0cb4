"""Obvious secrets out of everything sent to a model: keys, tokens, passwords in literals.

Applied to the whole request (system prompt, messages, tool results) right before it leaves,
so no path around it exists. It errs on the side of redacting: a redacted literal costs the model
nothing it needs to make code faster.
"""

from __future__ import annotations

import os
import re
from typing import Any

__all__ = ["MASK", "redact", "redact_value"]

MASK = "[REDACTED]"

_TOKENS = re.compile(
    r"""
    sk-ant-[A-Za-z0-9_\-]{10,}               # Anthropic
  | sk-[A-Za-z0-9]{20,}                      # OpenAI-style
  | AKIA[0-9A-Z]{16}                         # AWS access key id
  | gh[pousr]_[A-Za-z0-9]{30,}               # GitHub
  | xox[abpr]-[A-Za-z0-9\-]{10,}             # Slack
  | AIza[0-9A-Za-z_\-]{35}                   # Google API key
  | eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}   # JWT
    """,
    re.VERBOSE,
)
_PRIVATE_KEY = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.DOTALL
)
_SECRET_NAME = (
    r"[A-Za-z_]*(?:password|passwd|pwd|secret|token|api_?key|apikey|auth|credential)[A-Za-z_]*"
)
# name = "literal", name: "literal", "name": "literal", name="literal" in a call
_ASSIGNED = re.compile(
    rf"""(?P<lead>["']?\b{_SECRET_NAME}["']?\s*(?:=|:)\s*)(?P<prefix>[rbuRBU]?)(?P<q>["'])(?P<value>[^"'\n]{{4,}})(?P=q)""",
    re.IGNORECASE,
)
# KEY=value lines as in .env files (unquoted values)
_ENV_LINE = re.compile(
    rf"(?im)^(?P<lead>\s*(?:export\s+)?{_SECRET_NAME}\s*=\s*)(?P<value>[^\s\"'#]{{4,}})"
)
_BEARER = re.compile(r"(?i)(?P<lead>\bbearer\s+)(?P<value>[A-Za-z0-9._\-]{12,})")
_URL_CREDENTIALS = re.compile(
    r"(?P<lead>\b[a-z][a-z0-9+.\-]*://[^/\s:@]+:)(?P<value>[^@\s/]{3,})(?=@)"
)


def _environment_secrets() -> list[str]:
    """Values of this process's secret-looking environment variables, should code embed them."""
    name = re.compile(_SECRET_NAME + "$", re.IGNORECASE)
    return sorted(
        (v for k, v in os.environ.items() if name.match(k) and len(v) >= 8),
        key=len,
        reverse=True,
    )


def redact(text: str) -> tuple[str, int]:
    """`text` with secrets masked, and how many were masked."""
    count = 0

    def mask_value(m: re.Match[str]) -> str:
        nonlocal count
        count += 1
        groups = m.groupdict()
        if groups.get("q"):
            return f"{groups['lead']}{groups['prefix']}{groups['q']}{MASK}{groups['q']}"
        return f"{groups.get('lead') or ''}{MASK}"

    def mask_all(m: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return MASK

    for value in _environment_secrets():
        if value in text:
            count += text.count(value)
            text = text.replace(value, MASK)
    text = _PRIVATE_KEY.sub(mask_all, text)
    text = _TOKENS.sub(mask_all, text)
    text = _ASSIGNED.sub(mask_value, text)
    text = _ENV_LINE.sub(mask_value, text)
    text = _BEARER.sub(mask_value, text)
    text = _URL_CREDENTIALS.sub(mask_value, text)
    return text, count


def redact_value(value: Any) -> tuple[Any, int]:
    """Every string inside a JSON-like value redacted; the total count."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        total = 0
        items = []
        for item in value:
            new, n = redact_value(item)
            items.append(new)
            total += n
        return items, total
    if isinstance(value, dict):
        total = 0
        out = {}
        for k, item in value.items():
            new, n = redact_value(item)
            out[k] = new
            total += n
        return out, total
    return value, 0
