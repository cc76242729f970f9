"""`flask --app wsgi reports export WORKBOOK --out FILE [--fy YEAR] [--program CODE]`."""
from __future__ import annotations

import time

import click
from flask.cli import with_appcontext

from reporting import workbooks
from reporting.rollup import RollupParams


@click.group("reports", help="Roll-up workbooks.")
def reports_cli() -> None:
    pass


@reports_cli.command("export")
@click.argument("workbook", type=click.Choice(sorted(workbooks.WORKBOOKS)))
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True), help="File to write.")
@click.option("--fy", "fiscal_year", type=int, help="Fiscal year (default: all years).")
@click.option("--program", help="Program code, e.g. YCCR (default: all programs).")
@click.option("--include-submitted", is_flag=True, help="Also count submitted reports not yet accepted.")
@with_appcontext
def export_command(workbook: str, out: str, fiscal_year: int | None, program: str | None,
                   include_submitted: bool) -> None:
    """Write a workbook, the same file the dashboard's download gives for these filters."""
    params = RollupParams(fiscal_year=fiscal_year, program=program.upper() if program else None,
                          include_submitted=include_submitted)
    started = time.perf_counter()
    try:
        workbooks.build(workbook, params, out)
    except workbooks.WorkbookTooLarge as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Wrote {out} in {time.perf_counter() - started:.1f} s.")


COMMANDS = (reports_cli,)
