"""Whether a figure reads at the size it is written: every label inside the canvas, no two overlapping.

Measured with matplotlib's own text extents (`Text.get_window_extent` on the Agg renderer after
the figure's layout has run), so it checks the PNG as saved. `analysis.plots._save` records the
problems it finds in the PNG (text chunk `Layout`), and the tests render every plot and read it.
"""

from __future__ import annotations

from itertools import combinations

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.transforms import Bbox

TOLERANCE_PX = 1.0  # extents touching by a pixel (antialiasing) are not a problem


def _axis_texts(ax: Axes) -> list[Text]:
    texts = [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label, *ax.texts]
    for axis in (ax.xaxis, ax.yaxis):
        for tick in axis._update_ticks():  # type: ignore[union-attr]  # private; the ticks drawn: inside the view limits
            texts += [tick.label1, tick.label2]
    legend = ax.get_legend()
    if legend is not None:
        texts += [*legend.get_texts(), legend.get_title()]
    return texts


def visible_texts(fig: Figure) -> list[Text]:
    """Every text the figure draws (titles, axis and tick labels, annotations, legends)."""
    texts = list(fig.texts)
    for name in ("_suptitle", "_supxlabel", "_supylabel"):
        if getattr(fig, name, None) is not None:
            texts.append(getattr(fig, name))
    for legend in fig.legends:
        texts += [*legend.get_texts(), legend.get_title()]
    for ax in fig.axes:
        if ax.get_visible() and ax.axison or ax.texts or ax.get_title():
            texts += _axis_texts(ax)
    unique = {id(t): t for t in texts}  # a suptitle is also one of fig.texts
    return [t for t in unique.values() if t.get_visible() and t.get_text().strip()]


def text_problems(fig: Figure) -> list[str]:
    """One line per text outside the canvas and per pair of overlapping texts (empty: it reads)."""
    fig.canvas.draw()  # runs the layout engine: extents are those of the saved image
    renderer = fig.canvas.get_renderer()
    canvas = fig.bbox.padded(TOLERANCE_PX)
    boxes: list[tuple[str, Bbox]] = []
    problems = []
    for text in visible_texts(fig):
        box = text.get_window_extent(renderer)
        if box.width <= 0 or box.height <= 0:
            continue
        label = repr(text.get_text().replace("\n", " ")[:40])
        if not (canvas.x0 <= box.x0 and box.x1 <= canvas.x1 and canvas.y0 <= box.y0 and box.y1 <= canvas.y1):
            problems.append(f"{label} leaves the canvas")
        boxes.append((label, box.padded(-TOLERANCE_PX)))
    for (a, box_a), (b, box_b) in combinations(boxes, 2):
        if box_a.overlaps(box_b):
            problems.append(f"{a} overlaps {b}")
    return problems
