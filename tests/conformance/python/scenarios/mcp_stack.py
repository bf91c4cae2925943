"""MCP 2.x: an in-process client and server (memory streams), so the protocol errors are the
server's real JSON-RPC answers and the client's real exceptions: unknown tool, prompt and
resource, invalid params, a tool that fails, and a request that times out; for three of them,
the server's own spans as the only record (mcp 2.x instruments itself); the same with no span
of the agent's own open; and JSON-RPC over memory streams, with the client's own spans."""

from __future__ import annotations

import logging
import socket
from collections.abc import Awaitable, Callable

import anyio
from _scenario import report, run, run_wrapped
from mcp import Client
from mcp.server.mcpserver import MCPServer

server = MCPServer("travel")


@server.tool()
def get_weather(city: str) -> str:
    """The weather in a city."""
    return "sunny"


@server.tool()
async def slow_search(query: str) -> str:
    """A search that takes too long."""
    await anyio.sleep(5)
    return "late"


@server.tool()
def book_hotel(city: str) -> str:
    """Book a hotel; there is no room left."""
    raise ValueError("no rooms left in the city asked for")


@server.prompt()
def plan(city: str) -> str:
    """A trip plan."""
    return f"Plan a trip to {city}"


@server.resource("travel://cities")
def cities() -> str:
    return "Paris, Rome"


# In a deployment the server is another process, whose spans belong to its own service. Here it
# runs in the agent's process, so its spans would join the agent's trace; the SDK documents
# dropping its OpenTelemetry middleware to opt out, which leaves the client's view alone.
server._lowlevel_server.middleware.clear()
# For the same reason the server's own error log stays out of the agent's logging.
logging.getLogger("mcp.shared.direct_dispatcher").disabled = True
logging.getLogger("mcp.server.mcpserver.server").disabled = True


def _client():
    async def call(method: str, *args: object, **call_kwargs: object) -> None:
        # raise_exceptions: an in-process server hides a handler's message behind "Internal
        # server error" unless asked; over stdio or HTTP the JSON-RPC error carries str(e),
        # which is what a deployed agent sees, so the in-process client is asked for it.
        async with Client(server, raise_exceptions=True) as client:
            result = await getattr(client, method)(*args, **call_kwargs)
            if getattr(result, "is_error", False):
                # MCP reports a failing tool in the result; the agent raises it as users do.
                raise RuntimeError(result.content[0].text)

    return call


# A second server that keeps its OpenTelemetry middleware: its spans join the case's trace and,
# with the agent recording nothing (via "none"), are the failure's only record, as in the
# server's own service when it runs apart. mcp 2.x puts `tool_error` or the JSON-RPC code in
# their error.type and records the ValueError it raises for an unknown prompt.
spanned = MCPServer("travel-spanned")
spanned.tool()(get_weather)
spanned.prompt()(plan)


def _spanned(method: str, *args: object) -> Callable[[], Awaitable[None]]:
    async def call() -> None:
        async with Client(spanned, raise_exceptions=True) as client:
            result = await getattr(client, method)(*args)
            if getattr(result, "is_error", False):
                raise RuntimeError(result.content[0].text)

    return call


def _legacy(method: str, *args: object, **call_kwargs: object) -> Callable[[], Awaitable[None]]:
    # mode="legacy": JSON-RPC over memory streams, the path a stdio or HTTP client takes, with
    # the client's own span around each request ("MCP send <method>").
    async def call() -> None:
        async with Client(server, mode="legacy", raise_exceptions=True) as client:
            result = await getattr(client, method)(*args, **call_kwargs)
            if getattr(result, "is_error", False):
                raise RuntimeError(result.content[0].text)

    return call


def _checked_tool(name: str, arguments: dict[str, object]) -> Callable[[], Awaitable[None]]:
    # The agent checks the result and raises in its own words, the tool's text quoted after them.
    async def call() -> None:
        async with Client(server, raise_exceptions=True) as client:
            result = await client.call_tool(name, arguments)
            if result.is_error:
                raise RuntimeError(f"MCP tool {name!r} failed: {result.content[0].text}")

    return call


def _hidden_handler_error() -> Callable[[], Awaitable[None]]:
    # Without raise_exceptions the in-process server answers a handler's exception as servers
    # that hide their errors do: MCPError -32603 "Internal server error", whatever the request.
    async def call() -> None:
        async with Client(server) as client:
            await client.get_prompt("itinerary", {"city": "Paris"})

    return call


def _http_server_unreachable() -> Callable[[], Awaitable[None]]:
    # Streamable HTTP to a port nothing listens on: httpx2's ConnectError inside the client's
    # task group.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    async def call() -> None:
        async with Client(f"http://127.0.0.1:{port}/mcp") as client:
            await client.list_tools()

    return call


def _unknown_tool():
    return _client()("call_tool", "get_forecast", {"city": "Paris"})


def _invalid_tool_arguments():
    return _client()("call_tool", "get_weather", {"town": "Paris"})


def _invalid_params():
    return _client()("get_prompt", "plan", {})


def _unknown_prompt():
    return _client()("get_prompt", "itinerary", {"city": "Paris"})


def _unknown_resource():
    return _client()("read_resource", "travel://hotels")


def _timeout():
    return _client()("call_tool", "slow_search", {"query": "flights"}, read_timeout_seconds=0.2)


run("unknown_tool", _unknown_tool)
run("invalid_tool_arguments", _invalid_tool_arguments, via="log")
run("invalid_params", _invalid_params)
run("unknown_prompt", _unknown_prompt, via="track")
run("unknown_resource", _unknown_resource)
run("timeout", _timeout, via="span")
# A tool that raised: mcp 2.x answers a bare "Error executing tool book_hotel" (its message is
# the server's to log); raised as it is, and inside the agent's own wording.
run("failing_tool", lambda: _client()("call_tool", "book_hotel", {"city": "Paris"}))
run("failing_tool_checked", _checked_tool("book_hotel", {"city": "Paris"}), via="thread")
run("invalid_tool_arguments_checked", _checked_tool("get_weather", {"city": 7}), via="track")
run("hidden_handler_error", _hidden_handler_error(), via="log")
run("http_server_unreachable", _http_server_unreachable())
paris = {"city": "Paris"}
run("server_span_unknown_tool", _spanned("call_tool", "get_forecast", paris), via="none")
run("server_span_unknown_prompt", _spanned("get_prompt", "itinerary", paris), via="none")
run("server_span_unknown_resource", _spanned("read_resource", "travel://hotels"), via="none")
# No span of the agent's own open, the agent recording the client's exception: the server's span
# (status ERROR, the JSON-RPC code in error.type) set while the server's MCPError is in flight
# gets its event, and the client's task group of that same MCPError adds none. The first two
# still give two rows (test_python_stacks.KNOWN_EXTRA_ROWS says why).
run("no_user_span_unknown_tool", _spanned("call_tool", "get_forecast", paris), user_span=False)
run("no_user_span_unknown_prompt", _spanned("get_prompt", "itinerary", paris), user_span=False)
run("no_user_span_unknown_resource", _spanned("read_resource", "travel://hotels"), user_span=False)
# JSON-RPC over memory streams (mode="legacy"), the client's own span around each request. An
# unknown prompt's ValueError crosses the streams as the same object: the client span records
# it, and the task group that then carries it out of the client is not a second failure.
hotels = "travel://hotels"
run("jsonrpc_unknown_tool", _legacy("call_tool", "get_forecast", paris))
run("jsonrpc_unknown_resource", _legacy("read_resource", hotels))
run("jsonrpc_unknown_prompt", _legacy("get_prompt", "itinerary", paris))
itinerary = _legacy("get_prompt", "itinerary", paris)
run("jsonrpc_unknown_prompt_no_user_span", itinerary, user_span=False)
# Still two rows (test_python_stacks.KNOWN_EXTRA_ROWS says why).
run("jsonrpc_unknown_resource_no_user_span", _legacy("read_resource", hotels), user_span=False)
slow = {"query": "flights"}
run("jsonrpc_timeout", _legacy("call_tool", "slow_search", slow, read_timeout_seconds=0.2))
# The same failures inside the agent's own wrapper (see _scenario: via="wrapped").
run_wrapped("unknown_tool", "unknown_prompt", "timeout")
report()
