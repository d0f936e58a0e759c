"""``lifelong data``: download datasets (verified) and check which ones are present and valid.

``lifelong data download NAME...`` fetches MNIST, Fashion-MNIST, CIFAR-10/100 or WordNet 3.0 into the
data root (``--data-root``, else ``$LIFELONG_DATA``, else ``~/.cache/lifelong``), verifies every file
and renames it into place; files already present and valid are kept, missing or corrupt ones are
fetched. ``lifelong data check [NAME...]`` reports each dataset as valid, missing, incomplete or
corrupt (exit status 1 when one is corrupt, or when a dataset named on the command line is not valid).
"""

from __future__ import annotations

import argparse

from lifelong.cli._common import format_table

NAME = "data"
HELP = "download datasets (verified) or check which are present: data download NAME... | data check"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from lifelong.data.catalog import NAMES

    names = ", ".join(NAMES)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    download = actions.add_parser(
        "download", help="fetch and verify datasets", description="Fetch and verify datasets."
    )
    download.add_argument("names", nargs="+", metavar="NAME", help=f"datasets: {names}")
    download.add_argument(
        "--timeout",
        type=float,
        default=1800.0,
        metavar="SECONDS",
        help="deadline for all downloads of this command (default 1800)",
    )
    download.add_argument(
        "--retries", type=int, default=2, help="retries per mirror after a transient error"
    )
    download.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    check = actions.add_parser(
        "check",
        help="say which datasets are present and valid",
        description="Say which datasets are present and valid (digests verified).",
    )
    check.add_argument("names", nargs="*", metavar="NAME", help=f"datasets (default: all): {names}")
    for sub in (download, check):
        sub.add_argument("--data-root", help="data folder (else $LIFELONG_DATA, else user cache)")


def _status(problems: dict[str, str], total: int) -> tuple[str, str]:
    """(status, detail) of a dataset from its files' problems."""
    missing = [name for name, problem in problems.items() if problem == "missing"]
    corrupt = {name: problem for name, problem in problems.items() if problem != "missing"}
    if corrupt:
        name, problem = next(iter(corrupt.items()))
        more = f" (and {len(corrupt) - 1} more)" if len(corrupt) > 1 else ""
        return "corrupt", f"{problem}{more}"
    if len(missing) == total:
        return "missing", ""
    if missing:
        return "incomplete", "missing " + ", ".join(missing)
    return "valid", f"{total} file{'s' * (total > 1)} verified"


def _check(args: argparse.Namespace) -> int:
    from lifelong.data.catalog import catalog, lookup
    from lifelong.data.files import data_root

    root = data_root(args.data_root)
    entries = lookup(args.names) if args.names else list(catalog().values())
    where = f" --data-root {args.data_root}" if args.data_root else ""
    rows, failed = [], False
    for entry in entries:
        status, detail = _status(entry.problems(root / entry.name), len(entry.files))
        if status in ("missing", "incomplete"):
            detail = "; ".join(
                filter(None, [detail, f"get it: lifelong data download {entry.name}{where}"])
            )
        failed |= status == "corrupt" or (bool(args.names) and status != "valid")
        rows.append([entry.name, status, str(root / entry.name), detail])
    print(f"data root: {root}\n")
    print(format_table(["dataset", "status", "folder", "detail"], rows))
    return 1 if failed else 0


def _download(args: argparse.Namespace) -> int:
    from lifelong.data.catalog import lookup
    from lifelong.data.download import Deadline, DownloadPolicy
    from lifelong.data.files import data_root

    entries = lookup(args.names)  # every name is checked before anything is fetched
    policy = DownloadPolicy(
        deadline=args.timeout, retries=args.retries, progress=False if args.quiet else None
    )
    deadline = Deadline(policy.deadline)
    root = data_root(args.data_root)
    for entry in entries:
        folder = root / entry.name
        problems = entry.problems(folder)
        if not problems:
            print(f"{entry.name}: already present and valid in {folder}")
            continue
        corrupt = [name for name, problem in problems.items() if problem != "missing"]
        if corrupt:
            print(f"{entry.name}: replacing invalid {', '.join(corrupt)}")
        entry.fetch(folder, list(problems), policy, deadline)
        print(f"{entry.name}: {len(problems)} file(s) downloaded and verified into {folder}")
    return 0


def main(args: argparse.Namespace) -> int:
    return _check(args) if args.action == "check" else _download(args)
