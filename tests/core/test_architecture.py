"""The layout as a maintainer reads it (docs/architecture.md): imports go one way, no cycles,
and the names the original requests mandate are importable where the requests put them.

The import graph is read statically from every module's source, imports inside functions
included (a cycle hidden there is still a cycle)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("greg_core", "synthetic", "backtest", "greg_tui")
# Layers, lowest first: a module may import its own layer or lower ones only.
LAYERS: dict[str, int] = {
    "greg_core": 0,
    "synthetic": 1,
    "backtest.data": 2,
    "backtest.harvest": 3,
    "backtest.sensors": 3,
    "backtest.selector": 2,
    "backtest.outcomes": 4,
    "backtest.heatmaps": 5,
    "backtest.regimes": 5,
    "backtest": 6,  # the front modules
    "greg_tui": 7,
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def all_modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            found[module_name(path)] = path
    return found


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """Our modules imported anywhere in ``path`` (``from a.b import c`` counts a.b.c when it
    is a module, else a.b)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names if alias.name.split(".")[0] in PACKAGES)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] not in PACKAGES:
                continue
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                out.add(candidate if candidate in known else node.module)
    return {name for name in out if name in known}


def layer_of(module: str) -> tuple[str, int]:
    best = max((prefix for prefix in LAYERS if module == prefix or module.startswith(prefix + ".")), key=len)
    return best, LAYERS[best]


def import_graph() -> dict[str, set[str]]:
    modules = all_modules()
    known = set(modules)
    return {name: imported_modules(path, known) - {name} for name, path in modules.items()}


def test_imports_go_one_way():
    problems = []
    for module, imports in import_graph().items():
        layer, rank = layer_of(module)
        for target in imports:
            target_layer, target_rank = layer_of(target)
            if target_rank > rank and not target_layer.startswith(layer + ".") and layer != "backtest":
                problems.append(f"{module} ({layer}) imports {target} ({target_layer}), a higher layer")
            if layer == "backtest" and target_layer == "greg_tui":
                problems.append(f"{module} imports the app ({target})")
    assert problems == []


def test_no_import_cycles():
    graph = import_graph()
    # A module's package __init__ is not a dependency edge worth reporting; drop self-package edges.
    visiting, done, cycles = set(), set(), []

    def visit(node: str, stack: list[str]) -> None:
        if node in done:
            return
        if node in visiting:
            cycles.append(stack[stack.index(node):] + [node])
            return
        visiting.add(node)
        for target in sorted(graph.get(node, ())):
            visit(target, [*stack, node])
        visiting.discard(node)
        done.add(node)

    for module in sorted(graph):
        visit(module, [])
    assert cycles == []


MANDATED = {
    "backtest.environment_heatmap": (
        "HeatmapCell", "StrategyHeatmapCell", "MetricSample", "compute_environment_heatmap",
        "save_heatmap_csv", "load_metric_samples_for_underlying", "compute_strategy_heatmap_for_pair",
        "evaluate_greg_strategy_for_sample",
    ),
    "backtest.greg_sweetspots": ("run_greg_sweetspot_sweep", "DEFAULT_METRICS", "DEFAULT_STRATEGIES"),
    "backtest.market_data": ("load_history_csv", "load_harvested_chain"),
    "synthetic.regimes": (
        "RegimeParams", "cluster_greg_sensors_from_real_data", "fit_regime_params_from_clusters",
        "sample_regime_path", "evolve_iv_and_skew", "iv_for_delta",
    ),
}


@pytest.mark.parametrize("module", sorted(MANDATED))
def test_requested_names_are_importable_where_the_requests_put_them(module):
    loaded = importlib.import_module(module)
    missing = [name for name in MANDATED[module] if not hasattr(loaded, name)]
    assert missing == []


def test_default_strategies_are_the_spec_labels_in_the_requested_order():
    from backtest.greg_sweetspots import DEFAULT_STRATEGIES
    from backtest.selector.spec import load_selector_spec

    assert list(DEFAULT_STRATEGIES) == [
        "Strategy A: ATM Straddle",
        "Strategy B: OTM Strangle",
        "Strategy B: Calendar Spread",
        "Strategy C: Short Put Accumulation",
        "Strategy D: Iron Butterfly",
        "Strategy F: Bull Put Spread",
        "Strategy F: Bear Call Spread",
    ]
    assert set(DEFAULT_STRATEGIES) == set(load_selector_spec().strategies.values())


def test_every_error_derives_from_one_base():
    from greg_core import errors

    classes = [v for v in vars(errors).values() if isinstance(v, type) and issubclass(v, Exception)]
    assert all(issubclass(c, errors.GregError) for c in classes if not issubclass(c, Warning))


def test_code_points_at_docs_in_the_repository():
    for module, path in all_modules().items():
        text = path.read_text(encoding="utf-8")
        assert "PRODUCT.md" not in text, f"{module} points at PRODUCT.md (outside the repo)"
        for reference in {word.strip("(),.;:`'\"") for word in text.split() if word.startswith(("docs/", "(docs/"))}:
            reference = reference.lstrip("(")
            assert (ROOT / reference).exists(), f"{module} points at {reference}, which does not exist"
