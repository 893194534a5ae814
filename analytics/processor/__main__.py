"""``python -m analytics.processor``: SKELETON ONLY (being built: issue 16), idles until stopped."""

from __future__ import annotations

import asyncio
import signal


async def _idle() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def main() -> None:
    asyncio.run(_idle())


if __name__ == "__main__":
    main()
