"""The table every benchmark prints its figures in."""

from __future__ import annotations

from rich.table import Table


def figures_table(title: str, rows: list[tuple[str, str]]) -> Table:
    table = Table(title=title)
    table.add_column("measure")
    table.add_column("value", justify="right")
    for measure, value in rows:
        table.add_row(measure, value)
    return table
