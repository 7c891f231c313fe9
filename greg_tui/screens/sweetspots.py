"""The start screen: every sweet spot of the latest results, or how to get some."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Label, Select, Static

from greg_tui.markup import escape
from greg_tui.screens.area import AreaScreen
from greg_tui.widgets.sweetspots.rows import ALL, RowFilter, rows_from_records, short_label
from greg_tui.widgets.sweetspots.summary import manifest_summary
from greg_tui.widgets.sweetspots.table import SpotTable

FILTERS: tuple[tuple[str, str, str], ...] = (
    ("underlying", "u", "Und"),
    ("strategy", "t", "Strategy"),
    ("metric", "m", "Metric"),
)


class SweetSpotsScreen(AreaScreen):
    MODE = "spots"
    HELP_WIDGETS = (SpotTable,)
    HELP_EXTRA = (("click a header", "sort by that column (again: reverse)"), ("↑ ↓ pgup pgdn", "move in the table"),
                  ("← →", "scroll the columns"))
    BINDINGS = [
        Binding("u", "cycle_filter('underlying')", "Underlying", show=False),
        Binding("t", "cycle_filter('strategy')", "Strategy", show=False),
        Binding("m", "cycle_filter('metric')", "Metric", show=False),
        Binding("c", "clear_filters", "Clear filters", show=False),
    ]

    def compose_body(self) -> ComposeResult:
        with Vertical(id="spots-body"):
            yield Static("", id="spots-summary")
            with Horizontal(id="spot-filters"):
                for name, key, title in FILTERS:
                    yield Label(f"[b]{key}[/b] {title}", classes="filter-label")
                    yield Select([("all", ALL)], value=ALL, allow_blank=False,
                                 compact=True, id=f"filter-{name}", classes="filter-select")
                yield Label("[b]c[/b] clear", classes="filter-label")
            yield SpotTable(id="spot-table")
            yield Static("", id="spot-detail")
            yield Static("", id="spots-empty")

    def on_resize(self) -> None:
        self.query_one(SpotTable).narrow = self.size.width < 120
        self._update_summary()

    def on_mount(self) -> None:
        self._filter_values: dict[str, list[str]] = {}
        self.watch(self.app, "results_version", self._results_changed, init=True)

    # ------------------------------------------------------------------ results
    def _results_changed(self, _version: int) -> None:
        app = self.app
        results, error = app.results, app.results_error
        state = (error, app.engine_ready, app.engine_error)
        shown = getattr(self, "_shown", None)
        if shown is not None and shown[0] is results and shown[1] == state:
            return  # the same results again (the table is costly to rebuild)
        self._shown = (results, state)
        table = self.query_one(SpotTable)
        empty = self.query_one("#spots-empty", Static)
        has_rows = results is not None
        self.set_class(not has_rows, "-empty")
        self.set_class(error is not None, "-error")
        if app.engine_error is not None:
            empty.update(
                "[b]The research engine cannot be loaded.[/b]\n\n"
                f"{escape(app.engine_error)}\n\n"
                "The app cannot run scans or read results without it; check the installation "
                "([b]uv sync[/b]) and start greg-tui again. [b]q[/b] quits."
            )
        elif not app.engine_ready:
            empty.update(
                "[b]Loading the research engine...[/b]\n\n"
                f"The latest results in {escape(str(app.output_dir))} appear here in a moment.\n"
                "Keys pressed meanwhile ([b]r[/b] run, [b]1-5[/b] areas, [b]?[/b] help) are carried out "
                "as soon as it is ready."
            )
        elif error is not None:
            empty.update(
                "[b]The saved results cannot be read.[/b]\n\n"
                f"{escape(error)}\n\n"
                f"Folder: {escape(str(app.output_dir))}\n\n"
                "Press [b]r[/b] to run a new scan (it replaces the damaged files), "
                "or [b]3[/b] to set one up first."
            )
        elif results is None:
            empty.update(
                "[b]No sweet-spot results yet.[/b]\n\n"
                f"Nothing in {escape(str(app.output_dir))}.\n\n"
                "Press [b]r[/b] to run the default scan now (BTC and ETH, 8 sensors, all seven "
                "strategies, synthetic data; it takes a few seconds),\n"
                "or [b]3[/b] to choose underlyings, sensors, strategies, bins and data source first.\n\n"
                "From a shell: [b]greg-tui --export --base-dir "
                f"{escape(str(app.base_dir))}[/b] writes the same results."
            )
        if results is None:
            table.set_rows([])
            self.query_one("#spots-summary", Static).update("")
            self.query_one("#spot-detail", Static).update("")
            return
        self._fill_filters(results)
        if self.size.width:  # the width known: the right names before the one rebuild
            table.set_reactive(SpotTable.narrow, self.size.width < 120)
        table.set_rows(rows_from_records(results.records))
        self._update_summary()
        if table.row_count:
            table.focus()

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
        table = self.query_one(SpotTable)
        if results is None:
            return
        self.query_one("#spots-summary", Static).update(
            manifest_summary(results.manifest, len(table.shown_rows), len(table.all_rows),
                             wide=self.size.width >= 120)
        )
        self._update_detail()

    def _update_detail(self) -> None:
        row = self.query_one(SpotTable).current_row
        detail = self.query_one("#spot-detail", Static)
        if row is None:
            table = self.query_one(SpotTable)
            detail.update("No sweet spot matches the filters (press [b]c[/b] to clear them)."
                          if table.all_rows else "This scan found no sweet spot; loosen the thresholds in setup ([b]3[/b]).")
        else:
            detail.update(row.describe() + "  [dim](enter: grid)[/dim]")

    # ------------------------------------------------------------------ filters
    @on(Select.Changed, ".filter-select")
    def _filter_changed(self) -> None:
        table = self.query_one(SpotTable)
        table.row_filter = RowFilter(
            underlying=self.query_one("#filter-underlying", Select).value,
            strategy=self.query_one("#filter-strategy", Select).value,
            metric=self.query_one("#filter-metric", Select).value,
        )
        self._update_summary()

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
