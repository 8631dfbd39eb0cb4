"""get_skill: a skill's front matter and the expertise in its SKILL.md body."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from megawatt.tools.bounds import clip_lines
from megawatt.tools.context import ToolContext
from megawatt.tools.errors import ToolError

__all__ = ["DESCRIPTION", "SkillFix", "SkillInput", "SkillOutput", "get_skill"]

DESCRIPTION = (
    "Read a Megawatt skill: the expertise for one opportunity class (its id is the `skill` of an "
    "opportunity, e.g. `memoize`, `regex-in-function`). Returns the skill's description, version, "
    "the expected gain of a fix (the share of the function's time it typically saves, 0..1), the "
    "evidence an opportunity must show, the diagnosis steps, the fix recipe with `llm_guidance` "
    "(what a model must and must not do when writing the fix), the validation criteria a fix must "
    "pass, and the markdown body with the detailed reasoning and worked examples. Read it before "
    "writing a fix, and follow its guidance and validation criteria."
)

MAX_BODY_LINES = 600


class SkillInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    skill: str = Field(description="The skill id, e.g. `memoize`.")


class SkillFix(BaseModel):
    deterministic: bool = Field(description="Megawatt has a rewrite for it.")
    recipe: str
    llm_guidance: str


class SkillOutput(BaseModel):
    name: str
    description: str
    version: int
    origin: Literal["builtin", "project"]
    trigger: str = Field(description="The analyzer whose findings the skill resolves.")
    expected_gain: float
    evidence: list[str]
    diagnosis: list[str]
    fix: SkillFix
    validation: list[str]
    body: str = Field(description="SKILL.md's markdown body.")
    truncated: bool = False


def get_skill(ctx: ToolContext, args: SkillInput) -> SkillOutput:
    skill = ctx.skills.get(args.skill)
    if skill is None:
        known = ", ".join(sorted(ctx.skills.skills)) or "none are loaded"
        raise ToolError(f"unknown skill {args.skill!r}; the skills are: {known}")
    meta = skill.meta
    body, clipped = clip_lines(skill.body, MAX_BODY_LINES)
    return SkillOutput(
        name=meta.name,
        description=meta.description,
        version=meta.version,
        origin=skill.origin,
        trigger=meta.trigger,
        expected_gain=meta.expected_gain,
        evidence=list(meta.evidence),
        diagnosis=list(meta.diagnosis),
        fix=SkillFix(
            deterministic=meta.fix.deterministic,
            recipe=meta.fix.recipe,
            llm_guidance=meta.fix.llm_guidance,
        ),
        validation=list(meta.validation),
        body=body,
        truncated=clipped,
    )
