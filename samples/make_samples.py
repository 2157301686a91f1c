"""Rebuild samples/ from public-domain photos that scikit-image ships, plus rendered composites.

Run: .venv/bin/python samples/make_samples.py  (deterministic; see samples/README.md)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))


def _exif_with_gps_and_orientation(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation  # Orientation
    exif[0x010F] = "photoguard-sample-camera"  # Make
    exif[0x0132] = "2024:05:01 10:30:00"  # DateTime
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (40.0, 26.0, 46.0)
    gps[3], gps[4] = "W", (79.0, 58.0, 56.0)
    return exif


def main() -> None:
    from skimage import data

    from bench.textset import render_wristband

    astronaut = data.astronaut()
    cameraman = np.stack([data.camera()] * 3, axis=-1)
    # 1. A portrait: the astronaut is the photo's main subject.
    Image.fromarray(astronaut).save(HERE / "astronaut.jpg", quality=92)
    # 2. A visit: the (consented) astronaut next to an unconsented bystander.
    visit = np.full((512, 1100, 3), 235, dtype=np.uint8)
    visit[:, :512] = astronaut
    visit[:, 588:] = cameraman
    Image.fromarray(visit).save(HERE / "visit.jpg", quality=92)
    # 3. A close-up of the bystander: his face fills the frame, so without consent it is blocked.
    Image.fromarray(cameraman[95:210, 180:275]).resize((240, 300), Image.Resampling.LANCZOS).save(
        HERE / "closeup.jpg", quality=92
    )
    # 4. No people; the file carries GPS and is stored rotated (EXIF orientation 6).
    rocket = Image.fromarray(data.rocket())
    stored = rocket.transpose(Image.Transpose.ROTATE_90)  # orientation 6 turns it back upright
    stored.save(HERE / "launch-gps.jpg", quality=92, exif=_exif_with_gps_and_orientation(6))
    # 5. No people, no text.
    Image.fromarray(data.coffee()).save(HERE / "coffee.png")
    # 6. A patient wristband (name, DOB, MRN, barcode) composited on a photo.
    scene = render_wristband(np.asarray(Image.fromarray(data.coffee()).resize((1200, 800))), seed=7)
    Image.fromarray(scene.image).save(HERE / "wristband.jpg", quality=92)


if __name__ == "__main__":
    main()
