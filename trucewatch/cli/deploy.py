"""Deployment commands: ``trucewatch worker``, ``publish`` and ``bridge``."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from pathlib import Path

import typer

from trucewatch.cli.common import load_agreement_or_exit
from trucewatch.cli.fusion import fusion_config_or_exit
from trucewatch.deploy.bridge import run_bridge
from trucewatch.deploy.worker import Worker, publish_file
from trucewatch.pipeline import read_observations_jsonl
from trucewatch.store import RecordError, Store

AgreementOpt = typer.Option(None, "--agreement", "-a", help="Agreement YAML (default: the bundled sample).")


def worker(
    bus: str = typer.Option("nats://127.0.0.1:4222", "--bus", help="NATS URL."),
    db: str = typer.Option(..., "--db", help="Store URL (postgresql://...) or SQLite path."),
    role: str = typer.Option("all", "--role", help="ingest, fusion or all."),
    agreement: Path | None = AgreementOpt,
    batch: int = typer.Option(500, "--batch"),
    unsigned: bool = typer.Option(False, "--unsigned", help="Accept unsigned observations (tests only)."),
    fusion_config: Path | None = typer.Option(None, "--fusion-config",
                                              help="YAML with fusion: settings (e.g. clutter_map: PATH)."),
) -> None:
    """Run a pipeline worker: pull from JetStream, commit, then acknowledge."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    agr = load_agreement_or_exit(agreement)
    cfg = fusion_config_or_exit(fusion_config)
    store = Store.open(db)
    w = Worker(bus, store, agr, role=role, batch=batch, require_signatures=not unsigned, fusion_config=cfg)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, w.stop)
        stats = await w.run()
        typer.echo(json.dumps(stats.__dict__))

    asyncio.run(main())


def publish(
    file: Path = typer.Argument(..., help="Signed observations, JSONL."),
    bus: str = typer.Option("nats://127.0.0.1:4222", "--bus"),
    agreement: Path | None = AgreementOpt,
) -> None:
    """Publish observations to their sectors' subjects (as a source adapter would)."""
    agr = load_agreement_or_exit(agreement)
    obs = []
    for _, item in read_observations_jsonl(file):
        if isinstance(item, RecordError):
            typer.echo(f"{file}: {item}", err=True)
        else:
            obs.append(item)
    n = asyncio.run(publish_file(bus, agr, obs))
    typer.echo(f"published {n} new of {len(obs)} observations")


def bridge(
    mqtt_host: str = typer.Option("127.0.0.1", "--mqtt-host"),
    mqtt_port: int = typer.Option(1883, "--mqtt-port"),
    bus: str = typer.Option("nats://127.0.0.1:4222", "--bus"),
    agreement: Path | None = AgreementOpt,
) -> None:
    """Forward field sensors' MQTT observations (trucewatch/obs/<source>) to NATS."""
    agr = load_agreement_or_exit(agreement)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        typer.echo(json.dumps(await run_bridge(mqtt_host, mqtt_port, bus, agr, stop=stop)))

    asyncio.run(main())


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
    app.command("publish")(publish)
    app.command("bridge")(bridge)
