"""Shrink a browser screenshot: 8-bit RGB(A) PNG in, 256-colour palette PNG out.

Chromium writes screenshots as true-colour PNGs quickly compressed; pages of text on a
plain background hold a few thousand colours at most (the anti-aliasing of a few text
colours), so a palette of 256 chosen by median cut looks the same and takes a third of
the bytes. Standard library only (zlib), so the docs' screenshots can be remade on any
machine that runs the tests: no image library, no external tool.
"""

from __future__ import annotations

import struct
import zlib
from collections import Counter

SIGNATURE = b"\x89PNG\r\n\x1a\n"
PALETTE_SIZE = 256


def read_png(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and the RGB bytes of a non-interlaced 8-bit RGB or RGBA PNG."""
    if not data.startswith(SIGNATURE):
        raise ValueError("not a PNG")
    chunks, at = {}, len(SIGNATURE)
    idat = bytearray()
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind = data[at + 4 : at + 8]
        body = data[at + 8 : at + 8 + length]
        if kind == b"IDAT":
            idat += body
        else:
            chunks.setdefault(kind, body)
        at += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    if depth != 8 or colour not in (2, 6) or interlace:
        raise ValueError(
            f"unsupported PNG: depth {depth}, colour type {colour}, interlace {interlace}"
        )
    channels = 3 if colour == 2 else 4
    rows = _unfilter(zlib.decompress(bytes(idat)), width * channels, height, channels)
    if channels == 4:
        rgb = bytearray(width * height * 3)
        for c in range(3):
            rgb[c::3] = rows[c::4]
        rows = rgb
    return width, height, bytes(rows)


def _unfilter(raw: bytes, stride: int, height: int, bpp: int) -> bytearray:
    """Undo the per-row filters of PNG §9 (None, Sub, Up, Average, Paeth)."""
    out = bytearray(stride * height)
    previous = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, previous, strict=True))
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = previous[i]
                c = previous[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                guess = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + guess) & 0xFF
        elif kind != 0:
            raise ValueError(f"unknown PNG filter {kind}")
        out[y * stride : (y + 1) * stride] = line
        previous = line
    return out


def palette_for(histogram: Counter[bytes]) -> tuple[list[bytes], dict[bytes, int]]:
    """At most 256 colours and each colour's index: exact when few, else median cut.

    Boxes are split on their widest channel at the median of their distinct colours (not
    weighted by pixels, so a rare link colour keeps its own entry beside the white); each
    entry is its box's pixel-weighted mean.
    """
    colours = list(histogram)
    if len(colours) <= PALETTE_SIZE:
        return colours, {colour: i for i, colour in enumerate(colours)}
    boxes = [colours]
    while len(boxes) < PALETTE_SIZE:
        widest, channel, spread = -1, 0, 0
        for n, box in enumerate(boxes):
            if len(box) < 2:
                continue
            for c in range(3):
                values = [colour[c] for colour in box]
                if max(values) - min(values) > spread:
                    widest, channel, spread = n, c, max(values) - min(values)
        if widest < 0:
            break
        box = sorted(boxes.pop(widest), key=lambda colour: colour[channel])
        middle = len(box) // 2
        boxes += [box[:middle], box[middle:]]
    palette, index = [], {}
    for n, box in enumerate(boxes):
        total = sum(histogram[colour] for colour in box)
        mean = bytes(
            round(sum(colour[c] * histogram[colour] for colour in box) / total) for c in range(3)
        )
        palette.append(mean)
        index.update(dict.fromkeys(box, n))
    return palette, index


def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def write_palette_png(width: int, height: int, rgb: bytes) -> bytes:
    """The image as an 8-bit palette PNG (filter None on every row: best for palettes)."""
    pixels = [rgb[i : i + 3] for i in range(0, len(rgb), 3)]
    palette, index = palette_for(Counter(pixels))
    lookup = index.__getitem__
    rows = bytearray()
    for y in range(height):
        rows.append(0)
        rows += bytes(map(lookup, pixels[y * width : (y + 1) * width]))
    header = struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0)
    return (
        SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"PLTE", b"".join(palette))
        + _chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + _chunk(b"IEND", b"")
    )


def shrink(data: bytes) -> bytes:
    """The smaller of the screenshot as it is and as a palette PNG."""
    smaller = write_palette_png(*read_png(data))
    return smaller if len(smaller) < len(data) else data
