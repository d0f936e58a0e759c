"""A self-contained HTML page: inline CSS, images embedded as base64, no script and no network."""

from __future__ import annotations

import base64
import html
import importlib.metadata
import os
import platform
from collections.abc import Sequence
from pathlib import Path
from typing import Any

STYLE = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 0;
       background: #f6f7f9; color: #1d2330; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 32px 48px; background: #fff; }
h1 { font-size: 26px; margin: 8px 0 4px; }
h2 { font-size: 19px; margin: 32px 0 10px; border-bottom: 2px solid #3b75af; padding-bottom: 4px; }
p.lead { color: #4a5261; margin: 0 0 12px; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
th, td { border: 1px solid #d5d9e0; padding: 4px 9px; text-align: right; white-space: nowrap; }
td.text { white-space: normal; }
th { background: #e9eef6; }
td.text, th.text { text-align: left; }
tr.failed td { background: #fdecea; color: #8a1f11; }
tr.best td { background: #eaf6ea; }
pre { background: #f1f3f6; padding: 10px 14px; font-size: 12px; overflow-x: auto;
      border-radius: 4px; }
figure { margin: 14px 0 24px; }
figure img { max-width: 100%; border: 1px solid #e1e4e8; }
figcaption { color: #4a5261; font-size: 13px; margin-top: 4px; }
.note { color: #4a5261; font-size: 12px; }
"""


def image_tag(path: Path, alt: str) -> str:
    """An ``<img>`` whose PNG is embedded as a base64 data URI."""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def figure(path: Path, caption: str) -> str:
    text = html.escape(caption)
    return f"<figure>{image_tag(path, caption)}<figcaption>{text}</figcaption></figure>"


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    text_columns: Sequence[int] = (0,),
    row_classes: Sequence[str] | None = None,
) -> str:
    """An HTML table; ``text_columns`` are left-aligned."""

    def cls(i: int) -> str:
        return ' class="text"' if i in text_columns else ""

    head = "".join(f"<th{cls(i)}>{html.escape(str(h))}</th>" for i, h in enumerate(headers))
    body = []
    for k, row in enumerate(rows):
        row_cls = f' class="{row_classes[k]}"' if row_classes and row_classes[k] else ""
        cells = "".join(f"<td{cls(i)}>{html.escape(_fmt(v))}</td>" for i, v in enumerate(row))
        body.append(f"<tr{row_cls}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return "-" if value is None else str(value)


def pre(text: str) -> str:
    return f"<pre>{html.escape(text)}</pre>"


def environment() -> dict[str, str]:
    """Versions and machine of the process building the report."""
    versions = {}
    for package in ("lifelong", "torch", "numpy", "matplotlib", "peft"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            continue
    return {
        "python": platform.python_version(),
        **versions,
        "platform": platform.platform(),
        "cores": str(os.cpu_count()),
    }


def page(title: str, subtitle: str, sections: Sequence[tuple[str, str]]) -> str:
    """The whole document; ``sections`` are (heading, inner HTML)."""
    parts = [f"<h1>{html.escape(title)}</h1>", f'<p class="lead">{html.escape(subtitle)}</p>']
    for heading, inner in sections:
        parts.append(f"<section><h2>{html.escape(heading)}</h2>{inner}</section>")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><main>{''.join(parts)}</main></body></html>\n"
    )
