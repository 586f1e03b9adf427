"""QR code images for documents: segno encodes, Pillow writes the PNG.

segno's own PNG writer builds every scanline in Python (about a third of a notice's QR cost); the
symbol is a small 1-bit matrix, so it goes to Pillow as bytes and is enlarged there, nearest
neighbour, pixel for pixel the image segno would write.
"""

from __future__ import annotations

import io

import segno
from PIL import Image

__all__ = ["qr_png"]


def qr_png(payload: str, *, scale: int = 10, border: int = 2, error: str = "m") -> bytes:
    """A 1-bit PNG of ``payload``'s QR code: ``scale`` pixels per module, ``border`` modules of quiet zone.

    The quiet zone is kept by the image itself, so it survives whatever the template does around it.
    """
    matrix = segno.make(payload, error=error).matrix
    side = len(matrix) + 2 * border
    blank = b"\xff" * side
    rows = [blank] * border
    rows += [
        b"\xff" * border + bytes(0 if dark else 0xFF for dark in row) + b"\xff" * border for row in matrix
    ]
    rows += [blank] * border
    image = Image.frombytes("L", (side, side), b"".join(rows)).convert("1", dither=Image.Dither.NONE)
    out = io.BytesIO()
    image.resize((side * scale, side * scale), Image.Resampling.NEAREST).save(out, format="PNG")
    return out.getvalue()
