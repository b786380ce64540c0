"""``SRC``/``SINK`` strings mean the same to every command, and a bad one names the flag."""

from __future__ import annotations

from pathlib import Path

import pytest

from shadowdiff.model.errors import ConfigError
from shadowdiff.model.locations import parse_location


@pytest.mark.parametrize(
    ("url", "kind", "fields"),
    [
        ("./records", "local", {"path": Path("records")}),
        ("/data/records", "local", {"path": Path("/data/records")}),
        ("file:///data/my%20records", "local", {"path": Path("/data/my records")}),
        ("file://records", "local", {"path": Path("records")}),
        ("s3://captures", "s3", {"bucket": "captures", "prefix": ""}),
        ("s3://captures/nightly/", "s3", {"bucket": "captures", "prefix": "nightly"}),
        ("kinesis://shadowdiff-captures", "kinesis", {"stream": "shadowdiff-captures"}),
    ],
)
def test_each_form_parses_to_its_place(url, kind, fields):
    location = parse_location(url, "--sink")
    assert location.kind == kind
    for name, value in fields.items():
        assert getattr(location, name) == value


@pytest.mark.parametrize(
    ("url", "kinds", "message"),
    [
        ("", None, "--out: empty location"),
        ("s3:///prefix", None, "--out: 's3:///prefix' names no bucket (want s3://bucket/prefix)"),
        ("kinesis://a/b", None, "--out: 'kinesis://a/b' is not kinesis://stream-name"),
        ("file://", None, "--out: 'file://' names no directory"),
        ("ftp://x/y", None, "--out: unsupported location 'ftp://x/y' (want a directory or "
                            "file://DIR, s3://bucket/prefix or kinesis://stream)"),
        ("kinesis://s", ("local", "s3"), "--out: 'kinesis://s' cannot be used here "
                                         "(want a directory or file://DIR or s3://bucket/prefix)"),
    ],
)  # fmt: skip
def test_a_bad_location_is_one_line_naming_the_flag(url, kinds, message):
    with pytest.raises(ConfigError) as info:
        parse_location(url, "--out", *([kinds] if kinds else []))
    assert str(info.value) == message
