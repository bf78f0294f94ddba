/* TruceWatch mechanism page: cases with deadline clocks (analysts), an
 * allegation form and reply/contest buttons (liaisons), the holding-site
 * register.  Same token as the map (sessionStorage "tw-token", or #token=…).
 * Every value from the API is written with textContent, never as HTML.
 */
(() => {
  "use strict";
  const API = "/api/v1";
  const S = { token: null, me: null, cases: [], fetchedAt: 0, replyTarget: null };
  const $ = (id) => document.getElementById(id);

  function el(tag, attrs = {}, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "text") e.textContent = v;
      else if (k === "on") for (const [ev, fn] of Object.entries(v)) e.addEventListener(ev, fn);
      else e.setAttribute(k, v);
    }
    for (const c of kids) e.append(c);
    return e;
  }

  async function call(method, path, body) {
    const opts = { method, headers: { Authorization: "Bearer " + S.token } };
    if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    const r = await fetch(API + path, opts);
    let data = null;
    try { data = await r.json(); } catch (_) { data = null; }
    if (!r.ok) {
      const d = data && data.detail;
      let msg = typeof d === "string" ? d : d && d.message ? (d.field ? d.field + ": " : "") + d.message : JSON.stringify(d);
      if (Array.isArray(d)) msg = d.map((x) => (x.loc || []).slice(1).join(".") + ": " + x.msg).join("; ");
      const err = new Error(msg || String(r.status)); err.status = r.status; err.detail = d; throw err;
    }
    return data;
  }

  function fmtDur(s) {
    const a = Math.abs(s), h = Math.floor(a / 3600), m = Math.floor((a % 3600) / 60), sec = Math.floor(a % 60);
    return (h ? h + "h " : "") + String(m).padStart(h ? 2 : 1, "0") + "m " + String(sec).padStart(2, "0") + "s";
  }
  const when = (iso) => (iso ? iso.replace("T", " ").replace(/\.\d+/, "").replace("Z", " UTC").replace("+00:00", " UTC") : "–");

  // ------------------------------------------------------------- cases
  function nextDeadline(c) {
    const open = c.deadlines.filter((d) => d.due !== null && d.done_at === null);
    return open.length ? open[0] : null;
  }

  function clockText(d) {
    if (!d) return { text: "–", cls: "" };
    const left = d.remaining_s - (Date.now() / 1000 - S.fetchedAt);
    if (left < 0) return { text: d.step + ": overdue by " + fmtDur(left), cls: "clock overdue" };
    return { text: d.step + ": " + fmtDur(left) + " left", cls: left < 3600 ? "clock soon" : "clock" };
  }

  async function loadCases() {
    const q = $("overdue-only").checked ? "?overdue=true" : "";
    S.cases = await call("GET", "/cases" + q);
    S.fetchedAt = Date.now() / 1000;
    const body = $("cases-body");
    body.replaceChildren();
    for (const c of S.cases) {
      const d = nextDeadline(c);
      const ck = el("span", { "data-testid": "clock", "data-case": c.id });
      const tr = el("tr", { class: "case", "data-testid": "case-row", "data-case": c.id, on: { click: () => showCase(c.id) } },
        el("td", { text: c.id }), el("td", { text: c.type }),
        el("td", {}, el("span", { class: c.is_overdue ? "badge bad" : "badge", text: c.state, "data-testid": "case-state" })),
        el("td", { text: when(c.received_at) }), el("td", { text: (c.allowed_next || []).join(", ") || "–" }),
        el("td", {}, ck), el("td", { text: c.decision || "–" }));
      body.append(tr);
      ck._deadline = d;
    }
    tick();
  }

  function tick() {
    for (const ck of document.querySelectorAll("[data-testid=clock]")) {
      const t = clockText(ck._deadline);
      ck.textContent = t.text; ck.className = t.cls;
    }
  }

  async function showCase(id) {
    const c = await call("GET", "/cases/" + encodeURIComponent(id));
    const box = $("case-detail");
    box.hidden = false;
    box.replaceChildren(el("h3", { text: "Case " + c.id + " — " + c.type, "data-testid": "case-title" }),
      el("p", { text: "State " + c.state + (c.decision ? " (" + c.decision + ")" : "") + "; received " + when(c.received_at) }));
    const dl = el("table", { class: "grid", "data-testid": "deadlines" },
      el("tr", {}, el("th", { text: "Step" }), el("th", { text: "Due" }), el("th", { text: "Done" }), el("th", { text: "" })));
    for (const d of c.deadlines) {
      dl.append(el("tr", {}, el("td", { text: d.step }), el("td", { text: when(d.due_iso) }), el("td", { text: when(d.done_iso) }),
        el("td", { text: d.overdue ? "OVERDUE" : d.late ? "late" : "" })));
    }
    box.append(dl);
    if (["administrator", "analyst"].includes(S.me.role) && c.allowed_next.length) {
      const act = c.allowed_next[0];
      const reason = el("input", { placeholder: "reason", "data-testid": "step-reason" });
      const dec = el("select", { "data-testid": "step-decision" },
        ...["substantiated", "unsubstantiated", "could_not_be_attributed"].map((x) => el("option", { value: x, text: x })));
      const btn = el("button", { class: "act", "data-testid": "step-" + act, text: act, on: { click: async () => {
        const body = { reason: reason.value || act };
        if (act === "decide") body.decision = dec.value;
        try { await call("POST", `/cases/${encodeURIComponent(c.id)}/${act}`, body); await loadCases(); await showCase(c.id); }
        catch (e) { box.append(el("p", { class: "error", text: e.message })); }
      } } });
      box.append(el("p", {}, btn, ...(act === "decide" ? [dec, " "] : []), reason));
    }
    const ol = el("ol", { "data-testid": "timeline" });
    for (const x of c.timeline) {
      const what = x.kind === "allegation" ? "allegation " + x.id + " (" + x.type + ")" :
        (x.action || x.kind) + (x.to_state ? " → " + x.to_state : "") + (x.reason ? ": " + x.reason : "");
      ol.append(el("li", { text: when(x.at_iso) + " — " + what + (x.actor ? " [" + x.actor + "]" : "") }));
    }
    box.append(el("h4", { text: "Timeline" }), ol);
  }

  // -------------------------------------------------------- allegations
  async function fileToB64(f) {
    const buf = new Uint8Array(await f.arrayBuffer());
    let s = "";
    for (let i = 0; i < buf.length; i += 0x8000) s += String.fromCharCode.apply(null, buf.subarray(i, i + 0x8000));
    return btoa(s);
  }

  async function submitAllegation(ev) {
    ev.preventDefault();
    const f = ev.target, out = $("allege-result");
    const body = { type: f.type.value, description: f.description.value };
    if (f.time.value) body.time = f.time.value + ":00Z";
    if (f.lat.value || f.lon.value) { body.lat = Number(f.lat.value); body.lon = Number(f.lon.value); }
    if (f.place_name.value) body.place_name = f.place_name.value;
    if (f.accused_party.value) body.accused_party = f.accused_party.value.trim();
    body.attachments = [];
    for (const file of f.attachments.files) {
      body.attachments.push({ name: file.name, content_type: file.type || "application/octet-stream", data_base64: await fileToB64(file) });
    }
    try {
      const r = await call("POST", "/allegations", body);
      out.className = "ok";
      out.textContent = `Received: case ${r.case_id}, acknowledged ${when(r.acknowledged_at)}, logged at ledger index ${r.ledger_index}.`;
      out.dataset.case = r.case_id;
      f.reset();
    } catch (e) { out.className = "error"; out.textContent = "Refused: " + e.message; }
  }

  // ------------------------------------------------------ replies (liaison)
  async function loadReplyTargets() {
    const body = $("reply-body");
    body.replaceChildren();
    const [vs, fs] = await Promise.all([call("GET", "/violations?status=verified&status=notified&status=contested&status=confirmed"),
      call("GET", "/findings")]);
    const rows = vs.map((v) => ({ kind: "violation", id: v.id, t: v.time, what: v.rule, party: v.party, status: v.status }))
      .concat(fs.map((f) => ({ kind: "finding", id: f.id, t: f.t_iso, what: f.kind, party: f.party, status: f.status })));
    for (const r of rows) {
      const own = r.party === S.me.party;
      const mk = (k) => el("button", { class: "act", "data-testid": k + "-btn", "data-target": r.id, text: k === "reply" ? "Reply" : "Contest",
        on: { click: () => openReply(r, k) } });
      body.append(el("tr", { "data-testid": "reply-row", "data-target": r.id }, el("td", { text: r.id }), el("td", { text: when(r.t) }),
        el("td", { text: r.what }), el("td", { text: r.party }), el("td", { text: r.status }),
        el("td", {}, mk("reply"), ...(own ? [mk("contest")] : []))));
    }
  }

  function openReply(r, kind) {
    S.replyTarget = { ...r, replyKind: kind };
    $("reply-form").hidden = false;
    $("reply-target").textContent = (kind === "contest" ? "Contest " : "Reply to ") + r.kind + " " + r.id;
    $("reply-result").textContent = "";
  }

  async function submitReply(ev) {
    ev.preventDefault();
    const f = ev.target, t = S.replyTarget, out = $("reply-result");
    const counter = f.counter.value.split("\n").map((x) => x.trim()).filter(Boolean);
    try {
      const r = await call("POST", "/replies", { target_kind: t.kind, target_id: t.id, kind: t.replyKind, reason: f.reason.value, counter_evidence: counter });
      out.className = "ok"; out.textContent = `${t.replyKind === "contest" ? "Contest" : "Reply"} ${r.id} recorded (${r.state}).`;
      f.reset(); $("reply-form").hidden = true; await loadReplyTargets();
    } catch (e) { out.className = "error"; out.textContent = "Refused: " + e.message; }
  }

  // -------------------------------------------------------- holding sites
  async function loadSites() {
    const sites = await call("GET", "/holding-sites");
    const body = $("sites-body");
    body.replaceChildren();
    for (const s of sites) {
      const inv = s.inventory.map((i) => `${i.count} × ${i.class}` + (i.serials.length ? ` (${i.serials.join(", ")})` : "")).join("; ");
      body.append(el("tr", { "data-testid": "site-row", "data-site": s.id }, el("td", { text: s.id }), el("td", { text: s.party }),
        el("td", { text: s.name }), el("td", { text: inv || "none declared" }), el("td", { text: when(s.last_inspection) }),
        el("td", {}, el("span", { class: s.inspection_overdue ? "badge bad" : "badge", text: when(s.next_inspection_due) + (s.inspection_overdue ? " — overdue" : "") }))));
    }
  }

  // ---------------------------------------------------------------- tabs
  const TABS = {
    cases: { roles: ["administrator", "analyst", "monitor", "liaison", "public"], load: loadCases },
    allege: { roles: ["administrator", "analyst", "monitor", "liaison"], load: async () => {} },
    reply: { roles: ["liaison"], load: loadReplyTargets },
    sites: { roles: ["administrator", "analyst", "monitor", "liaison"], load: loadSites },
  };

  async function show(tab) {
    for (const [k] of Object.entries(TABS)) { $(k).hidden = k !== tab; }
    for (const b of document.querySelectorAll("#tabs button")) b.classList.toggle("on", b.dataset.tab === tab);
    try { await TABS[tab].load(); } catch (e) { $(tab).append(el("p", { class: "error", text: e.message })); }
    document.body.dataset.tab = tab;
  }

  async function start(token) {
    S.token = token;
    try { S.me = await call("GET", "/me"); } catch (e) { $("who").textContent = "sign-in failed: " + e.message; return; }
    try {  // the public form appears only when the mission takes public allegations
      const st = await call("GET", "/mechanism/settings");
      if (st.public_allegations && !TABS.allege.roles.includes("public")) TABS.allege.roles.push("public");
    } catch (_) { /* older service: no settings route */ }
    $("who").textContent = S.me.role + (S.me.party ? " " + S.me.party : "");
    $("login").hidden = true;
    let first = null;
    for (const b of document.querySelectorAll("#tabs button")) {
      const ok = TABS[b.dataset.tab].roles.includes(S.me.role);
      b.hidden = !ok;
      if (ok && !first) first = b.dataset.tab;
    }
    const want = /tab=(\w+)/.exec(location.search);
    await show(want && TABS[want[1]] && TABS[want[1]].roles.includes(S.me.role) ? want[1] : first);
    document.body.dataset.ready = "1";
  }

  for (const b of document.querySelectorAll("#tabs button")) b.addEventListener("click", () => show(b.dataset.tab));
  $("overdue-only").addEventListener("change", loadCases);
  $("allege-form").addEventListener("submit", submitAllegation);
  $("reply-form").addEventListener("submit", submitReply);
  $("reply-cancel").addEventListener("click", () => { $("reply-form").hidden = true; });
  $("login").addEventListener("submit", (ev) => {
    ev.preventDefault(); const t = $("token").value.trim();
    if (t) { sessionStorage.setItem("tw-token", t); start(t); }
  });
  setInterval(tick, 1000);
  const m = /token=([^&]+)/.exec(location.hash);
  if (m) { sessionStorage.setItem("tw-token", decodeURIComponent(m[1])); history.replaceState(null, "", location.pathname + location.search); }
  const saved = sessionStorage.getItem("tw-token");
  if (saved) start(saved);
})();
