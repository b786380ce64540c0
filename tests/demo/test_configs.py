"""The files and command lines the demo hands to the real commands are ones they accept."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from edge.config import parse_config
from shadowdiff.demo.commands import collector_argv, frontdoor_argv, report_argv, serve_argv
from shadowdiff.demo.configs import edge_config, write_configs


def test_both_mirrors_get_the_same_requests(tmp_path):
    edge, report = write_configs(tmp_path, "http://127.0.0.1:1", "http://127.0.0.1:2", "s3cret")
    config = json.loads(edge.read_text())
    assert [(t["role"], t["sample_rate"]) for t in config["targets"]] == [
        ("shadow", 1.0),
        ("secondary", 1.0),
    ]
    assert config["signing_secret"] == "s3cret"
    assert set(yaml.safe_load(report.read_text())) == {
        "routes",
        "ignore_headers",
        "latency",
        "fail_on",
    }


def test_the_edge_accepts_the_demo_edge_config():
    parse_config(edge_config("http://127.0.0.1:1", "http://127.0.0.1:2", "s3cret"))


def test_only_the_mirror_collectors_check_signatures(tmp_path):
    def argv(role):
        return collector_argv(role, "http://a", tmp_path, 1, tmp_path, "shop v1", "s3cret")

    assert "--signing-secret" not in argv("primary")
    assert "--signing-secret" in argv("shadow")
    assert "--signing-secret" in argv("secondary")


@pytest.mark.parametrize(
    "argv",
    [
        collector_argv("shadow", "http://a", "/r", 1, "/s", "shop v2", "x"),
        frontdoor_argv("/c.json", "http://p", 1),
        report_argv("/r", "/c.yaml", "/o"),
        serve_argv("/reports", "/r", 1),
    ],
    ids=["collector", "edge serve", "report", "serve"],
)
def test_every_command_line_parses(argv):
    """The flags the demo passes exist (each command's parser, not a running command)."""
    sys_argv = argv[argv.index("shadowdiff") + 1 :]
    probe = (
        "import sys; from shadowdiff.cli import build_parser; "
        "a = build_parser().parse_args(sys.argv[1:]); print(a.command)"
    )
    proc = subprocess.run([sys.executable, "-c", probe, *sys_argv], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
