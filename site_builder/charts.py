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
from typing import Callable, Sequence

__all__ = [
    "Rect", "Text", "Line", "Polyline", "Dot", "Chart", "nice_max", "nice_ticks", "funnel_chart", "bar_chart",
    "line_chart", "grouped_bar_chart", "place_labels", "short_number", "LABEL_SIZE", "SERIES",
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
    href: str = ""             # a link (relative to the site root): the rows behind a bar's label


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


def short_number(x: float) -> str:
    """A bar's label where twelve bars share a chart: 950, 1.5k, 54k, 1.2M. Full figures wider
    than a bar's slot get lifted over their neighbours' labels, far from their own bar; the
    table beside the chart has the exact amounts."""
    for div, unit in ((1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            v = x / div
            text = f"{v:.0f}" if abs(v) >= 10 else f"{v:.1f}".removesuffix(".0")
            return text + unit
    return _n(x)


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


# The largest sizes site.css gives a chart's words (on a phone, where the chart is drawn smaller
# and its type larger): margins and labels are laid out for them, so words never touch or stick
# out, whatever the screen.
TICK_SIZE, VALUE_SIZE, LABEL_SIZE = 15.0, 16.0, 14.0


def _ink_width(text: str, size: float) -> float:
    """How wide ``text`` may be drawn at ``size`` in the widest likely face (DejaVu Sans):
    an estimate that errs wide, for keeping words apart."""
    em = 0.0
    for c in text:
        em += (0.96 if c == "%" else 0.36 if c in ",.:; " else 0.64 if c.isdigit()
               else 0.74 if c.isupper() else 0.62)
    return em * size


def funnel_chart(stages: Sequence[tuple[str, int, int]], *, id: str = "funnel",
                 width: float = 520, hrefs: Sequence[str] | None = None) -> Chart:
    """One bar per stage, as long as the leads that reached it: the part lost there in a second
    colour, the rest (reached and not lost there) in the first.

    ``stages``: (label, reached, lost_here). Above each bar, the stage on the left
    and, on the right, the counts and the drop-off (lost here / reached). ``hrefs``: a link per
    stage, on its label ("" for none).
    """
    row_h, bar_h, top = 50, 22, 2
    top_n = max((r for _, r, _ in stages), default=0) or 1
    rects, texts = [], []
    for i, (label, reached, lost) in enumerate(stages):
        y = top + i * row_h
        bar_y = y + 20
        w = width * reached / top_n
        lw = width * lost / top_n if lost else 0
        # the blue part is what went on (or stays): the legend says so, the whole bar is "reached"
        rects.append(Rect(0, _r(bar_y), _r(max(w - lw, 1 if reached > lost else 0)), bar_h, "s1",
                          f"{label}: {reached - lost:,} of {reached:,} reached and not lost here"))
        if lost:
            rects.append(Rect(_r(w - lw), _r(bar_y), _r(max(lw, 1)), bar_h, "loss",
                              f"{label}: {lost:,} lost here ({lost / reached:.0%} of those who reached it)"
                              if reached else f"{label}: {lost:,} lost here"))
        texts.append(Text(0, _r(y + 14), label, "label strong", href=hrefs[i] if hrefs else ""))
        drop = f" · {lost:,} lost ({lost / reached:.0%})" if lost and reached else ""
        texts.append(Text(width, _r(y + 14), f"{reached:,} reached{drop}", "value", "end"))
    height = top + len(stages) * row_h
    first = stages[0][1] if stages else 0
    last = stages[-1][1] if stages else 0
    return Chart(id, "Funnel: leads that reached each stage, and those lost there",
                 f"{first:,} leads entered the funnel and {last:,} reached the last stage. "
                 + "; ".join(f"{lb}: {r:,} reached, {lo:,} lost there" for lb, r, lo in stages) + ".",
                 width, height, rects=tuple(rects), texts=tuple(texts),
                 legend=(("s1", "reached the stage, not lost there"), ("loss", "lost at the stage")))


def bar_chart(items: Sequence[tuple[str, float]], *, id: str, title: str, unit: str = "leads",
              classes: Sequence[str] | None = None, width: float = 420,
              hrefs: Sequence[str] | None = None) -> Chart:
    """Horizontal bars, one per (label, value), each label above its bar (long labels fit on a
    phone); the longest bar is the largest value, its number to the right of it. ``hrefs``: a
    link per bar, on its label ("" for none)."""
    right_w, row_h, bar_h, top = 44, 42, 16, 2
    right_w = max(right_w, math.ceil(max((_ink_width(_n(v), VALUE_SIZE) for _, v in items), default=0)) + 8)
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
        texts.append(Text(0, _r(y + 14), _clip(label, width, 15), "label", href=hrefs[i] if hrefs else ""))
        texts.append(Text(_r(w + 6), _r(y + 20 + bar_h / 2 + 4.5), _n(value), "value"))
    desc = "; ".join(f"{lb}: {_n(v)}" for lb, v in items) or "nothing to show"
    return Chart(id, title, desc + ".", width, top + len(items) * row_h, rects=tuple(rects),
                 texts=tuple(texts))


def _clip(text: str, room: float, size: float) -> str:
    if _text_width(text, size) <= room:
        return text
    keep = max(1, int(room / (size * 0.58)) - 1)
    return text[:keep].rstrip() + "…"


def _tick_room(top_v: float, ticks: int, fmt) -> int:
    """The left margin the y axis's widest number needs, at the largest tick size."""
    return math.ceil(max(_ink_width(fmt(top_v * k / ticks), TICK_SIZE) for k in range(ticks + 1)) + 8)


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
    n = len(x_labels)
    top_v, ticks = nice_ticks(max((v for _, vals in series for v in vals), default=0))
    left = max(left, _tick_room(top_v, ticks, _n))
    if x_labels:
        right = max(right, math.ceil(_ink_width(x_labels[-1], TICK_SIZE) / 2) + 2)
    plot_w, plot_h = width - left - right, height - top - bottom
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
                      height: float = 220, value_label: Callable[[float], str] | None = None) -> Chart:
    """Bars side by side per x label, one colour per series; ``percent``: values are 0..1 shares.
    Each bar's value sits above it, lifted above its neighbours' labels and bars where they would
    touch (:func:`place_labels`); the chart grows at the top to make room. ``value_label`` formats the
    values over the bars (default: as the axis does)."""
    left, right, top, bottom = 44, 8, 16, 26
    plot_h = height - top - bottom
    plot_w = width - left - right
    fmt = (lambda v: f"{v:.0%}") if percent else _n
    top_v = max((v for _, vals in series for v in vals), default=0)
    if percent:
        top_pct, ticks = nice_ticks(top_v * 100)
        top_v = top_pct / 100
    else:
        top_v, ticks = nice_ticks(top_v)
    left = max(left, _tick_room(top_v, ticks, fmt))
    plot_w = width - left - right
    n, m = len(x_labels), max(len(series), 1)
    group_w = plot_w / max(n, 1)
    widest = max((_ink_width(lb, TICK_SIZE) for lb in x_labels), default=0)
    every = max(1, math.ceil((widest + 4) / group_w))
    bar_w = group_w * 0.7 / m
    for _ in range(2):
        lines, texts = _y_axis(top_v, left, width - right, top + plot_h, plot_h, ticks, fmt=fmt)
        rects, values = [], []
        for i, label in enumerate(x_labels):
            gx = left + i * group_w + group_w * 0.15
            if (n - 1 - i) % every == 0:
                texts.append(Text(_r(left + i * group_w + group_w / 2), _r(top + plot_h + 17), label, "tick",
                                  "middle"))
            for k, (name, vals) in enumerate(series):
                v = vals[i]
                h = plot_h * v / top_v if top_v else 0
                x = gx + k * bar_w
                rects.append(Rect(_r(x), _r(top + plot_h - h), _r(bar_w - 1), _r(h), SERIES[k % len(SERIES)],
                                  f"{name}, {label}: {fmt(v)}"))
                if v:
                    values.append((x + (bar_w - 1) / 2, top + plot_h - h, (value_label or fmt)(v)))
        placed = place_labels(values, rects, width=width)
        highest = min((y for _, y, _ in placed), default=top)
        if highest - LABEL_SIZE >= 0:
            break
        grow = math.ceil(LABEL_SIZE - highest + 1)
        top, height = top + grow, height + grow
    texts.extend(Text(_r(x), _r(y), text, "value small", "middle") for x, y, text in placed)
    desc = "; ".join(f"{name}: " + ", ".join(f"{lb} {fmt(v)}" for lb, v in zip(x_labels, vals))
                     for name, vals in series)
    return Chart(id, title, desc + ".", width, height, lines=tuple(lines), rects=tuple(rects),
                 texts=tuple(texts),
                 legend=tuple((SERIES[k % len(SERIES)], name) for k, (name, _) in enumerate(series)))


def place_labels(labels: Sequence[tuple[float, float, str]], rects: Sequence[Rect], *, width: float,
                 size: float = LABEL_SIZE, gap: float = 4) -> list[tuple[float, float, str]]:
    """(x, baseline y, text) for each (centre x, top of its bar, text), left to right: each label
    ``gap`` above its bar and every bar it spans, and lifted above any label already placed that
    its box would touch. Boxes are estimated (:func:`_ink_width` at ``size``), with a margin."""
    placed: list[tuple[float, float, float, float, str]] = []      # x0, x1, baseline, centre, text
    for cx, bar_top, text in sorted(labels, key=lambda t: t[0]):
        half = _ink_width(text, size) / 2 + 1.5
        cx = min(max(cx, half), width - half)
        x0, x1 = cx - half, cx + half
        y = min([bar_top] + [r.y for r in rects if r.h > 0 and r.x < x1 and r.x + r.w > x0]) - gap
        moved = True
        while moved:
            moved = False
            for a0, a1, ay, _, _ in placed:
                if a0 < x1 and x0 < a1 and y > ay - size - 1 and y - size - 1 < ay:
                    y, moved = ay - size - 1, True
        placed.append((x0, x1, y, cx, text))
    return [(cx, y, text) for _, _, y, cx, text in placed]
