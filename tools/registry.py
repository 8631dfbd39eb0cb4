"""The tools by name, one way to call them with a model's arguments, and their specs in the
shape the Anthropic Messages API takes for `tools=` (and MCP's `tools/list`, as inputSchema)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from megawatt.tools import callgraph, code_search, opportunity, related_tests, skill, source
from megawatt.tools.context import ToolContext
from megawatt.tools.errors import ToolError

__all__ = ["TOOLS", "Tool", "call_tool", "input_schema", "tool_specs"]

In = TypeVar("In", bound=BaseModel)
Out = TypeVar("Out", bound=BaseModel)


@dataclass(frozen=True)
class Tool(Generic[In, Out]):
    name: str
    description: str
    input_model: type[In]
    output_model: type[Out]
    function: Callable[[ToolContext, In], Out]

    def spec(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "input_schema": input_schema(self.input_model),
        }

    def run(self, ctx: ToolContext, arguments: object) -> Out:
        """Validate a model's `arguments` and call the tool; ToolError names what is wrong."""
        if not isinstance(arguments, dict):
            raise ToolError(f"arguments for {self.name} must be a JSON object, not {arguments!r}")
        try:
            args = self.input_model.model_validate(arguments)
        except ValidationError as err:
            raise ToolError(
                f"invalid arguments for {self.name}: {_problems(err)}; {self.usage()}"
            ) from None
        return self.function(ctx, args)

    def usage(self) -> str:
        fields = self.input_model.model_fields
        names = [f"{n}{'' if f.is_required() else '?'}" for n, f in fields.items()]
        return f"it takes {', '.join(names)} (? = optional)"


def _problems(err: ValidationError) -> str:
    out = []
    for e in err.errors(include_url=False):
        where = ".".join(str(p) for p in e["loc"]) or "arguments"
        if e["type"] == "missing":
            out.append(f"missing required argument {where!r}")
        elif e["type"] == "extra_forbidden":
            out.append(f"unknown argument {where!r}")
        else:
            out.append(f"argument {where!r}: {e['msg']} (got {e['input']!r})")
    return "; ".join(out)


def input_schema(model: type[BaseModel]) -> dict[str, Any]:
    """A model's JSON schema as a tool's `input_schema` (pydantic's titles left out)."""
    schema: dict[str, Any] = _untitled(model.model_json_schema())
    return schema


def _untitled(schema: Any, in_properties: bool = False) -> Any:
    """`schema` without pydantic's `title` annotations (a property named `title` is kept)."""
    if isinstance(schema, dict):
        return {
            k: _untitled(v, k == "properties" and not in_properties)
            for k, v in schema.items()
            if in_properties or not (k == "title" and isinstance(v, str))
        }
    if isinstance(schema, list):
        return [_untitled(v) for v in schema]
    return schema


TOOLS: dict[str, Tool[Any, Any]] = {
    t.name: t
    for t in (
        Tool(
            "get_function_source",
            source.DESCRIPTION,
            source.FunctionSourceInput,
            source.FunctionSourceOutput,
            source.get_function_source,
        ),
        Tool(
            "get_callers_callees",
            callgraph.DESCRIPTION,
            callgraph.CallersCalleesInput,
            callgraph.CallersCalleesOutput,
            callgraph.get_callers_callees,
        ),
        Tool(
            "get_opportunity",
            opportunity.DESCRIPTION,
            opportunity.OpportunityInput,
            opportunity.OpportunityOutput,
            opportunity.get_opportunity,
        ),
        Tool(
            "get_skill",
            skill.DESCRIPTION,
            skill.SkillInput,
            skill.SkillOutput,
            skill.get_skill,
        ),
        Tool(
            "find_tests",
            related_tests.DESCRIPTION,
            related_tests.FindTestsInput,
            related_tests.FindTestsOutput,
            related_tests.find_tests,
        ),
        Tool(
            "search_code",
            code_search.DESCRIPTION,
            code_search.SearchInput,
            code_search.SearchOutput,
            code_search.search_code,
        ),
    )
}


def _tool(name: str) -> Tool[Any, Any]:
    found = TOOLS.get(name)
    if found is None:
        raise ToolError(f"unknown tool {name!r}; the tools are: {', '.join(TOOLS)}")
    return found


def call_tool(ctx: ToolContext, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """Run tool `name` on a model's `arguments`; its output as a JSON-ready dict."""
    result: dict[str, Any] = _tool(name).run(ctx, arguments).model_dump(mode="json")
    return result


def tool_specs(names: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """`{"name", "description", "input_schema"}` per tool (all, or those named, in order)."""
    return [_tool(n).spec() for n in (TOOLS if names is None else names)]
