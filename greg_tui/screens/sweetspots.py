"""The start screen: every sweet spot of the latest results, or how to get some."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import DataTable, Label, Select, Static

from greg_tui.areas import GridTarget
from greg_tui.markup import escape
from greg_tui.outcome_labels import OutcomeTrust, trust_by_underlying
from greg_tui.screens.area import AreaScreen
from greg_tui.widgets.sweetspots.rows import ALL, RowFilter, rows_from_records, short_label
from greg_tui.widgets.sweetspots.summary import manifest_summary
from greg_tui.widgets.sweetspots.table import SpotTable

FILTERS: tuple[tuple[str, str, str], ...] = (
    ("underlying", "u", "Und"),
    ("strategy", "t", "Strategy"),
    ("metric", "m", "Metric"),
)
WIDE = 120  # columns from which the table shows full names and the summary its parameters
AGE_REFRESH_SECONDS = 20.0  # the "(3 min ago)" of the results header stays current


def later_third_baselines(results) -> dict[str, float | None] | None:
    """Each underlying's later-third no-trade mean edge (the scorecard's walk-forward), what a
    sweet spot's later third must beat to hold up; None for a run without a scorecard."""
    underlyings = (results.scorecard or {}).get("underlyings") or {}
    if not underlyings:
        return None
    return {name: (card.get("walk_forward") or {}).get("later_third_no_trade_mean")
            for name, card in underlyings.items() if isinstance(card, dict)}


def held_up_of_rows(rows, baseline) -> tuple[int, int, int] | None:
    """How many of the table's sweet spots held up out of sample (docs/outcomes.md), from the
    verdict each row already carries (``markdown.held_up_counts``' sum); None for a run without
    a scorecard (no ``baseline``)."""
    if baseline is None:
        return None
    return len(rows), sum(row.held_up is not None for row in rows), sum(bool(row.held_up) for row in rows)


class SweetSpotsScreen(AreaScreen):
    MODE = "spots"
    HELP_WIDGETS = (SpotTable,)
    HELP_EXTRA = (("click a header", "sort by that column (again: reverse)"), ("↑ ↓ pgup pgdn", "move in the table"),
                  ("← →", "scroll the columns"), ("click a row", "open its grid"))
    BINDINGS = [
        Binding("u", "cycle_filter('underlying')", "Underlying", show=False),
        Binding("t", "cycle_filter('strategy')", "Strategy", show=False),
        Binding("m", "cycle_filter('metric')", "Metric", show=False),
        Binding("c", "clear_filters", "Clear filters", show=False),
    ]

    # Bound into the table (data_bind): which rows it shows, and short names when narrow.
    row_filter: reactive[RowFilter] = reactive(RowFilter())
    narrow: reactive[bool] = reactive(True)

    def __init__(self) -> None:
        super().__init__()
        self._filter_values: dict[str, list[str]] = {}
        self._shown: tuple | None = None  # (results, state) last drawn: the table is costly to rebuild
        self._trust: dict[str, OutcomeTrust] = {}  # what each underlying's outcomes are (labels)
        self._held_up: tuple[int, int, int] | None = None  # the walk-forward count (None: no outcomes)

    def compose_body(self) -> ComposeResult:
        with Vertical(id="spots-body"):
            yield Static("", id="spots-summary")
            with Horizontal(id="spot-filters"):
                for name, key, title in FILTERS:
                    yield Label(f"[b]{key}[/b] {title}", classes="filter-label")
                    yield Select([("all", ALL)], value=ALL, allow_blank=False,
                                 compact=True, id=f"filter-{name}", classes="filter-select")
                yield Label("", id="spot-sort")
            yield SpotTable(id="spot-table").data_bind(SweetSpotsScreen.row_filter, SweetSpotsScreen.narrow)
            yield Static("", id="spot-detail")
            yield Static("", id="spots-empty")

    def on_mount(self) -> None:
        self.watch(self.app, "results_loaded", self._results_changed, init=True)
        self.watch(self.app, "engine_ready", lambda _r: self._results_changed(), init=False)
        self.watch(self.app, "engine_error", lambda _e: self._results_changed(), init=False)
        self.set_interval(AGE_REFRESH_SECONDS, self._update_summary)

    def on_resize(self) -> None:
        self.narrow = self.size.width < WIDE
        self._update_summary()

    # ------------------------------------------------------------------ results
    def _results_changed(self, _loaded: int | None = None) -> None:
        app = self.app
        results, error = app.results, app.results_error
        state = (error, app.engine_ready, app.engine_error, app.results_loaded == 0)
        if self._shown is not None and self._shown[0] is results and self._shown[1] == state:
            return  # the same results again
        same_results = self._shown is not None and self._shown[0] is results
        self._shown = (results, state)
        table = self.query_one(SpotTable)
        self.set_class(results is None, "-empty")
        self.set_class(error is not None, "-error")
        self.query_one("#spots-empty", Static).update(self._empty_text())
        if results is None:
            table.set_rows([])
            self.query_one("#spots-summary", Static).update("")
            self.query_one("#spot-detail", Static).update("")
            return
        self._trust = trust_by_underlying(results, engine_ready=app.engine_ready)
        if same_results:  # only the engine's state changed (it loaded after the table): labels only
            self._update_summary()
            return
        baseline = later_third_baselines(results)
        rows = rows_from_records(results.records, baseline)  # each row judged held up or not once
        self._held_up = held_up_of_rows(rows, baseline)
        self._fill_filters(results)
        if self.size.width:  # the width known: the right names before the one rebuild
            self.narrow = self.size.width < WIDE
        table.set_rows(rows)
        self._update_summary()
        if table.row_count:
            self.call_after_refresh(table.focus)  # once it is displayed

    def _empty_text(self) -> str:
        app = self.app
        folder = escape(str(app.output_dir))
        if app.results_error is not None and app.engine_error is None:
            return (
                "[b]The saved results cannot be read.[/b]\n\n"
                f"{escape(app.results_error)}\n\n"
                f"Folder: {folder}\n\n"
                "Press [b]r[/b] to run a new scan (it replaces the damaged files), "
                "or [b]3[/b] to set one up first."
            )
        if app.engine_error is not None:
            return (
                "[b]The research engine cannot be loaded.[/b]\n\n"
                f"{escape(app.engine_error)}\n\n"
                "The app cannot run scans or read results without it; check the installation "
                "([b]uv sync[/b]) and start greg-tui again. [b]q[/b] quits."
            )
        if app.results_loaded == 0:  # the folder not read yet: the reader is still loading
            return (
                "[b]Loading the research engine...[/b]\n\n"
                f"The latest results in {folder} appear here in a moment.\n"
                "Keys pressed meanwhile ([b]r[/b] run, the number keys: areas, [b]?[/b] help) are carried out "
                "as soon as it is ready."
            )
        return (
            "[b]No sweet-spot results yet.[/b]\n\n"
            f"Nothing in {folder}.\n\n"
            "Press [b]r[/b] to run the default scan now (BTC and ETH, 8 sensors, all seven "
            "strategies, synthetic data; it takes a few seconds),\n"
            "or [b]3[/b] to choose underlyings, sensors, strategies, bins and data source first.\n\n"
            "From a shell: [b]greg-tui --export --base-dir "
            f"{escape(str(app.base_dir))}[/b] writes the same results (they appear here by themselves)."
        )

    def _fill_filters(self, results) -> None:
        params = results.manifest.get("parameters", {})
        options = {
            "underlying": [(u, u) for u in results.underlyings],
            "strategy": [(short_label(s["label"]), s["key"]) for s in results.strategies],
            "metric": [(m, m) for m in params.get("metrics", [])],
        }
        for name, _key, _title in FILTERS:
            select = self.query_one(f"#filter-{name}", Select)
            previous = select.value
            choices = [("all", ALL), *options[name]]
            self._filter_values[name] = [value for _label, value in choices]
            select.set_options(choices)
            select.value = previous if any(v == previous for _l, v in choices) else ALL

    def _update_summary(self) -> None:
        results = self.app.results
        if results is None:
            return
        table = self.query_one(SpotTable)
        self.query_one("#spots-summary", Static).update(
            manifest_summary(results.manifest, len(table.shown_rows), len(table.all_rows),
                             wide=self.size.width >= WIDE, trust=self._trust, held_up=self._held_up)
        )
        self._update_detail()

    def _update_detail(self) -> None:
        table = self.query_one(SpotTable)
        row = table.current_row
        detail = self.query_one("#spot-detail", Static)
        if row is None:
            detail.update("No sweet spot matches the filters (press [b]c[/b] to clear them)."
                          if table.all_rows else "This scan found no sweet spot; loosen the thresholds in setup ([b]3[/b]).")
        else:
            narrow = self.size.width < WIDE
            trust = self._trust.get(row.underlying) if not narrow else None  # narrow: the summary says it
            detail.update(row.describe(trust.label if trust else None, narrow) + "  [dim](enter: grid)[/dim]")

    @on(SpotTable.SortChanged)
    def _sort_changed(self) -> None:
        self.query_one("#spot-sort", Label).update(f"[b]s[/b] {self.query_one(SpotTable).sort_text}")

    # ------------------------------------------------------------------ filters
    @on(Select.Changed, ".filter-select")
    def _filter_changed(self) -> None:
        self.row_filter = RowFilter(
            underlying=self.query_one("#filter-underlying", Select).value,
            strategy=self.query_one("#filter-strategy", Select).value,
            metric=self.query_one("#filter-metric", Select).value,
        )
        self.call_after_refresh(self._update_summary)

    def action_cycle_filter(self, name: str) -> None:
        select = self.query_one(f"#filter-{name}", Select)
        values = self._filter_values.get(name, [])
        if not values:
            return
        index = values.index(select.value) if select.value in values else 0
        select.value = values[(index + 1) % len(values)]

    def action_clear_filters(self) -> None:
        for name, _key, _title in FILTERS:
            self.query_one(f"#filter-{name}", Select).value = ALL

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self) -> None:
        self._update_detail()

    async def on_spot_table_spot_chosen(self, message: SpotTable.SpotChosen) -> None:
        row = message.row
        target = GridTarget(row.underlying, row.strategy_key, (row.x_metric, row.y_metric),
                            (row.x_bin, row.y_bin) if row.x_bin is not None and row.y_bin is not None else None,
                            layer="pass")
        await self.app.open_grid(target)
