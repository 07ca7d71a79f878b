"""The funnel's evolution as a small PNG chart: an image renders in every mail client (unlike SVG
or scripts), attached inline and shown by its Content-ID.

matplotlib draws it off-screen (Agg), with no timestamp or software tag in the file, so the same
figures always give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Sequence

import matplotlib

matplotlib.use("Agg")  # off-screen: functions have no display
from matplotlib.figure import Figure  # noqa: E402  (after choosing the backend)
from matplotlib.ticker import MaxNLocator  # noqa: E402

from shared.digest.funnel import STAGES  # noqa: E402

COLOURS = ("#9aa5b1", "#0b57d0", "#7c4dff", "#f29900", "#188038", "#0f5132")
WIDTH, HEIGHT, DPI = 6.0, 2.8, 100  # 600 × 280 pixels: fits a 36rem email column


def evolution_png(points: Sequence[tuple[dt.date, tuple[int, ...]]]) -> bytes:
    """One line per stage of the funnel over the weeks, French labels, a legend under the plot."""
    figure = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI)
    axes = figure.add_subplot()
    days = [f"{d:%d/%m}" for d, _ in points]
    for i, (label, colour) in enumerate(zip(STAGES, COLOURS)):
        axes.plot(days, [counts[i] for _, counts in points], marker="o", markersize=3, linewidth=1.8,
                  color=colour, label=label)
    axes.set_ylim(bottom=0)
    axes.grid(axis="y", color="#e5e7eb", linewidth=0.8)
    axes.spines[["top", "right"]].set_visible(False)
    axes.tick_params(labelsize=8)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    figure.legend(loc="lower center", ncols=3, fontsize=8, frameon=False)
    figure.subplots_adjust(left=0.08, right=0.98, top=0.95, bottom=0.32)
    out = io.BytesIO()
    figure.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()
