"""The synthetic services: who they are, their model and tools, the stacks they run on."""

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
class ServiceProfile:
    """One synthetic agent service."""

    name: str
    #: The Python package of the agent's own code, used for its custom exception classes.
    package: str
    version: str
    model: str
    #: ``gen_ai.provider.name`` of its model calls.
    provider: str
    #: Tools it calls (``execute_tool <name>`` spans), each with the URL the tool fetches.
    tools: tuple[tuple[str, str], ...]
    families: tuple[str, ...]


SERVICES: tuple[ServiceProfile, ...] = (
    ServiceProfile(
        name="support-agent",
        package="support_agent",
        version="2.4.1",
        model="gpt-4o",
        provider="openai",
        tools=(
            ("lookup_order", "https://orders.internal.example/v1/orders"),
            ("web_search", "https://api.search.example/v1/query"),
        ),
        families=(OPENAI, LANGCHAIN, HTTPX),
    ),
    ServiceProfile(
        name="research-agent",
        package="research_agent",
        version="0.9.3",
        model="claude-sonnet-4-5",
        provider="anthropic",
        tools=(
            ("web_search", "https://api.search.example/v1/query"),
            ("fetch_page", "https://en.wikipedia.example/wiki/Observability"),
        ),
        families=(ANTHROPIC, LANGGRAPH, HTTPX),
    ),
    ServiceProfile(
        name="coding-agent",
        package="coding_agent",
        version="1.12.0",
        model="gpt-4.1",
        provider="openai",
        tools=(
            ("read_file", "https://mcp.tools.example/fs"),
            ("run_tests", "https://ci.tools.example/api/runs"),
        ),
        families=(LITELLM, MCP, TENACITY, STDLIB),
    ),
    ServiceProfile(
        name="planner-agent",
        package="planner_agent",
        version="3.0.0",
        model="gemini-2.5-flash",
        provider="gcp.gemini",
        tools=(
            ("get_calendar", "https://calendar.example/api/events"),
            ("book_meeting", "https://calendar.example/api/bookings"),
        ),
        families=(PYDANTIC_AI, GOOGLE_GENAI, HTTPX),
    ),
    ServiceProfile(
        name="triage-agent",
        package="triage_agent",
        version="0.3.7",
        model="gpt-4o-mini",
        provider="openai",
        tools=(
            ("classify_ticket", "https://helpdesk.example/api/classify"),
            ("escalate", "https://helpdesk.example/api/escalations"),
        ),
        families=(OPENAI_AGENTS, OPENAI, REQUESTS),
    ),
    ServiceProfile(
        name="data-agent",
        package="data_agent",
        version="1.1.2",
        model="gpt-4o",
        provider="openai",
        tools=(
            ("query_warehouse", "https://warehouse.example/api/sql"),
            ("fetch_report", "https://reports.example/api/reports/latest"),
        ),
        families=(OPENAI, REQUESTS, STDLIB),
    ),
)

#: Most services ``failcat traffic --services`` can simulate.
MAX_SERVICES = len(SERVICES)
