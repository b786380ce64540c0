import subprocess
import sys

import pytest

from shadowdiff.cli import main


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    for name in ("collector", "report", "serve", "edge", "demo"):
        assert name in out


def test_bad_arguments_exit_2_with_one_line():
    proc = subprocess.run(
        [sys.executable, "-m", "shadowdiff", "no-such-command"], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1
