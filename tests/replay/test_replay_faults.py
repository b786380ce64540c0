"""Bad input and bad targets: one line and exit 2, or error records, never a hang or a crash."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from replay_helpers import kept, later, primary, replay, write_source
from support import free_port

pytestmark = pytest.mark.timeout(120)


def _source(tmp_path, paths, extra=()):
    recs = [primary(f"c{i}", p, later(i)) for i, p in enumerate(paths)]
    return str(write_source(tmp_path / "src", [*recs, *extra]))


@contextmanager
def closing_server(accepts: int | None = None) -> Iterator[str]:
    """Accepts connections and closes each unanswered; with ``accepts``, stops listening after."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    done = threading.Event()

    def serve() -> None:
        n = 0
        while not done.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.close()
            n += 1
            if accepts is not None and n >= accepts:
                listener.close()
                return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        done.set()
        thread.join(5)
        listener.close()


def _one_error_line(capsys, *needles):
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    for needle in needles:
        assert needle in err, err
    return err


@pytest.mark.slow
def test_a_target_that_times_out_gives_timeout_error_records(apps, tmp_path):
    app = apps("v1")
    keep = tmp_path / "kept"
    src = _source(tmp_path, ["/hang", "/quick", "/hang", "/hang", "/quick"])
    code, report = replay(
        tmp_path, "--records", src, "--target", app, "--timeout", "0.5",
        "--keep-records", str(keep),
    )  # fmt: skip
    assert code == 0
    s = report["summary"]
    assert (s["pairs"], s["shadow_errors"]) == (5, 3)
    errors = [r for r in kept(keep) if r["error"] is not None]
    assert sorted(r["request"]["path"] for r in errors) == ["/hang"] * 3
    assert all(r["error"]["kind"] == "timeout" and r["response"] is None for r in errors)
    assert f"3 replays to {app} got no answer: 3 timeout" in report["notes"]


def test_a_target_that_closes_every_connection_gives_upstream_closed_records(tmp_path):
    keep = tmp_path / "kept"
    with closing_server() as target:
        code, report = replay(
            tmp_path, "--records", _source(tmp_path, ["/a", "/b"]), "--target", target,
            "--keep-records", str(keep),
        )  # fmt: skip
    assert code == 0 and report["summary"]["shadow_errors"] == 2
    assert {r["error"]["kind"] for r in kept(keep)} == {"upstream_closed"}


def test_a_target_that_starts_refusing_after_the_check_gives_connect_records(tmp_path):
    keep = tmp_path / "kept"
    with closing_server(accepts=1) as target:
        code, report = replay(
            tmp_path, "--records", _source(tmp_path, ["/a", "/b", "/c"]), "--target", target,
            "--keep-records", str(keep), "--fail-on", "shadow_error_rate > 0.5",
        )  # fmt: skip
    assert code == 3 and report["summary"]["shadow_errors"] == 3
    assert {r["error"]["kind"] for r in kept(keep)} == {"connect"}


def test_an_unreachable_target_at_start_is_one_line_and_exit_2(tmp_path, capsys):
    dead = f"http://127.0.0.1:{free_port()}"
    code, report = replay(tmp_path, "--records", _source(tmp_path, ["/a"]), "--target", dead)
    assert (code, report) == (2, None)
    _one_error_line(capsys, f"--target {dead}: unreachable", "refused")


def test_an_unreachable_secondary_target_is_named(apps, tmp_path, capsys):
    dead = f"http://127.0.0.1:{free_port()}"
    code, _ = replay(
        tmp_path, "--records", _source(tmp_path, ["/a"]), "--target", apps("v1"),
        "--secondary-target", dead,
    )  # fmt: skip
    assert code == 2
    _one_error_line(capsys, f"--secondary-target {dead}: unreachable")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--target", "localhost:8080"], "--target: 'localhost:8080' is not an http(s):// URL"),
        (["--target", "http://h:1", "--set-header", "token"], "--set-header: 'token'"),
        (["--target", "http://h:1", "--rate", "fast"], "--rate: 'fast'"),
        (["--target", "http://h:1", "--concurrency", "0"], "--concurrency"),
        (["--target", "http://h:1", "--methods", ","], "--methods"),
        (["--target", "http://h:1", "--keep-records", "ftp://x"], "--keep-records"),
        (["--target", "http://h:1", "--since", "yesterday"], "--since"),
        (["--target", "http://h:1", "--records", "x", "--primary", "y"], "not allowed with"),
    ],
)
def test_bad_flags_are_one_line_and_exit_2(tmp_path, capsys, args, needle):
    code, report = replay(tmp_path, "--records", _source(tmp_path, ["/a"]), *args)
    assert (code, report) == (2, None)
    _one_error_line(capsys, needle)


def test_a_missing_work_dir_is_one_line_and_exit_2(apps, tmp_path, capsys):
    missing = tmp_path / "no" / "such"
    code, _ = replay(
        tmp_path, "--records", _source(tmp_path, ["/a"]), "--target", apps("v1"),
        "--work-dir", str(missing),
    )  # fmt: skip
    assert code == 2
    _one_error_line(capsys, f"--work-dir {missing}")


def test_junk_lines_are_counted_by_the_report_and_the_rest_replayed(apps, tmp_path):
    junk = [b"not json at all", b'{"schema": "shadowdiff.capture/1", "role": "primary"}', b"{"]
    code, report = replay(
        tmp_path, "--records", _source(tmp_path, ["/a", "/b", "/c"], junk), "--target", apps("v1")
    )
    assert code == 0
    s = report["summary"]
    assert (s["pairs"], s["invalid_records"]) == (3, 3)
    assert report["invalid_reasons"]["not JSON"] == 2


def test_a_source_without_primary_records_says_so(apps, tmp_path, capsys):
    shadow = primary("s1", "/a", later(0))
    shadow["role"] = "shadow"
    src = str(write_source(tmp_path / "src", [shadow, b"junk"]))
    code, _ = replay(tmp_path, "--records", src, "--target", apps("v1"))
    assert code == 2
    _one_error_line(capsys, f"--records {src}: no primary records", "1 line that is not a record")


def test_a_window_without_primary_records_says_so(apps, tmp_path, capsys):
    src = _source(tmp_path, ["/a"])
    code, _ = replay(
        tmp_path, "--primary", src, "--target", apps("v1"),
        "--since", "2030-01-01T00:00:00Z", "--until", "2030-01-02T00:00:00Z",
    )  # fmt: skip
    assert code == 2
    _one_error_line(capsys, "no primary records from 2030-01-01T00:00:00.000Z")
