"""The report as one file: self-contained HTML (PNGs inline), or markdown with PNGs beside it.

The markdown the report writes is a small subset (paragraphs, ``##`` headings, bold, code,
code blocks, lists, tables); :func:`markdown_html` converts exactly that subset.
"""

import base64
import html
import re

from ldnn_tune.report.build import StudyReport

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em;
       color: #222; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
pre { background: #f4f4f4; padding: 0.8em; overflow-x: auto; }
figure { margin: 2em 0; } img { max-width: 100%; }
"""


def inline_html(text: str) -> str:
    """Return one line of the markdown subset as HTML: escaped, with code and bold."""
    escaped = html.escape(text, quote=False)
    escaped = re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", escaped)


def _cells(line: str) -> list[str]:
    parts = re.split(r"(?<!\\)\|", line.strip())[1:-1]
    return [inline_html(p.strip().replace("\\|", "|")) for p in parts]


def table_html(lines: list[str]) -> str:
    """Return a markdown table (header, ``---`` row, rows) as an HTML table."""
    head = "".join(f"<th>{c}</th>" for c in _cells(lines[0]))
    rows = "".join(
        "<tr>" + "".join(f"<td>{c}</td>" for c in _cells(line)) + "</tr>" for line in lines[2:]
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def block_html(block: str) -> str:
    """Return one block (text between blank lines) of the markdown subset as HTML."""
    lines = block.splitlines()
    if block.startswith("```"):
        return f"<pre><code>{html.escape(chr(10).join(lines[1:-1]))}</code></pre>"
    if block.startswith("## "):
        return f"<h2>{inline_html(block[3:])}</h2>"
    if block.startswith("| ") and len(lines) >= 2:
        return table_html(lines)
    if block.startswith("- "):
        items = "".join(f"<li>{inline_html(line[2:])}</li>" for line in lines)
        return f"<ul>{items}</ul>"
    return f"<p>{inline_html(' '.join(lines))}</p>"


def markdown_html(text: str) -> str:
    """Return the report's markdown subset as HTML."""
    blocks = [b.strip("\n") for b in re.split(r"\n\s*\n", text) if b.strip()]
    return "\n".join(block_html(b) for b in blocks)


def html_document(report: StudyReport, title: str) -> str:
    """Return the report as one HTML page: summary, best trials, every plot inline."""
    figures = "".join(
        f'<figure><img alt="{html.escape(p.title)}" src="data:image/png;base64,'
        f'{base64.b64encode(p.png).decode()}"><figcaption>{html.escape(p.title)}'
        "</figcaption></figure>"
        for p in report.plots
        if p.png is not None
    )
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
        f"{markdown_html(report.summary)}<h2>Plots</h2>{figures}</body></html>\n"
    )


def markdown_document(report: StudyReport, title: str, images: str) -> tuple[str, dict[str, bytes]]:
    """Return the report as markdown and its PNGs, to be written in the folder ``images``.

    ``images`` is the folder's name relative to the markdown file.
    """
    files = {f"{p.name}.png": p.png for p in report.plots if p.png is not None}
    plots = "\n\n".join(
        f"![{p.title}]({images}/{name})"
        for p in report.plots
        for name in [f"{p.name}.png"]
        if name in files
    )
    return f"# {title}\n\n{report.summary}\n## Plots\n\n{plots}\n", files
