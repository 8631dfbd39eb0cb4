"""What a skill is: SKILL.md's YAML front matter (Agent Skills keys + Megawatt's) and its body."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class FixRecipe(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    deterministic: bool = Field(
        default=False, description="A safe rewrite exists (rewrite.py beside SKILL.md)."
    )
    recipe: str = Field(description="How the fix is made, in one paragraph.")
    llm_guidance: str = Field(default="", description="What a model must and must not do.")
    # reviewed per built-in skill: what an AI fix may newly reference beyond the base builtins
    allow: list[str] | None = Field(
        default=None,
        description="Dotted names an AI fix may newly use (a module alone: any public attribute "
        "of it; '*.name': that attribute of a value the original already reached). In a project "
        "skill this can only narrow the built-in skill's list.",
    )
    add_decorators: list[str] | None = Field(
        default=None,
        description="Decorators an AI fix may add to the function (dotted names). In a project "
        "skill this can only narrow the built-in skill's list.",
    )


class CostModel(BaseModel):
    """What the fix saves, for the estimate from the profile (megawatt/savings.py)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scope: Literal["line", "function", "self"] = Field(
        default="line",
        description="What the finding costs: its own lines and calls (line), the whole "
        "function's inclusive time (function: a cache in front of it), or the function's own "
        "time (self: a change no skill can name, so the estimate is a guess).",
    )
    callees: list[str] = Field(
        default_factory=list,
        description="Dotted names of the calls the finding is about (re.compile, copy.deepcopy, "
        "list.pop, builtins.len, logging.Logger.debug): their time from the function is the cost.",
    )
    via: str | None = Field(
        default=None,
        description="The call inside those callees that the fix removes (re._compile for a "
        "hoisted pattern): the cost is the part of their time spent in it.",
    )
    removes: float = Field(
        default=0.9,
        gt=0,
        le=1,
        description="The part of the callees' cost (or of `via`'s) the fix removes. Without call "
        "figures, expected_gain of the finding's lines (or function) is used instead.",
    )
    model: str = Field(default="", description="How the fix saves, in a few words.")


class SkillFrontMatter(BaseModel):
    """The keys of SKILL.md's front matter; unknown keys are errors, so typos surface."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Anthropic Agent Skills
    name: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=64)
    description: str = Field(min_length=1, max_length=1024)
    # Megawatt
    trigger: str = Field(description="The detector id whose findings this skill resolves.")
    evidence: list[str] = Field(default_factory=list, description="What a finding must show.")
    diagnosis: list[str] = Field(
        default_factory=list, description="Steps (and tools) to confirm the opportunity."
    )
    fix: FixRecipe
    expected_gain: float = Field(
        gt=0, le=1, description="Share of the function's time a fix typically saves."
    )
    cost: CostModel | None = Field(
        default=None, description="How the profile's evidence turns into estimated savings."
    )
    validation: list[str] = Field(default_factory=list, description="What a fix must pass.")
    version: int = Field(default=1, ge=1)
    mode: Literal["override", "extend"] = Field(
        default="override",
        description="For project skills: replace the built-in one, or add guidance to it.",
    )


class Skill(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    meta: SkillFrontMatter
    body: str
    path: Path
    origin: Literal["builtin", "project"]
    rewrite_path: Path | None = None

    @property
    def id(self) -> str:
        return self.meta.name

    @property
    def expected_gain(self) -> float:
        return self.meta.expected_gain

    def markdown(self) -> str:
        return self.path.read_text(encoding="utf-8")
