"""``trucewatch serve`` and ``trucewatch tokens ...``: run the API and dashboard, manage access."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import typer

from trucewatch.agreement import AgreementError, load_agreement
from trucewatch.cli.common import open_store
from trucewatch.mission import mission_agreement, mission_config
from trucewatch.service.app import create_app
from trucewatch.service.auth import Role, TokenStore
from trucewatch.service.config import ConfigError, load_config
from trucewatch.sim.sample import populate, populate_air_sea
from trucewatch.store import Store

tokens_app = typer.Typer(help="API tokens (stored hashed; a token is shown once).", no_args_is_help=True)


def _store(db: str):
    return Store.open(db)  # migrations create the service's tables (0006_service_tables)


def _agreement(store, path: Path | None):
    file = str(path) if path else store.get_setting("agreement_file")
    if not file:
        return mission_agreement(store)
    try:
        return load_agreement(file)
    except (AgreementError, OSError) as exc:
        typer.echo(f"error: agreement {file}: {exc}", err=True)
        raise typer.Exit(2) from None


@tokens_app.command("create")
def tokens_create(
    role: str = typer.Option(..., "--role", help="administrator, analyst, monitor, liaison or public"),
    party: str | None = typer.Option(None, "--party", help="the party a liaison speaks for (UA, RU...)"),
    source: list[str] = typer.Option([], "--source", help="monitor: a source id it may submit for (repeat)"),
    label: str = typer.Option("", "--label", help="who holds it"),
    ttl_hours: float | None = typer.Option(None, "--ttl-hours", help="expires after this many hours"),
    db: str = typer.Option("trucewatch.db", "--db", help="store path or URL"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Create a token and print it once (only its hash is kept)."""
    if role == "party_liaison":
        role = "liaison"
    if role not in {r.value for r in Role}:
        typer.echo(f"error: --role: {role!r} is not one of {', '.join(r.value for r in Role)}", err=True)
        raise typer.Exit(2)
    store = _store(db)
    try:
        token, rec = store_tokens(store).create(role, party=party, source_ids=source, label=label,
                                                ttl_s=ttl_hours * 3600 if ttl_hours else None)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(rec | {"token": token}))
    else:
        typer.echo(token)
        typer.echo(f"id {rec['id']}, role {rec['role']}" + (f", party {party}" if party else ""), err=True)


@tokens_app.command("list")
def tokens_list(db: str = typer.Option("trucewatch.db", "--db")) -> None:
    """List tokens (ids, roles, expiry; never the secrets)."""
    typer.echo(json.dumps(store_tokens(_store(db)).list(), indent=1))


@tokens_app.command("revoke")
def tokens_revoke(token_id: str, db: str = typer.Option("trucewatch.db", "--db")) -> None:
    """Revoke a token by its id (the part after ``tw_`` and before the dot)."""
    if not store_tokens(_store(db)).revoke(token_id):
        typer.echo(f"error: {token_id}: no such active token", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {token_id}")


def store_tokens(store):
    return TokenStore(store.engine, cache_s=0)


def serve(
    db: str = typer.Option("trucewatch.db", "--db", help="store path or URL"),
    agreement: Path | None = typer.Option(None, "--agreement", help="agreement file (default: the store's)"),
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
    config: Path | None = typer.Option(None, "--config", help="service settings (YAML/JSON)"),
    unsigned: bool = typer.Option(False, "--allow-unsigned", help="store unsigned observations (tests, demos)"),
    dashboard_token: bool = typer.Option(True, "--dashboard-token/--no-dashboard-token",
                                         help="print a dashboard link with a 12-hour analyst token"),
    sample: bool = typer.Option(False, "--sample", help="add sample findings (and air and sea data) when the store has none"),
    log_level: str = typer.Option("warning", "--log-level"),
) -> None:
    """Run the API (/api/v1, OpenAPI at /openapi.json) and the map dashboard (/)."""
    # lazy: only `serve` starts a server; other commands start faster without it
    import uvicorn

    try:
        cfg = load_config(config)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if unsigned:
        cfg.require_signatures = False

    if not sample:  # --sample fills a new store of its own; otherwise only `init` creates one
        open_store(db).close()  # exit 2 naming a store that does not exist
    store = _store(db)

    mcfg = mission_config(store)
    if config is None:
        cfg.public_delay_s = float(mcfg.public_delay_s)
    # the checkpoint scheduler reads its policy from the environment: the mission's interval unless set there
    os.environ.setdefault("TRUCEWATCH_CHECKPOINT_MAX_AGE_S", str(float(mcfg.checkpoint_interval_s)))
    os.environ.setdefault("TRUCEWATCH_CHECKPOINT_MAX_ENTRIES", str(int(mcfg.checkpoint_max_entries)))
    ag = _agreement(store, agreement)
    if sample:
        if ag is None:
            typer.echo("error: --sample needs --agreement", err=True)
            raise typer.Exit(2)

        if not store.query_violations(limit=1):
            try:
                populate(store, ag, np.random.default_rng(7), ledger=True)  # signed, logged, checkpointed
            except ImportError:  # no ledger in this deployment
                populate(store, ag, np.random.default_rng(7))
            populate_air_sea(store, ag, np.random.default_rng(7))  # the dashboard's air and sea layers
    app = create_app(store, ag, cfg)
    if dashboard_token:
        token, _ = app.state.tokens.create("analyst", label="dashboard (serve)", ttl_s=12 * 3600)
        typer.echo(f"dashboard: http://{host}:{port}/#token={token}", err=True)
    typer.echo(f"API: http://{host}:{port}/api/v1  OpenAPI: http://{host}:{port}/openapi.json", err=True)
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)


def register(app: typer.Typer) -> None:
    """Mount ``serve`` and the ``tokens`` group on the main command line."""
    app.command("serve")(serve)
    app.add_typer(tokens_app, name="tokens")
