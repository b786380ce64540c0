"""The command line: bad values exit 2 with one line that names the flag."""

from __future__ import annotations

import argparse

import pytest

from collector.settings import build_settings
from shadowdiff.cli import build_parser, main


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["collector", *argv])


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["--upstream", "ftp://x"], "--upstream"),
        (["--upstream", "http://x", "--sink", "gs://b"], "--sink"),
        (["--upstream", "http://x", "--sink", "s3://"], "--sink"),
        (["--upstream", "http://x", "--port", "9000", "--admin-port", "9000"], "--admin-port"),
        (["--upstream", "http://x", "--port", "70000"], "--port"),
        (["--upstream", "http://x", "--redact-json-field", "password"], "--redact-json-field"),
        (["--upstream", "http://x", "--max-concurrency", "0"], "--max-concurrency"),
        (["--upstream", "http://x", "--correlation-header", "bad header"], "--correlation-header"),
        (["--upstream", "http://x", "--buckets", "101"], "--buckets"),
        (["--upstream", "http://x", "--sink", "kinesis://s", "--buckets", "8"], "--buckets"),
    ],
)
def test_bad_values_exit_2_with_one_line_naming_the_flag(argv, flag, capsys):
    assert main(["collector", "--role", "shadow", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and flag in err[0]


def test_secret_and_deployment_come_from_the_environment():
    env = {"SHADOWDIFF_SIGNING_SECRET": "from-env", "SHADOWDIFF_DEPLOYMENT": "v9"}
    s = build_settings(parse("--role", "shadow", "--upstream", "http://app:81/base/"), env)
    assert s.signing_secret == "from-env" and s.deployment == "v9"
    assert s.upstream == "http://app:81" and s.upstream_base_path == "/base"
    assert s.sink.kind == "local" and s.body_limit == 256 * 1024


def test_sink_urls_pick_the_backend():
    for url, kind in [
        ("s3://b/p/q", "s3"),
        ("kinesis://st", "kinesis"),
        ("file:///tmp/r", "local"),
    ]:
        s = build_settings(parse("--role", "primary", "--upstream", "http://a", "--sink", url), {})
        assert s.sink.kind == kind
    s = build_settings(
        parse("--role", "primary", "--upstream", "http://a", "--sink", "s3://b/p/q"), {}
    )
    assert (s.sink.bucket, s.sink.prefix) == ("b", "p/q")


def test_buckets_default_to_no_level_and_reach_the_sink_settings():
    base = ("--role", "shadow", "--upstream", "http://a", "--sink", "s3://b/p")
    assert build_settings(parse(*base), {}).sink.buckets == 0
    assert build_settings(parse(*base, "--buckets", "16"), {}).sink.buckets == 16
