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


def comparison_table(title: str, columns: list[str], rows: list[tuple[str, list[str]]]) -> Table:
    """One row per measure, one column per run: figures side by side."""
    table = Table(title=title)
    table.add_column("measure")
    for column in columns:
        table.add_column(column, justify="right")
    for measure, values in rows:
        table.add_row(measure, *values)
    return table
