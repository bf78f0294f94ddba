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




def test_process_and_worker_name_a_bad_fusion_config(tmp_path):
    cfg = tmp_path / "fusion.yaml"
    cfg.write_text("fusion:\n  gate_everything: true\n")
    for cmd in (["process", "--db", str(tmp_path / "x.sqlite")], ["worker", "--db", str(tmp_path / "y.sqlite")]):
        res = CliRunner().invoke(app, [*cmd, "--fusion-config", str(cfg)])
        assert res.exit_code == 2 and "gate_everything" in res.output and "Traceback" not in res.output, res.output
