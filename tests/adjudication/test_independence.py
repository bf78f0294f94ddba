"""Independent lines of evidence: one per source kind and operator; copies are their original's line."""

from __future__ import annotations

from trucewatch.adjudication import adjudicate
from trucewatch.adjudication.workflow import WorkflowConfig, meets
from trucewatch.fusion import fuse
from trucewatch.model import ObservationKind as OK
from trucewatch.model import Rule, Source, Status
from trucewatch.sim.testing import ob, off_line, shift, sources

S = sources()


def _verifiable(ag, obs, srcs=S):
    events = fuse(obs, srcs)
    vs = adjudicate(events, {o.id: o for o in obs}, ag)
    return events, vs


def test_two_fixes_of_one_network_are_one_line(agreement):
    o = off_line(agreement, "RU", 9000)
    i = off_line(agreement, "UA", 6000)
    obs = [ob("l", "ac-net-a", OK.LAUNCH, *o, err=300, pair_id="p", n_sensors=8),
           ob("i", "ac-net-a", OK.IMPACT, *i, err=200, dt=25, pair_id="p", n_sensors=8)]
    events, vs = _verifiable(agreement, obs)
    assert len(events) == 1
    ev = events[0]
    # two signatures: the error groups (confidence) stay two, the lines of evidence are one
    assert ev.attributes["n_groups"] == 2 and ev.attributes["n_independent"] == 1
    v = next(v for v in vs if v.rule == Rule.FIRE_ACROSS_LINE)
    assert v.attributes["n_independent"] == 1 and "from 1 independent line" in v.explanation
    ok, why = meets(v, WorkflowConfig(), Status.VERIFIED)
    assert not ok and "1 independent line(s)" in why
    # corroboration counts error groups: the second signature corroborates, it does not verify
    ok, why = meets(v, WorkflowConfig(), Status.CORROBORATED)
    assert ok and "2 independent group(s)" in why
    # a second network hearing the impact is a second line
    obs.append(ob("i2", "ac-net-b", OK.IMPACT, *shift(*i, 40, 0), err=200, dt=25.5, n_sensors=8))
    events, vs = _verifiable(agreement, obs)
    v = next(v for v in vs if v.rule == Rule.FIRE_ACROSS_LINE)
    assert v.attributes["n_independent"] == 2 and meets(v, WorkflowConfig(), Status.VERIFIED)[0]


def test_sensors_naming_one_network_are_one_line(agreement):
    srcs = {**S, "s-1": Source(id="s-1", kind="acoustic_sensor", attributes={"network": "n1"}),
            "s-2": Source(id="s-2", kind="acoustic_sensor", attributes={"network": "n1"}),
            "s-3": Source(id="s-3", kind="acoustic_sensor", attributes={"network": "n2"})}
    i = off_line(agreement, "UA", 6000)
    obs = [ob("a", "s-1", OK.EXPLOSION, *i, err=400), ob("b", "s-2", OK.EXPLOSION, *shift(*i, 30, 0), err=400, dt=0.2)]
    ev = fuse(obs, srcs)
    assert len(ev) == 1 and ev[0].attributes["n_independent"] == 1
    obs.append(ob("c", "s-3", OK.EXPLOSION, *shift(*i, -30, 0), err=400, dt=0.3))
    ev = fuse(obs, srcs)
    assert len(ev) == 1 and ev[0].attributes["n_independent"] == 2


def test_posts_of_one_channel_and_copies_are_one_line(agreement):
    ua = off_line(agreement, "UA", 6000)

    def post(oid, src, dx, **kw):
        return ob(oid, src, OK.REPORT_CLAIM, *shift(*ua, dx, 0), err=5000, ts=600, event_type="shelling",
                  cluster="c1", **kw)

    # two original posts of one channel: one operator, one line
    same = [post("p0", "tg-0", 0, independent=True), post("p1", "tg-0", 200, independent=True, dt=120)]
    ev = fuse(same, S)
    assert len(ev) == 1 and ev[0].attributes["n_independent"] == 1
    # copies of p0 on other channels (named by origin_source, as the text stage writes it) add nothing
    copies = [post(f"c{k}", f"tg-{k}", 100 * k, independent=False, origin_id="r-p0", origin_source="tg-0", dt=60 * k)
              for k in range(2, 6)]
    ev = fuse(same + copies, S)
    assert len(ev) == 1 and ev[0].attributes["n_independent"] == 1
    # an independent post of another channel is a second line
    ev = fuse([*same, *copies, post("q", "tg-7", 300, independent=True, dt=90)], S)
    assert len(ev) == 1 and ev[0].attributes["n_independent"] == 2


def test_text_stage_names_the_original_source_of_a_copy():
    from datetime import UTC, datetime

    from trucewatch.sources.text.pipeline import extract_observations

    t = datetime(2026, 3, 1, 9, 0, tzinfo=UTC).isoformat()
    text = "Russian forces shelled Kupiansk, Kharkiv oblast, 3 people injured"
    recs = [{"id": "1", "source": "chan_a", "published_at": t, "text": text},
            {"id": "2", "source": "chan_b", "published_at": "2026-03-01T09:20:00+00:00", "text": text + " via @chan_a"}]
    obs, _ = extract_observations(recs)
    copies = [o for o in obs if o.attributes.get("independent") is False]
    assert copies, "the second post reads as a copy"
    assert all(o.attributes.get("origin_source") == "text:chan_a" for o in copies)
