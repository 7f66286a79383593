"""The trace graph: each edge kind on small traces, schedules, loop analyses, export."""
from __future__ import annotations

import html
import re

import networkx as nx
from hypothesis import given

from metajit.tracer.graph import (INPUTS, dead_ops, edges_of, induction_variables,
                                  is_valid_schedule, loop_invariant, loops, schedule,
                                  to_dot, to_html, trace_graph)
from metajit.tracer.ir import CallDescr
from metajit.tracer.text import parse_trace
from tracegen import traces_with_inputs


def graph_of(text: str, namespace: dict | None = None) -> nx.DiGraph:
    return trace_graph(parse_trace(text, namespace))


def has(graph, u, v, kind) -> bool:
    return graph.has_edge(u, v) and kind in graph.edges[u, v]["kinds"]


def carried(graph, u, v) -> list[str]:
    return [graph.graph["names"][box] for box in graph.edges[u, v]["boxes"]]


# --- nodes and data edges ------------------------------------------------------------

def test_a_node_per_op_with_its_text():
    graph = graph_of("""
        [i0, p1]
        i2 = int_add(i0, 1)
        p3 = getfield(p1, descr=Cell.a)
        finish(i2, p3, descr=done)
    """)
    assert sorted(n for n in graph if n != INPUTS) == [0, 1, 2]
    assert graph.nodes[0]["text"] == "i2 = int_add(i0, 1)"
    assert graph.nodes[0]["op"].name == "int_add"
    assert graph.nodes[INPUTS]["text"] == "[i0, p1]"


def test_data_edges_run_from_definition_to_use_and_from_the_inputs():
    graph = graph_of("""
        [i0, i1]
        i2 = int_add(i0, i1)
        i3 = int_mul(i2, i2)
        finish(i3, i0, descr=done)
    """)
    assert has(graph, INPUTS, 0, "data") and carried(graph, INPUTS, 0) == ["i0", "i1"]
    assert has(graph, 0, 1, "data") and carried(graph, 0, 1) == ["i2"]
    assert has(graph, 1, 2, "data") and has(graph, INPUTS, 2, "data")
    assert not graph.has_edge(0, 2)


def test_a_snapshot_use_is_a_data_edge():
    graph = graph_of("""
        [i0, i1]
        i2 = int_add(i0, 1)
        i3 = int_lt(i1, 10)
        guard_true(i3) [@code#2: i2, i1]
        finish(descr=done)
    """)
    assert has(graph, 0, 2, "data") and carried(graph, 0, 2) == ["i2"]
    assert carried(graph, 1, 2) == ["i3"]


def test_a_label_defines_its_arguments_for_the_loop_body():
    graph = graph_of("""
        [i0]
        i1 = int_add(i0, 1)
        label(i1, descr=body)
        i2 = int_add(i1, 1)
        jump(i2, descr=body)
    """)
    assert has(graph, 0, 1, "data")          # the label uses the preamble's i1
    assert has(graph, 1, 2, "data")          # the body's i1 comes from the label
    assert not graph.has_edge(0, 2)


# --- order edges -----------------------------------------------------------------------

def test_side_effects_guards_and_calls_form_a_chain():
    graph = graph_of("""
        [p0, p1, i2]
        setfield(p0, p1, descr=Cell.a)
        i3 = int_add(i2, 1)
        guard_true(i2) [@code#2: p0]
        call_n(ConstPtr(f), p0, descr=f_call)
        guard_no_exception() [@code#4: p0]
        finish(i3, descr=done)
    """)
    for u, v in [(0, 2), (2, 3), (3, 4), (4, 5)]:
        assert has(graph, u, v, "order"), (u, v)
    assert not has(graph, 0, 1, "order") and not has(graph, 1, 2, "order")


def test_a_load_is_ordered_after_the_store_that_may_write_it_only():
    graph = graph_of("""
        [p0, p1, p2]
        setfield(p0, p1, descr=Cell.a)
        p3 = getfield(p2, descr=Cell.a)
        p4 = getfield(p2, descr=Cell.b)
        setfield(p0, p1, descr=Cell.b)
        finish(p3, p4, descr=done)
    """)
    assert has(graph, 0, 1, "order")         # a may be written by the store
    assert not graph.has_edge(0, 2)          # b is not
    assert has(graph, 2, 3, "order")         # the store of b stays after the load of b
    assert not graph.has_edge(1, 3)


def test_a_call_orders_the_loads_of_what_its_effects_say_it_writes():
    namespace = {"writes_b": CallDescr("writes_b", "v", writes=frozenset({"b"})),
                 "anything": CallDescr("anything", "v", writes=None)}
    graph = graph_of("""
        [p0]
        call_n(ConstPtr(f), p0, descr=writes_b)
        p1 = getfield(p0, descr=Cell.a)
        p2 = getfield(p0, descr=Cell.b)
        call_n(ConstPtr(g), p0, descr=anything)
        i3 = arraylen(p0, descr=list)
        finish(p1, p2, i3, descr=done)
    """, namespace)
    assert not graph.has_edge(0, 1) and has(graph, 0, 2, "order")
    assert has(graph, 1, 3, "order") and has(graph, 2, 3, "order")
    assert has(graph, 3, 4, "order")


def test_an_overflow_checked_op_is_ordered_before_its_guard():
    graph = graph_of("""
        [i0]
        i1 = int_add_ovf(i0, 1)
        guard_no_overflow() [@code#0: i0]
        i2 = int_add(i1, 1)
        finish(i2, descr=done)
    """)
    assert has(graph, 0, 1, "order")
    assert has(graph, 1, 2, "protects")      # i1 is known not to have overflowed


# --- protects edges ------------------------------------------------------------------

def test_bounds_guards_protect_the_array_access():
    graph = graph_of("""
        [p0, i1]
        i2 = arraylen(p0, descr=list)
        i3 = int_ge(i1, 0)
        guard_true(i3) [@code#2: p0, i1]
        i4 = int_lt(i1, i2)
        guard_true(i4) [@code#4: p0, i1]
        p5 = getarrayitem_r(p0, i1, descr=list)
        setarrayitem_r(p0, i1, p5, descr=list)
        finish(p5, descr=done)
    """)
    for guard in (2, 4):
        assert has(graph, guard, 5, "protects") and has(graph, guard, 6, "protects")
    assert has(graph, 2, 3, "protects")      # i4's comparison uses the narrowed i1
    assert len(edges_of(graph, "protects")) == 5


def test_a_zero_test_protects_the_division():
    graph = graph_of("""
        [i0, i1, f2, f3]
        i4 = int_is_zero(i1)
        guard_false(i4) [@code#1: i0, i1, f2, f3]
        i5 = int_floordiv_ovf(i0, i1)
        guard_no_overflow() [@code#2: i0, i1, f2, f3]
        i6 = float_ne(f3, 0.0)
        guard_true(i6) [@code#5: i5, f2, f3]
        f7 = float_truediv(f2, f3)
        i8 = int_add(i5, 1)
        finish(f7, i8, descr=done)
    """)
    assert has(graph, 1, 2, "protects")
    assert has(graph, 5, 6, "protects")
    assert has(graph, 3, 7, "protects")      # the result is known not to overflow
    assert not graph.has_edge(1, 6)


def test_a_guard_protects_every_use_of_the_value_it_narrows():
    graph = graph_of("""
        [p0, i1]
        guard_class(p0, ConstPtr(Cell)) [@code#0: p0, i1]
        p2 = getfield(p0, descr=Cell.a)
        guard_value(i1, 3) [@code#2: p0, i1, p2]
        i3 = int_mul(i1, 2)
        finish(p2, i3, descr=done)
    """)
    assert has(graph, 0, 1, "protects") and has(graph, 2, 3, "protects")
    assert not has(graph, 0, 3, "protects")


# --- back edges, schedules -------------------------------------------------------------

COUNTING_LOOP = """
[i0, i1, i2]
label(i0, i1, i2, descr=loop)
i3 = int_add(i0, 1)
i4 = int_lt(i3, i1)
guard_true(i4) [@code#3: i3, i1, i2]
i5 = int_mul(i1, 8)
i6 = int_add(i5, 1)
i7 = int_add(i2, i6)
i8 = int_sub(i6, 3)
jump(i3, i1, i7, descr=loop)
"""


def test_the_jump_has_a_back_edge_to_its_label():
    graph = graph_of(COUNTING_LOOP)
    assert edges_of(graph, "back") == [(8, 0)]
    assert loops(graph) == [(0, 8)]


def test_the_identity_order_is_a_valid_schedule_and_schedule_keeps_it():
    graph = graph_of(COUNTING_LOOP)
    identity = list(range(9))
    assert is_valid_schedule(graph, identity)
    assert schedule(graph) == identity


def test_an_order_that_breaks_an_edge_is_no_valid_schedule():
    graph = graph_of("""
        [p0, p1]
        setfield(p0, p1, descr=Cell.a)
        p2 = getfield(p0, descr=Cell.a)
        i3 = int_add(1, 2)
        finish(p2, i3, descr=done)
    """)
    assert not is_valid_schedule(graph, [1, 0, 2, 3])      # the load above its store
    assert is_valid_schedule(graph, [2, 0, 1, 3])          # a pure op may move
    assert not is_valid_schedule(graph, [0, 1, 3])         # every op once


def test_schedule_moves_ops_only_as_far_as_the_edges_allow():
    graph = graph_of("""
        [i0, p1]
        i2 = int_add(i0, 1)
        guard_true(i0) [@code#1: i0, p1]
        i3 = int_mul(i2, 2)
        finish(i3, descr=done)
    """)
    assert schedule(graph) == [0, 1, 2, 3]
    graph.add_edge(1, 0, kind="order", kinds={"order"}, boxes=[])
    order = schedule(graph)
    assert order == [1, 0, 2, 3] and is_valid_schedule(graph, order)


# --- loop analyses -------------------------------------------------------------------

def test_loop_invariant_ops_on_a_counting_loop():
    graph = graph_of(COUNTING_LOOP)
    # i1 comes back unchanged: i5, i6 and the dead i8 depend on nothing that changes
    assert loop_invariant(graph) == {4, 5, 7}


def test_a_load_of_mutable_memory_is_not_invariant():
    graph = graph_of("""
        [i0, p1]
        label(i0, p1, descr=loop)
        p2 = getfield(p1, descr=Cell.a)
        p3 = same_as_r(p2)
        i4 = int_sub(i0, 1)
        jump(i4, p1, descr=loop)
    """)
    assert loop_invariant(graph) == set()


def test_induction_variables_on_a_counting_loop():
    (counter, accumulator) = sorted(induction_variables(graph_of(COUNTING_LOOP)),
                                    key=lambda iv: iv.positions)
    assert counter.positions == (0,) and counter.ops == [1] and counter.label == 0
    assert accumulator.positions == (2,) and accumulator.ops == [6]
    assert counter.boxes[0].kind == "i"


def test_values_that_swap_each_iteration_are_one_component():
    graph = graph_of("""
        [i0, i1]
        label(i0, i1, descr=loop)
        i2 = int_add(i1, 1)
        jump(i2, i0, descr=loop)
    """)
    (iv,) = induction_variables(graph)
    assert iv.positions == (0, 1) and iv.ops == [1]


def test_a_peeled_loop_is_analysed_from_the_body_label():
    graph = graph_of("""
        [i0, i1]
        label(i0, i1, descr=entry)
        i2 = int_mul(i1, 4)
        i3 = int_sub(i0, 1)
        jump(i3, descr=body)
        label(i3, descr=body)
        i4 = int_sub(i3, 1)
        i5 = int_add(i2, i1)
        i6 = int_gt(i4, 0)
        guard_true(i6) [@code#8: i4, i2, i1]
        jump(i4, descr=body)
    """)
    assert loops(graph) == [(4, 9)]
    assert has(graph, 4, 5, "data") and has(graph, 1, 6, "data")
    (iv,) = induction_variables(graph)
    assert iv.label == 4 and iv.positions == (0,) and iv.ops == [5]
    assert loop_invariant(graph) == {6}


def test_dead_ops_are_pure_ops_no_live_use_reaches():
    graph = graph_of(COUNTING_LOOP)
    assert dead_ops(graph) == {7}
    graph = graph_of("""
        [i0, p1]
        i2 = int_add(i0, 1)
        i3 = int_add(i2, 1)
        p4 = getfield(p1, descr=Cell.a)
        i5 = int_add_ovf(i0, 1)
        guard_no_overflow() [@code#3: i0]
        i6 = int_mul(i0, 3)
        guard_true(i0) [@code#5: i6]
        finish(descr=done)
    """)
    assert dead_ops(graph) == {0, 1, 2}       # i6 lives in a snapshot, i5 with its guard


# --- export --------------------------------------------------------------------------

def test_dot_lists_every_op_and_edge_kind():
    trace = parse_trace(COUNTING_LOOP)
    dot = to_dot(trace)
    assert dot.startswith('digraph "trace" {') and dot.rstrip().endswith("}")
    graph = trace_graph(trace)
    for node in range(len(trace.ops)):
        assert f'n{node} [label="{node}: {graph.nodes[node]["text"]}"' in dot
    assert "n8 -> n0" in dot and "constraint=false" in dot
    assert 'style="dotted"' in dot and 'style="dashed"' in dot


def test_html_is_one_self_contained_page_with_every_op():
    trace = parse_trace(COUNTING_LOOP)
    page = to_html(trace)
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    for ref in ("src=", "href=", "@import", "url("):
        assert ref not in page
    graph = trace_graph(trace)
    plain = html.unescape(re.sub(r"<[^>]+>", "", page))
    for node in range(len(trace.ops)):
        call, _, snapshot = graph.nodes[node]["text"].partition(" [")
        assert f'id="op-{node}"' in page
        assert call in plain and "[" + snapshot in plain
    # values are marked for highlighting, definitions apart from uses
    assert '<span class="v def" data-v="i3">i3</span> = int_add(' in page
    assert page.count('data-v="i3"') == 4   # defined, compared, in a snapshot, in the jump
    assert 'class="snap"' in page and "@code#3" in page
    assert page.count('<tr class="edge"') == trace_graph(trace).number_of_edges()


# --- on generated loops ----------------------------------------------------------------

@given(case=traces_with_inputs())
def test_generated_loops_are_scheduled_in_their_own_order(case):
    trace, _ = case
    graph = trace_graph(trace)
    assert graph.number_of_nodes() == len(trace.ops) + 1
    assert is_valid_schedule(graph, list(range(len(trace.ops))))
    assert schedule(graph) == list(range(len(trace.ops)))
    assert nx.is_directed_acyclic_graph(nx.subgraph_view(
        graph, filter_edge=lambda u, v: graph.edges[u, v]["kind"] != "back"))
    counters = [iv for iv in induction_variables(graph) if 0 in iv.positions]
    assert len(counters) == 1                 # the countdown
    assert not dead_ops(graph) & {n for n in graph if n != INPUTS
                                  and graph.nodes[n]["op"].is_guard()}
    page = to_html(trace)
    assert all(f'id="op-{n}"' in page for n in range(len(trace.ops)))
