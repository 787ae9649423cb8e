"""Chart geometry: numbers in, shapes out. Pure; ``_partials.html``'s ``chart`` macro draws them.

Every chart is a :class:`Chart`: a view box and a few kinds of shapes (bars,
lines, polylines, dots, text), each with a CSS class (colours live in the
stylesheet, from a colour-blind-safe palette) and, for the shapes a reader can
point at, a ``title`` shown on hover. Coordinates are rounded to one decimal,
so the same numbers always give the same bytes. Every chart on the site also
has a table with the same numbers next to it; the chart's ``title`` and
``desc`` give screen readers the gist.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

__all__ = [
    "Rect", "Text", "Line", "Polyline", "Dot", "Chart", "nice_max", "nice_ticks", "funnel_chart", "bar_chart",
    "line_chart", "grouped_bar_chart", "SERIES",
]

# CSS classes of the data series, in order: Okabe-Ito colours in site.css.
SERIES = ("s1", "s2", "s3", "s4", "s5", "s6", "s7")


@dataclass(frozen=True, slots=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    cls: str
    title: str = ""


@dataclass(frozen=True, slots=True)
class Text:
    x: float
    y: float
    text: str
    cls: str = ""
    anchor: str = "start"      # start | middle | end


@dataclass(frozen=True, slots=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    cls: str = "grid"


@dataclass(frozen=True, slots=True)
class Polyline:
    points: str                # "x,y x,y ..."
    cls: str
    title: str = ""


@dataclass(frozen=True, slots=True)
class Dot:
    cx: float
    cy: float
    r: float
    cls: str
    title: str = ""


@dataclass(frozen=True, slots=True)
class Chart:
    id: str                    # unique on its page: ids the <title> and <desc>
    title: str                 # one line: what the chart shows
    desc: str                  # the gist in words, for screen readers
    width: float               # view box
    height: float
    lines: tuple[Line, ...] = ()
    rects: tuple[Rect, ...] = ()
    polylines: tuple[Polyline, ...] = ()
    dots: tuple[Dot, ...] = ()
    texts: tuple[Text, ...] = ()
    legend: tuple[tuple[str, str], ...] = ()    # (series class, label), shown under the chart


def _r(x: float) -> float:
    return round(x, 1)


def _n(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.1f}"


def nice_max(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten that is at least ``value`` (1 for 0)."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power  # pragma: no cover


def nice_ticks(value: float, *, whole: bool = True, most: int = 5) -> tuple[float, int]:
    """(top, number of intervals) for an axis from 0 that shows ``value``: round steps of 1, 2
    or 5 times a power of ten (whole numbers only when ``whole``), at most ``most`` intervals."""
    if value <= 0:
        return 1, 1
    raw = value / most
    power = 10 ** math.floor(math.log10(raw))
    for mult in (1, 2, 2.5, 5, 10):
        step = mult * power
        if whole and step < 1:
            continue
        if whole and not float(step).is_integer():
            continue
        if step * most >= value:
            break
    n = max(1, math.ceil(value / step - 1e-9))
    return step * n, n


def _text_width(text: str, size: float = 13) -> float:
    """About how wide ``text`` is in a sans-serif face (for laying out labels; never exact)."""
    return len(text) * size * 0.58


def funnel_chart(stages: Sequence[tuple[str, int, int]], *, id: str = "funnel",
                 width: float = 520) -> Chart:
    """One bar per stage, as long as the leads that reached it; the part lost there in a second colour.

    ``stages``: (label, reached, lost_here). Above each bar, the stage on the left
    and, on the right, the counts and the drop-off (lost here / reached).
    """
    row_h, bar_h, top = 50, 22, 2
    top_n = max((r for _, r, _ in stages), default=0) or 1
    rects, texts = [], []
    for i, (label, reached, lost) in enumerate(stages):
        y = top + i * row_h
        bar_y = y + 20
        w = width * reached / top_n
        rects.append(Rect(0, _r(bar_y), _r(max(w, 1)), bar_h, "s1", f"{label}: {reached:,} reached"))
        if lost:
            lw = width * lost / top_n
            rects.append(Rect(_r(w - lw), _r(bar_y), _r(max(lw, 1)), bar_h, "loss",
                              f"{label}: {lost:,} lost here ({lost / reached:.0%} of those who reached it)"
                              if reached else f"{label}: {lost:,} lost here"))
        texts.append(Text(0, _r(y + 14), label, "label strong"))
        drop = f" · {lost:,} lost ({lost / reached:.0%})" if lost and reached else ""
        texts.append(Text(width, _r(y + 14), f"{reached:,} reached{drop}", "value", "end"))
    height = top + len(stages) * row_h
    first = stages[0][1] if stages else 0
    last = stages[-1][1] if stages else 0
    return Chart(id, "Funnel: leads that reached each stage, and those lost there",
                 f"{first:,} leads entered the funnel and {last:,} reached the last stage. "
                 + "; ".join(f"{lb}: {r:,} reached, {lo:,} lost there" for lb, r, lo in stages) + ".",
                 width, height, rects=tuple(rects), texts=tuple(texts),
                 legend=(("s1", "reached the stage"), ("loss", "lost at the stage")))


def bar_chart(items: Sequence[tuple[str, float]], *, id: str, title: str, unit: str = "leads",
              classes: Sequence[str] | None = None, width: float = 420) -> Chart:
    """Horizontal bars, one per (label, value), each label above its bar (long labels fit on a
    phone); the longest bar is the largest value, its number to the right of it."""
    right_w, row_h, bar_h, top = 44, 42, 16, 2
    plot_w = width - right_w
    top_v = max((v for _, v in items), default=0) or 1
    total = sum(v for _, v in items)
    rects, texts = [], []
    for i, (label, value) in enumerate(items):
        y = top + i * row_h
        w = plot_w * value / top_v
        cls = classes[i] if classes else "s1"
        share = f" ({value / total:.0%})" if total else ""
        rects.append(Rect(0, _r(y + 20), _r(max(w, 1 if value else 0)), bar_h, cls,
                          f"{label}: {_n(value)} {unit}{share}"))
        texts.append(Text(0, _r(y + 14), _clip(label, width, 15), "label"))
        texts.append(Text(_r(w + 6), _r(y + 20 + bar_h / 2 + 4.5), _n(value), "value"))
    desc = "; ".join(f"{lb}: {_n(v)}" for lb, v in items) or "nothing to show"
    return Chart(id, title, desc + ".", width, top + len(items) * row_h, rects=tuple(rects),
                 texts=tuple(texts))


def _clip(text: str, room: float, size: float) -> str:
    if _text_width(text, size) <= room:
        return text
    keep = max(1, int(room / (size * 0.58)) - 1)
    return text[:keep].rstrip() + "…"


def _y_axis(top_v: float, x0: float, x1: float, y0: float, plot_h: float, ticks: int,
            fmt=_n) -> tuple[list[Line], list[Text]]:
    lines, texts = [], []
    for k in range(ticks + 1):
        v = top_v * k / ticks
        y = _r(y0 - plot_h * k / ticks)
        lines.append(Line(x0, y, x1, y, "grid" if k else "axis"))
        texts.append(Text(x0 - 6, _r(y + 4), fmt(v), "tick", "end"))
    return lines, texts


def line_chart(x_labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], *, id: str,
               title: str, width: float = 560, height: float = 250) -> Chart:
    """One line per (name, values); the x axis labels every other point when crowded."""
    left, right, top, bottom = 40, 14, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    n = len(x_labels)
    top_v, ticks = nice_ticks(max((v for _, vals in series for v in vals), default=0))
    lines, texts = _y_axis(top_v, left, width - right, top + plot_h, plot_h, ticks)
    step = plot_w / (n - 1) if n > 1 else 0
    xs = [_r(left + i * step) if n > 1 else _r(left + plot_w / 2) for i in range(n)]
    every = 1 if n <= 8 else 2
    for i, label in enumerate(x_labels):
        if (n - 1 - i) % every == 0:
            texts.append(Text(xs[i], _r(top + plot_h + 17), label, "tick", "middle"))
    polylines, dots = [], []
    for k, (name, values) in enumerate(series):
        cls = SERIES[k % len(SERIES)]
        pts = [(xs[i], _r(top + plot_h - plot_h * v / top_v)) for i, v in enumerate(values)]
        polylines.append(Polyline(" ".join(f"{x},{y}" for x, y in pts), cls, name))
        dots.extend(Dot(x, y, 3, cls, f"{name}, {x_labels[i]}: {_n(values[i])}")
                    for i, (x, y) in enumerate(pts))
    desc = "; ".join(f"{name}: {_n(sum(vals))} in all, {_n(vals[-1]) if vals else 0} in the last period"
                     for name, vals in series)
    return Chart(id, title, desc + ".", width, height, lines=tuple(lines), polylines=tuple(polylines),
                 dots=tuple(dots), texts=tuple(texts),
                 legend=tuple((SERIES[k % len(SERIES)], name) for k, (name, _) in enumerate(series)))


def grouped_bar_chart(x_labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], *,
                      id: str, title: str, percent: bool = False, width: float = 480,
                      height: float = 220) -> Chart:
    """Bars side by side per x label, one colour per series; ``percent``: values are 0..1 shares."""
    left, right, top, bottom = 44, 8, 16, 26
    plot_w, plot_h = width - left - right, height - top - bottom
    fmt = (lambda v: f"{v:.0%}") if percent else _n
    top_v = max((v for _, vals in series for v in vals), default=0)
    if percent:
        top_pct, ticks = nice_ticks(top_v * 100)
        top_v = top_pct / 100
    else:
        top_v, ticks = nice_ticks(top_v)
    lines, texts = _y_axis(top_v, left, width - right, top + plot_h, plot_h, ticks, fmt=fmt)
    n, m = len(x_labels), max(len(series), 1)
    group_w = plot_w / max(n, 1)
    bar_w = group_w * 0.7 / m
    rects = []
    for i, label in enumerate(x_labels):
        gx = left + i * group_w + group_w * 0.15
        texts.append(Text(_r(left + i * group_w + group_w / 2), _r(top + plot_h + 17), label, "tick", "middle"))
        for k, (name, values) in enumerate(series):
            v = values[i]
            h = plot_h * v / top_v if top_v else 0
            x = gx + k * bar_w
            rects.append(Rect(_r(x), _r(top + plot_h - h), _r(bar_w - 1), _r(h), SERIES[k % len(SERIES)],
                              f"{name}, {label}: {fmt(v)}"))
            if v:
                texts.append(Text(_r(x + (bar_w - 1) / 2), _r(top + plot_h - h - 4), fmt(v), "value small",
                                  "middle"))
    desc = "; ".join(f"{name}: " + ", ".join(f"{lb} {fmt(v)}" for lb, v in zip(x_labels, vals))
                     for name, vals in series)
    return Chart(id, title, desc + ".", width, height, lines=tuple(lines), rects=tuple(rects),
                 texts=tuple(texts),
                 legend=tuple((SERIES[k % len(SERIES)], name) for k, (name, _) in enumerate(series)))
