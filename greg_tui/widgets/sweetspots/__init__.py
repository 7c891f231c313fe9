"""The sweet-spot table: rows, sorting, filters, summary."""
