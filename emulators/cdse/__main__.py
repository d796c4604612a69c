"""``python -m emulators.cdse``: serve the CDSE emulator in the foreground."""

import sys

from emulators.cdse.cli import main

sys.exit(main())
