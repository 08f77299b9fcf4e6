"""Server-rendered bar charts for the reports page: SVG that reads without the numbers, and the same
figures as an HTML table beneath it for screen readers (and anyone who wants the numbers).

Pure functions returning markup; every piece of text is escaped. No inline styles or scripts (the
console's CSP allows neither): colours are SVG presentation attributes. Series differ by colour and by
a pattern as well (solid, hatched, dotted), so no reader depends on colour alone.
"""
from __future__ import annotations

import html
import re
from typing import List, Optional, Sequence, Tuple

# Colours from the GOV.UK palette, at least 3:1 against white; patterns tell them apart without colour.
SERIES_STYLE = (("#1d70b8", None), ("#d4351c", "hatch"), ("#505a5f", "dots"))
WIDTH = 720
LABEL_CHAR = 7.5  # about the width of a character of the 13px labels
VALUE_WIDTH = 70
BAR = 14
GAP = 8
LEGEND = 28

Series = Tuple[str, Sequence[float]]


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "chart"


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _patterns(chart_id: str) -> str:
    return (f'<defs><pattern id="{chart_id}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
            f'patternTransform="rotate(45)"><rect width="6" height="6" fill="#d4351c"/>'
            f'<rect width="2" height="6" fill="#ffffff"/></pattern>'
            f'<pattern id="{chart_id}-dots" width="5" height="5" patternUnits="userSpaceOnUse">'
            f'<rect width="5" height="5" fill="#505a5f"/><circle cx="2.5" cy="2.5" r="1.2" fill="#ffffff"/>'
            f'</pattern></defs>')


def _fill(chart_id: str, index: int) -> str:
    colour, pattern = SERIES_STYLE[index % len(SERIES_STYLE)]
    return f"url(#{chart_id}-{pattern})" if pattern else colour


def bar_chart(title: str, description: str, categories: Sequence[str], series: Sequence[Series],
              unit: str = "chats", chart_id: Optional[str] = None) -> str:
    """A horizontal bar chart: one group of bars per category, one bar per series, each bar labelled
    with its value. `description` says in words what the chart shows (the SVG's <desc>). A value of
    None (no data) draws no bar."""
    chart_id = slug(chart_id or title)
    series = [(name, [v or 0 for v in values]) for name, values in series]
    top = max([v for _, values in series for v in values] + [0])
    label_width = int(min(340, max(110, LABEL_CHAR * max([len(c) for c in categories] + [0]) + 16)))
    group = len(series) * BAR + GAP
    legend = LEGEND if len(series) > 1 else 0
    height = legend + max(1, len(categories)) * group + GAP
    plot = WIDTH - label_width - VALUE_WIDTH
    parts = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
             f'width="{WIDTH}" height="{height}" role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
             f'data-testid="chart-{chart_id}">',
             f'<title id="{chart_id}-title">{_e(title)}</title>',
             f'<desc id="{chart_id}-desc">{_e(description)}</desc>', _patterns(chart_id)]
    if legend:
        x = label_width
        for index, (name, _) in enumerate(series):
            parts.append(f'<rect x="{x}" y="6" width="14" height="14" fill="{_fill(chart_id, index)}" '
                         f'stroke="#0b0c0c" stroke-width="1"/>')
            parts.append(f'<text x="{x + 20}" y="18" font-size="13" fill="#0b0c0c">{_e(name)}</text>')
            x += 28 + 8 * len(name)
    for row, category in enumerate(categories):
        y = legend + row * group + GAP // 2
        parts.append(f'<text x="{label_width - 8}" y="{y + len(series) * BAR / 2 + 4:.0f}" font-size="13" '
                     f'text-anchor="end" fill="#0b0c0c">{_e(category)}</text>')
        for index, (name, values) in enumerate(series):
            value = values[row] if row < len(values) else 0
            width = plot * value / top if top else 0
            bar_y = y + index * BAR
            if value:
                parts.append(f'<rect x="{label_width}" y="{bar_y}" width="{max(width, 1):.1f}" height="{BAR - 2}" '
                             f'fill="{_fill(chart_id, index)}" stroke="#0b0c0c" stroke-width="0.5">'
                             f'<title>{_e(category)}, {_e(name)}: {_e(_number(value))} {_e(unit)}</title></rect>')
                parts.append(f'<text x="{label_width + width + 4:.1f}" y="{bar_y + BAR - 3}" font-size="11" '
                             f'fill="#0b0c0c">{_e(_number(value))}</text>')  # no bar, no label: the table has 0
    parts.append(f'<line x1="{label_width}" y1="{legend}" x2="{label_width}" y2="{height - GAP // 2}" '
                 f'stroke="#0b0c0c" stroke-width="1"/>')
    parts.append("</svg>")
    return "".join(parts)


def data_table(caption: str, category_heading: str, categories: Sequence[str], series: Sequence[Series],
               formats: Optional[Sequence] = None) -> str:
    """The chart's figures as a table: a row per category, a column per series."""
    rows: List[str] = []
    for row, category in enumerate(categories):
        cells = []
        for index, (_, values) in enumerate(series):
            value = values[row] if row < len(values) else 0
            shown = "no data" if value is None else formats[index](value) if formats else _number(value)
            cells.append(f'<td class="num">{_e(shown)}</td>')
        rows.append(f'<tr><th scope="row">{_e(category)}</th>{"".join(cells)}</tr>')
    heads = "".join(f'<th scope="col" class="num">{_e(name)}</th>' for name, _ in series)
    return (f'<table class="report-table"><caption>{_e(caption)}</caption>'
            f'<thead><tr><th scope="col">{_e(category_heading)}</th>{heads}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def figure(title: str, description: str, category_heading: str, categories: Sequence[str],
           series: Sequence[Series], unit: str = "chats", chart_id: Optional[str] = None) -> str:
    """A chart and its table, in a <figure> captioned by the title."""
    chart_id = slug(chart_id or title)
    return (f'<figure class="report-figure" aria-labelledby="{chart_id}-caption">'
            f'<figcaption id="{chart_id}-caption">{_e(title)}</figcaption>'
            f'{bar_chart(title, description, categories, series, unit, chart_id)}'
            f'{data_table(title + " (figures)", category_heading, categories, series)}</figure>')
