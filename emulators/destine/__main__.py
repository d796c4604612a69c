"""``python -m emulators.destine``: serve the DestinE emulator in the foreground."""

import sys

from emulators.destine.cli import main

sys.exit(main())
