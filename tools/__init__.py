"""The tool layer: typed functions that gather context about a performance opportunity, for an
LLM fix agent, the MCP server, the CLI and the language server alike.

Each tool is `(ToolContext, Input) -> Output` with pydantic models at the boundary and a
description written for a model. `call_tool` runs one by name on a model's JSON arguments and
`tool_specs` lists them in the form the Anthropic Messages API takes for `tools=`. Every path a
model gives must lie inside the workspace root; every answer is bounded and says when it was cut.
"""

from __future__ import annotations

from megawatt.tools.callgraph import CallersCalleesInput, CallersCalleesOutput, get_callers_callees
from megawatt.tools.code_search import SearchInput, SearchOutput, search_code
from megawatt.tools.context import ToolContext
from megawatt.tools.errors import ToolError
from megawatt.tools.opportunity import OpportunityInput, OpportunityOutput, get_opportunity
from megawatt.tools.registry import TOOLS, Tool, call_tool, tool_specs
from megawatt.tools.related_tests import FindTestsInput, FindTestsOutput, find_tests
from megawatt.tools.skill import SkillInput, SkillOutput, get_skill
from megawatt.tools.source import FunctionSourceInput, FunctionSourceOutput, get_function_source

__all__ = [
    "TOOLS",
    "CallersCalleesInput",
    "CallersCalleesOutput",
    "FindTestsInput",
    "FindTestsOutput",
    "FunctionSourceInput",
    "FunctionSourceOutput",
    "OpportunityInput",
    "OpportunityOutput",
    "SearchInput",
    "SearchOutput",
    "SkillInput",
    "SkillOutput",
    "Tool",
    "ToolContext",
    "ToolError",
    "call_tool",
    "find_tests",
    "get_callers_callees",
    "get_function_source",
    "get_opportunity",
    "get_skill",
    "search_code",
    "tool_specs",
]
