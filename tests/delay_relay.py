"""A user-space TCP relay that puts a round trip between two processes on 127.0.0.1.

Why: the tests and benchmarks may use only loopback, where a round trip costs
~50 µs, and this machine has no netem. Mirroring that looks free on loopback
can cost every user a round trip to a collector 40–200 ms away, so the
distance has to be put back. Every byte is delivered ``rtt/2`` after it was
read, in each direction, in order. A new connection also pays one round trip
before its first byte goes on (a TCP handshake): the client's ``connect()``
returns at once here (the kernel answers on loopback), so the first request
takes the two round trips a real cold connection takes, and later ones one.

    python tests/delay_relay.py --target 127.0.0.1:8081 --rtt-ms 40

prints ``{"port": N}`` on stdout when it listens, and stops on SIGTERM or when
its stdin closes (so it never outlives the test that started it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path


async def _pump(
    src: asyncio.StreamReader, dst: asyncio.StreamWriter, delay: float, not_before: float
) -> None:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes | None]] = asyncio.Queue()

    async def read() -> None:
        try:
            while data := await src.read(65536):
                queue.put_nowait((max(loop.time(), not_before) + delay, data))
        except OSError:
            pass
        queue.put_nowait((max(loop.time(), not_before) + delay, None))

    async def write() -> None:
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if data is None:
                with contextlib.suppress(OSError):
                    if dst.can_write_eof():
                        dst.write_eof()
                return
            dst.write(data)
            with contextlib.suppress(OSError):
                await dst.drain()

    reader = asyncio.ensure_future(read())
    try:
        await write()
    finally:
        reader.cancel()


async def _serve(target: tuple[str, int], rtt: float, ready: asyncio.Future[int]) -> None:
    loop = asyncio.get_running_loop()
    half = rtt / 2.0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted = loop.time()
        try:
            up_reader, up_writer = await asyncio.open_connection(*target)
        except OSError:
            writer.close()
            return
        for w in (writer, up_writer):
            sock = w.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(6, 1, 1)  # TCP_NODELAY
        try:
            await asyncio.gather(
                _pump(reader, up_writer, half, accepted + rtt),
                _pump(up_reader, writer, half, 0.0),
            )
        except asyncio.CancelledError:
            pass  # the relay is stopping
        finally:
            for w in (writer, up_writer):
                w.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
    ready.set_result(server.sockets[0].getsockname()[1])
    async with server:
        await server.serve_forever()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", required=True, metavar="HOST:PORT")
    parser.add_argument("--rtt-ms", type=float, required=True)
    args = parser.parse_args()
    host, _, port = args.target.rpartition(":")

    async def run() -> None:
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[int] = loop.create_future()
        task = asyncio.ensure_future(_serve((host, int(port)), args.rtt_ms / 1000.0, ready))
        print(json.dumps({"port": await ready}), flush=True)
        stop = loop.create_future()
        loop.add_signal_handler(signal.SIGTERM, stop.set_result, None)
        loop.add_reader(sys.stdin.fileno(), lambda: stop.done() or stop.set_result(None))
        await stop
        task.cancel()

    with contextlib.suppress(asyncio.CancelledError):
        asyncio.run(run())
    return 0


@contextlib.contextmanager
def relay(target_url: str, rtt_ms: float, cpus: set[int] | None = None) -> Iterator[str]:
    """A relay child process in front of ``target_url``; yields its ``http://`` URL.

    ``cpus`` pins it (benchmarks keep it off the measuring client's core).
    """
    hostport = target_url.split("://", 1)[1].rstrip("/")
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__)), "--target", hostport, "--rtt-ms", str(rtt_ms)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None,
    )
    try:
        assert proc.stdout is not None
        port = json.loads(proc.stdout.readline())["port"]
        yield f"http://127.0.0.1:{port}"
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


if __name__ == "__main__":
    sys.exit(main())
