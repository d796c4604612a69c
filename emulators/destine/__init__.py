"""DestinE emulator: the streamer's S3 NDVI metadata API, real encoded video streams and the DESP login.

::

    from emulators.destine import DestinEEmulator

    with DestinEEmulator(start=date(2021, 6, 1), end=date(2021, 7, 1)) as emu:
        emu.environment()             # EOCAT_DESTINE_STREAMER_URL, EOCAT_DESP_AUTH_URL, DESP_USERNAME/PASSWORD
        emu.truth("Europe", 17)       # float32 NDVI of frame 17 (NaN = no data)
        emu.streams["Africa"].frames  # what the metadata API lists

From a shell: ``python -m emulators.destine --port 8766`` (or ``eocat emulate destine``).
"""

from emulators.destine.cli import main
from emulators.destine.emulator import DestinEEmulator
from emulators.destine.scene import GRIDS, ContinentStream, Frame, Grid
from emulators.destine.video import VideoFormat

__all__ = ["GRIDS", "ContinentStream", "DestinEEmulator", "Frame", "Grid", "VideoFormat", "main"]
