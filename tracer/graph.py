"""The trace graph: a ``networkx.DiGraph`` view of a trace's canonical op list.

The op list stays the trace; the graph is built from it on demand and never
written back.  A node per op, its id the op's index (``graph.nodes[i]["op"]``, and
``"text"``, the op's line in the text form); the node ``"inputs"`` defines the
trace's input boxes.  Edges carry ``kind``, and ``kinds``, the set of every reason
for the edge (a DiGraph has one edge per pair of nodes; ``kind`` is the first of
them in the order data, protects, order, back):

- ``data``: definition -> use, uses in guard snapshots included (``boxes`` lists
  the values carried).  A ``label`` redefines its arguments for the ops after it
  (it is the loop's phi), so a loop body's uses of a loop-carried value come from
  the label, and the label uses the value's definition before it.
- ``order``: what may not be swapped.  Consecutive ops of the ordered chain (guards,
  ops with side effects, calls that may raise, labels, jumps, finishes): a side
  effect never moves across a guard or another side effect.  A load after the last
  store or call that may write what it reads, and a store or call after the loads
  of what it overwrites.  An overflow-checked op before the guard that reads its
  overflow flag.
- ``protects``: a guard -> the later ops that rely on it: every op using a value
  the guard narrows.  ``guard_true(x)``/``guard_false(x)`` narrow ``x`` and, when
  ``x`` is a comparison or test, the compared values (so an array access is
  protected by its bounds guards and a division by its zero test);
  ``guard_value``/``guard_class``/``guard_nonnull``/``guard_isnull`` narrow their
  first argument; ``guard_no_overflow`` the result of the checked op before it;
  ``guard_no_exception`` the result of the call before it.
- ``back``: a ``jump`` -> the ``label`` of the same TargetDescr.

Every edge except ``back`` runs forward in the op list, so the identity order is
a valid schedule; ``schedule`` and ``is_valid_schedule`` check orders against the
graph.  ``loop_invariant``, ``induction_variables`` and ``dead_ops`` are the
analyses passes ask for, done with networkx (reachability, strongly connected
components).  ``to_dot`` and ``to_html`` export the graph for a person to read.
"""
from __future__ import annotations

import dataclasses
import html
import json
import re
from typing import Any, Iterable

import networkx as nx

from metajit.tracer.ir import Box, Flag, Op, Trace, Value
from metajit.tracer.text import Namer, format_op

INPUTS = "inputs"
EDGE_KINDS = ("data", "protects", "order", "back")

# Ops whose result is a truth value about their arguments: a guard on the result
# narrows the arguments too.
TESTS = frozenset({
    "int_lt", "int_le", "int_eq", "int_ne", "int_gt", "int_ge", "uint_lt", "uint_ge",
    "int_is_true", "int_is_zero", "int_to_bool", "float_lt", "float_le", "float_eq",
    "float_ne", "float_gt", "float_ge", "float_is_true", "ptr_eq", "ptr_ne",
})
NARROW_FIRST_ARG = frozenset({"guard_true", "guard_false", "guard_value", "guard_class",
                              "guard_nonnull", "guard_isnull"})
OVERFLOW_GUARDS = frozenset({"guard_no_overflow", "guard_overflow"})
EXCEPTION_GUARDS = frozenset({"guard_no_exception", "guard_exception"})

# What memory a heap op or call touches: ("field", name), ITEMS or LENGTH.  Field
# names are compared without their class, as the call effect sets name them.
ITEMS = ("items",)
LENGTH = ("length",)
EVERYTHING = None


def _resolve(value: Value) -> Value:
    return value.find() if isinstance(value, Box) else value


def _boxes(values: Iterable) -> list[Box]:
    return [v for v in (_resolve(v) for v in values) if isinstance(v, Box)]


def is_ordered(op: Op) -> bool:
    """Whether ``op`` is in the ordered chain: it may not move across another one."""
    spec = op.spec
    if spec.has(Flag.GUARD | Flag.SIDE_EFFECT | Flag.FINAL) or op.name == "label":
        return True
    return spec.has(Flag.CAN_RAISE) and getattr(op.descr, "can_raise", True)


def is_removable(op: Op) -> bool:
    """An op that only computes its result (a pure op or a load): it may go when
    nothing uses the result.  A checked op stays with its overflow guard."""
    spec = op.spec
    if is_ordered(op) or spec.has(Flag.CAN_OVERFLOW) or op.result is None:
        return False
    return spec.has(Flag.PURE) or spec.has(Flag.LOAD)


def read_key(op: Op):
    """The memory a load reads, or None for an op that reads none."""
    if op.name == "getfield":
        return ("field", op.descr.name)
    if op.name.startswith("getarrayitem_"):
        return ITEMS
    if op.name == "arraylen":
        return LENGTH
    return None


def write_keys(op: Op):
    """The memory an op may write: a frozenset of keys (empty for none), or
    EVERYTHING for a call that may write anything."""
    if op.name == "setfield":
        return frozenset({("field", op.descr.name)})
    if op.name.startswith("setarrayitem_"):
        return frozenset({ITEMS})
    if op.spec.has(Flag.CALL) and op.spec.has(Flag.SIDE_EFFECT):
        writes = getattr(op.descr, "writes", None)
        if writes is None:
            return EVERYTHING
        keys = set()
        for name in writes:
            keys.update((ITEMS, LENGTH) if name == "[]" else {("field", name)})
        return frozenset(keys)
    return frozenset()


# --- building the graph ------------------------------------------------------------

def _add_edge(graph: nx.DiGraph, u, v, kind: str, box: Box | None = None) -> None:
    if graph.has_edge(u, v):
        data = graph.edges[u, v]
        data["kinds"].add(kind)
    else:
        graph.add_edge(u, v, kind=kind, kinds={kind}, boxes=[])
        data = graph.edges[u, v]
    if box is not None and all(b is not box for b in data["boxes"]):
        data["boxes"].append(box)


def _narrowed(op: Op, index: int, ops: list[Op], definition: dict) -> list[Box]:
    """The values a guard narrows (see the module docstring)."""
    if op.name in NARROW_FIRST_ARG:
        first = _resolve(op.args[0])
        if not isinstance(first, Box):
            return []
        out = [first]
        if op.name in ("guard_true", "guard_false"):
            source = definition.get(first)
            if isinstance(source, int) and ops[source].name in TESTS \
                    and ops[source].result is first:
                out.extend(_boxes(ops[source].args))
        return out
    wanted = (Flag.CAN_OVERFLOW if op.name in OVERFLOW_GUARDS else
              Flag.CALL if op.name in EXCEPTION_GUARDS else None)
    if wanted is None:
        return []
    for before in range(index - 1, -1, -1):
        prev = ops[before]
        if prev.spec.has(wanted):
            return [prev.result] if prev.result is not None else []
        if is_ordered(prev):
            return []
    return []


def trace_graph(trace: Trace) -> nx.DiGraph:
    """The graph of ``trace`` (see the module docstring for nodes and edges)."""
    graph = nx.DiGraph(trace=trace)
    namer = Namer(trace)
    inputs_text = "[" + ", ".join(namer.define(box) for box in trace.inputargs) + "]"
    graph.add_node(INPUTS, op=None, text=inputs_text, name="inputs")
    for index, op in enumerate(trace.ops):
        graph.add_node(index, op=op, text=format_op(op, namer), name=op.name)
    graph.graph["names"] = namer.boxes      # Box -> its name in the text

    ops = trace.ops
    definition: dict[Box, Any] = {box: INPUTS for box in trace.inputargs}
    labels: dict[int, int] = {}
    narrowed_by: dict[Box, list[int]] = {}
    previous_ordered = None
    last_writer: dict = {}
    any_writer = None
    readers: dict = {}
    pending_overflow = None

    for index, op in enumerate(ops):
        # data: from each value's definition (args, then the snapshot's values)
        used = _boxes(op.args)
        if op.snapshot is not None:
            used.extend(_boxes(op.snapshot.boxes()))
        for box in used:
            source = definition.get(box)
            if source is not None:
                _add_edge(graph, source, index, "data", box)
        # protects: from every guard that narrowed a value this op uses
        if not (op.is_guard() or op.spec.has(Flag.FINAL) or op.name == "label"):
            for box in _boxes(op.args):
                for guard in narrowed_by.get(box, ()):
                    _add_edge(graph, guard, index, "protects")
        # order: the chain, the overflow flag, and memory
        if is_ordered(op):
            if previous_ordered is not None:
                _add_edge(graph, previous_ordered, index, "order")
            previous_ordered = index
        if op.spec.has(Flag.CAN_OVERFLOW):
            pending_overflow = index
        elif op.name in OVERFLOW_GUARDS and pending_overflow is not None:
            _add_edge(graph, pending_overflow, index, "order")
            pending_overflow = None
        key = read_key(op)
        if key is not None:
            writer = last_writer.get(key, any_writer)
            if writer is not None:
                _add_edge(graph, writer, index, "order")
            readers.setdefault(key, []).append(index)
        keys = write_keys(op)
        if keys is EVERYTHING:
            for reads in readers.values():
                for reader in reads:
                    if reader != index:
                        _add_edge(graph, reader, index, "order")
            readers.clear()
            last_writer.clear()
            any_writer = index
        else:
            for written in keys:
                for reader in readers.pop(written, ()):
                    if reader != index:
                        _add_edge(graph, reader, index, "order")
                last_writer[written] = index
        # definitions and narrowing for the ops after this one
        if op.is_guard():
            for box in _narrowed(op, index, ops, definition):
                narrowed_by.setdefault(box, []).append(index)
        if op.name == "label":
            if op.descr is not None:
                labels[id(op.descr)] = index
            for box in _boxes(op.args):
                definition[box] = index
                narrowed_by.pop(box, None)
        if op.result is not None:
            definition[op.result] = index
        if op.name == "jump" and op.descr is not None and id(op.descr) in labels:
            _add_edge(graph, index, labels[id(op.descr)], "back")
    return graph


def edges_of(graph: nx.DiGraph, kind: str) -> list[tuple]:
    """The edges that have ``kind`` among their reasons."""
    if kind not in EDGE_KINDS:
        raise ValueError(f"unknown edge kind {kind!r}; known: {', '.join(EDGE_KINDS)}")
    return [(u, v) for u, v, kinds in graph.edges(data="kinds") if kind in kinds]


def _view(graph: nx.DiGraph, *kinds: str) -> nx.DiGraph:
    """The graph with only the edges of the given kinds (a read-only view)."""
    wanted = set(kinds)
    return nx.subgraph_view(graph, filter_edge=lambda u, v: bool(graph.edges[u, v]["kinds"]
                                                                  & wanted))


def _forward(graph: nx.DiGraph) -> nx.DiGraph:
    return _view(graph, "data", "protects", "order")


def _op_nodes(graph: nx.DiGraph) -> list[int]:
    return sorted(n for n in graph.nodes if n != INPUTS)


# --- scheduling ----------------------------------------------------------------------

def schedule(graph: nx.DiGraph) -> list[int]:
    """A topological order of the ops, ignoring back edges; among the ops that may
    come next the earliest in the trace goes first, so a trace whose own order is
    valid gets it back unchanged."""
    order = nx.lexicographical_topological_sort(
        _forward(graph), key=lambda n: -1 if n == INPUTS else n)
    return [n for n in order if n != INPUTS]


def is_valid_schedule(graph: nx.DiGraph, order: list[int]) -> bool:
    """Whether ``order`` lists every op once and puts each op after everything
    its data, order and protects edges say must come first."""
    if sorted(order) != _op_nodes(graph):
        return False
    position = {node: n for n, node in enumerate(order)}
    position[INPUTS] = -1
    return all(position[u] < position[v] for u, v in _forward(graph).edges)


# --- loops ---------------------------------------------------------------------------

def loops(graph: nx.DiGraph) -> list[tuple[int, int]]:
    """Each loop as (label node, jump node), from the back edges."""
    return sorted((label, jump) for jump, label in edges_of(graph, "back"))


def _is_hoistable(op: Op) -> bool:
    """An op whose value depends on its arguments only (pure, or a load of
    immutable memory)."""
    if op.result is None or is_ordered(op):
        return False
    if op.spec.has(Flag.LOAD):
        return bool(getattr(op.descr, "immutable", False))
    return op.spec.has(Flag.PURE)


def loop_invariant(graph: nx.DiGraph) -> set[int]:
    """The ops of each loop body whose value is the same in every iteration: pure
    ops (and loads of immutable memory) that no loop-carried value the jump
    changes and no in-loop load, call or allocation reaches through data edges.
    (A label argument the jump passes back unchanged is itself invariant.)
    Moving one out of the loop must still respect its order and protects edges."""
    data = _view(graph, "data").copy()
    invariant: set[int] = set()
    for label, jump in loops(graph):
        body = range(label + 1, jump)
        label_args = [_resolve(a) for a in graph.nodes[label]["op"].args]
        jump_args = [_resolve(a) for a in graph.nodes[jump]["op"].args]
        changing = {box for k, box in enumerate(label_args)
                    if k >= len(jump_args) or jump_args[k] is not box}
        sources = [n for n in body if not _is_hoistable(graph.nodes[n]["op"])]
        sources += [v for _, v, boxes in data.out_edges(label, data="boxes")
                    if v in body and any(box in changing for box in boxes)]
        data.add_node("__variant__")
        data.add_edges_from(("__variant__", n) for n in sources)
        variant = nx.descendants(data, "__variant__")
        data.remove_node("__variant__")
        invariant.update(n for n in body if n not in variant
                         and _is_hoistable(graph.nodes[n]["op"]))
    return invariant


@dataclasses.dataclass
class InductionVariable:
    """Loop-carried values that each iteration computes from their own previous
    values: ``positions`` in the label's arguments (``boxes``), and the ops of the
    cycle (trace order) that lead from the label back to the jump."""
    label: int
    positions: tuple[int, ...]
    boxes: list[Box]
    ops: list[int]


def induction_variables(graph: nx.DiGraph) -> list[InductionVariable]:
    """The strongly connected components through back edges, one label argument
    at a time: the label and the jump are split into one node per argument
    position, so two independent counters are two induction variables."""
    found = []
    for label, jump in loops(graph):
        label_op = graph.nodes[label]["op"]
        jump_op = graph.nodes[jump]["op"]
        label_args = [_resolve(a) for a in label_op.args]
        position_of = {box: k for k, box in enumerate(label_args)}
        body = set(range(label + 1, jump))
        cycle_graph = nx.DiGraph()
        for k in range(len(label_args)):
            cycle_graph.add_node(("arg", k))
        for u, v, boxes in _view(graph, "data").edges(data="boxes"):
            if v not in body:
                continue
            if u in body:
                cycle_graph.add_edge(u, v)
            elif u == label:
                for box in boxes:
                    cycle_graph.add_edge(("arg", position_of[box]), v)
        defined_in_body = {graph.nodes[n]["op"].result: n for n in body
                           if graph.nodes[n]["op"].result is not None}
        for k, value in enumerate(jump_op.args[:len(label_args)]):
            value = _resolve(value)
            if value in position_of:
                cycle_graph.add_edge(("arg", position_of[value]), ("arg", k))
            elif value in defined_in_body:
                cycle_graph.add_edge(defined_in_body[value], ("arg", k))
        for component in nx.strongly_connected_components(cycle_graph):
            positions = sorted(n[1] for n in component if isinstance(n, tuple))
            cycle_ops = sorted(n for n in component if not isinstance(n, tuple))
            if positions and cycle_ops:
                found.append(InductionVariable(label, tuple(positions),
                                               [label_args[k] for k in positions], cycle_ops))
    return found


# --- dead code -----------------------------------------------------------------------

def dead_ops(graph: nx.DiGraph) -> set[int]:
    """The removable ops (pure ops and loads) whose results reach no live op through
    data edges (uses in snapshots count: a guard keeps its snapshot's values)."""
    data = _view(graph, "data").copy()
    removable = {n for n in _op_nodes(graph) if is_removable(graph.nodes[n]["op"])}
    data.add_node("__live__")
    data.add_edges_from((n, "__live__") for n in _op_nodes(graph) if n not in removable)
    live = nx.ancestors(data, "__live__")
    return removable - live


# --- export --------------------------------------------------------------------------

_DOT_STYLE = {
    "data": 'color="black"',
    "protects": 'color="red3", style="dotted"',
    "order": 'color="gray50", style="dashed"',
    "back": 'color="blue", style="bold", constraint=false',
}


def _dot_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\l") + '"'


def _graph_of(trace_or_graph) -> nx.DiGraph:
    if isinstance(trace_or_graph, nx.DiGraph):
        return trace_or_graph
    return trace_graph(trace_or_graph)


def _box_names(graph: nx.DiGraph, boxes: list[Box]) -> str:
    names = graph.graph["names"]
    return ", ".join(names.get(box, "?") for box in boxes)


def to_dot(trace) -> str:
    """The graph in Graphviz's DOT language (``dot -Tsvg`` draws it): one box per
    op with its text, guards as octagons, edges styled by kind."""
    graph = _graph_of(trace)
    name = getattr(graph.graph.get("trace"), "name", "trace")
    lines = [f"digraph {_dot_string(name)} {{",
             '  node [shape=box, fontname="monospace", fontsize=10];',
             '  edge [fontname="monospace", fontsize=8];',
             f'  inputs [label={_dot_string(graph.nodes[INPUTS]["text"])}, shape=ellipse];']
    for node in _op_nodes(graph):
        op = graph.nodes[node]["op"]
        shape = ', shape=octagon' if op.is_guard() else ""
        lines.append(f"  n{node} [label={_dot_string(f'{node}: ' + graph.nodes[node]['text'])}"
                     f"{shape}];")
    for u, v, data in graph.edges(data=True):
        for kind in EDGE_KINDS:
            if kind not in data["kinds"]:
                continue
            label = f', label={_dot_string(_box_names(graph, data["boxes"]))}' \
                if kind == "data" and data["boxes"] else ""
            source = "inputs" if u == INPUTS else f"n{u}"
            target = "inputs" if v == INPUTS else f"n{v}"
            lines.append(f"  {source} -> {target} [{_DOT_STYLE[kind]}{label}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


_BOX_TOKEN = re.compile(r"(?<![\w.#@])([ifp]\d+)(?![\w.])")

_CSS = """
body { font-family: sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; }
td, th { padding: 1px 8px; vertical-align: top; text-align: left; }
.ops td.code { font-family: monospace; white-space: pre; }
.ops td.idx { color: #888; text-align: right; font-family: monospace; }
.ops tr.guard td.code { color: #7a3e00; }
.snap { color: #666; padding-left: 2em; }
.v { cursor: pointer; border-radius: 3px; }
.v.hl { background: #ffe58a; }
.v.def.hl { background: #ffb300; font-weight: bold; }
.v.pinned { outline: 2px solid #ff6f00; }
tr.sel { background: #dbeafe; }
tr.pred { background: #e8f5e9; }
tr.succ { background: #fde8e8; }
.edges td { font-family: monospace; }
.kind-data { color: black; } .kind-order { color: #666; }
.kind-protects { color: #b00020; } .kind-back { color: #1040c0; }
.legend span { margin-right: 1.5em; }
"""

_JS = """
(function () {
  var pinned = null;
  function each(selector, fn) { document.querySelectorAll(selector).forEach(fn); }
  function uses(name) { return '.v[data-v="' + name + '"]'; }
  function mark(name, on) { each(uses(name), function (e) { e.classList.toggle('hl', on); }); }
  function tag(id, cls) {
    var row = document.getElementById('op-' + id);
    if (row) row.classList.add(cls);
  }
  each('.v', function (e) {
    var name = e.getAttribute('data-v');
    e.addEventListener('mouseenter', function () { if (!pinned) mark(name, true); });
    e.addEventListener('mouseleave', function () { if (!pinned) mark(name, false); });
    e.addEventListener('click', function (ev) {
      ev.stopPropagation();
      if (pinned) {
        mark(pinned, false);
        each('.v.pinned', function (p) { p.classList.remove('pinned'); });
      }
      if (pinned === name) { pinned = null; return; }
      pinned = name;
      mark(name, true);
      each(uses(name), function (p) { p.classList.add('pinned'); });
    });
  });
  var edges = JSON.parse(document.getElementById('edge-data').textContent);
  each('tr[data-node]', function (row) {
    row.addEventListener('click', function () {
      var node = row.getAttribute('data-node');
      each('tr.sel, tr.pred, tr.succ', function (r) { r.classList.remove('sel', 'pred', 'succ'); });
      row.classList.add('sel');
      edges.forEach(function (e) {
        if (String(e[0]) === node) tag(e[1], 'succ');
        if (String(e[1]) === node) tag(e[0], 'pred');
      });
      each('tr.edge', function (r) {
        var from = r.getAttribute('data-from'), to = r.getAttribute('data-to');
        r.classList.toggle('sel', from === node || to === node);
      });
    });
  });
})();
"""


def _html_code(text: str, known: set[str], defines: set[str]) -> str:
    def span(match):
        name = match.group(1)
        if name not in known:
            return name
        cls = "v def" if name in defines else "v"
        return f'<span class="{cls}" data-v="{name}">{name}</span>'
    return _BOX_TOKEN.sub(span, html.escape(text, quote=False))


def to_html(trace) -> str:
    """One self-contained page (no external assets): the ops as text, each guard
    with its snapshot, the edges listed.  Hovering a value highlights its
    definition and uses (click pins it); clicking an op marks the ops its edges
    come from (green) and go to (red)."""
    graph = _graph_of(trace)
    title = html.escape(getattr(graph.graph.get("trace"), "name", "trace"))
    names = graph.graph["names"]
    known = set(names.values())
    rows = []

    def row(node, index_text, code_html, classes=""):
        rows.append(f'<tr id="op-{node}" data-node="{node}" class="{classes}">'
                    f'<td class="idx">{index_text}</td><td class="code">{code_html}</td></tr>')

    inputs_text = graph.nodes[INPUTS]["text"]
    row(INPUTS, "in", _html_code(inputs_text, known, set(_BOX_TOKEN.findall(inputs_text))))
    for node in _op_nodes(graph):
        op = graph.nodes[node]["op"]
        text = graph.nodes[node]["text"]
        defines = set()
        if op.result is not None:
            defines.add(names.get(op.result, ""))
        if op.name == "label":
            defines.update(names.get(b, "") for b in _boxes(op.args))
        if op.snapshot is not None and " [" in text:
            call, _, snap = text.partition(" [")
            code = (_html_code(call, known, defines) + '<div class="snap">resume: '
                    + _html_code("[" + snap, known, set()) + "</div>")
        else:
            code = _html_code(text, known, defines)
        row(node, str(node), code, "guard" if op.is_guard() else "")

    edge_rows = []
    edge_list = []
    for u, v, data in sorted(graph.edges(data=True), key=lambda e: (
            -1 if e[0] == INPUTS else e[0], -1 if e[1] == INPUTS else e[1])):
        kinds = [k for k in EDGE_KINDS if k in data["kinds"]]
        edge_list.append([u, v, kinds])
        kind_html = " ".join(f'<span class="kind-{k}">{k}</span>' for k in kinds)
        edge_rows.append(f'<tr class="edge" data-from="{u}" data-to="{v}"><td>{u}</td>'
                         f'<td>{v}</td><td>{kind_html}</td>'
                         f'<td>{html.escape(_box_names(graph, data["boxes"]))}</td></tr>')
    edge_json = json.dumps(edge_list).replace("</", "<\\/")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>{_CSS}</style></head>
<body>
<h1>{title}</h1>
<p>Hover a value to highlight its definition (bold) and its uses; click it to pin.
Click an op to mark the ops its edges come from (green) and go to (red).</p>
<table class="ops">
{chr(10).join(rows)}
</table>
<h2>Edges</h2>
<p class="legend"><span class="kind-data">data: definition &rarr; use</span>
<span class="kind-order">order: may not be swapped</span>
<span class="kind-protects">protects: guard &rarr; an op relying on it</span>
<span class="kind-back">back: jump &rarr; label</span></p>
<table class="edges"><tr><th>from</th><th>to</th><th>kind</th><th>values</th></tr>
{chr(10).join(edge_rows)}
</table>
<script type="application/json" id="edge-data">{edge_json}</script>
<script>{_JS}</script>
</body></html>
"""
