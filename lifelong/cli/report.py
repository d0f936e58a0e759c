"""``lifelong report``: rebuild tables, plots and report.html from saved results (no training)."""

from __future__ import annotations

import argparse
from pathlib import Path

from lifelong.cli._common import format_table

NAME = "report"
HELP = "rebuild the leaderboard, plots and report.html of run or comparison folders (no training)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "folders",
        nargs="+",
        metavar="RUN_OR_COMPARE_DIR",
        help="a run folder, a comparison folder, or several run folders to compare",
    )
    parser.add_argument(
        "--out",
        "-o",
        help="where to write (default: the folder itself; 'report' when several are given)",
    )
    parser.add_argument("--title", default="", help="title of report.html")


def main(args: argparse.Namespace) -> int:
    from lifelong.report.build import collect, write_comparison_report, write_run_report
    from lifelong.report.leaderboard import headings, is_language_model, table_rows

    collection = collect(args.folders)
    if collection.single_run is not None and not args.out:
        folder = collection.single_run
        write_run_report(folder, collection.records[0]["metrics"])
        print(f"report: {folder}/report.html, curves.png, heatmap.png")
        return 0
    out = Path(args.out or (args.folders[0] if len(args.folders) == 1 else "report"))
    entries = write_comparison_report(collection, out, title=args.title)
    print(format_table(headings(entries), table_rows(entries)))
    print(
        f"\nreport: {out}/report.html, leaderboard.csv, leaderboard.md, curves.png, heatmaps.png, "
        "bars.png" + ("" if is_language_model(entries) else ", cost.png")
    )
    return 0
