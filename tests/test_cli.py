"""Every command and sub-command answers --help without a traceback."""

from __future__ import annotations

from typer.main import get_command
from typer.testing import CliRunner

from trucewatch.cli import app


def _paths(cmd, prefix=()):
    yield prefix
    for name, sub in getattr(cmd, "commands", {}).items():
        yield from _paths(sub, (*prefix, name))


def test_every_command_has_help():
    root = get_command(app)
    runner = CliRunner()
    paths = list(_paths(root))
    assert len(paths) > 10
    for p in paths:
        res = runner.invoke(app, [*p, "--help"])
        assert res.exit_code == 0, (p, res.output)
        assert "Usage" in res.output


def test_unknown_benchmark_is_a_clear_error():
    res = CliRunner().invoke(app, ["bench", "nope"])
    assert res.exit_code != 0 and "Traceback" not in res.output


