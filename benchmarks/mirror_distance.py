"""What mirroring costs a live request when the collector is far away, by mirror point.

The promise is that shadowing never slows a user, at any distance. On loopback
every mirror looks free, so a user-space delay relay (tests/delay_relay.py)
puts a round trip of 0, 5, 20, 40, 80 or 150 ms between the mirror source and
a collector that answers 202 at once (in a child process; it counts what
arrives). For each distance, in one run, at concurrency 1:

- **blog**: the well-known edge function, a synchronous ``urlopen`` (2 s timeout);
- **edge, no breaker** and **edge, breaker**: the real ``edge.handler.make_handler``
  (``budget_ms`` 50; ``breaker`` null or the default);
- **tap**: ``shadowdiff collector --role primary --mirror-config`` in front of an
  app, against the same tap without ``--mirror-config``, requests taken turn about;
- **nginx mirror**: nginx's ``mirror`` directive, against the same nginx without it.

"added" is what a live request pays: for the edge, the handler's own time (a
viewer-request function holds the request); for the tap and nginx, the live
request's time minus that of the same proxy without mirroring, percentile by
percentile. "delivered" is the share of mirrors that reached the collector.
Two more rows: the tap mirroring to a hung collector, and the edge's breaker
against a hung collector (how many requests paid the budget, against the
bound ``failures`` + one probe per cool-down).

    .venv/bin/python benchmarks/mirror_distance.py [--rtts 0,5,20,40,80,150] [-n 300]

Targets: tap within +0.1 ms p50 / +0.5 ms p99 of the plain tap and ≥ 99.9 %
delivered at every distance; the edge breaker against a hung collector makes at
most ``failures`` + 1 requests per cool-down pay ``budget_ms``, the rest < 1 ms.
Needs nginx (Debian ``nginx-light``). The machine is shared: numbers move with
its load, which is printed.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "tests" / "edge"))
sys.path.insert(0, str(REPO / "benchmarks"))

from delay_relay import relay  # noqa: E402
from edge_overhead import blog_handler  # noqa: E402
from edge_support import load_event  # noqa: E402

from edge.handler import make_handler  # noqa: E402
from edge.pool import Pool  # noqa: E402

BUDGET_MS = 50
GAP_S = 0.005  # between live requests: a busy sandbox or proxy, not a flood

COLLECTOR = """
import sys
sys.path.insert(0, {path!r})
from edge_targets import Target
t = Target("fast")
h = Target("hanging")
print(t.url, h.url, flush=True)
for line in sys.stdin:
    print(len(t.requests), flush=True)
"""

APP = """
BODY = b'{"ok": true, "items": [1, 2, 3]}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
"""

NGINX_CONF = """
worker_processes 1;
error_log {dir}/nginx-error.log warn;
pid {dir}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body; proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fcgi; uwsgi_temp_path {dir}/uwsgi; scgi_temp_path {dir}/scgi;
    upstream app {{ server 127.0.0.1:{app}; keepalive 16; }}
    upstream collector {{ server 127.0.0.1:{relay}; keepalive 64; }}
    server {{
        listen 127.0.0.1:{port};
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        location /plain/ {{ proxy_pass http://app; }}
        location /mirrored/ {{
            mirror /_mirror;
            mirror_request_body on;
            proxy_pass http://app;
        }}
        location = /_mirror {{
            internal;
            proxy_set_header x-shadow-correlation-id $request_id;
            proxy_set_header x-shadow-role shadow;
            proxy_pass http://collector$request_uri;
        }}
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float = 30.0) -> None:
    host, port = url.split("://", 1)[1].split(":")
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection((host, int(port.split("/")[0])), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Counter:
    """The 202 collector (and a hung one) in a child process; asks it how much arrived."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", COLLECTOR.format(path=str(REPO / "tests" / "edge"))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            preexec_fn=_server_core,
        )
        assert self.proc.stdout is not None
        self.url, self.hung_url = self.proc.stdout.readline().split()

    def count(self) -> int:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("count\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline())

    def settle(self, expected: int, start: int, seconds: float) -> int:
        """Mirrors that arrived since ``start``, waiting up to ``seconds`` for ``expected``."""
        deadline = time.monotonic() + seconds
        while True:
            got = self.count() - start
            if got >= expected or time.monotonic() > deadline:
                return got
            time.sleep(0.1)

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=10)


# The live client (this process) gets core 1 to itself; every server (proxies, app,
# relay, collector) shares core 0. On a 2-core machine the mirror's own work (the
# tap's, the relay's, the collector's) would otherwise delay the client's wake-up
# and be charged to the live request, which in production is another machine.
CLIENT_CORE, SERVER_CORE = 1, 0


def _server_core() -> None:
    os.sched_setaffinity(0, {SERVER_CORE})


@contextlib.contextmanager
def spawned(args: list[str], ready: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with open(log, "ab") as fh:
        proc = subprocess.Popen(args, stdout=fh, stderr=fh, cwd=str(REPO), preexec_fn=_server_core)
    try:
        wait_http(ready)
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def edge_row(url: str, n: int, breaker: Any, counter: Counter) -> dict[str, Any]:
    handler = make_handler(
        {"targets": [{"url": url}], "budget_ms": BUDGET_MS, "breaker": breaker}, pool=Pool()
    )
    return edge_like(handler, n, counter)


def edge_like(handler: Callable[[Any, Any], Any], n: int, counter: Counter) -> dict[str, Any]:
    base = load_event("get-no-body.json")
    start = counter.count()
    times = []
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        for i in range(n):
            event = copy.deepcopy(base)
            event["Records"][0]["cf"]["config"]["requestId"] = f"bench-{time.time_ns()}-{i}"
            t0 = time.perf_counter()
            handler(event, None)
            times.append((time.perf_counter() - t0) * 1000.0)
            time.sleep(GAP_S)
    delivered = counter.settle(n, start, 3.0)
    return {"n": n, "p50": pct(times, 0.5), "p99": pct(times, 0.99), "delivered": delivered}


def paired(plain: str, mirrored: str, n: int, counter: Counter | None) -> dict[str, Any]:
    """Live requests through a proxy with and without mirroring, turn about; the difference."""
    start = counter.count() if counter else 0
    conns = {}
    for name, url in (("plain", plain), ("mirrored", mirrored)):
        host, rest = url.split("://", 1)[1].split(":", 1)
        port, _, path = rest.partition("/")
        conns[name] = (http.client.HTTPConnection(host, int(port), timeout=30), "/" + path)
    times: dict[str, list[float]] = {"plain": [], "mirrored": []}
    for i in range(n):
        for name in ("plain", "mirrored") if i % 2 else ("mirrored", "plain"):
            conn, path = conns[name]
            t0 = time.perf_counter()
            conn.request(
                "GET", f"{path}x?i={i}", headers={"x-shadow-correlation-id": f"t{i}{name}"}
            )
            conn.getresponse().read()
            times[name].append((time.perf_counter() - t0) * 1000.0)
            time.sleep(GAP_S)  # after each request: neither proxy runs on the other's leftovers
    for conn, _ in conns.values():
        conn.close()
    delivered = counter.settle(n, start, 5.0) if counter else 0
    return {
        "n": n,
        "p50": pct(times["mirrored"], 0.5) - pct(times["plain"], 0.5),
        "p99": pct(times["mirrored"], 0.99) - pct(times["plain"], 0.99),
        "base_p50": pct(times["plain"], 0.5),
        "base_p99": pct(times["plain"], 0.99),
        "delivered": delivered,
    }


def tap_row(tmp: Path, app: str, target: str, n: int, counter: Counter | None) -> dict[str, Any]:
    config = tmp / f"mirror-{time.time_ns()}.json"
    config.write_text(json.dumps({"targets": [{"url": target}]}))
    taps = []
    with contextlib.ExitStack() as stack:
        for extra in ([], ["--mirror-config", str(config)]):
            port = free_port()
            args = [
                sys.executable, "-m", "shadowdiff", "collector", "--role", "primary",
                "--upstream", app, "--sink", str(tmp / f"records-{port}"),
                "--spool-dir", str(tmp / f"spool-{port}"), "--host", "127.0.0.1",
                "--port", str(port), "--log-level", "warning", *extra,
            ]  # fmt: skip
            url = f"http://127.0.0.1:{port}"
            stack.enter_context(spawned(args, url, tmp / f"tap-{port}.log"))
            taps.append(url + "/")
        for _ in range(50):  # warm both
            paired(taps[0], taps[1], 1, None)
        time.sleep(1.0)  # the warm-up's mirrors arrive before counting starts
        return paired(taps[0], taps[1], n, counter)


def nginx_row(tmp: Path, app: str, target: str, n: int, counter: Counter) -> dict[str, Any]:
    port = free_port()
    relay_port = target.rsplit(":", 1)[1]
    conf = tmp / f"nginx-{port}.conf"
    conf.write_text(
        NGINX_CONF.format(dir=tmp, app=app.rsplit(":", 1)[1], relay=relay_port, port=port)
    )
    args = ["nginx", "-p", str(tmp), "-c", str(conf), "-g", "daemon off;"]
    with spawned(args, f"http://127.0.0.1:{port}", tmp / "nginx.log"):
        base = f"http://127.0.0.1:{port}"
        for _ in range(20):
            paired(base + "/plain/", base + "/mirrored/", 1, None)
        time.sleep(1.0)
        return paired(base + "/plain/", base + "/mirrored/", n, counter)


def breaker_row(hung: str, seconds: float, cooldown_ms: int) -> dict[str, Any]:
    failures = 3
    handler = make_handler(
        {
            "targets": [{"url": hung}],
            "budget_ms": BUDGET_MS,
            "breaker": {"failures": failures, "cooldown_ms": cooldown_ms},
        },
        pool=Pool(),
    )
    base = load_event("get-no-body.json")
    times = []
    t_end = time.monotonic() + seconds
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        while time.monotonic() < t_end:
            event = copy.deepcopy(base)
            t0 = time.perf_counter()
            handler(event, None)
            times.append((time.perf_counter() - t0) * 1000.0)
            time.sleep(GAP_S)
    paid = [t for t in times if t >= BUDGET_MS * 0.9]
    rest = [t for t in times if t < BUDGET_MS * 0.9]
    cooldowns = seconds * 1000.0 / cooldown_ms
    return {
        "n": len(times),
        "paid": len(paid),
        "bound": failures + int(cooldowns) + 1,
        "rest_p50": pct(rest, 0.5) if rest else 0.0,
        "rest_p99": pct(rest, 0.99) if rest else 0.0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rtts", default="0,5,20,40,80,150", help="round trips in ms")
    parser.add_argument("-n", type=int, default=300, help="live requests per edge/nginx row")
    parser.add_argument("--tap-n", type=int, default=1000, help="live requests per tap row")
    parser.add_argument("--blog-n", type=int, default=40, help="requests per blog row")
    parser.add_argument("--breaker-seconds", type=float, default=6.0)
    parser.add_argument("--breaker-cooldown-ms", type=int, default=1000)
    args = parser.parse_args()
    if not shutil.which("nginx"):
        print(
            "benchmarks/mirror_distance.py: nginx is not installed (nginx-light)", file=sys.stderr
        )
        return 2
    rtts = [float(x) for x in args.rtts.split(",")]
    os.sched_setaffinity(0, {CLIENT_CORE})
    counter = Counter()
    tmp = Path(tempfile.mkdtemp(prefix="sd-distance-"))
    rows: list[tuple[str, float, dict[str, Any]]] = []
    try:
        app_port = free_port()
        (tmp / "benchapp.py").write_text(APP)
        app_args = [
            sys.executable, "-m", "uvicorn", "benchapp:app", "--app-dir", str(tmp),
            "--port", str(app_port), "--log-level", "warning", "--loop", "uvloop",
            "--http", "httptools",
        ]  # fmt: skip
        app = f"http://127.0.0.1:{app_port}"
        with spawned(app_args, app, tmp / "app.log"):
            for rtt in rtts:
                with relay(counter.url, rtt, {SERVER_CORE}) as far:
                    rows.append(("blog (sync urlopen, 2 s)", rtt, edge_like(
                        blog_handler(far), args.blog_n, counter)))  # fmt: skip
                    rows.append(("edge, no breaker", rtt, edge_row(far, args.n, None, counter)))
                    rows.append(("edge, breaker", rtt, edge_row(far, args.n, {}, counter)))
                    rows.append(("tap as mirror source", rtt, tap_row(
                        tmp, app, far, args.tap_n, counter)))  # fmt: skip
                    rows.append(("nginx mirror", rtt, nginx_row(tmp, app, far, args.n, counter)))
                print(f"measured rtt {rtt:g} ms", file=sys.stderr, flush=True)
            hung_tap = tap_row(tmp, app, counter.hung_url, args.tap_n, None)
        brk = breaker_row(counter.hung_url, args.breaker_seconds, args.breaker_cooldown_ms)
    finally:
        counter.close()
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"\nms added to each live request at concurrency 1, budget_ms={BUDGET_MS}\n")
    print("| mirror point | rtt ms | n | added p50 | added p99 | delivered |")
    print("|---|--:|--:|--:|--:|--:|")
    for name, rtt, r in rows:
        share = 100.0 * r["delivered"] / r["n"]
        print(
            f"| {name} | {rtt:g} | {r['n']} | {r['p50']:.2f} | {r['p99']:.2f} "
            f"| {r['delivered']}/{r['n']} ({share:.1f} %) |"
        )
    print(
        f"| tap, hung collector | – | {hung_tap['n']} | {hung_tap['p50']:.2f} "
        f"| {hung_tap['p99']:.2f} | – |"
    )
    taps = [r for name, _, r in rows if name.startswith("tap")]
    if taps:
        base50 = max(r["base_p50"] for r in taps)
        base99 = max(r["base_p99"] for r in taps)
        print(
            f"\nplain tap (the baseline of the tap rows): p50 ≤ {base50:.2f} ms, p99 ≤ {base99:.2f} ms"
        )
    print(
        f"\nedge breaker, hung collector, {args.breaker_seconds:g} s at one request per "
        f"~{GAP_S * 1000:g} ms, cooldown_ms={args.breaker_cooldown_ms}, failures=3: "
        f"{brk['paid']} of {brk['n']} requests paid the budget (bound {brk['bound']}); "
        f"the rest p50 {brk['rest_p50']:.2f} ms, p99 {brk['rest_p99']:.2f} ms"
    )
    print(
        "\nedge rows: the handler's own time; tap and nginx rows: live request minus the same "
        "proxy without mirroring, turn about.\nload average at the end: "
        + ", ".join(f"{x:.2f}" for x in os.getloadavg())
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
