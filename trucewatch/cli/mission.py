"""``trucewatch init``, ``sources add|list|rotate|revoke``, ``intake`` and ``watch``."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import typer
from pydantic import ValidationError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from trucewatch.agreement import AgreementError
from trucewatch.cli.common import fail, open_store, store_agreement_or
from trucewatch.ledger.certs import load_certified
from trucewatch.ledger.keys import (
    KeyRegistryError,
    generate_source_keys,
    list_keys,
    public_key_hex,
    register_key,
    revoke_key,
    rotate_key,
    write_signing_key,
)
from trucewatch.ledger.log import LogError
from trucewatch.mission import (
    MissionConfig,
    MissionError,
    checkpoint,
    init_mission,
    key_dir,
    mission_signer,
    resolve_db,
    source_key_path,
)
from trucewatch.mission.intake import intake_paths
from trucewatch.mission.watch import DropFolder, LiveAis, LiveArrivals, flush_ais, flush_arrivals
from trucewatch.model import Source, SourceKind
from trucewatch.sources.registry import ADAPTERS, BY_NAME


def _fail(msg: str, code: int = 2) -> NoReturn:
    fail(msg, code)


DbOpt = typer.Option(None, "--db", help="Store path or URL (default: $TRUCEWATCH_DB).")


# ------------------------------------------------------------------- init
def init(
    db: str = typer.Option(None, "--db", help="Store to create (SQLite path or URL; default $TRUCEWATCH_DB)."),
    agreement: Path = typer.Option(..., "--agreement", "-a", help="Agreement YAML (docs/formats.md#agreement)."),
    origin: str | None = typer.Option(None, "--origin", help="Log origin, e.g. mission.example.org/ua-ru "
                                      "(default: trucewatch.local/<agreement id>)."),
    keys: Path | None = typer.Option(None, "--keys", help="Key folder (default: <db>.keys beside the store)."),
    config: Path | None = typer.Option(None, "--config", help="Mission config YAML: fusion, workflow, "
                                       "public_delay_s, checkpoint_interval_s, checkpoint_max_entries, "
                                       "report_cutoff (docs/mission.md)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Create a mission store: the agreement (versioned), the log key, a key folder (0700) and the config.

    Run again with an amended agreement to add a version; the log key stays."""
    try:
        cfg = MissionConfig.from_yaml(config) if config is not None else None
        res = init_mission(resolve_db(db), agreement, origin=origin, keys=keys, config=cfg)
    except AgreementError as exc:
        _fail(str(exc))
    except (MissionError, LogError) as exc:
        _fail(str(exc))
    if as_json:
        typer.echo(json.dumps(res))
        return
    typer.echo(f"store {res['db']}: agreement {res['agreement_id']} version {res['agreement_version']}"
               + ("" if res["agreement_added"] else " (unchanged)"))
    typer.echo(f"log origin {res['origin']}; key folder {res['key_dir']} (log key: log.key, 0600)")
    typer.echo(f"log vkey (give it to the parties for `trucewatch verify --log-key`): {res['log_vkey']}")


# ---------------------------------------------------------------- sources
sources_app = typer.Typer(help="Sources and their keys: every registration, rotation and revocation is "
                          "certified by the mission key and logged.", no_args_is_help=True)


def _valid_from(v: str | None, default: float) -> float:
    if v is None:
        return default
    try:
        t = datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        _fail(f"--valid-from: expected an ISO 8601 time, got {v!r}")
    return (t if t.tzinfo else t.replace(tzinfo=datetime.now().astimezone().tzinfo)).timestamp()


def _read_pubkey(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"--key: {path}: cannot read: {exc}")
    if len(text) != 64 or any(c not in "0123456789abcdefABCDEF" for c in text):
        _fail(f"--key: {path}: expected an Ed25519 public key as 64 hex characters")
    return text.lower()


def _new_key(store: Any, source_id: str) -> str:
    """A fresh key for ``source_id`` written to the key folder (0600); returns its public key."""
    sk = generate_source_keys([source_id])[source_id]
    path = source_key_path(store, source_id)
    tmp = path.with_suffix(".new")
    write_signing_key(tmp, sk)
    os.replace(tmp, path)
    return public_key_hex(sk)


@sources_app.command("add")
def sources_add(
    source_id: str = typer.Argument(..., help="Source id (letters, digits, _.:-/@)."),
    kind: str = typer.Option(..., "--kind", help="acoustic_network, drone, satellite, radar, monitor_team, "
                             "open_source, party_statement, air_defence, ais..."),
    party: str = typer.Option("neutral", "--party", help="The party the source belongs to, or neutral."),
    operator: str | None = typer.Option(None, "--operator", help="Who runs it (independence of evidence lines)."),
    name: str = typer.Option("", "--name"),
    key: str | None = typer.Option(None, "--key", help="generate (private key kept in the mission's key folder, "
                                   "0600) or a file with the source's Ed25519 public key (hex)."),
    sysid: int | None = typer.Option(None, "--sysid", help="Drone: MAVLink system id in its logs."),
    valid_from: str | None = typer.Option(None, "--valid-from", help="Key valid from (ISO 8601; default: now for "
                                          "a public key file, the epoch for a generated adapter key)."),
    db: str | None = DbOpt,
) -> None:
    """Register a source and (optionally) its key, certified by the mission key in the log."""
    if kind not in {k.value for k in SourceKind}:
        _fail(f"--kind: {kind!r} is not one of {', '.join(k.value for k in SourceKind)}")
    attrs: dict[str, Any] = {}
    if operator:
        attrs["operator"] = operator
    if sysid is not None:
        attrs["sysid"] = sysid
    try:
        src = Source(id=source_id, kind=SourceKind(kind), party=party, name=name or source_id, attributes=attrs)
    except ValidationError as exc:
        e = exc.errors()[0]
        _fail(f"{'.'.join(map(str, e['loc']))}: {e['msg']}")
    store = open_store(db)
    try:
        signer = mission_signer(store)
        old = store.get_source(source_id)
        if old is not None:
            src = src.model_copy(update={"public_key": old.public_key,
                                         "attributes": {**old.attributes, **attrs}})
        store.add_sources([src])
        if key is None:
            typer.echo(f"registered {source_id} ({kind}) without a key: its observations will be rejected until "
                       f"one is added (sources rotate {source_id} --key ...)")
            return
        if key == "generate":
            pk = _new_key(store, source_id)
            vf = _valid_from(valid_from, 0.0)
        else:
            pk = _read_pubkey(Path(key))
            vf = _valid_from(valid_from, time.time())
        register_key(store, source_id, pk, valid_from=vf, signer=signer)
    except (KeyRegistryError, MissionError, ValueError) as exc:
        _fail(str(exc))
    finally:
        store.close()
    typer.echo(f"registered {source_id} ({kind}, party {party}) with key {pk[:16]}… (certified in the log)")


@sources_app.command("list")
def sources_list(db: str | None = DbOpt, as_json: bool = typer.Option(False, "--json")) -> None:
    """Sources with their certified keys (replayed from the log, not the table)."""
    store = open_store(db)
    try:
        ring = load_certified(store).keyring.by_key
        rows: list[dict[str, Any]] = []
        for s in store.list_sources():
            keys = [k for k in ring.values() if k.source_id == s.id]
            rows.append({"id": s.id, "kind": s.kind.value, "party": s.party, "operator": s.attributes.get("operator"),
                         "adapter": bool(s.attributes.get("adapter")),
                         "private_key_held": source_key_path(store, s.id).exists() if _has_keys(store) else False,
                         "keys": [{"public_key": k.public_key, "valid_from": k.valid_from, "valid_to": k.valid_to,
                                   "revoked_at": k.revoked_at} for k in keys]})
    finally:
        store.close()
    if as_json:
        typer.echo(json.dumps(rows))
        return
    for r in rows:
        live = [k for k in r["keys"] if k["revoked_at"] is None and k["valid_to"] is None]
        state = "no key" if not r["keys"] else (f"key {live[0]['public_key'][:16]}…" if live else "revoked/expired")
        typer.echo(f"{r['id']:30s} {r['kind']:18s} {r['party']:8s} {state}" + (" (adapter)" if r["adapter"] else ""))


def _has_keys(store: Any) -> bool:
    return key_dir(store) is not None


@sources_app.command("rotate")
def sources_rotate(
    source_id: str = typer.Argument(...),
    key: str = typer.Option("generate", "--key", help="generate or a public key file (hex)."),
    db: str | None = DbOpt,
) -> None:
    """Close the source's current key now and certify a new one from now on."""
    store = open_store(db)
    try:
        if store.get_source(source_id) is None:
            _fail(f"{source_id}: no such source")
        signer = mission_signer(store)
        pk = _new_key(store, source_id) if key == "generate" else _read_pubkey(Path(key))
        rotate_key(store, source_id, pk, signer=signer)
    except (KeyRegistryError, MissionError, ValueError) as exc:
        _fail(str(exc))
    finally:
        store.close()
    typer.echo(f"rotated {source_id}: new key {pk[:16]}… (certified in the log)")


@sources_app.command("revoke")
def sources_revoke(
    source_id: str = typer.Argument(...),
    reason: str = typer.Option(..., "--reason", help="Why (compromised, lost...)."),
    public_key: str | None = typer.Option(None, "--public-key", help="Only this key (hex; default: every key)."),
    at: str | None = typer.Option(None, "--at", help="Compromised since (ISO 8601; default now)."),
    db: str | None = DbOpt,
) -> None:
    """Revoke the source's keys: signatures made with them from ``--at`` on are rejected."""
    t = _valid_from(at, time.time())
    store = open_store(db)
    try:
        keys = [k for k in list_keys(store, source_id) if k.revoked_at is None
                and (public_key is None or k.public_key == public_key.lower())]
        if not keys:
            _fail(f"{source_id}: no unrevoked key" + (f" {public_key}" if public_key else ""))
        signer = mission_signer(store)
        for k in keys:
            revoke_key(store, k.public_key, at=t, reason=reason, signer=signer)
    except (KeyRegistryError, MissionError, ValueError) as exc:
        _fail(str(exc))
    finally:
        store.close()
    typer.echo(f"revoked {len(keys)} key(s) of {source_id} (certified in the log)")


# ----------------------------------------------------------------- intake
def run_intake(store: Any, paths: list[Path], *, fmt: str = "auto", source_id: str | None = None,
               agreement: Any = None, as_json: bool = False, show_progress: bool = True,
               skip_done: bool = False, echo: Any = None) -> list[Any]:
    """The intake command's body (also the demo's): per-file summaries, then a checkpoint."""
    echo = echo or typer.echo
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), transient=True,
                  disable=not show_progress, console=None) as bar:
        tasks: dict[str, Any] = {}

        def progress(name: str, done: int, total: int) -> None:
            if total < 5000:
                return
            if name not in tasks:
                tasks[name] = bar.add_task(Path(name).name, total=total)
            bar.update(tasks[name], completed=done)

        def on_file(fs: Any) -> None:
            if as_json:
                echo(json.dumps(fs.as_dict(), ensure_ascii=False))
                return
            echo(fs.line())
            for e in fs.errors[:20]:
                echo(f"  rejected {e['record']}: {e['field']}: {e['message']}", err=True)
            if len(fs.errors) > 20:
                echo(f"  ... and {len(fs.errors) - 20} more", err=True)

        out = intake_paths(store, paths, fmt=fmt, source_id=source_id, agreement=agreement, skip_done=skip_done,
                           progress=progress, on_file=on_file)
    checkpoint(store)
    return out


def intake(
    paths: list[Path] = typer.Argument(..., help="Files or folders (walked)."),
    db: str | None = DbOpt,
    fmt: str = typer.Option("auto", "--format", help="auto (sniff each file) or a format name (see --formats)."),
    source: str | None = typer.Option(None, "--source", help="Sign every observation as this registered source "
                                      "(its private key must be in the mission's key folder)."),
    skip_done: bool = typer.Option(False, "--skip-done", help="Skip files whose content was taken in before."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per file."),
    formats: bool = typer.Option(False, "--formats", help="List the formats read and exit."),
) -> None:
    """Read raw source files, run each one's source stage, sign and append to the ledger.

    Exit 0 when every file was read (even with rejected records), 1 when a file
    could not be read at all, 2 on a bad store or option."""
    if formats:
        for a in ADAPTERS:
            typer.echo(f"{a.name:18s} {a.description}")
        return
    if fmt != "auto" and fmt not in BY_NAME:
        _fail(f"--format: {fmt!r} is not one of auto, {', '.join(BY_NAME)}")
    store = open_store(db)
    try:
        agr = store_agreement_or(store, None)
        out = run_intake(store, paths, fmt=fmt, source_id=source, agreement=agr, as_json=as_json,
                         show_progress=not as_json and sys.stderr.isatty(), skip_done=skip_done)
    finally:
        store.close()
    if not as_json:
        typer.echo(f"{len(out)} file(s): accepted {sum(f.accepted for f in out)}, duplicates "
                   f"{sum(f.duplicates for f in out)}, rejected {sum(f.rejected for f in out)}")
    raise typer.Exit(1 if any(not f.done for f in out) else 0)


# ------------------------------------------------------------------ watch
def watch(
    folder: Path = typer.Argument(..., help="Drop folder: new files are taken in as they arrive."),
    db: str | None = DbOpt,
    interval: float = typer.Option(2.0, "--interval", help="Seconds between scans."),
    settle: float = typer.Option(1.0, "--settle", help="A file is read once unchanged for this long."),
    once: bool = typer.Option(False, "--once", help="One scan, then exit (cron)."),
    max_s: float | None = typer.Option(None, "--max-s", help="Stop after this many seconds."),
    rss: list[str] = typer.Option([], "--rss", help="Also poll this RSS/Atom URL (repeatable)."),
    rss_every: float = typer.Option(300.0, "--rss-every", help="Seconds between polls of each --rss URL."),
    ais: list[str] = typer.Option([], "--ais", help="Also read AIS NMEA from tcp://HOST:PORT or udp://HOST:PORT "
                                  "(repeatable), taken in every --ais-every seconds."),
    ais_every: float = typer.Option(60.0, "--ais-every", help="Seconds between AIS snapshots."),
    arrivals_sensors: Path | None = typer.Option(None, "--arrivals-sensors", help="Also locate acoustic arrivals "
                                                 "from MQTT (trucewatch/arrivals/<sensor_id>) with this registry."),
    mqtt: str = typer.Option("127.0.0.1:1883", "--mqtt", help="MQTT broker HOST:PORT for --arrivals-sensors."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Follow a drop folder (and RSS/Atom URLs): intake each new file, then fuse and adjudicate what it added.

    Files are remembered by content hash in the store, so a restart continues
    where it stopped; Ctrl-C or SIGTERM finishes the file in hand and exits."""
    if not folder.is_dir():
        _fail(f"{folder}: no such folder")
    for url in ais:
        if not url.startswith(("tcp://", "udp://")) or url.rsplit(":", 1)[-1].isdigit() is False:
            _fail(f"--ais: {url!r} is not tcp://HOST:PORT or udp://HOST:PORT")
    store = open_store(db)
    stop = {"now": False}

    def _stop(*_: Any) -> None:
        stop["now"] = True

    old = signal.signal(signal.SIGTERM, _stop)
    try:
        w = DropFolder(store, folder, settle_s=settle)
        t0 = time.monotonic()
        due = dict.fromkeys(rss, 0.0)
        lives = [LiveAis(u) for u in ais]
        arrivals = None
        if arrivals_sensors is not None:
            host, _, port = mqtt.rpartition(":")
            if not port.isdigit() or not host:
                _fail(f"--mqtt: expected HOST:PORT, got {mqtt!r}")
            try:
                arrivals = LiveArrivals(arrivals_sensors, host, int(port))
            except (OSError, ValueError) as exc:
                _fail(str(exc))
        ais_due = time.monotonic() + ais_every
        while not stop["now"]:
            try:
                found = w.scan(should_stop=lambda: stop["now"])
                if lives and (time.monotonic() >= ais_due or once or stop["now"]):
                    ais_due = time.monotonic() + ais_every
                    for lv in lives:
                        found += flush_ais(w, lv)
                if arrivals is not None:
                    if arrivals.error:
                        typer.echo(f"warning: {arrivals.url}: {arrivals.error}", err=True)
                        arrivals.error = None
                    found += flush_arrivals(w, arrivals)
                for url in rss:
                    if time.monotonic() >= due[url] and not stop["now"]:
                        due[url] = time.monotonic() + rss_every
                        try:
                            found += w.poll_feed(url)
                        except OSError as exc:  # a feed that is down is reported and polled again later
                            typer.echo(f"warning: {url}: {exc}", err=True)
                for fs in found:
                    typer.echo(json.dumps(fs.as_dict(), ensure_ascii=False) if as_json else fs.line())
                res = w.process_new()
                if res is not None and not as_json:
                    typer.echo(f"processed: {res}")
            except KeyboardInterrupt:
                break
            if once or (max_s is not None and time.monotonic() - t0 >= max_s):
                break
            try:
                time.sleep(interval)
            except KeyboardInterrupt:
                break
        if arrivals is not None:  # buffered arrivals are located and taken in before exiting
            arrivals.stop()
            for fs in flush_arrivals(w, arrivals):
                typer.echo(json.dumps(fs.as_dict(), ensure_ascii=False) if as_json else fs.line())
        for lv in lives:  # what arrived since the last snapshot is taken in before exiting
            lv.stop()
            for fs in flush_ais(w, lv):
                typer.echo(json.dumps(fs.as_dict(), ensure_ascii=False) if as_json else fs.line())
    finally:
        signal.signal(signal.SIGTERM, old)
        store.close()


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.add_typer(sources_app, name="sources")
    app.command("intake")(intake)
    app.command("watch")(watch)


__all__ = ["register", "run_intake"]
