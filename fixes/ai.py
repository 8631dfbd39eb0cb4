"""The AI opportunity resolver: ask the model for a candidate, validate it (guardrails, then
behaviour and speed in the sandbox), retry once with the failure fed back, and offer only what
passed, under Megawatt's own verdict.

Nothing here writes to the user's files: the result is the new text, for the editor or the CLI
to apply on the user's say-so. Results are cached by the text, the opportunity, the skill's
version, the model and the validation settings; a cached fix is offered again only while the
workspace's sources and tests (what it was validated with) are unchanged.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from megawatt.config import LlmSettings
from megawatt.fixes.agent import AiError, make_client, propose
from megawatt.fixes.ai_store import cache_dir, last_request, write_private
from megawatt.fixes.guardrails import (
    Candidate,
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

# what a model may not put in front of the user: marks that look like Megawatt's checks
_FORGED_MARKS = re.compile(r"[✓✔☑✅🗸√✗✘❌⚠★☆]+")
# stages whose failure the model can correct on a retry; the others end the fix at once
_FINAL_STAGES = frozenset({"cancelled", "deadline", "unverified", "target"})


@dataclass
class AiOutcome:
    ok: bool
    title: str = ""  # the action's title: Megawatt's verdict first, then the model's words
    report: str = ""  # the whole verdict, line by line: each check, its method and figures
    source: str | None = None  # the whole new file text, when ok
    verified: list[str] = field(default_factory=list)
    checked: bool = False  # behaviour was exercised by tests or replayed calls
    reason: str = ""  # why no fix is offered
    rationale: str = ""  # the model's words, as they came (shown labelled, never as a check)
    attempts: int = 0
    cached: bool = False
    model: str = ""
    key: str = ""  # the cache key: names this fix for the editor's Apply command
    speed: dict[str, Any] | None = None  # the measured figures: ratio, low, high, seconds…
    inputs: str = ""  # digest of the workspace's sources and tests the fix was validated with
    stage_seconds: dict[str, float] = field(default_factory=dict)
    candidates: list[dict[str, Any]] = field(default_factory=list)  # per attempt: stage, reason

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@functools.lru_cache(maxsize=8)
def _digest(source: bytes) -> str:
    # an editor asks for code actions on every cursor move: one text is hashed once
    return hashlib.sha256(source).hexdigest()


def _cache_key(skills: SkillSet, source: bytes, finding: Finding, settings: LlmSettings) -> str:
    skill = skills.get(finding.skill)
    version = skill.meta.version if skill is not None else 0
    # the validation settings decide what passes: a fix checked under others is not reused
    gate = f"{settings.min_gain}\0{settings.allow_unverified}\0{settings.test_timeout}"
    text = f"{_digest(source)}\0{finding.key}\0{version}\0{settings.model}\0{gate}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _inputs_digest(ctx: ToolContext) -> str:
    from megawatt.fixes.selection import workspace_digest
    from megawatt.tools.workspace import python_files

    overrides = {str(k): v for k, v in ctx.overrides.items()}
    return workspace_digest(ctx.root, python_files(ctx), overrides)


def _cached(key: str, ctx: ToolContext | None) -> AiOutcome | None:
    path = cache_dir() / f"{key}.json"
    if not path.is_file():
        return None
    try:
        outcome = AiOutcome(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None
    if ctx is not None and outcome.inputs and outcome.inputs != _inputs_digest(ctx):
        return None  # validated against other tests or sources: ask again
    outcome.cached = True
    return outcome


def _store(key: str, outcome: AiOutcome) -> None:
    with contextlib.suppress(OSError):
        write_private(cache_dir() / f"{key}.json", json.dumps(outcome.to_json()))


def cached_fix(
    skills: SkillSet,
    source: bytes,
    finding: Finding,
    settings: LlmSettings,
    ctx: ToolContext | None = None,
) -> AiOutcome | None:
    """The validated fix already made for this text and opportunity, if any; with `ctx`, only
    while the workspace's sources and tests are those it was validated with."""
    return _cached(_cache_key(skills, source, finding, settings), ctx)


def _model_words(text: str, limit: int) -> str:
    """The model's title or rationale, as data: no check marks, one line, bounded."""
    plain = _FORGED_MARKS.sub("", text)
    plain = " ".join(plain.split())
    return plain if len(plain) <= limit else plain[: limit - 1] + "…"


def _name_tests(ctx: ToolContext, rel: str, qualname: str) -> list[str]:
    try:
        found = find_tests(ctx, FindTestsInput(path=rel, function=qualname, max_results=100))
    except ToolError:
        return []
    return [t.test_id for t in found.tests]


def _behaviour_stage(
    ctx: ToolContext,
    target: Target,
    rel: str,
    new_source: bytes,
    settings: LlmSettings,
    deadline: float,
    inputs: str,
    cancel: threading.Event | None,
    progress: Progress,
) -> tuple[list[str], str, dict[str, float], bool, dict[str, Any] | None]:
    """(report lines, headline, seconds per step, checked, speed). Raises Rejected."""
    from megawatt.fixes.behaviour import check_behaviour

    result = check_behaviour(
        ctx.root,
        rel,
        target.source,
        new_source,
        target.qualname,
        timeout=settings.test_timeout,
        deadline=deadline,
        min_gain=settings.min_gain,
        name_tests=_name_tests(ctx, rel, target.qualname),
        cache=cache_dir() / "recordings",
        digest=inputs,
        cancel=cancel,
        progress=progress,
    )
    lines = list(result.lines)
    if result.isolation:
        lines.append(f"sandbox: {result.isolation}")
    if not result.checked and not settings.allow_unverified:
        raise Rejected(
            "unverified",
            f"{result.headline}; set allow-unverified = true under [tool.megawatt.llm] to be "
            "offered fixes no test or recorded call exercised",
        )
    speed = None
    if result.speed is not None:
        speed = {k: v for k, v in asdict(result.speed).items() if not k.endswith("_samples")}
    return lines, result.headline, result.seconds, result.checked, speed


def _feedback(err: Rejected, cand: Candidate) -> str:
    detail = getattr(err, "detail", "")
    text = f"Stage '{err.stage}' failed: {err.reason}\n"
    if detail:
        text += f"What Megawatt saw:\n{detail}\n"
    return text + f"The rejected function was:\n{cand.function}"


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
    there is none. Never raises for a model's failure: that is the outcome's reason.
    `run_tests=False` skips the behaviour stage: the result then says it was not checked."""
    say = progress or (lambda _m: None)
    if not settings.enabled:
        return AiOutcome(
            ok=False,
            reason="AI fixes are off: set enabled = true under [tool.megawatt.llm] "
            "(or the editor's megawatt.llm.enabled); code is sent to the model only then",
        )
    started = time.monotonic()
    deadline = started + settings.deadline
    skill = ctx.skills.get(finding.skill)
    key = _cache_key(ctx.skills, source, finding, settings)
    if not fresh:
        hit = _cached(key, ctx)
        if hit is not None:
            return hit
    outcome = AiOutcome(ok=False, model=settings.model, key=key)
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
    inputs = _inputs_digest(ctx)
    outcome.inputs = inputs
    feedback: str | None = None

    def spent(stage: str, since: float) -> None:
        outcome.stage_seconds[stage] = outcome.stage_seconds.get(stage, 0.0) + (
            time.perf_counter() - since
        )

    for attempt in (1, 2):
        outcome.attempts = attempt
        say("gathering context" if attempt == 1 else "retrying with the failure fed back")
        t = time.perf_counter()
        try:
            cand, _convo = propose(
                client,
                settings,
                ctx,
                target,
                rel,
                skill,
                feedback,
                cancel,
                on_step=say,
                deadline=deadline,
            )
        except AiError as err:
            outcome.reason = str(err)
            outcome.candidates.append({"stage": "model", "reason": str(err)})
            return outcome
        finally:
            spent("model", t)
        say("validating the candidate")
        stage = "scope"
        try:
            t = time.perf_counter()
            spliced = splice(target, cand, ruff=ruff, root=ctx.root)
            spent("scope", t)
            t = time.perf_counter()
            stage = "static"
            notes: list[str] = []
            verified = static_checks(
                target, spliced, ctx.root, ruff, ctx.settings.select, skill=skill, notes=notes
            )
            spent("static", t)
            if ruff is None:
                notes.append("style not checked: ruff not found")
            stage = "behaviour"
            if cancel is not None and cancel.is_set():
                outcome.reason = "cancelled"
                return outcome
            if run_tests:
                lines, headline, seconds, checked, speed = _behaviour_stage(
                    ctx, target, rel, spliced.source, settings, deadline, inputs, cancel, say
                )
                for name, value in seconds.items():
                    outcome.stage_seconds[name] = outcome.stage_seconds.get(name, 0.0) + value
            else:
                lines, headline, checked = [], "behaviour not checked: tests skipped", False
                speed = None
        except Rejected as err:
            outcome.candidates.append({"stage": err.stage, "reason": err.reason})
            outcome.reason = f"{err.stage}: {err.reason}"
            if err.stage in _FINAL_STAGES:
                return outcome
            feedback = _feedback(err, cand)
            continue
        except Exception as err:  # a crash in validation must not look like a pass
            outcome.candidates.append({"stage": stage, "reason": repr(err)})
            outcome.reason = f"{stage}: validation failed ({type(err).__name__}: {err})"
            return outcome
        outcome.ok = True
        outcome.checked = checked
        outcome.speed = speed
        outcome.source = spliced.source.decode("utf-8")
        outcome.verified = [*verified, headline]
        outcome.rationale = _model_words(cand.rationale, 600)
        outcome.candidates.append({"stage": "passed", "reason": ""})
        said = _model_words(cand.title, 100)
        static = " · ".join([" ".join(f"✓ {v}" for v in verified), *notes])
        outcome.title = f"{headline} · {static} — Claude: {said}"
        took = time.monotonic() - started
        outcome.report = "\n".join(
            [
                f"Megawatt's checks ({took:.1f} s):",
                f"  {headline}",
                *(f"  {line}" for line in lines),
                f"  static: {static}",
                f"Claude's words (not checked by Megawatt): {said}",
                *([f"  rationale: {outcome.rationale}"] if outcome.rationale else []),
            ]
        )
        outcome.reason = ""
        _store(key, outcome)
        return outcome
    outcome.reason = f"no valid candidate after {outcome.attempts} attempts; last: {outcome.reason}"
    return outcome
