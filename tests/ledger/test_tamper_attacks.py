"""The tamper suite: one test per attack a database-only attacker (or a mission
rewriting history) can try, each played through the store API or raw SQL on
SQLite and PostgreSQL.  Every attack must make ``verify`` fail, and the report
must name the entry (log index and observation id) or the checkpoint involved.

The victim: 3 key certificates + 40 signed observations, checkpoint #1
cosigned by two party witnesses; the party trusts the mission's log key and
both witness keys with a quorum of 2, all kept outside the store.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from nacl.signing import SigningKey
from sqlalchemy import insert, select, text
from typer.testing import CliRunner

from tests.ledger.conftest import CERTS as K
from tests.ledger.conftest import ORIGIN, LedgerFixture, build, make_observations
from trucewatch.cli import app
from trucewatch.ledger.api import add_cosignature, add_witness, make_checkpoint, rebuild_entries
from trucewatch.ledger.certs import append_certs, make_cert
from trucewatch.ledger.checkpoint import ALG_COSIGNATURE_V1, NoteSigner
from trucewatch.ledger.ingest import ingest_signed
from trucewatch.ledger.keys import public_key_hex, sign_observation, sign_observations
from trucewatch.ledger.log import LogEntry, MerkleLog
from trucewatch.ledger.trust import Trust
from trucewatch.ledger.verify import VerifyReport, verify_store
from trucewatch.ledger.witness import Witness
from trucewatch.store import Store
from trucewatch.store import schema as S


@dataclass
class Victim:
    f: LedgerFixture
    witnesses: list[tuple[NoteSigner, Witness]]
    tmp: Path
    backend: str

    @property
    def store(self) -> Store:
        return self.f.store

    def trust(self, **kw) -> Trust:
        return Trust(log_keys=[self.f.signer.vkey()], witness_keys=[w.vkey() for w, _ in self.witnesses],
                     quorum=2, **kw)

    def verify(self, **kw) -> VerifyReport:
        return verify_store(self.store, self.trust(**kw))

    def checkpoint(self) -> dict:
        """The mission signs a checkpoint and both witnesses cosign it."""
        cp = make_checkpoint(self.store, self.f.signer)
        log = MerkleLog(self.store)
        for _, w in self.witnesses:
            line = w.cosign(cp["note"], log.consistency_proof(w.state.size, cp["size"]))
            add_cosignature(self.store, cp["seq"], line)
        return cp

    def sql(self, *stmts) -> None:
        with self.store.engine.begin() as c:
            for s, *p in stmts:
                c.execute(text(s), *p)

    def delete_observation(self, oid: str) -> None:
        if self.backend == "sqlite":
            self.sql(("DELETE FROM obs_rtree WHERE id = (SELECT seq FROM observations WHERE id = :i)", {"i": oid}))
        self.sql(("DELETE FROM observations WHERE id = :i", {"i": oid}))

    def rebuild_tree(self, size: int | None = None) -> None:
        """Recompute every tree node and the state from what is stored now (the attacker's cover-up)."""
        log = MerkleLog(self.store)
        rows = list(log.leaves(0, log.size if size is None else size))
        entries = rebuild_entries(self.store, rows)
        assert all(e is not None for *_, e in entries)
        with Store.open(self.tmp / f"scratch-{uuid.uuid4().hex[:6]}.db") as scratch:
            sl = MerkleLog(scratch)
            sl.append([LogEntry(oid, e, key) for _, oid, key, _, e in entries])
            n, root = sl.state()
            with scratch.engine.connect() as c:
                nodes = [{"nid": int(a), "hash": bytes(b)} for a, b in c.execute(select(S.ledger_nodes))]
        with self.store.engine.begin() as c:
            c.execute(S.ledger_nodes.delete())
            c.execute(insert(S.ledger_nodes), nodes)
            c.execute(S.ledger_leaves.delete().where(S.ledger_leaves.c.idx >= n))
            c.execute(S.ledger_key_entries.delete().where(S.ledger_key_entries.c.idx >= n))
            c.execute(S.ledger_state.update().values(size=n, root=root))

    def drop_checkpoints(self, where: str) -> None:
        self.sql((f"DELETE FROM ledger_cosignatures WHERE checkpoint_seq IN (SELECT seq FROM ledger_checkpoints "
                  f"WHERE {where})",), (f"DELETE FROM ledger_checkpoints WHERE {where}",))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def victim(request, tmp_path):
    target = tmp_path / "victim.db" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    f = build(target, n=40)
    wits = []
    for party in ("a", "b"):
        wk = NoteSigner.generate(f"witness.party-{party}.example", ALG_COSIGNATURE_V1)
        add_witness(f.store, wk.vkey())
        wits.append((wk, Witness.init(tmp_path / f"w-{party}.json", wk, f.signer.vkey(), ORIGIN)))
    v = Victim(f, wits, tmp_path, request.param)
    cp = MerkleLog(f.store).checkpoints()[-1]
    for _, w in wits:
        add_cosignature(f.store, cp["seq"], w.cosign(cp["note"], MerkleLog(f.store).consistency_proof(0, cp["size"])))
    yield v
    f.store.close()


def named(rep: VerifyReport, entry: int | None = None, oid: str | None = None, what: str = "") -> bool:
    return any((entry is None or p.entry == entry) and (oid is None or p.observation_id == oid) and what in p.what
               for p in rep.problems)


def idx(oid_number: int) -> int:
    return oid_number + K


# ------------------------------------------------------------------ baseline
def test_untouched_victim_verifies(victim):
    rep = victim.verify()
    assert rep.ok, [str(p) for p in rep.problems]
    assert rep.certificates == K and rep.signatures_checked == 40 and rep.cosignatures == 2


# ------------------------------------------------------------------- attacks
def test_forged_key_in_table_and_resigned_edited_observation(victim):
    """Insert an own key into the key table, edit an observation, re-sign it, fix
    the leaf's key and rebuild the tree: the key has no certificate in the log."""
    forged = SigningKey.generate()
    o = victim.store.get_observations(["obs:000010"])[0]
    edited = sign_observation(o.model_copy(update={"attributes": {**o.attributes, "weapon": "mlrs"}}), forged)
    victim.sql(("INSERT INTO ledger_source_keys (public_key, source_id, valid_from, created_at) "
                "VALUES (:k, :s, 0, 0)", {"k": public_key_hex(forged), "s": o.source_id}),
               ("UPDATE observations SET attributes = :a, signature = :g WHERE id = 'obs:000010'",
                {"a": json.dumps(edited.attributes), "g": edited.signature}),
               ("UPDATE ledger_leaves SET key = :k WHERE observation_id = 'obs:000010'",
                {"k": bytes(forged.verify_key)}))
    victim.rebuild_tree()
    rep = victim.verify()
    assert named(rep, idx(10), "obs:000010", "no key certificate of the mission in the log certifies")
    assert named(rep, None, None, "the stored entries do not hash to the signed root")
    # ingest, too, trusts only certified keys
    again = sign_observation(make_observations(1, start=77)[0].model_copy(update={"source_id": o.source_id}), forged)
    rej = ingest_signed(victim.store, [again])
    assert not rej.accepted and rej.errors[0].record == again.id and rej.errors[0].field == "signature"


def test_rebuilt_tree_after_edit(victim):
    victim.sql(("UPDATE observations SET lat = lat + 0.05 WHERE id = 'obs:000007'",))
    victim.rebuild_tree()
    rep = victim.verify()
    assert named(rep, idx(7), "obs:000007", "signature does not verify")
    assert named(rep, None, None, "checkpoint #1")


def test_deleted_checkpoints_covering_an_entry(victim):
    ingest_signed(victim.store, sign_observations(make_observations(5, start=40), victim.f.keys))
    victim.checkpoint()  # #2 covers obs 40..44
    victim.sql(("UPDATE observations SET lat = lat + 0.05 WHERE id = 'obs:000042'",))
    victim.rebuild_tree()
    victim.drop_checkpoints("seq >= 2")
    rep = victim.verify()
    assert named(rep, idx(42), "obs:000042", "not covered by any signed checkpoint")
    assert named(rep, idx(40), "obs:000040", "not covered")


def test_truncated_log_and_dropped_newest_checkpoint(victim):
    ingest_signed(victim.store, sign_observations(make_observations(5, start=40), victim.f.keys))
    cp2 = victim.checkpoint()
    seen = cp2["note"]  # what the party keeps as its last checkpoint
    for n in range(40, 45):
        victim.delete_observation(f"obs:{n:06d}")
    victim.rebuild_tree(size=idx(40))
    victim.drop_checkpoints("seq >= 2")
    assert victim.verify().ok  # without the party's memory the cut is invisible...
    rep = victim.verify(since_checkpoint=seen)  # ...with it, it fails loudly
    assert named(rep, None, None, f"rollback: you saw a checkpoint of size {idx(45)}")
    assert named(rep, None, None, f"entries {idx(40)}..{idx(44)} were cut")


def test_fork_against_the_partys_last_checkpoint(victim):
    ingest_signed(victim.store, sign_observations(make_observations(5, start=40), victim.f.keys))
    seen = victim.checkpoint()["note"]
    # the mission rewrites obs 41 with the source's key and signs a longer history
    o = victim.store.get_observations(["obs:000041"])[0]
    edited = sign_observation(o.model_copy(update={"attributes": {**o.attributes, "weapon": "mlrs"}}),
                              victim.f.keys[o.source_id])
    victim.sql(("UPDATE observations SET attributes = :a, signature = :g WHERE id = 'obs:000041'",
                {"a": json.dumps(edited.attributes), "g": edited.signature}))
    victim.rebuild_tree()
    victim.drop_checkpoints("seq >= 2")
    ingest_signed(victim.store, sign_observations(make_observations(3, start=45), victim.f.keys))
    make_checkpoint(victim.store, victim.f.signer)
    rep = victim.verify(since_checkpoint=seen)
    assert named(rep, None, None, f"fork: the checkpoint you saw (size {idx(45)})")


def test_uncovered_entries(victim):
    ingest_signed(victim.store, sign_observations(make_observations(3, start=40), victim.f.keys))
    rep = victim.verify()
    assert [(p.entry, p.observation_id) for p in rep.problems] == [
        (idx(n), f"obs:{n:06d}") for n in range(40, 43)]
    rep = victim.verify(allow_uncovered=True)
    assert rep.ok and "3 entries" in rep.warnings[-1] and f"entry {idx(40)} (obs:000040)" in rep.warnings[-1]


def test_deleted_older_checkpoint(victim):
    for start in (40, 45):
        ingest_signed(victim.store, sign_observations(make_observations(5, start=start), victim.f.keys))
        victim.checkpoint()
    victim.drop_checkpoints("seq = 2")
    rep = victim.verify()
    assert named(rep, None, None, "checkpoint(s) #2 missing before checkpoint #3")


def test_full_rewrite_by_the_mission_key_drops_cosignatures(victim):
    """The mission itself rewrites evidence, rebuilds the tree and re-signs fresh
    checkpoints: every signature checks, but no witness cosigned this history."""
    o = victim.store.get_observations(["obs:000005"])[0]
    edited = sign_observation(o.model_copy(update={"attributes": {**o.attributes, "weapon": "mlrs"}}),
                              victim.f.keys[o.source_id])
    victim.sql(("UPDATE observations SET attributes = :a, signature = :g WHERE id = 'obs:000005'",
                {"a": json.dumps(edited.attributes), "g": edited.signature}))
    victim.rebuild_tree()
    victim.drop_checkpoints("seq >= 1")
    make_checkpoint(victim.store, victim.f.signer)
    rep = victim.verify()
    assert len(rep.problems) == 1, [str(p) for p in rep.problems]  # the table's numbering differs by backend
    assert f"(size {idx(40)}): 0 of the required 2 witness cosignatures (none); no checkpoint has it" in str(
        rep.problems[0])
    unwitnessed = verify_store(victim.store, Trust(log_keys=[victim.f.signer.vkey()]))
    assert unwitnessed.ok  # only the witnesses' quorum tells this history from the one they saw


def test_swapped_log_key(victim):
    """Replace the mission's log key in the store, certify an own source key with
    it, ingest forged evidence and sign a checkpoint: only an outside anchor tells."""
    fake = NoteSigner.generate(ORIGIN)
    victim.sql(("DELETE FROM ledger_log_keys",),
               ("INSERT INTO ledger_log_keys (vkey, origin, created_at) VALUES (:v, :o, 0)",
                {"v": fake.vkey(), "o": ORIGIN}))
    forged = SigningKey.generate()
    append_certs(victim.store, fake, [make_cert("register", "src-0", public_key_hex(forged), valid_from=0)])
    bogus = sign_observation(make_observations(1, start=90, sources=1)[0], forged)
    assert ingest_signed(victim.store, [bogus]).accepted == [bogus.id]  # the store trusts its (swapped) key
    victim.drop_checkpoints("seq >= 1")
    make_checkpoint(victim.store, fake)
    plain = verify_store(victim.store)  # no anchor from outside: fails as unanchored
    assert named(plain, None, None, "unanchored")
    rep = victim.verify()
    assert named(rep, idx(40), None, "not a trusted log key")
    assert named(rep, idx(41), "obs:000090", "no key certificate of the mission in the log certifies")
    assert named(rep, None, None, "signed only by unknown keys")


def test_edit(victim):
    victim.sql(("UPDATE observations SET lon = lon - 0.01 WHERE id = 'obs:000021'",))
    rep = victim.verify()
    assert named(rep, idx(21), "obs:000021", "stored evidence differs from the logged entry")


def test_delete(victim):
    victim.delete_observation("obs:000030")
    rep = victim.verify()
    assert named(rep, idx(30), "obs:000030", "observation is missing from the store (deleted)")


def test_delete_key_certificate(victim):
    victim.sql(("DELETE FROM ledger_key_entries WHERE idx = 1",))
    rep = victim.verify()
    assert named(rep, 1, None, "key certificate entry is missing from the store (deleted)")
    assert named(rep, idx(1), "obs:000001", "no key certificate")  # src-1's evidence lost its key


def test_reorder(victim):
    a, b = idx(3), idx(4)
    victim.sql(("UPDATE ledger_leaves SET observation_id = 'tmp' WHERE idx = :i", {"i": a}),
               ("UPDATE ledger_leaves SET observation_id = 'obs:000003' WHERE idx = :i", {"i": b}),
               ("UPDATE ledger_leaves SET observation_id = 'obs:000004' WHERE idx = :i", {"i": a}),
               ("UPDATE observations SET ledger_index = :i WHERE id = 'obs:000004'", {"i": a}),
               ("UPDATE observations SET ledger_index = :i WHERE id = 'obs:000003'", {"i": b}))
    victim.rebuild_tree()
    rep = victim.verify()
    assert named(rep, a, "obs:000004") and named(rep, b, "obs:000003")


# ------------------------------------------------------------------ the CLI
def test_cli_trust_file_names_the_forged_entry(victim, tmp_path):
    if victim.backend != "sqlite":
        pytest.skip("the CLI run needs a file path")
    trust = tmp_path / "party-a.trust.yaml"
    trust.write_text(f"origin: {ORIGIN}\nlog_keys:\n  - {victim.f.signer.vkey()}\nwitness_keys:\n"
                     + "".join(f"  - {w.vkey()}\n" for w, _ in victim.witnesses) + "quorum: 2\n")
    runner = CliRunner()
    db = str(victim.f.path)
    saved = tmp_path / "last.cp"
    r = runner.invoke(app, ["verify", "--db", db, "--trust", str(trust), "--save-checkpoint", str(saved)])
    assert r.exit_code == 0, r.output
    assert saved.read_text().startswith(f"{ORIGIN}\n{idx(40)}\n")
    forged = SigningKey.generate()
    o = victim.store.get_observations(["obs:000010"])[0]
    edited = sign_observation(o.model_copy(update={"lat": o.location.lat}), forged)
    victim.sql(("INSERT INTO ledger_source_keys (public_key, source_id, valid_from, created_at) "
                "VALUES (:k, :s, 0, 0)", {"k": public_key_hex(forged), "s": o.source_id}),
               ("UPDATE observations SET signature = :g WHERE id = 'obs:000010'", {"g": edited.signature}),
               ("UPDATE ledger_leaves SET key = :k WHERE observation_id = 'obs:000010'",
                {"k": bytes(forged.verify_key)}))
    r = runner.invoke(app, ["verify", "--db", db, "--trust", str(trust), "--since-checkpoint", str(saved)])
    assert r.exit_code == 1
    assert f"FAIL entry {idx(10)} (observation obs:000010): signed with key" in r.output
    r = runner.invoke(app, ["verify", "--db", db])
    assert r.exit_code == 1 and "unanchored" in r.output
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"log_keys": ["nonsense"], "quorum": 1}))
    r = runner.invoke(app, ["verify", "--db", db, "--trust", str(bad)])
    assert r.exit_code == 2 and "log_keys[0]" in r.output and "Traceback" not in r.output


def test_verify_help_shows_the_trust_options():
    out = CliRunner().invoke(app, ["verify", "--help"], terminal_width=200).output
    for opt in ("--log-key", "--witness-key", "--quorum", "--trust", "--since-checkpoint", "--allow-unanchored",
                "--allow-uncovered"):
        assert opt in out, opt


def test_mirror_proves_consistency_with_the_partys_last_checkpoint(victim, tmp_path):
    """The same checks on a mirrored export: growth passes, a rewritten history fails as a fork."""
    from trucewatch.ledger.export import export_log
    from trucewatch.ledger.verify import verify_export

    export_log(victim.store, tmp_path / "mirror")
    seen = (tmp_path / "mirror" / "checkpoint").read_text()
    ingest_signed(victim.store, sign_observations(make_observations(5, start=40), victim.f.keys))
    cp2 = victim.checkpoint()
    export_log(victim.store, tmp_path / "mirror")
    rep = verify_export(tmp_path / "mirror", victim.trust(since_checkpoint=seen))
    assert rep.ok, [str(p) for p in rep.problems]
    assert rep.certificates == K and rep.signatures_checked == 45
    o = victim.store.get_observations(["obs:000041"])[0]
    edited = sign_observation(o.model_copy(update={"attributes": {**o.attributes, "weapon": "mlrs"}}),
                              victim.f.keys[o.source_id])
    victim.sql(("UPDATE observations SET attributes = :a, signature = :g WHERE id = 'obs:000041'",
                {"a": json.dumps(edited.attributes), "g": edited.signature}))
    victim.rebuild_tree()
    victim.drop_checkpoints("seq >= 2")
    make_checkpoint(victim.store, victim.f.signer)
    export_log(victim.store, tmp_path / "forked")
    rep = verify_export(tmp_path / "forked", victim.trust(since_checkpoint=cp2["note"]))
    assert named(rep, None, None, f"fork: the checkpoint you saw (size {idx(45)})")
    assert named(rep, None, None, "0 of the required 2 witness cosignatures")
