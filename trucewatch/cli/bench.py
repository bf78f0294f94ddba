"""``trucewatch bench NAME``: run a benchmark and print one JSON object.

A benchmark is a module ``trucewatch.bench.<name>`` with a function
``run(quick: bool, seed: int) -> dict``.  It measures the project's own code
against a baseline *in the same run* and reports the ratio; numbers from these
noisy 2-core machines are only comparable within one run.
"""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import typer

import trucewatch.bench as _pkg

app = typer.Typer(help="Benchmarks that print JSON (goals in the README's performance section).", no_args_is_help=True)


def available() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(_pkg.__path__) if not m.name.startswith("_"))


@app.command("run", hidden=True)
def _run_hidden(name: str) -> None:  # pragma: no cover - alias
    run(name)


def run(name: str, quick: bool = False, seed: int = 1, as_json: bool = True) -> None:
    """Run one benchmark in a fresh interpreter (``python -m trucewatch.bench``): the command
    line has imported every stage, and a timed comparison must not carry that weight."""
    if name not in available():
        typer.echo(f"error: unknown benchmark {name!r}; available: {', '.join(available())}", err=True)
        raise typer.Exit(2)
    argv = [sys.executable, "-m", "trucewatch.bench", name, "--seed", str(seed)]
    argv += ["--quick"] if quick else []
    argv += [] if as_json else ["--pretty"]
    proc = subprocess.run(argv, stdout=subprocess.PIPE, text=True, check=False)
    if proc.returncode != 0:
        typer.echo(f"error: benchmark {name!r} failed (exit {proc.returncode}); its error is above", err=True)
        raise typer.Exit(1)
    typer.echo(proc.stdout.rstrip("\n"))


def _make(name: str) -> None:
    def cmd(
        quick: bool = typer.Option(False, "--quick", help="Small sizes (for tests), not for reported numbers."),
        seed: int = typer.Option(1, "--seed"),
        as_json: bool = typer.Option(True, "--json/--pretty", help="One JSON line (default) or indented."),
    ) -> None:
        run(name, quick=quick, seed=seed, as_json=as_json)

    mod = importlib.import_module(f"trucewatch.bench.{name}")
    cmd.__doc__ = (mod.__doc__ or name).strip().splitlines()[0]
    app.command(name.replace("_", "-"))(cmd)  # module mission_day -> command mission-day


for _name in available():
    _make(_name)
