"""``python -m emulators.asf``: serve the ASF SearchAPI emulator in the foreground."""

import sys

from emulators.asf.cli import main

sys.exit(main())
