"""The synthetic services: who they are, their model and tools, the stacks they run on, and how
often their model and tool calls fail.

The failure rates are per call, as the receiver measures them (failures ÷ GenAI operations):
model calls fail at 3-12 % (the Anthropic model the most, overloaded), tool calls at 2-8 %,
except research-agent's ``fetch_page``, which fails 40 % of its calls (pages that time out,
refuse or rate-limit a scraper): the tool the rates are meant to find. They are those of a noisy
day rather than a healthy one, so a short demo already shows them apart.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Library families a service's failures can come from (see ``_scenarios.py``).
OPENAI = "openai"
ANTHROPIC = "anthropic"
LANGCHAIN = "langchain"
LANGGRAPH = "langgraph"
LITELLM = "litellm"
MCP = "mcp"
TENACITY = "tenacity"
PYDANTIC_AI = "pydantic_ai"
GOOGLE_GENAI = "google_genai"
OPENAI_AGENTS = "openai_agents"
HTTPX = "httpx"
REQUESTS = "requests"
STDLIB = "stdlib"


@dataclass(frozen=True)
class Tool:
    """A tool an agent calls (``execute_tool <name>`` spans) and the URL it fetches."""

    name: str
    url: str
    #: Share of its calls that fail: on the tool's span or on the HTTP call under it.
    failure_rate: float


@dataclass(frozen=True)
class ServiceProfile:
    """One synthetic agent service."""

    name: str
    #: The Python package of the agent's own code, used for its custom exception classes.
    package: str
    version: str
    model: str
    #: ``gen_ai.provider.name`` of its model calls.
    provider: str
    #: Share of its ``chat`` calls that fail (rate limits, overload, timeouts...).
    model_failure_rate: float
    tools: tuple[Tool, ...]
    families: tuple[str, ...]


SERVICES: tuple[ServiceProfile, ...] = (
    ServiceProfile(
        name="support-agent",
        package="support_agent",
        version="2.4.1",
        model="gpt-4o",
        provider="openai",
        model_failure_rate=0.06,
        tools=(
            Tool("lookup_order", "https://orders.internal.example/v1/orders", 0.03),
            Tool("web_search", "https://api.search.example/v1/query", 0.06),
        ),
        families=(OPENAI, LANGCHAIN, HTTPX),
    ),
    ServiceProfile(
        name="research-agent",
        package="research_agent",
        version="0.9.3",
        model="claude-sonnet-4-5",
        provider="anthropic",
        model_failure_rate=0.12,
        tools=(
            Tool("web_search", "https://api.search.example/v1/query", 0.06),
            Tool("fetch_page", "https://en.wikipedia.example/wiki/Observability", 0.4),
        ),
        families=(ANTHROPIC, LANGGRAPH, HTTPX),
    ),
    ServiceProfile(
        name="coding-agent",
        package="coding_agent",
        version="1.12.0",
        model="gpt-4.1",
        provider="openai",
        model_failure_rate=0.05,
        tools=(
            Tool("read_file", "https://mcp.tools.example/fs", 0.02),
            Tool("run_tests", "https://ci.tools.example/api/runs", 0.08),
        ),
        families=(LITELLM, MCP, TENACITY, STDLIB),
    ),
    ServiceProfile(
        name="planner-agent",
        package="planner_agent",
        version="3.0.0",
        model="gemini-2.5-flash",
        provider="gcp.gemini",
        model_failure_rate=0.08,
        tools=(
            Tool("get_calendar", "https://calendar.example/api/events", 0.03),
            Tool("book_meeting", "https://calendar.example/api/bookings", 0.07),
        ),
        families=(PYDANTIC_AI, GOOGLE_GENAI, HTTPX),
    ),
    ServiceProfile(
        name="triage-agent",
        package="triage_agent",
        version="0.3.7",
        model="gpt-4o-mini",
        provider="openai",
        model_failure_rate=0.03,
        tools=(
            Tool("classify_ticket", "https://helpdesk.example/api/classify", 0.02),
            Tool("escalate", "https://helpdesk.example/api/escalations", 0.05),
        ),
        families=(OPENAI_AGENTS, OPENAI, REQUESTS),
    ),
    ServiceProfile(
        name="data-agent",
        package="data_agent",
        version="1.1.2",
        model="gpt-4o",
        provider="openai",
        model_failure_rate=0.06,
        tools=(
            Tool("query_warehouse", "https://warehouse.example/api/sql", 0.07),
            Tool("fetch_report", "https://reports.example/api/reports/latest", 0.04),
        ),
        families=(OPENAI, REQUESTS, STDLIB),
    ),
)

#: Most services ``failcat traffic --services`` can simulate.
MAX_SERVICES = len(SERVICES)
