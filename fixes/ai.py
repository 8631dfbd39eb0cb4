"""The AI opportunity resolver: ask the model for a candidate, validate it (guardrails, then
the tests and the speed), retry once with the failure fed back, and offer only what passed.

Nothing here writes to the user's files: the result is the new text, for the editor or the CLI
to apply on the user's say-so. Results are cached by (text digest, opportunity, skill version,
model), so asking for the same fix again is instant unless a fresh candidate is asked for.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from megawatt.config import LlmSettings
from megawatt.fixes.agent import AiError, Conversation, make_client, propose
from megawatt.fixes.guardrails import (
    Rejected,
    Target,
    find_ruff,
    locate_function,
    splice,
    static_checks,
)
from megawatt.model import Finding
from megawatt.skills import SkillSet
from megawatt.tools import FindTestsInput, ToolContext, ToolError, find_tests

__all__ = ["AiOutcome", "cache_dir", "cached_fix", "last_request", "resolve_ai_fix"]

Progress = Callable[[str], None]


@dataclass
class AiOutcome:
    ok: bool
    title: str = ""  # the action's title: Megawatt's verdict first, then the model's words
    report: str = ""  # the whole verdict, line by line: each check, its method and figures
    source: str | None = None  # the whole new file text, when ok
    verified: list[str] = field(default_factory=list)
    reason: str = ""  # why no fix is offered
    rationale: str = ""
    attempts: int = 0
    cached: bool = False
    model: str = ""
    stage_seconds: dict[str, float] = field(default_factory=dict)
    candidates: list[dict[str, Any]] = field(default_factory=list)  # per attempt: stage, reason

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "megawatt" / "ai"


def last_request() -> dict[str, Any] | None:
    """The last request sent to the model, exactly as sent (redacted), or None."""
    path = cache_dir() / "last-request.json"
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return data
    except (OSError, ValueError):
        return None


def _remember(convo: Conversation) -> None:
    if not convo.requests:
        return
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "last-request.json").write_text(
            json.dumps(convo.requests[-1], indent=2), encoding="utf-8"
        )
    except OSError:
        pass  # showing the last request is a convenience; the fix does not depend on it


@functools.lru_cache(maxsize=8)
def _digest(source: bytes) -> str:
    # an editor asks for code actions on every cursor move: one text is hashed once
    return hashlib.sha256(source).hexdigest()


def _cache_key(skills: SkillSet, source: bytes, finding: Finding, settings: LlmSettings) -> str:
    skill = skills.get(finding.skill)
    version = skill.meta.version if skill is not None else 0
    text = f"{_digest(source)}\0{finding.key}\0{version}\0{settings.model}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _cached(key: str) -> AiOutcome | None:
    try:
        data = json.loads((cache_dir() / f"{key}.json").read_text(encoding="utf-8"))
        outcome = AiOutcome(**data)
    except (OSError, ValueError, TypeError):
        return None
    outcome.cached = True
    return outcome


def _store(key: str, outcome: AiOutcome) -> None:
    try:
        cache_dir().mkdir(parents=True, exist_ok=True)
        (cache_dir() / f"{key}.json").write_text(json.dumps(outcome.to_json()), encoding="utf-8")
    except OSError:
        pass


def cached_fix(
    skills: SkillSet, source: bytes, finding: Finding, settings: LlmSettings
) -> AiOutcome | None:
    """The validated fix already made for this text and opportunity, if any."""
    return _cached(_cache_key(skills, source, finding, settings))


def _behaviour(
    ctx: ToolContext,
    target: Target,
    rel: str,
    new_source: bytes,
    timeout: float,
    cancel: threading.Event | None,
    progress: Progress,
) -> str:
    """Run the tests that exercise the function against the candidate and measure its speed.
    Returns the title fragment; raises Rejected when a test fails."""
    from megawatt.fixes.behaviour import validate

    try:
        found = find_tests(ctx, FindTestsInput(path=rel, function=target.qualname))
    except ToolError as err:
        return f"speed not measured: {err}"
    ids = [t.test_id for t in found.tests]
    if not ids:
        return "speed not measured: no tests"
    progress(f"running {len(ids)} test(s) and measuring speed")
    result = validate(
        ctx.root, rel, target.source, new_source, target.qualname, ids, timeout, cancel=cancel
    )
    if not result.passed:
        raise Rejected("tests", result.summary)
    return result.summary.lstrip("✓ ").strip()


def resolve_ai_fix(
    ctx: ToolContext,
    path: Path,
    source: bytes,
    finding: Finding,
    settings: LlmSettings,
    *,
    api_key: str | None = None,
    client: Any = None,
    fresh: bool = False,
    run_tests: bool = True,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> AiOutcome:
    """One validated AI fix for `finding` in `source` (the text the user sees), or the reason
    there is none. Never raises for a model's failure: that is the outcome's reason."""
    say = progress or (lambda _m: None)
    if not settings.enabled:
        return AiOutcome(
            ok=False,
            reason="AI fixes are off: set enabled = true under [tool.megawatt.llm] "
            "(or the editor's megawatt.llm.enabled); code is sent to the model only then",
        )
    skill = ctx.skills.get(finding.skill)
    key = _cache_key(ctx.skills, source, finding, settings)
    if not fresh:
        hit = _cached(key)
        if hit is not None:
            return hit
    outcome = AiOutcome(ok=False, model=settings.model)
    try:
        target = locate_function(str(path), source, finding)
    except Rejected as err:
        outcome.reason = err.reason
        return outcome
    rel = ctx.relative(path)
    try:
        client = client or make_client(settings, api_key)
    except AiError as err:
        outcome.reason = str(err)
        return outcome
    ruff = find_ruff()
    feedback: str | None = None
    for attempt in (1, 2):
        outcome.attempts = attempt
        say("gathering context" if attempt == 1 else "retrying with the failure fed back")
        started = time.perf_counter()
        try:
            cand, convo = propose(
                client, settings, ctx, target, rel, skill, feedback, cancel, on_step=say
            )
        except AiError as err:
            outcome.reason = str(err)
            outcome.candidates.append({"stage": "model", "reason": str(err)})
            return outcome
        finally:
            outcome.stage_seconds["model"] = outcome.stage_seconds.get("model", 0.0) + (
                time.perf_counter() - started
            )
        _remember(convo)
        say("validating the candidate")
        stage = "scope"
        try:
            t = time.perf_counter()
            spliced = splice(target, cand)
            outcome.stage_seconds["scope"] = time.perf_counter() - t
            t = time.perf_counter()
            verified = static_checks(target, spliced, ctx.root, ruff, ctx.settings.select)
            outcome.stage_seconds["static"] = time.perf_counter() - t
            if ruff is None:
                verified.append("style not checked: ruff not found")
            stage = "tests"
            if cancel is not None and cancel.is_set():
                outcome.reason = "cancelled"
                return outcome
            if run_tests:
                t = time.perf_counter()
                verified.append(
                    _behaviour(ctx, target, rel, spliced.source, settings.test_timeout, cancel, say)
                )
                outcome.stage_seconds["tests"] = time.perf_counter() - t
        except Rejected as err:
            outcome.candidates.append({"stage": err.stage, "reason": err.reason})
            outcome.reason = f"{err.stage}: {err.reason}"
            feedback = (
                f"Stage '{err.stage}' failed: {err.reason}\n"
                f"The rejected function was:\n{cand.function}"
            )
            continue
        except Exception as err:  # a crash in validation must not look like a pass
            outcome.candidates.append({"stage": stage, "reason": repr(err)})
            outcome.reason = f"{stage}: validation failed ({type(err).__name__}: {err})"
            return outcome
        outcome.ok = True
        outcome.source = spliced.source.decode("utf-8")
        outcome.verified = verified
        outcome.rationale = cand.rationale
        outcome.candidates.append({"stage": "passed", "reason": ""})
        marks = " ".join(f"✓ {v}" if not v.startswith("speed not") else v for v in verified)
        outcome.title = f"{cand.title} — {marks}"
        outcome.reason = ""
        _store(key, outcome)
        return outcome
    outcome.reason = f"no valid candidate after {outcome.attempts} attempts; last: {outcome.reason}"
    return outcome
