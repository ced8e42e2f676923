"""``graph_dot``: Graphviz DOT of a model's graph, checked by a small DOT reader (always)
and by Graphviz itself when the ``dot`` program is installed."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import modular_nn as mnn
from modular_nn.model.dot import graph_dot, quote

#: two inputs, a block placed twice, shared layers and a shared block, a merge
SIAMESE: dict[str, Any] = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "specs" / "siamese.json").read_text()
)

#: names that need quoting and escaping: quotes, a backslash, spaces, '/' from blocks
AWKWARD: dict[str, Any] = {
    "name": 'say "hi" \\ there',
    "inputs": {'left "eye"': [3], "b\\x": [3]},
    "blocks": {"twice": {"layers": [{"name": 'd "q"', "type": "dense", "units": 3}]}},
    "layers": [
        {"name": "m", "type": "concatenate", "inputs": ['left "eye"', "b\\x"]},
        {"name": "p", "type": "dense", "units": 3},
        {"name": "t t", "type": "block", "block": "twice", "repeat": 2},
        {"name": "head", "type": "dense", "units": 1},
    ],
}

TOKEN = re.compile(
    r'\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<arrow>->)|(?P<word>[\w.]+)|(?P<sym>[{}\[\];=,]))'
)


@dataclass
class Dot:
    """What a DOT text declares: nodes (with attributes and enclosing clusters), edges."""

    name: str = ""
    nodes: dict[str, dict[str, str]] = field(default_factory=dict)
    clusters_of: dict[str, list[str]] = field(default_factory=dict)
    edges: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    clusters: dict[str, str] = field(default_factory=dict)  # id -> label


def _unquote(token: str) -> str:
    """A quoted string's text as Graphviz shows it in a label: ``\\n`` a line break,
    ``\\"`` and ``\\\\`` a quote and a backslash."""
    if not token.startswith('"'):
        return token
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "r": "\r"}.get(m[1], m[1]), token[1:-1])


def tokenize(text: str) -> list[str]:
    tokens, position = [], 0
    while text[position:].strip():
        match = TOKEN.match(text, position)
        assert match, f"cannot read DOT at {text[position : position + 40]!r}"
        tokens.append(match.group(match.lastgroup))  # type: ignore[arg-type]
        position = match.end()
    return tokens


def parse_dot(text: str) -> Dot:
    """A reader for the DOT subset ``graph_dot`` writes; fails on anything unbalanced."""
    tokens = tokenize(text)
    assert tokens[0] == "digraph" and tokens[2] == "{" and tokens[-1] == "}"
    dot = Dot(name=_unquote(tokens[1]))
    stack: list[str] = []
    i = 3

    def attributes() -> dict[str, str]:
        nonlocal i
        found: dict[str, str] = {}
        if i < len(tokens) and tokens[i] == "[":
            i += 1
            while tokens[i] != "]":
                key, equals, value = tokens[i : i + 3]
                assert equals == "=", tokens[i : i + 3]
                found[key] = _unquote(value)
                i += 3
                if tokens[i] == ",":
                    i += 1
            i += 1
        return found

    while i < len(tokens) - 1:
        token = tokens[i]
        if token == "subgraph":
            cluster = _unquote(tokens[i + 1])
            assert tokens[i + 2] == "{", tokens[i : i + 3]
            stack.append(cluster)
            dot.clusters[cluster] = ""
            i += 3
        elif token == "}":
            assert stack, "a '}' closes nothing"
            stack.pop()
            i += 1
        elif token in ("graph", "node", "edge"):
            i += 1
            attributes()
            assert tokens[i] == ";"
            i += 1
        elif tokens[i + 1] == "=":  # a cluster's attribute
            if token == "label":
                dot.clusters[stack[-1]] = _unquote(tokens[i + 2])
            assert tokens[i + 3] == ";"
            i += 4
        elif tokens[i + 1] == "->":
            source, target = _unquote(token), _unquote(tokens[i + 2])
            i += 3
            dot.edges.append((source, target, attributes()))
            assert tokens[i] == ";"
            i += 1
        else:
            name = _unquote(token)
            assert token.startswith('"'), f"node {token} is not quoted"
            assert name not in dot.nodes, f"node {name!r} declared twice"
            i += 1
            dot.nodes[name] = attributes()
            dot.clusters_of[name] = list(stack)
            assert tokens[i] == ";"
            i += 1
    assert not stack, f"unclosed subgraphs {stack}"
    return dot


def check_structure(model: mnn.Model, text: str) -> Dot:
    """Braces balance, every input and node is declared once, every edge joins declared
    nodes, and the edges are exactly the graph's (plus dashed lines for shared uses)."""
    body = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)
    assert body.count("{") == body.count("}")
    dot = parse_dot(text)
    graph = model.graph
    assert list(dot.nodes) == [*graph.inputs, *(node.name for node in graph.nodes)]
    for source, target, _ in dot.edges:
        assert source in dot.nodes and target in dot.nodes, (source, target)
    data = [(s, t) for s, t, a in dot.edges if a.get("style") != "dashed"]
    assert data == [(value, node.name) for node in graph.nodes for value in node.inputs]
    shared = [(s, t) for s, t, a in dot.edges if a.get("style") == "dashed"]
    assert shared == [(node.owner, node.name) for node in graph.nodes if node.shares]
    return dot


def test_siamese_dot_structure() -> None:
    model = mnn.build_model(SIAMESE)
    dot = check_structure(model, graph_dot(model))
    assert dot.name == "siamese"
    assert dot.nodes["left"]["label"] == "left\ninput\n(None, 8, 8, 1)"
    assert dot.nodes["left"]["shape"] == "ellipse"
    assert dot.nodes["stem"]["label"] == "stem\nconv2d\n(None, 8, 8, 4)"
    # shared uses: the layer they apply, a dashed border
    assert dot.nodes["stem_r"]["label"] == "stem_r\nconv2d (shares stem)\n(None, 8, 8, 4)"
    assert dot.nodes["res_r/1/conv_a"]["style"] == "dashed"
    # block copies: in the placement's cluster, then their copy's
    assert dot.clusters_of["res/1/conv_a"] == ["cluster_res", "cluster_res/1"]
    assert dot.clusters_of["res/2/sum"] == ["cluster_res", "cluster_res/2"]
    assert dot.clusters_of["res_r/2/sum"] == ["cluster_res_r", "cluster_res_r/2"]
    assert dot.clusters["cluster_res"] == "res (residual)"
    assert dot.clusters_of["stem"] == dot.clusters_of["diff"] == []
    # the output, and only it, is marked
    marked = [name for name, attrs in dot.nodes.items() if attrs.get("peripheries") == "2"]
    assert marked == ["same"] and dot.nodes["same"]["label"].endswith("\noutput: same")


def test_names_with_quotes_backslashes_and_slashes_are_quoted_safely() -> None:
    model = mnn.build_model(AWKWARD)
    text = graph_dot(model)
    dot = check_structure(model, text)
    assert dot.name == 'say "hi" \\ there'
    assert {'left "eye"', "b\\x", 't t/1/d "q"', 't t/2/d "q"'} <= set(dot.nodes)
    assert dot.clusters_of['t t/1/d "q"'] == ["cluster_t t", "cluster_t t/1"]
    assert '"left \\"eye\\"" -> "m";' in text and '"b\\\\x" -> "m";' in text


def test_quote_escapes_what_dot_reads_specially() -> None:
    assert quote('a "b" \\ c\nd') == '"a \\"b\\" \\\\ c\\nd"'


def test_a_block_placed_once_has_no_copy_cluster_and_a_chain_has_none() -> None:
    spec = {
        "input_shape": [3],
        "blocks": {"mlp": {"layers": [{"name": "d", "type": "dense", "units": 3}]}},
        "layers": [{"name": "b", "type": "block", "block": "mlp"}],
    }
    model = mnn.build_model(spec)
    assert check_structure(model, graph_dot(model)).clusters_of["b/1/d"] == ["cluster_b"]
    chain = mnn.build_model({"input_shape": [2], "layers": [{"type": "dense", "units": 1}]})
    dot = check_structure(chain, graph_dot(chain))
    assert dot.clusters == {} and dot.nodes["dense_1"]["peripheries"] == "2"


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")
@pytest.mark.parametrize("spec", [SIAMESE, AWKWARD], ids=["siamese", "awkward-names"])
def test_graphviz_renders_it(spec: dict[str, Any]) -> None:
    model = mnn.build_model(spec)
    result = subprocess.run(
        ["dot", "-Tplain"], input=graph_dot(model), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and result.stderr == ""
    drawn = [line for line in result.stdout.splitlines() if line.startswith("node ")]
    assert len(drawn) == len(model.graph.inputs) + len(model.graph.nodes)
