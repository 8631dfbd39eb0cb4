"""Obvious secrets out of everything sent to a model: keys, tokens, passwords in literals.

A `Redactor` lives as long as one conversation. It gives each distinct secret its own
placeholder (`[REDACTED]`, then `[REDACTED-2]`, …) and remembers what each replaced, so the
model's answer can be given the real values back (`restore`) and a placeholder never lands in
the user's file. Tool outputs are redacted string by string before they are encoded, and the
whole request again right before it leaves, so no path around it exists. It errs on the side of
redacting: a redacted literal costs the model nothing it needs to make code faster.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "MASK",
    "Redactor",
    "Unrestorable",
    "is_secret_name",
    "redact",
    "redact_value",
]

MASK = "[REDACTED]"
_PLACEHOLDER = re.compile(r"\[REDACTED(?:-[0-9]+)?\]")

# Name parts that make a name secret on their own, and words that do so before "key".
_SECRET_PARTS = frozenset(
    {
        "password",
        "passwords",
        "passwd",
        "passphrase",
        "secret",
        "secrets",
        "token",
        "credential",
        "credentials",
        "auth",
        "authorization",
        "apikey",
    }
)
_SECRET_ENDINGS = ("password", "passwd", "secret", "token", "apikey")
_KEY_KINDS = frozenset({"api", "private", "access", "secret", "signing", "encryption", "master"})
# acronyms, capitalised words, lowercase runs and digits: `AWS_SECRET_ACCESS_KEY`, `apiKey`,
# `x-api-key`, `OAuthToken` all split into their words
_NAME_PARTS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def is_secret_name(name: str) -> bool:
    """Whether a variable, key or header name says its value is a secret.

    Whole name parts only: `DB_PASSWORD`, `PGPASSWORD`, `apiKey`, `GITHUB_TOKEN` and
    `x-api-key` are secret; `tokenizer`, `author`, `PWD` and `OLDPWD` are not.
    """
    parts = [p.lower() for p in _NAME_PARTS.findall(name)]
    # a part may also end in a secret word written as one with it: PGPASSWORD, MYTOKEN
    if any(p in _SECRET_PARTS or p.endswith(_SECRET_ENDINGS) for p in parts):
        return True
    return any(a in _KEY_KINDS and b == "key" for a, b in itertools.pairwise(parts))


_TOKENS = re.compile(
    r"""
    (?<![A-Za-z0-9])
    (?: sk-ant-[A-Za-z0-9_\-]{10,}                 # Anthropic
      | sk-(?:proj-)?[A-Za-z0-9_\-]{20,}           # OpenAI-style
      | (?:AKIA|ASIA)[0-9A-Z]{16}                  # AWS access key id
      | gh[pousr]_[A-Za-z0-9]{30,}                 # GitHub
      | github_pat_[A-Za-z0-9_]{22,}               # GitHub fine-grained
      | glpat-[A-Za-z0-9_\-]{20,}                  # GitLab
      | xox[abposr]-[A-Za-z0-9\-]{10,}             # Slack
      | AIza[0-9A-Za-z_\-]{35}                     # Google API key
      | (?:sk|rk)_live_[0-9A-Za-z]{16,}            # Stripe
      | npm_[A-Za-z0-9]{36}                        # npm
      | hf_[A-Za-z0-9]{30,}                        # Hugging Face
      | eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}   # JWT
    )
    """,
    re.VERBOSE,
)
_PRIVATE_KEY = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.DOTALL
)
_SCHEME_TOKEN = re.compile(
    r"(?i)(?P<lead>\b(?:bearer|basic|token)\s+)(?P<value>[A-Za-z0-9._~+/\-]{12,}=*)"
)
_URL_CREDENTIALS = re.compile(
    r"(?P<lead>\b[a-z][a-z0-9+.\-]*://[^/\s:@]+:)(?P<value>[^@\s/]{3,})(?=@)"
)
# `name = "v"`, `name: str = "v"`, `"name": "v"`, `name="v"`, `name == "v"`, `x["name"] = "v"`,
# and the same with escaped quotes (text that was JSON-encoded on its way here)
_QUOTED = re.compile(
    r"""
    (?<![A-Za-z0-9_\-])(?P<name>[A-Za-z_][A-Za-z0-9_\-]*)
    (?:\\?["'])?\]?
    (?: \s*:\s*[A-Za-z_][\w.\[\],| ]*?\s*=(?!=)    # annotated assignment
      | \s*(?:==|:=|=)                             # assignment, keyword, comparison
      | \s*:                                       # dict entry, YAML, JSON
    )\s*
    [rbuRBUfF]{0,2}
    (?: "(?P<dq>(?:[^"\\\n]|\\[^"\n]){4,})"
      | '(?P<sq>(?:[^'\\\n]|\\[^'\n]){4,})'
      | \\"(?P<eq>[^"\\\n]{4,})\\"
    )
    """,
    re.VERBOSE,
)
# `NAME=value` with no quotes anywhere in a line: .env files, shell commands in strings, query
# strings; which contexts count is decided in `_unquoted`
_UNQUOTED = re.compile(
    r"(?<![A-Za-z0-9_\-.])(?P<name>[A-Za-z_][A-Za-z0-9_\-]*)=(?!=)(?P<value>[^\s\"'`&;,#()\[\]{}<>\\]+)"
)
_LINE_START = re.compile(r"(?:^|\n)[ \t]*(?:export[ \t]+)?$")


def _looks_like_path(value: str) -> bool:
    # a workspace path or a search path is no secret, whatever the variable is called
    return all(
        p.startswith(("/", "~", "./", "../")) or re.match(r"[A-Za-z]:[\\/]", p) is not None
        for p in value.split(os.pathsep)
        if p
    )


def _environment_secrets(environ: Mapping[str, str]) -> list[str]:
    """Values of secret-looking environment variables, longest first (so none hides another)."""
    found = {
        value
        for name, value in environ.items()
        if is_secret_name(name) and len(value) >= 8 and not _looks_like_path(value)
    }
    return sorted(found, key=len, reverse=True)


class Unrestorable(ValueError):
    """The model's answer holds a placeholder that stands for no known secret."""


class Redactor:
    """Redaction for one conversation: one placeholder per distinct secret, restorable.

    With `numbered=False` every secret becomes plain `[REDACTED]` (nothing to restore). `known`
    is text the workspace already holds (the file being fixed): placeholder-shaped strings in it
    are the project's own and are never handed out for a secret.
    """

    def __init__(
        self,
        *,
        numbered: bool = True,
        environ: Mapping[str, str] | None = None,
        known: Iterable[str] = (),
    ) -> None:
        self.count = 0  # occurrences masked
        self._numbered = numbered
        self._by_value: dict[str, str] = {}
        self._by_mark: dict[str, str] = {}
        self._foreign: set[str] = set()
        self._next = 1
        self._env = _environment_secrets(os.environ if environ is None else environ)
        for text in known:
            self._note_foreign(text)

    @property
    def secrets(self) -> int:
        """How many distinct secrets were masked."""
        return len(self._by_value)

    def _note_foreign(self, text: str) -> None:
        for m in _PLACEHOLDER.finditer(text):
            if m.group(0) not in self._by_mark:
                self._foreign.add(m.group(0))

    def _mark(self, value: str) -> str:
        self.count += 1
        if not self._numbered:
            return MASK
        mark = self._by_value.get(value)
        if mark is None:
            while True:
                mark = MASK if self._next == 1 else f"[REDACTED-{self._next}]"
                self._next += 1
                if mark not in self._foreign:
                    break
            self._by_value[value] = mark
            self._by_mark[mark] = value
        return mark

    def _masked(self, m: re.Match[str], group: str) -> str:
        """The match with its `group` replaced by a placeholder, unless it already is one."""
        value = m.group(group)
        if _PLACEHOLDER.search(value):
            return m.group(0)
        start, end = m.start(group) - m.start(), m.end(group) - m.start()
        whole = m.group(0)
        return whole[:start] + self._mark(value) + whole[end:]

    def _quoted(self, m: re.Match[str]) -> str:
        if not is_secret_name(m.group("name")):
            return m.group(0)
        group = next(g for g in ("dq", "sq", "eq") if m.group(g) is not None)
        return self._masked(m, group)

    def _unquoted(self, m: re.Match[str]) -> str:
        name, value = m.group("name"), m.group("value")
        if not is_secret_name(name) or len(value) < 4:
            return m.group(0)
        before = m.string[max(0, m.start() - 1) : m.start()]
        env_style = name.isupper() or before in ("?", "&", ";")
        env_style = env_style or _LINE_START.search(m.string, 0, m.start()) is not None
        # a lowercase keyword argument (`f(token=tok)`) is code, not a secret, unless its value
        # has the shape of one: long, with letters and digits
        secret_shaped = (
            len(value) >= 8
            and re.search(r"[0-9]", value) is not None
            and re.search(r"[A-Za-z]", value) is not None
        )
        if not (env_style or secret_shaped):
            return m.group(0)
        return self._masked(m, "value")

    def redact(self, text: str) -> str:
        """`text` with its secrets replaced by placeholders (counted in `count`)."""
        self._note_foreign(text)
        for value in self._env:
            if value in text:
                mark = self._mark(value)
                self.count += text.count(value) - 1
                text = text.replace(value, mark)
        text = _PRIVATE_KEY.sub(lambda m: self._mark(m.group(0)), text)
        text = _TOKENS.sub(lambda m: self._mark(m.group(0)), text)
        text = _SCHEME_TOKEN.sub(lambda m: self._masked(m, "value"), text)
        text = _URL_CREDENTIALS.sub(lambda m: self._masked(m, "value"), text)
        text = _QUOTED.sub(self._quoted, text)
        return _UNQUOTED.sub(self._unquoted, text)

    def redact_value(self, value: Any) -> Any:
        """Every string inside a JSON-like value redacted (dict keys are names, kept)."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, list | tuple):
            return [self.redact_value(item) for item in value]
        if isinstance(value, dict):
            return {k: self.redact_value(item) for k, item in value.items()}
        return value

    def restore(self, text: str) -> str:
        """`text` (the model's answer) with each placeholder given its secret back.

        Raises Unrestorable when a placeholder stands for nothing this conversation masked,
        or one was altered (`[REDACTED-1`, `REDACTED`): the real value cannot be put back.
        """
        unknown: list[str] = []

        def put_back(m: re.Match[str]) -> str:
            mark = m.group(0)
            if mark in self._by_mark:
                return self._by_mark[mark]
            if mark not in self._foreign:
                unknown.append(mark)
            return mark

        restored = _PLACEHOLDER.sub(put_back, text)
        rest = _PLACEHOLDER.sub("", restored)
        if unknown or "REDACTED" in rest.upper():
            shown = ", ".join(sorted(set(unknown))) or "an altered placeholder"
            raise Unrestorable(
                f"it contains {shown}, which stands for no secret Megawatt masked, so the "
                "original value cannot be put back"
            )
        return restored


def redact(text: str) -> tuple[str, int]:
    """`text` with secrets masked as `[REDACTED]`, and how many were masked."""
    redactor = Redactor(numbered=False)
    return redactor.redact(text), redactor.count


def redact_value(value: Any) -> tuple[Any, int]:
    """Every string inside a JSON-like value redacted; the total count."""
    redactor = Redactor(numbered=False)
    return redactor.redact_value(value), redactor.count
