"""Generated images of the synthetic world: 64x64 portraits and general visual-question scenes.

Both are drawn on a 4x4 grid of 16x16 cells, so that after the processor's resize to 32x32 every cell
is exactly one 8x8 vision patch. A portrait's identity is its colour code: 12 frame cells plus the
hair, skin, eye and shirt colours of the face drawn over the central 2x2 cells (redundant: two people
differ in many cells). Drawing uses PIL only, with integer coordinates: the PNG bytes are deterministic.
"""
from __future__ import annotations

import io
from typing import Sequence

from PIL import Image, ImageDraw

SIZE = 64
CELL = 16

# Frame palette of portraits: 8 strongly distinct colours.
FRAME_PALETTE = [
    (230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200),
    (245, 130, 48), (145, 30, 180), (70, 240, 240), (250, 190, 212),
]
SKIN = [(255, 219, 172), (224, 172, 105), (198, 134, 66), (141, 85, 36)]
HAIR = [(20, 20, 20), (120, 70, 15), (230, 200, 90), (180, 40, 20), (200, 200, 200), (60, 60, 160)]
SHIRT = [(128, 0, 0), (0, 0, 128), (0, 100, 0), (128, 128, 0), (0, 128, 128), (90, 90, 90), (255, 255, 255), (0, 0, 0)]
EYES = [(0, 0, 0), (40, 90, 200)]

# 4x4 grid: the 12 frame cells in reading order (the centre 2x2 holds the face).
FRAME_CELLS = [(r, c) for r in range(4) for c in range(4) if not (1 <= r <= 2 and 1 <= c <= 2)]

# General scenes
COLOURS = {
    "red": (220, 30, 30), "green": (30, 170, 50), "blue": (30, 60, 220),
    "yellow": (240, 210, 20), "purple": (140, 40, 170), "orange": (250, 140, 20),
    "black": (20, 20, 20), "pink": (250, 120, 180),
}
SHAPES = ("circle", "square", "triangle", "cross")
BACKGROUND = (235, 235, 235)


def png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False, compress_level=6)
    return buf.getvalue()


def portrait(code: Sequence[int]) -> Image.Image:
    """code = 12 frame colour indices + (skin, hair, eyes, shirt)."""
    frame, (skin, hair, eyes, shirt) = code[:12], code[12:16]
    img = Image.new("RGB", (SIZE, SIZE), (0, 0, 0))
    d = ImageDraw.Draw(img)
    for (r, c), k in zip(FRAME_CELLS, frame):
        d.rectangle([c * CELL, r * CELL, c * CELL + CELL - 1, r * CELL + CELL - 1], fill=FRAME_PALETTE[k])
    # face area: cells (1,1)-(2,2) = pixels 16..47
    d.rectangle([16, 16, 47, 47], fill=(245, 245, 245))
    d.rectangle([16, 40, 47, 47], fill=SHIRT[shirt])  # shoulders / shirt
    d.ellipse([22, 19, 41, 40], fill=SKIN[skin])  # head
    d.chord([21, 16, 42, 31], start=180, end=360, fill=HAIR[hair])  # hair
    d.rectangle([21, 22, 23, 30], fill=HAIR[hair])
    d.rectangle([40, 22, 42, 30], fill=HAIR[hair])
    d.rectangle([27, 28, 29, 30], fill=EYES[eyes])
    d.rectangle([34, 28, 36, 30], fill=EYES[eyes])
    d.line([29, 35, 34, 35], fill=(150, 50, 50), width=1)  # mouth
    return img


QUADRANT = SIZE // 2


def draw_shape(d: ImageDraw.ImageDraw, shape: str, quadrant: tuple[int, int], colour: tuple[int, int, int]) -> None:
    """A shape filling most of one quadrant (4 of the vision tower's 16 patches)."""
    r, c = quadrant
    x0, y0 = c * QUADRANT + 3, r * QUADRANT + 3
    x1, y1 = x0 + QUADRANT - 7, y0 + QUADRANT - 7
    if shape == "circle":
        d.ellipse([x0, y0, x1, y1], fill=colour)
    elif shape == "square":
        d.rectangle([x0 + 2, y0 + 2, x1 - 2, y1 - 2], fill=colour)
    elif shape == "triangle":
        d.polygon([((x0 + x1) // 2, y0), (x1, y1), (x0, y1)], fill=colour)
    elif shape == "cross":
        xm, ym = (x0 + x1) // 2, (y0 + y1) // 2
        d.rectangle([xm - 4, y0, xm + 4, y1], fill=colour)
        d.rectangle([x0, ym - 4, x1, ym + 4], fill=colour)
    else:
        raise ValueError(shape)


def scene(objects: Sequence[tuple[str, str, tuple[int, int]]]) -> Image.Image:
    """objects = [(shape, colour name, (row, col))], one per quadrant of the 2x2 grid."""
    img = Image.new("RGB", (SIZE, SIZE), BACKGROUND)
    d = ImageDraw.Draw(img)
    for shape, colour, cell in objects:
        draw_shape(d, shape, cell, COLOURS[colour])
    return img
