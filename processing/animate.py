"""Animations of a time series of rasters: GIF (Pillow) or MP4 (PyAV), one frame per raster, a date label each.

Frames share one grey scale: dB of the linear power, stretched between the 2nd and 98th percentiles of
the first frame (NaN is black), so brightness changes between dates are real changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from catalog.errors import InvalidQuery
from processing.ard import to_db


def frames_of(paths: Sequence[Path], labels: Sequence[str], max_side: int = 720) -> list[np.ndarray]:
    """RGB uint8 frames (even sizes, for video) with the label drawn in the top-left corner."""
    import rasterio
    from PIL import Image, ImageDraw

    frames = []
    low = high = 0.0
    for n, (path, label) in enumerate(zip(paths, labels, strict=True)):
        with rasterio.open(path) as src:
            scale = max(1.0, max(src.width, src.height) / max_side)
            shape = (max(2, int(src.height / scale) // 2 * 2), max(2, int(src.width / scale) // 2 * 2))
            values = to_db(src.read(1, out_shape=shape))
        if n == 0:
            finite = values[np.isfinite(values)]
            low, high = np.percentile(finite, [2, 98]) if finite.size else (0.0, 1.0)
            high = high if high > low else low + 1.0
        grey = np.clip((values - low) / (high - low) * 255, 0, 255)
        grey = np.where(np.isfinite(grey), grey, 0).astype(np.uint8)
        image = Image.fromarray(grey).convert("RGB")
        draw = ImageDraw.Draw(image)
        draw.rectangle((0, 0, 8 + 7 * len(label), 16), fill=(0, 0, 0))
        draw.text((4, 3), label, fill=(255, 255, 0))
        frames.append(np.asarray(image))
    return frames


def animate(paths: Sequence[Path], labels: Sequence[str], out: Path, fps: float = 2.0) -> int:
    """Write ``out`` (.gif or .mp4); returns the number of frames."""
    if not paths:
        raise InvalidQuery("nothing to animate")
    frames = frames_of(paths, labels)
    out.parent.mkdir(parents=True, exist_ok=True)
    suffix = out.suffix.lower()
    if suffix == ".gif":
        from PIL import Image

        images = [Image.fromarray(f) for f in frames]
        images[0].save(out, save_all=True, append_images=images[1:], duration=int(1000 / fps), loop=0)
    elif suffix == ".mp4":
        from fractions import Fraction

        import av

        with av.open(str(out), "w") as container:
            stream = container.add_stream("libx264" if "libx264" in av.codecs_available else "mpeg4",
                                          rate=Fraction(fps).limit_denominator(1000))  # fmt: skip
            stream.height, stream.width = frames[0].shape[:2]
            stream.pix_fmt = "yuv420p"
            for frame in frames:
                container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
            container.mux(stream.encode(None))
    else:
        raise InvalidQuery(f"{out}: animations are .gif or .mp4")
    return len(frames)
