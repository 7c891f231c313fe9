"""The sweet-spot DataTable: sortable by any column (keys or header click), filterable.

Its filter and width class are the screen's (bound with ``data_bind``); ``enter`` or a click
on a row posts ``SpotTable.SpotChosen`` for the screen to open the spot's grid.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual import on
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

from greg_tui.outcome_labels import THIN_STYLE
from greg_tui.widgets.sweetspots.rows import (
    COLUMN_BY_KEY,
    Column,
    RowFilter,
    SpotRow,
    columns_for,
    sorted_rows,
)


class _KeyedCell(str):
    """A cell value that remembers its row, so DataTable.sort can apply our own order."""

    row_key: str = ""


def _keyed(text: str, row_key: str) -> _KeyedCell:
    cell = _KeyedCell(text)
    cell.row_key = row_key
    return cell


class SpotTable(DataTable):
    """Every sweet spot of the loaded results; ``enter`` opens the spot's grid."""

    DEFAULT_CSS = """
    SpotTable {
        height: 1fr;
        scrollbar-size-vertical: 1;
    }
    """
    BINDINGS = [
        Binding("enter", "select_cursor", "Open grid", key_display="⏎"),
        Binding("s", "sort_next", "Sort", tooltip="Sort by the next column"),
        Binding("S", "reverse", "Reverse", tooltip="Reverse the sort order"),
    ]

    class SpotChosen(Message):
        """The user chose a sweet spot (enter or click on its row)."""

        def __init__(self, row: SpotRow) -> None:
            super().__init__()
            self.row = row

    class SortChanged(Message):
        """The sort column or direction changed (the screen says so outside the table)."""

    sort_column: reactive[str] = reactive("score")
    descending: reactive[bool] = reactive(True)
    row_filter: reactive[RowFilter] = reactive(RowFilter())
    narrow: reactive[bool] = reactive(False)  # short names and labels for a narrow terminal

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.all_rows: list[SpotRow] = []
        self.shown_rows: list[SpotRow] = []

    def set_rows(self, rows: list[SpotRow]) -> None:
        self.all_rows = list(rows)
        self._rebuild(keep_cursor=False)

    @property
    def sort_text(self) -> str:
        """'Score ▼': the sort column and direction, for a line outside the table."""
        return COLUMN_BY_KEY[self.sort_column].title(self.narrow) + (" ▼" if self.descending else " ▲")

    # ------------------------------------------------------------------ sorting
    def sort_by(self, column: str, descending: bool | None = None) -> None:
        if descending is None:
            descending = COLUMN_BY_KEY[column].numeric
        self.set_reactive(SpotTable.sort_column, column)
        self.set_reactive(SpotTable.descending, descending)
        self._resort()

    @property
    def shown_columns(self) -> tuple[Column, ...]:
        return columns_for(self.narrow)

    def action_sort_next(self, step: int = 1) -> None:
        keys = [column.key for column in self.shown_columns]
        index = keys.index(self.sort_column) + step if self.sort_column in keys else 0
        self.sort_by(keys[index % len(keys)])

    def action_reverse(self) -> None:
        self.descending = not self.descending

    def watch_descending(self) -> None:
        self._resort()

    def watch_row_filter(self) -> None:
        self._rebuild(keep_cursor=False)

    def watch_narrow(self) -> None:
        if self.sort_column not in {column.key for column in self.shown_columns}:
            # Sorted by a column a narrow table leaves out: back to the score, whose arrow shows.
            self.set_reactive(SpotTable.sort_column, "score")
            self.set_reactive(SpotTable.descending, True)
        self._rebuild()

    @on(DataTable.HeaderSelected)
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        column = str(event.column_key.value)
        if column == self.sort_column:
            self.descending = not self.descending
        else:
            self.sort_by(column)

    # ------------------------------------------------------------------ building
    def _label(self, column: Column) -> str:
        # Every label keeps a cell for the arrow, so re-sorting never changes widths.
        arrow = ("▼" if self.descending else "▲") if column.key == self.sort_column else " "
        return column.title(self.narrow) + arrow

    def _rebuild(self, keep_cursor: bool = True) -> None:
        """New rows, a new filter or a new width: rebuild the table (sorted). Column widths
        are measured here, from the text (DataTable's own lazy measuring can leave rows drawn
        at the header's width when they are drawn before it ran)."""
        if not self.is_mounted:
            return
        current = self.current_row if keep_cursor else None
        self.clear(columns=True)
        rows = [r for r in self.all_rows if self.row_filter.accepts(r)]
        self.shown_rows = sorted_rows(rows, self.sort_column, self.descending)
        narrow, columns = self.narrow, self.shown_columns
        table = [[column.text(row, narrow) for column in columns] for row in self.shown_rows]
        for index, column in enumerate(columns):
            label = self._label(column)
            width = max([cell_len(label), *(cell_len(cells[index]) for cells in table)])
            self.add_column(label, key=column.key, width=width)
        for row, cells in zip(self.shown_rows, table, strict=True):
            values: list[object] = [_keyed(cells[0], row.key)]
            for column, text in zip(columns[1:], cells[1:], strict=True):
                # A thin spot's outcome figures are set apart (and its edge marked ~).
                values.append(Text(text, style=THIN_STYLE) if column.outcome and row.thin else text)
            self.add_row(*values, key=row.key)
        if current is not None and current in self.shown_rows:
            self.move_cursor(row=self.shown_rows.index(current), animate=False)
        self.post_message(self.SortChanged())

    def _resort(self) -> None:
        """Only the order changed: reorder the rows in place (no re-measuring: fast) and go
        to the top."""
        if not self.is_mounted or not self.columns:
            return
        self.shown_rows = sorted_rows(self.shown_rows, self.sort_column, self.descending)
        for column in self.shown_columns:
            self.columns[ColumnKey(column.key)].label = Text(self._label(column))
        position = {row.key: index for index, row in enumerate(self.shown_rows)}
        self.sort(self.shown_columns[0].key, key=lambda cell: position[cell.row_key])
        self.move_cursor(row=0, animate=False)  # a new order starts at its top
        if self.shown_rows:  # row 0 may have been the cursor row already: say what it is now
            self.post_message(DataTable.RowHighlighted(self, 0, RowKey(self.shown_rows[0].key)))
        self.post_message(self.SortChanged())

    def on_mount(self) -> None:
        if self.all_rows:
            self._rebuild()

    @property
    def current_row(self) -> SpotRow | None:
        if not self.shown_rows or not 0 <= self.cursor_row < len(self.shown_rows):
            return None
        return self.shown_rows[self.cursor_row]

    @on(DataTable.RowSelected)
    def _open(self, event: DataTable.RowSelected) -> None:
        event.stop()
        row = self.current_row
        if row is not None:
            self.post_message(self.SpotChosen(row))
