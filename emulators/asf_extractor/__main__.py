"""``python -m emulators.asf_extractor``: serve the burst extractor, its storage host and Earthdata Login."""

from __future__ import annotations

import time

from emulators.asf_extractor import AsfExtractorEmulator


def main() -> None:
    with AsfExtractorEmulator() as emulator:
        for key, value in emulator.environment().items():
            print(f"export {key}={value}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
