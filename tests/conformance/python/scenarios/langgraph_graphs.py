"""LangGraph: a recursion limit actually hit, concurrent updates to one key, a node timeout, a
node that fails inside a graph, and an ordinary bug in a node."""

from __future__ import annotations

import asyncio
import operator
from typing import Annotated, TypedDict

from _scenario import report, run
from langgraph.graph import END, START, StateGraph


class Loop(TypedDict):
    steps: int


def _recursion_limit() -> None:
    # A planner that never decides it is done: the graph loops until the limit stops it.
    graph = StateGraph(Loop)
    graph.add_node("plan", lambda state: {"steps": state["steps"] + 1})
    graph.add_node("act", lambda state: {"steps": state["steps"] + 1})
    graph.add_edge(START, "plan")
    graph.add_edge("plan", "act")
    graph.add_edge("act", "plan")
    graph.compile().invoke({"steps": 0}, {"recursion_limit": 6})


class Single(TypedDict):
    answer: str


def _invalid_update() -> None:
    # Two parallel branches write the same key without a reducer.
    graph = StateGraph(Single)
    graph.add_node("a", lambda state: {"answer": "from a"})
    graph.add_node("b", lambda state: {"answer": "from b"})
    graph.add_edge(START, "a")
    graph.add_edge(START, "b")
    graph.add_edge("a", END)
    graph.add_edge("b", END)
    graph.compile().invoke({"answer": ""})


class Notes(TypedDict):
    notes: Annotated[list[str], operator.add]


async def _slow_node(state: Notes) -> Notes:
    await asyncio.sleep(5)
    return {"notes": ["late"]}


async def _node_timeout() -> None:
    graph = StateGraph(Notes)
    graph.add_node("search", _slow_node, timeout=0.2)
    graph.add_edge(START, "search")
    graph.add_edge("search", END)
    await graph.compile().ainvoke({"notes": []})


def _node_bug() -> None:
    # An ordinary bug in a node: the graph passes it through unchanged.
    graph = StateGraph(Notes)
    graph.add_node("summarize", lambda state: {"notes": [state["notes"][3]]})
    graph.add_edge(START, "summarize")
    graph.add_edge("summarize", END)
    graph.compile().invoke({"notes": ["one"]})


run("recursion_limit", _recursion_limit)
run("recursion_limit_logged", _recursion_limit, via="log")
run("invalid_concurrent_update", _invalid_update, via="track")
run("node_timeout", _node_timeout)
run("ordinary_index_error", _node_bug, via="span")
report()
