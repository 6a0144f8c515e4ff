"""The fake Twilio API for the benchmark, in a process of its own.

It runs ``hub_twilio.testing.FakeTwilio`` (the tests' fake) so the load generator's work does
not slow it down, and adds ``GET /_bench/received``: when each message create arrived, by its
``To`` number, on ``time.monotonic()`` (one clock for every process on the machine). It prints
its URL on its first line of output.

    python bench/twilio_fake.py
"""

from __future__ import annotations

import signal
import threading

from hub_twilio.testing import FakeTwilio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response


class BenchTwilio(FakeTwilio):
    async def _endpoint(self, request: Request) -> Response:
        if request.url.path == "/_bench/received":
            received = {r.form.get("To", ""): r.at for r in self.creates}
            return JSONResponse({"received": received, "texts": len(self.texts)})
        return await super()._endpoint(request)


def main() -> None:
    fake = BenchTwilio()
    fake._server.config.access_log = False
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    fake.start()
    print(fake.url, flush=True)
    stop.wait()
    fake.stop()


if __name__ == "__main__":
    main()
