"""The grid of one (underlying, strategy, pair), with a cursor and a side panel: occupancy,
pass rate, sweetness, or what happened after the strategy's days there (the outcome layers:
forward edge, structure P&L; docs/app.md "2 Grid")."""

from __future__ import annotations

import numpy as np
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, ScrollableContainer, Vertical
from textual.css.query import NoMatches
from textual.reactive import reactive
from textual.widgets import Static

from backtest.heatmaps.binning import PairGrid
from backtest.heatmaps.outcome_cells import CellOutcomes
from greg_tui.areas import RELOAD, GridTarget, hidden_from_footer
from greg_tui.grid_export import write_grid_csv
from greg_tui.markup import escape
from greg_tui.outcome_labels import OutcomeTrust, trust_by_underlying
from greg_tui.screens.area import AreaScreen
from greg_tui.widgets.grid.heatmap import LAYERS, OUTCOME_LAYERS, GridView, Heatmap
from greg_tui.widgets.grid.outcomes import (
    has_group,
    outcome_layer,
    outcome_legend,
    outcome_summary_line,
    outcome_text,
)
from greg_tui.widgets.grid.panel import cell_text, legend_text, no_samples_reason, title_text

MOVE = Binding.Group("Move", compact=True)


class GridViewport(ScrollableContainer, can_focus=False):
    """Scrolls the heatmap when it is bigger than the space (it sizes itself to fit)."""

    def on_resize(self, event: events.Resize) -> None:
        self.query_one(Heatmap).refresh(layout=True)


class GridScreen(AreaScreen):
    MODE = "grid"
    HELP_WIDGETS = (Heatmap,)
    HELP_EXTRA = (("← ↓ ↑ →", "move the cursor (same as h j k l)"), ("home end pgup pgdn", "jump to an edge of the grid"),
                  ("click a cell", "put the cursor on it"))
    BINDINGS = [
        Binding("h", "move(-1, 0)", "Left", group=MOVE),
        Binding("j", "move(0, -1)", "Down", group=MOVE),
        Binding("k", "move(0, 1)", "Up", group=MOVE),
        Binding("l", "move(1, 0)", "Right", group=MOVE),
        Binding("v", "cycle_layer", "Layer"),
        Binding("o", "layer('occupancy')", "Occupancy", show=False),
        Binding("p", "layer('pass')", "Pass rate", show=False),
        Binding("w", "layer('sweetness')", "Sweetness", show=False),
        Binding("e", "layer('edge')", "Edge", tooltip="Forward edge of the strategy's days per cell (vol pts)"),
        Binding("dollar_sign", "layer('pnl')", "P&L", key_display="$", show=False,
                tooltip="The strategy's structure P&L per cell (% of spot, held to expiry)"),
        Binding("n", "pair(1)", "Pair"),
        Binding("N", "pair(-1)", "Previous pair", show=False),
        Binding("t", "strategy(1)", "Strategy"),
        Binding("T", "strategy(-1)", "Previous strategy", show=False),
        Binding("u", "underlying(1)", "Underlying"),
        Binding("U", "underlying(-1)", "Previous underlying", show=False),
        Binding("x", "export", "Export", tooltip="Write this grid (every cell, with the layer) as CSV"),
        # The grid's own keys fill an 80-column footer: F5 still reloads here, unlisted, so
        # "q Quit" stays on screen.
        hidden_from_footer(RELOAD),
    ]

    underlying: reactive[str] = reactive("")
    strategy_key: reactive[str] = reactive("")
    pair_index: reactive[int] = reactive(0)
    layer: reactive[str] = reactive("occupancy")

    def __init__(self) -> None:
        super().__init__()
        self._grid: PairGrid | None = None  # the grid drawn (None: nothing, or no samples)
        self._column = 0  # its strategy's index in the stored arrays
        self._sweet: dict[tuple[int, int], int] = {}  # (x_bin, y_bin) -> sweet-spot rank
        self._cursor_placed = False  # until then, the cursor goes to the busiest cell
        # The pair's forward outcomes per cell by measure ("edge", "pnl"); None: none stored.
        self._outcomes: dict[str, CellOutcomes | None] = {}
        self._outcomes_of: tuple | None = None  # (results, underlying, pair) they were read for
        self._trust: dict[str, OutcomeTrust] = {}  # per underlying, for the loaded results

    def compose_body(self) -> ComposeResult:
        with Vertical(id="grid-main"):
            with Horizontal(id="grid-body"):
                with GridViewport(id="grid-viewport"):
                    yield Heatmap(id="heatmap")
                    yield Static("", id="grid-nodata")
                with Vertical(id="grid-side"):
                    yield Static("", id="grid-title")
                    yield Static("", id="grid-outcome")
                    yield Static("", id="grid-cell")
                    yield Static("", id="grid-legend")
            yield Static("", id="grid-empty")

    def on_mount(self) -> None:
        self.watch(self.app, "results_loaded", self._results_changed, init=True)
        self.watch(self.app, "theme", lambda _t: self._draw(), init=False)

    # ------------------------------------------------------------------ targets
    def show_target(self, target: GridTarget) -> None:
        """Show what ``target`` names (the rest stays), the cursor on its cell if it has one."""
        results = self.app.results
        if results is None:
            return
        if target.underlying in results.underlyings:
            self.set_reactive(GridScreen.underlying, target.underlying)
        if target.strategy_key in [s["key"] for s in results.strategies]:
            self.set_reactive(GridScreen.strategy_key, target.strategy_key)
        if target.pair is not None:
            pairs = results.pairs
            pair = target.pair if target.pair in pairs else target.pair[::-1]
            if pair in pairs:
                self.set_reactive(GridScreen.pair_index, pairs.index(pair))
        if target.layer in LAYERS and (target.layer not in OUTCOME_LAYERS or self.has_outcomes):
            self.set_reactive(GridScreen.layer, target.layer)
        self._draw()
        if target.cell is not None:
            self.query_one(Heatmap).cursor = target.cell
            self._cursor_placed = True
        self.query_one(Heatmap).focus()

    def _results_changed(self, _loaded: int) -> None:
        results = self.app.results
        self.set_class(results is None, "-empty")
        self.refresh_bindings()
        if results is None:
            error = self.app.results_error
            self.query_one("#grid-empty", Static).update(
                f"[b]No grid to show.[/b]\n\n{escape(error)}\n\nPress [b]r[/b] to run a new scan."
                if error else
                "[b]No grid to show yet.[/b]\n\nPress [b]r[/b] to run a scan (or [b]3[/b] to set one up); "
                "then pick a sweet spot in [b]1[/b] and press enter, or come back here."
            )
            self._grid = None
            return
        self._trust = trust_by_underlying(results)
        if self.layer in OUTCOME_LAYERS and not self.has_outcomes:  # an older run
            self.set_reactive(GridScreen.layer, "occupancy")
        if self.underlying not in results.underlyings:
            self.set_reactive(GridScreen.underlying, results.underlyings[0] if results.underlyings else "")
        keys = [s["key"] for s in results.strategies]
        if self.strategy_key not in keys:
            self.set_reactive(GridScreen.strategy_key, keys[0] if keys else "")
        if not 0 <= self.pair_index < len(results.pairs):
            self.set_reactive(GridScreen.pair_index, 0)
        self._draw()

    # ------------------------------------------------------------------ drawing
    def watch_underlying(self) -> None:
        self._draw()

    def watch_strategy_key(self) -> None:
        self._draw()

    def watch_pair_index(self) -> None:
        self._draw()

    def watch_layer(self) -> None:
        self._draw()

    @property
    def has_outcomes(self) -> bool:
        """The loaded results hold forward outcomes per cell (runs before them do not)."""
        results = self.app.results
        return results is not None and results.has_outcomes

    @property
    def min_episodes(self) -> int:
        return int(self.app.results.manifest.get("parameters", {}).get("min_episodes", 8))

    @property
    def horizon_days(self) -> int:
        return int(self.app.results.manifest.get("parameters", {}).get("horizon_days", 30))

    def _strategy(self) -> tuple[int, str, int]:
        strategies = self.app.results.strategies
        keys = [s["key"] for s in strategies]
        index = keys.index(self.strategy_key) if self.strategy_key in keys else 0
        return index, strategies[index]["label"], len(strategies)

    def _draw(self) -> None:
        try:
            heatmap = self.query_one(Heatmap)
        except NoMatches:  # not composed yet
            return
        results = self.app.results
        if results is None or not results.pairs or not results.strategies:
            heatmap.view = None
            return
        x_metric, y_metric = results.pairs[self.pair_index]
        column, label, n_strategies = self._strategy()
        try:
            grid = results.grid(self.underlying, x_metric, y_metric)
            column = results.strategy_index(self.strategy_key) if self.strategy_key else column
            _ = grid.selected[column]
            # They depend on the pair alone: read once per pair, not on every layer or strategy key.
            read_for = self._outcomes_of
            if read_for is None or read_for[0] is not results or read_for[1:] != (self.underlying, x_metric, y_metric):
                self._outcomes = {measure: results.cell_outcomes(self.underlying, x_metric, y_metric, measure)
                                  for measure in OUTCOME_LAYERS}
                self._outcomes_of = (results, self.underlying, x_metric, y_metric)
        except Exception as exc:  # a damaged grids file: say so in place of the grid
            self._grid = None
            heatmap.view = None
            self.query_one("#grid-cell", Static).update(f"[b]Cannot draw this grid:[/b]\n{escape(str(exc))}")
            return
        info = (results.manifest.get("underlyings") or {}).get(self.underlying)
        trust = self._trust.get(self.underlying) if self._outcomes["edge"] is not None else None
        title = title_text(self.underlying, label, grid, self.layer, self.pair_index + 1, len(results.pairs),
                           column + 1, n_strategies, self._count_mode(), info, trust)
        self.query_one("#grid-title", Static).update(title)
        if grid.total_samples == 0:  # a message instead of an empty grid
            self._grid = None
            self.set_class(True, "-nodata")
            reason = no_samples_reason(grid, info)
            source = (info or {}).get("description") or (info or {}).get("source") or "?"
            self.query_one("#grid-nodata", Static).update(
                f"[b]{escape(self.underlying)}: {escape(reason)}.[/b]\n\n"
                f"Data: {escape(str(source))}.\n"
                f"Press [b]n[/b] / [b]N[/b] for another pair, [b]u[/b] for another underlying; the sweet-spot "
                "summary ([b]1[/b]) lists the sensors this source lacks."
            )
            self.query_one("#grid-cell", Static).update(f"[b]{escape(reason)}[/b]")
            self.query_one("#grid-outcome", Static).update("")
            self.query_one("#grid-legend", Static).update("")
            self.refresh_bindings()
            return
        if self.has_class("-nodata"):
            self.set_class(False, "-nodata")
            self.refresh_bindings()
        self._grid, self._column = grid, column
        self._sweet = {
            (spot.x_bin, spot.y_bin): rank
            for record in results.records
            if record.underlying == self.underlying and record.strategy_key == self.strategy_key
            and (record.x_metric, record.y_metric) == (x_metric, y_metric)
            for rank, spot in enumerate(record.sweet_spots, start=1)
        }
        view = self._view(grid, column)
        heatmap.view = view
        if not self._cursor_placed:
            self._cursor_placed = True
            busiest = np.unravel_index(int(np.argmax(grid.counts)), grid.counts.shape)
            heatmap.cursor = (int(busiest[0]), int(busiest[1]))
        side, legend_widget = self.query_one("#grid-side"), self.query_one("#grid-legend", Static)
        # Outcome layers: the legend before the cell's ranges (their figures come first).
        side.move_child(legend_widget, after=side.query_one("#grid-outcome" if view.diverging else "#grid-cell"))
        if view.diverging:
            legend = outcome_legend(view, heatmap.palette, kind=self.layer, horizon_days=self.horizon_days,
                                    min_episodes=self.min_episodes)
        else:
            legend = legend_text(view, heatmap.palette)
        legend_widget.update(legend)
        self._update_cell(*heatmap.cursor)

    def _view(self, grid: PairGrid, column: int) -> GridView:
        """What the heatmap draws: the layer's values and the value of the fullest shade."""
        common = dict(x_metric=grid.x_metric, y_metric=grid.y_metric, x_edges=grid.x_edges, y_edges=grid.y_edges,
                      counts=grid.counts, layer=self.layer, sweet=self._sweet)
        if self.layer in OUTCOME_LAYERS:
            cells = self._outcomes.get(self.layer)
            if has_group(cells, self.strategy_key):
                layer = outcome_layer(cells, self.strategy_key, self.min_episodes)
                return GridView(**common, values=layer.values, scale_max=layer.scale_max, diverging=True,
                                present=layer.present, thin=layer.thin)
            empty = np.zeros(grid.shape, dtype=bool)  # no outcome for this strategy: every cell blank
            return GridView(**common, values=np.full(grid.shape, np.nan), scale_max=0.0, diverging=True,
                            present=empty, thin=empty)
        if self.layer == "pass":
            return GridView(**common, values=np.nan_to_num(grid.pass_rate[column]), scale_max=1.0)
        values = grid.occupancy if self.layer == "occupancy" else grid.sweetness[column]
        return GridView(**common, values=np.nan_to_num(values), scale_max=float(values.max()) if values.size else 0.0,
                        sqrt_scale=True)

    def _count_mode(self) -> str:
        return self.app.results.manifest.get("parameters", {}).get("count_mode", "selected")

    @on(Heatmap.CursorMoved)
    def _cursor_moved(self, event: Heatmap.CursorMoved) -> None:
        self._update_cell(event.x, event.y)

    def _update_cell(self, x: int, y: int) -> None:
        grid = self._grid
        if grid is None:
            return
        nx, ny = grid.counts.shape
        if not (0 <= x < nx and 0 <= y < ny):
            return
        outcome_layer_shown = self.layer in OUTCOME_LAYERS
        self.query_one("#grid-cell", Static).update(
            cell_text(grid, self._column, x, y, self._sweet.get((x, y)), compact=outcome_layer_shown)
        )
        if outcome_layer_shown:
            width = max(20, self.query_one("#grid-side").content_size.width or 28)
            text = outcome_text(self._outcomes.get(self.layer), self.strategy_key, x, y, kind=self.layer,
                                min_episodes=self.min_episodes, horizon_days=self.horizon_days, width=width)
        else:
            text = outcome_summary_line(self._outcomes.get("edge"), self.strategy_key, x, y, self.min_episodes) or ""
        panel = self.query_one("#grid-outcome", Static)
        panel.update(text)
        panel.display = bool(text)

    # ------------------------------------------------------------------ actions
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("move", "export"):
            return self.app.results is not None and not self.has_class("-nodata")
        if action in ("cycle_layer", "layer", "pair", "strategy", "underlying"):
            return self.app.results is not None  # nothing to switch without results
        return True

    def action_move(self, dx: int, dy: int) -> None:
        """hjkl when the heatmap lacks focus (it handles arrows and hjkl itself when focused)."""
        heatmap = self.query_one(Heatmap)
        heatmap.focus()
        heatmap.action_move(dx, dy)

    def action_cycle_layer(self) -> None:
        layers = LAYERS if self.has_outcomes else tuple(x for x in LAYERS if x not in OUTCOME_LAYERS)
        index = layers.index(self.layer) if self.layer in layers else -1
        self.layer = layers[(index + 1) % len(layers)]

    def action_layer(self, layer: str) -> None:
        if layer in OUTCOME_LAYERS and not self.has_outcomes:
            self.notify("These results have no forward outcomes (an older run). Press r to run the scan again; "
                        "it computes them.", title="No outcomes", severity="warning")
            return
        self.layer = layer

    def action_pair(self, step: int) -> None:
        results = self.app.results
        if results and results.pairs:
            self.pair_index = (self.pair_index + step) % len(results.pairs)

    def action_strategy(self, step: int) -> None:
        results = self.app.results
        if results and results.strategies:
            keys = [s["key"] for s in results.strategies]
            index = keys.index(self.strategy_key) if self.strategy_key in keys else 0
            self.strategy_key = keys[(index + step) % len(keys)]

    def action_underlying(self, step: int) -> None:
        results = self.app.results
        if results and results.underlyings:
            names = results.underlyings
            index = names.index(self.underlying) if self.underlying in names else 0
            self.underlying = names[(index + step) % len(names)]

    def action_export(self) -> None:
        """Write the grid on screen as CSV (every cell, the layer shown and the others)."""
        grid = self._grid
        if grid is None:
            self.notify("No grid on screen to export.", title="Nothing to export", severity="warning")
            return
        _index, label, _n = self._strategy()
        try:
            path = write_grid_csv(self.app.output_dir, grid, self._column, underlying=self.underlying,
                                  strategy_key=self.strategy_key, strategy_label=label, layer=self.layer,
                                  count_mode=self._count_mode(), sweet=self._sweet, edge=self._outcomes.get("edge"),
                                  pnl=self._outcomes.get("pnl"), min_episodes=self.min_episodes)
        except OSError as exc:
            self.notify(f"Cannot write the CSV: {exc}", title="Export failed", severity="error")
            return
        self.notify(f"{grid.counts.size} cells, layer {self.layer}: {path}", title="Grid exported", timeout=8)
