"""The digest's score chart: the 90 days' daily averages (dots) and their rolling 7-day average (a line), with the
last 30 and 7 days shaded. One layout, drawn twice: a PNG (Pillow) for e-mail, where mail clients show images but
not SVG, and an SVG for the web page. Pure: a Digest in, bytes or markup out.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from html import escape

from PIL import Image, ImageDraw, ImageFont

from reviews_service import i18n
from sentiment.digest import Digest, TrendPoint

WIDTH, HEIGHT = 600, 220
LEFT, RIGHT, TOP, BOTTOM = 34, 24, 12, 30  # margins for the axis labels
SCALE = 2  # the PNG is drawn at twice the size, so it stays sharp on phones' dense screens
INK, GRID, DOT, LINE = "#1f2933", "#d9dee3", "#9aa5b1", "#0b6e4f"
SHADES = ("#f0f7f4", "#dcefe6")  # the last 30 days, the last 7 days (darker, drawn over it)
FONT_SIZE = 13


@dataclass(frozen=True)
class Layout:
    """Where everything of the chart goes, in CSS pixels."""

    dots: tuple[tuple[float, float, float], ...]  # x, y, radius (bigger for busier days)
    line: tuple[tuple[float, float], ...]
    shades: tuple[tuple[float, float], ...]  # x ranges of the last 30 and last 7 days
    grid: tuple[tuple[float, str], ...]  # y and label of each rating line 1-5
    ticks: tuple[tuple[float, str], ...]  # x and date label


def _x(index: int, count: int) -> float:
    return LEFT + (WIDTH - LEFT - RIGHT) * (index + 0.5) / count


def _y(value: float) -> float:
    return TOP + (HEIGHT - TOP - BOTTOM) * (5 - value) / 4


def layout(digest: Digest) -> Layout:
    """The chart's geometry for the digest's 90-day series."""
    points: tuple[TrendPoint, ...] = digest.windows[-1].points
    count = len(points)
    busiest = max((p.count for p in points), default=0) or 1
    dots = tuple(
        (_x(i, count), _y(p.average), 1.5 + 2.5 * (p.count / busiest) ** 0.5)
        for i, p in enumerate(points)
        if p.average is not None
    )
    line = tuple((_x(i, count), _y(p.rolling)) for i, p in enumerate(points) if p.rolling is not None)
    step = (WIDTH - LEFT - RIGHT) / max(count, 1)
    shades = tuple((LEFT + step * (count - days), WIDTH - RIGHT) for days in (30, 7) if days <= count)
    grid = tuple((_y(r), i18n.format_number(r, digest.locale, decimals=0)) for r in (1, 2, 3, 4, 5))
    picks = sorted({0, count - 30, count - 1} & set(range(count)))
    ticks = tuple((_x(i, count), i18n.format_date(points[i].day, digest.locale, "d MMM")) for i in picks)
    return Layout(dots, line, shades, grid, ticks)


def png(digest: Digest) -> bytes:
    """The chart as a PNG (for the e-mail's inline image)."""
    shape = layout(digest)
    image = Image.new("RGB", (WIDTH * SCALE, HEIGHT * SCALE), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=FONT_SIZE * SCALE)

    def at(x: float, y: float) -> tuple[float, float]:
        return x * SCALE, y * SCALE

    for (start, end), shade in zip(shape.shades, SHADES, strict=False):
        draw.rectangle((*at(start, TOP), *at(end, HEIGHT - BOTTOM)), fill=shade)
    for y, label in shape.grid:
        draw.line((*at(LEFT, y), *at(WIDTH - RIGHT, y)), fill=GRID, width=SCALE)
        draw.text(at(LEFT - 8, y), label, fill=INK, font=font, anchor="rm")
    for x, label in shape.ticks:
        draw.text(at(x, HEIGHT - BOTTOM + 8), label, fill=INK, font=font, anchor="mt")
    for x, y, radius in shape.dots:
        draw.ellipse((*at(x - radius, y - radius), *at(x + radius, y + radius)), fill=DOT)
    if len(shape.line) > 1:
        draw.line([at(x, y) for x, y in shape.line], fill=LINE, width=3 * SCALE, joint="curve")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def svg(digest: Digest, title: str) -> str:
    """The chart as inline SVG markup (for the web page), `title` as its accessible name."""
    shape = layout(digest)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'aria-label="{escape(title)}" style="max-width:{WIDTH}px;height:auto"><title>{escape(title)}</title>'
    ]
    for (start, end), shade in zip(shape.shades, SHADES, strict=False):
        parts.append(
            f'<rect x="{start:.1f}" y="{TOP}" width="{end - start:.1f}" height="{HEIGHT - TOP - BOTTOM}" '
            f'fill="{shade}"/>'
        )
    for y, label in shape.grid:
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        parts.append(
            f'<text x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end" font-size="{FONT_SIZE}" fill="{INK}">'
            f"{escape(label)}</text>"
        )
    for x, label in shape.ticks:
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle" font-size="{FONT_SIZE}" '
            f'fill="{INK}">{escape(label)}</text>'
        )
    parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{DOT}"/>' for x, y, r in shape.dots]
    if len(shape.line) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in shape.line)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{LINE}" stroke-width="3"/>')
    parts.append("</svg>")
    return "".join(parts)
