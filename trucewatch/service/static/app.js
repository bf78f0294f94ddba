/* TruceWatch dashboard: one page, Leaflet (vendored), no network beyond this server.
 * Data comes from /api/v1 with the bearer token given in the URL fragment
 * (#token=…, never sent to the server in URLs or logs) or typed in the header.
 * All text from the API is inserted with textContent (no HTML injection). */
(function () {
  "use strict";
  const API = "/api/v1";
  const STATUS_COLOURS = {
    detected: "#9e9e9e", corroborated: "#fbc02d", verified: "#e53935", notified: "#8e24aa",
    contested: "#fb8c00", confirmed: "#6d0000", dismissed: "#cfd8dc",
  };
  const PARTY_COLOURS = ["#1565c0", "#c62828", "#2e7d32", "#6a1b9a", "#ef6c00"];
  // air tracks: line colour = class (contract classes of trucewatch.sources.air.tracks)
  const AIR_COLOURS = {
    shahed: "#d81b60", decoy: "#f06292", drone: "#ad1457", cruise_missile: "#5e35b1", ballistic_missile: "#4a148c",
    guided_missile: "#7b1fa2", glide_bomb: "#6d4c41", aircraft: "#283593", missile: "#512da8", unknown: "#757575",
  };
  // sea incidents: point colour = kind (trucewatch.sources.sea.incidents)
  const SEA_COLOURS = { barred_vessel_in_zone: "#c62828", ais_gap: "#00838f", spoofing: "#ef6c00", loitering: "#6a1b9a" };
  const LAUNCH_AREA = { color: "#4e342e", fillColor: "#bcaaa4", forbidden: "#ff7043" };
  const state = { token: null, me: null, violations: [], parties: [], markers: new Map(), selected: null, es: null,
    timed: [] };

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v; else if (k === "text") e.textContent = v; else e.setAttribute(k, v);
    }
    for (const c of children) e.append(c);
    return e;
  }
  function toast(msg) {
    const t = document.getElementById("toast");
    t.textContent = msg; t.style.display = "block";
    clearTimeout(toast._t); toast._t = setTimeout(() => { t.style.display = "none"; }, 4000);
  }
  async function api(path) {
    const r = await fetch(API + path, { headers: { Authorization: "Bearer " + state.token } });
    if (!r.ok) {
      let detail = r.statusText;
      try { detail = (await r.json()).detail; } catch (e) { /* not JSON */ }
      const err = new Error(typeof detail === "string" ? detail : JSON.stringify(detail));
      err.status = r.status; throw err;
    }
    return r.json();
  }
  async function getJSON(url) { const r = await fetch(url); if (!r.ok) throw new Error(url + ": " + r.status); return r.json(); }
  function partyColour(p) {
    const i = state.parties.indexOf(p);
    return i >= 0 ? PARTY_COLOURS[i % PARTY_COLOURS.length] : "#424242";
  }
  const fmtTime = (iso) => iso.replace("T", " ").slice(0, 16) + " UTC";

  // ------------------------------------------------------------------ map
  const map = L.map("map", { zoomControl: true, attributionControl: true, preferCanvas: false, worldCopyJump: false })
    .setView([48.3, 35.5], 6);
  map.attributionControl.setPrefix("Leaflet | borders: Natural Earth via world-atlas (ISC)");
  const layers = {
    land: L.layerGroup().addTo(map), countries: L.layerGroup().addTo(map), zones: L.layerGroup().addTo(map),
    line: L.layerGroup().addTo(map), coverage: L.layerGroup().addTo(map), sensors: L.layerGroup().addTo(map),
    events: L.layerGroup(), air: L.layerGroup().addTo(map), sea: L.layerGroup().addTo(map),
    violations: L.layerGroup().addTo(map),
  };
  // optional layers join the control only once the role could load them
  const control = L.control.layers(null, {
    "Contact line": layers.line, "Zones and protected objects": layers.zones, "Violations": layers.violations,
  }, { collapsed: false }).addTo(map);
  L.control.scale({ imperial: false }).addTo(map);
  map.createPane("findings").style.zIndex = 450;  // above zones, below tooltips

  async function loadBasemap() {
    const [land, countries] = await Promise.all([getJSON("/basemap/land.geojson"), getJSON("/basemap/countries.geojson")]);
    L.geoJSON(land, { style: { color: "#cfc8b8", weight: 0, fillColor: "#f2efe6", fillOpacity: 1 }, interactive: false })
      .addTo(layers.land);
    L.geoJSON(countries, {
      style: { color: "#8d8776", weight: 1, fill: false }, interactive: false,
    }).addTo(layers.countries);
  }

  async function loadAgreement() {
    const fc = await api("/agreement");
    state.parties = ((fc.properties || {}).parties || []).map((p) => p.id);
    const zoneColours = { buffer: "#ffb300", withdrawal: "#7e57c2", weapon: "#7e57c2", maritime: "#00838f",
      corridor: "#00838f", port_exclusion: "#00838f", exclusion: "#00838f" };
    const zones = { type: "FeatureCollection", features: fc.features.filter((f) => f.properties.layer === "zone") };
    const line = { type: "FeatureCollection", features: fc.features.filter((f) => f.properties.layer === "contact_line") };
    const objects = fc.features.filter((f) => f.properties.layer === "protected_object");
    L.geoJSON(zones, {
      style: (f) => ({ color: zoneColours[f.properties.kind] || "#7e57c2", weight: 1, fillOpacity: 0.06, dashArray: "4 3" }),
      onEachFeature: (f, l) => l.bindTooltip(`zone ${f.properties.id} (${f.properties.kind}${f.properties.party ? ", " + f.properties.party : ""})`),
    }).addTo(layers.zones);
    for (const o of objects) {
      const [lon, lat] = o.geometry.coordinates;
      L.circle([lat, lon], { radius: o.properties.radius_m || 1000, color: "#00695c", weight: 2, fillOpacity: 0.15 })
        .bindTooltip(`protected: ${o.properties.name} (${o.properties.category})`).addTo(layers.zones);
    }
    const lineLayer = L.geoJSON(line, { style: { color: "#b71c1c", weight: 3 }, interactive: false }).addTo(layers.line);
    if (lineLayer.getBounds().isValid()) map.fitBounds(lineLayer.getBounds().pad(0.15));
    const partySel = document.getElementById("f-party");
    const offered = state.me && state.me.role === "liaison" ? [state.me.party] : [...state.parties, "undetermined"];
    for (const p of offered) partySel.append(el("option", { value: p, text: p }));
  }

  async function loadOptional() {
    try {
      const s = await api("/layers/sensors");
      L.geoJSON(s, { pointToLayer: (f, ll) => L.circleMarker(ll, { radius: 4, color: "#37474f", weight: 1, fillColor: "#eceff1", fillOpacity: 1 })
        .bindTooltip(`${f.properties.kind}: ${f.properties.id}`) }).addTo(layers.sensors);
      control.addOverlay(layers.sensors, "Sensors");
    } catch (e) { /* role without sensor positions */ }
    try {
      const c = await api("/layers/coverage");
      L.geoJSON(c, { style: { color: "#1e88e5", weight: 1, dashArray: "2 4", fillOpacity: 0.08 } }).addTo(layers.coverage);
      if (c.features.length) control.addOverlay(layers.coverage, "Drone coverage");
    } catch (e) { /* role without coverage */ }
    try { await loadAir(); } catch (e) { /* role without the air layer (monitor) */ }
    try { await loadSea(); } catch (e) { /* role without the sea layer (monitor) */ }
    try {
      const evs = await api("/events?limit=5000");
      for (const ev of evs) {
        L.circleMarker([ev.location.lat, ev.location.lon], { radius: 3, color: "#607d8b", weight: 1, fillOpacity: 0.6 })
          .bindTooltip(`${ev.kind} ${fmtTime(ev.time)} (p=${ev.confidence.toFixed(2)})`).addTo(layers.events);
      }
      control.addOverlay(layers.events, `Events (${evs.length})`);
    } catch (e) { /* role without events */ }
  }

  // ------------------------------------------------------------ air and sea
  const airColour = (c) => AIR_COLOURS[c] || AIR_COLOURS.unknown;
  const seaColour = (k) => SEA_COLOURS[k] || "#455a64";
  const words = (s) => String(s == null ? "–" : s).replaceAll("_", " ");
  const counts = (o) => Object.entries(o || {}).map(([k, n]) => `${words(k)} ${n}`).join(", ");

  function launchAreaTip(p) {
    const types = Object.entries(p.by_type || {}).map(([k, v]) => `${words(k)} ${v.launched}/${v.intercepted}`);
    return `launch area ${p.name} (${p.side || "side unknown"}${p.launches_forbidden ? ", launches forbidden" : ""})`
      + ` · launched/intercepted in summaries naming it: ${types.join(", ") || "–"}`;
  }

  // GeoJSON applies ``style`` to circle markers too: one function gives every feature its full options
  function airStyle(f) {
    const p = f.properties;
    if (p.layer === "launch_area") {
      return { radius: Math.min(5 + 1.5 * Math.sqrt(p.launched || 0), 16), color: LAUNCH_AREA.color, weight: 2,
        fillColor: p.launches_forbidden ? LAUNCH_AREA.forbidden : LAUNCH_AREA.fillColor, fillOpacity: 0.75, className: "air-launch-area" };
    }
    if (p.layer === "origin") return { radius: 3, color: airColour(p.classification), weight: 1, fillOpacity: 0.9, className: "air-origin" };
    return { color: airColour(p.classification), weight: p.intercepted ? 1.5 : 2.5, opacity: p.intercepted ? 0.45 : 0.9,
      radius: 3, className: "air-track" };
  }

  function airTip(p) {
    if (p.layer === "launch_area") return launchAreaTip(p);
    if (p.layer === "origin") {
      return `first seen: ${p.track_id} (${words(p.classification)}) · ${p.side || "over no party's area"}`
        + (p.launch_forbidden ? " · launches forbidden there" : "");
    }
    return `${words(p.classification)} ${p.track_id} · ${p.intercepted ? "intercepted" : "not intercepted"}`
      + ` · last seen ${fmtTime(p.end)}${p.origin_side ? " · from " + p.origin_side : ""}`;
  }

  async function loadAir() {
    const fc = await api("/layers/air?limit=2000&max_points=80");
    const full = fc.properties.view === "full";
    const feats = drawTimed(fc, layers.air, airStyle, airTip);
    airSummary(fc.summary || {});
    if (!feats.length) return;
    control.addOverlay(layers.air, full ? "Air tracks" : "Air launches (by area)");
    legendSection("Air", [
      ...(full ? Object.keys((fc.summary || {}).tracks_by_class || {}) : []).map((c) => [airColour(c), words(c), "line"]),
      ...(full ? [["#9e9e9e", "intercepted (faded)", "line faded"]] : []),
      [LAUNCH_AREA.fillColor, "launch area (size: launched)", "", LAUNCH_AREA.color],
      [LAUNCH_AREA.forbidden, "launches forbidden there", "", LAUNCH_AREA.color],
    ]);
  }

  function airSummary(summary) {
    const box = document.getElementById("air-summary");
    const rows = Object.entries(summary.by_type || {});
    if (!rows.length) return;
    const table = el("table", {}, el("tr", {}, el("th", { text: "Type" }), el("th", { class: "n", text: "Launched" }), el("th", { class: "n", text: "Intercepted" })));
    for (const [k, v] of rows) {
      table.append(el("tr", { "data-type": k }, el("td", { text: words(k) }), el("td", { class: "n", text: String(v.launched) }),
        el("td", { class: "n", text: String(v.intercepted) })));
    }
    const n = summary.summaries || 0;
    box.replaceChildren(el("h2", { text: "Air: launched / intercepted" }), table,
      el("p", { class: "small", text: `from ${n} air-defence summar${n === 1 ? "y" : "ies"}${summary.inconsistent_summaries ? `, ${summary.inconsistent_summaries} not adding up` : ""}` }));
    box.hidden = false;
  }

  function seaStyle(f) {
    const p = f.properties;
    if (p.layer === "gap") return { color: SEA_COLOURS.ais_gap, weight: 2, dashArray: "6 5", opacity: 0.9, className: "sea-gap" };
    if (p.layer === "track") return { color: "#455a64", weight: 1.5, opacity: 0.7, className: "sea-track" };
    if (p.layer === "incident_count") {
      const top = Object.entries(p.by_kind || {}).sort((a, b) => b[1] - a[1])[0] || ["", 0];
      return { radius: Math.min(5 + 2 * Math.sqrt(p.incidents || 0), 18), color: "#263238", weight: 1, fillColor: seaColour(top[0]),
        fillOpacity: 0.7, className: "sea-incident sea-count" };
    }
    return { radius: 5, color: "#263238", weight: 1, fillColor: seaColour(p.incident), fillOpacity: 0.9,
      className: `sea-incident sea-${p.incident}` };
  }

  function seaTip(p) {
    if (p.layer === "gap") return `AIS gap of MMSI ${p.mmsi}: ${((p.gap_s || 0) / 3600).toFixed(1)} h silent (last seen → seen again)`;
    if (p.layer === "track") return `track of ${p.name || "MMSI " + p.mmsi} (${words(p.vessel_type)}) around its incident(s)`;
    if (p.layer === "incident_count") {
      return `${p.zone_id ? "zone " + p.zone_id : "outside the zones"} (${p.position}): ${p.incidents} incident(s),`
        + ` ${p.vessels} vessel(s) · ${counts(p.by_kind)}`;
    }
    let extra = "";
    if (p.spoof_mode) extra = ` · ${words(p.spoof_mode)}`;
    else if (p.gap_s) extra = ` · ${(p.gap_s / 3600).toFixed(1)} h${p.open ? ", still silent" : ""}`;
    return `${words(p.incident)} · ${p.name || "MMSI " + p.mmsi} (${words(p.vessel_type)}${p.flag ? ", " + p.flag : ""})`
      + ` · zone ${p.zone_id || "–"} · ${fmtTime(p.time)}${extra}`;
  }

  async function loadSea() {
    const fc = await api("/layers/sea?limit=2000");
    const full = fc.properties.view === "full";
    const feats = drawTimed(fc, layers.sea, seaStyle, seaTip);
    if (!feats.length) return;
    control.addOverlay(layers.sea, full ? "Sea incidents" : "Sea incidents (counts)");
    legendSection("Sea", [
      ...Object.entries(SEA_COLOURS).map(([k, c]) => [c, words(k), "", "#263238"]),
      ...(full ? [[SEA_COLOURS.ais_gap, "AIS gap: last seen → seen again", "dash"], ["#455a64", "vessel track near an incident", "line"]] : []),
    ]);
  }

  // air and sea features with a time (a track's end, an incident's time) follow the time slider
  // like the findings; aggregated ones stay.  Returns the features drawn.
  function drawTimed(fc, target, style, tip) {
    const feats = fc.features.filter((f) => f.geometry);
    const group = L.geoJSON(null, {
      style, pointToLayer: (f, ll) => L.circleMarker(ll, style(f)),
      onEachFeature: (f, l) => {
        l.bindTooltip(tip(f.properties));
        const t = Date.parse(f.properties.end || f.properties.time || "");
        if (Number.isFinite(t)) state.timed.push({ group, layer: l, t });
      },
    });
    group.addData({ type: "FeatureCollection", features: feats }).addTo(target);
    return feats;
  }

  function filterTimed(from, to) {
    for (const x of state.timed) {
      const show = x.t >= from && x.t <= to;
      if (show && !x.group.hasLayer(x.layer)) x.group.addLayer(x.layer);
      else if (!show && x.group.hasLayer(x.layer)) x.group.removeLayer(x.layer);
    }
  }

  function legendSection(title, entries) {
    const lg = document.getElementById("legend");
    const box = el("div", { class: "legend-extra", "data-testid": `legend-${title.toLowerCase()}` }, el("h2", { text: title }));
    for (const [colour, label, kind, ring] of entries) {
      const sw = el("span", { class: `swatch ${kind || ""}`.trim() });
      if (kind && kind.includes("dash")) sw.style.borderTopColor = colour; else sw.style.background = colour;
      if (ring) sw.style.borderColor = ring;
      box.append(el("div", {}, sw, label));
    }
    lg.append(box);
  }

  // ----------------------------------------------------------- violations
  function query() {
    const q = new URLSearchParams({ limit: "5000" });
    const rule = document.getElementById("f-rule").value; if (rule) q.set("rule", rule);
    const party = document.getElementById("f-party").value; if (party) q.set("party", party);
    const conf = parseFloat(document.getElementById("f-conf").value); if (conf > 0) q.set("min_confidence", String(conf));
    for (const cb of document.querySelectorAll("#f-status input:checked")) q.append("status", cb.value);
    return q.toString();
  }

  async function loadViolations() {
    try {
      state.violations = await api("/violations?" + query());
    } catch (e) {
      state.violations = [];
      toast("findings: " + e.message);
    }
    const ts = state.violations.map((v) => Date.parse(v.time));
    state.tmin = ts.length ? Math.min(...ts) : Date.now() - 86400e3;
    state.tmax = ts.length ? Math.max(...ts) : Date.now();
    render();
  }

  function timeWindow() {
    const frac = document.getElementById("t-slider").value / 1000;
    const until = state.tmin + frac * (state.tmax - state.tmin);
    const w = parseFloat(document.getElementById("t-window").value) * 1000;
    document.getElementById("t-out").textContent = state.violations.length ? fmtTime(new Date(until).toISOString()) : "–";
    // at the right end the slider means "now": nothing later is hidden
    return [w > 0 ? until - w : -Infinity, frac >= 1 ? Infinity : until + 1];
  }

  function render() {
    layers.violations.clearLayers(); state.markers.clear();
    const list = document.getElementById("list"); list.replaceChildren();
    const [from, to] = timeWindow();
    filterTimed(from, to);
    let n = 0;
    for (const v of state.violations) {
      const t = Date.parse(v.time);
      if (t < from || t > to) continue;
      n++;
      const m = L.circleMarker([v.lat, v.lon], {
        radius: 5 + 5 * v.confidence, color: partyColour(v.party), weight: 3,
        fillColor: STATUS_COLOURS[v.status] || "#000", fillOpacity: 0.9,
        className: `violation-marker status-${v.status}`, pane: "findings",
      });
      m.bindTooltip(`${v.rule.replaceAll("_", " ")} · ${v.party} · ${v.status} · ${(v.confidence * 100).toFixed(0)}%`);
      m.on("click", () => select(v.id));
      m.addTo(layers.violations);
      if (m._path) m._path.setAttribute("data-violation", v.id);
      state.markers.set(v.id, m);
      const li = el("li", { "data-violation": v.id, text: `${fmtTime(v.time).slice(5)} ${v.rule.replaceAll("_", " ")} (${v.party}, ${v.status})` });
      li.addEventListener("click", () => select(v.id));
      list.append(li);
    }
    document.getElementById("count").textContent = `${n} of ${state.violations.length} findings shown`;
  }

  function legend() {
    const lg = document.getElementById("legend"); lg.replaceChildren(el("h2", { text: "Status (fill)" }));
    for (const [s, c] of Object.entries(STATUS_COLOURS)) {
      const sw = el("span", { class: "swatch" }); sw.style.background = c;
      lg.append(el("div", {}, sw, s));
    }
    lg.append(el("h2", { text: "Party (ring)" }));
    for (const p of [...state.parties, "undetermined"]) {
      const sw = el("span", { class: "swatch" }); sw.style.background = "#fff"; sw.style.borderColor = partyColour(p);
      lg.append(el("div", {}, sw, p));
    }
  }

  // ------------------------------------------------------- evidence panel
  function row(dl, k, v) { dl.append(el("dt", { text: k }), el("dd", { text: v == null ? "–" : String(v) })); }

  async function select(id) {
    state.selected = id;
    const panel = document.getElementById("panel"); const body = document.getElementById("panel-body");
    panel.hidden = false; body.replaceChildren(el("p", { text: "loading…" }));
    const m = state.markers.get(id);
    if (m) map.panTo(m.getLatLng());
    let data;
    try {
      data = await api(`/violations/${encodeURIComponent(id)}/evidence`);
    } catch (e) {
      if (e.status !== 403) { body.replaceChildren(el("p", { text: e.message })); return; }
      data = { violation: state.violations.find((v) => v.id === id), items: null };
    }
    if (state.selected !== id) return;
    const v = data.violation;
    const dl = el("dl");
    row(dl, "Rule", v.rule.replaceAll("_", " ")); row(dl, "Party", v.party); row(dl, "Status", v.status);
    row(dl, "Confidence", (v.confidence * 100).toFixed(1) + " %"); row(dl, "Time", fmtTime(v.time));
    row(dl, "Position", `${v.lat.toFixed(4)}, ${v.lon.toFixed(4)} (±${Math.round((v.location || {}).err_major_m || 0)} m)`);
    if (v.origin) row(dl, "Origin", `${v.origin.lat.toFixed(4)}, ${v.origin.lon.toFixed(4)}`);
    if (v.explanation) row(dl, "Why", v.explanation);
    body.replaceChildren(el("h3", { text: v.id, "data-testid": "panel-title" }), dl);
    if (!data.items) {
      const counts = v.evidence_counts || {};
      body.append(el("p", { text: "Evidence by kind: " + Object.entries(counts).map(([k, n]) => `${k} ×${n}`).join(", ") }));
      return;
    }
    body.append(el("h3", { text: `Evidence (${data.items.length})` }));
    for (const it of data.items) {
      const o = it.observation; const e = it.evidence;
      const box = el("div", { class: "evidence", "data-testid": "evidence" });
      box.append(el("div", { class: "k", text: `${e.kind} — ${e.source_id}` }));
      if (e.summary) box.append(el("div", { text: e.summary }));
      if (o) box.append(el("div", { text: `${fmtTime(o.time)} at ${o.location.lat.toFixed(4)}, ${o.location.lon.toFixed(4)} ±${Math.round(o.location.err_major_m)} m` }));
      else box.append(el("div", { text: "observation not in the store" }));
      const lg = it.ledger || {};
      let cls = "none"; let txt = "ledger: not checked";
      if (lg.available === false) txt = "ledger: unavailable";
      else if (lg.in_ledger === false) txt = "ledger: not yet appended";
      else if (lg.verified === true) { cls = "ok"; txt = "ledger proof verifies ✓"; }
      else if (lg.verified === false) { cls = "bad"; txt = "ledger proof FAILS ✗"; }
      const badge = el("span", { class: `proof ${cls}`, "data-testid": "proof", text: txt });
      if (lg.reason || lg.error) badge.title = lg.reason || lg.error;
      box.append(badge);
      body.append(box);
    }
  }

  // --------------------------------------------------------------- alerts
  function live() {
    if (state.es) state.es.close();
    if (!state.me || !["administrator", "analyst", "liaison"].includes(state.me.role)) return;
    const es = new EventSource(`${API}/alerts/stream?access_token=${encodeURIComponent(state.token)}`);
    state.es = es;
    const badge = document.getElementById("live");
    es.addEventListener("ready", () => { badge.textContent = "alerts: live"; badge.className = "live on"; });
    es.addEventListener("violation.verified", (ev) => {
      const a = JSON.parse(ev.data);
      toast(`verified: ${a.violation.rule.replaceAll("_", " ")} (${a.violation.party})`);
      loadViolations();
    });
    es.onerror = () => { badge.textContent = "alerts: reconnecting"; badge.className = "live off"; };
  }

  // ----------------------------------------------------------------- init
  function filtersUI() {
    const rules = ["fire_across_line", "heavy_weapon_in_zone", "strike_on_protected_object", "flight_across_line",
      "interference_with_monitors", "naval_vessel_in_zone", "launch_from_territory"];
    const ruleSel = document.getElementById("f-rule");
    for (const r of rules) ruleSel.append(el("option", { value: r, text: r.replaceAll("_", " ") }));
    const fs = document.getElementById("f-status");
    for (const s of Object.keys(STATUS_COLOURS)) {
      const cb = el("input", { type: "checkbox", value: s });
      cb.addEventListener("change", loadViolations);
      fs.append(el("label", {}, cb, " " + s));
    }
    for (const id of ["f-rule", "f-party"]) document.getElementById(id).addEventListener("change", loadViolations);
    const conf = document.getElementById("f-conf");
    conf.addEventListener("input", () => { document.getElementById("f-conf-out").textContent = (+conf.value).toFixed(2); });
    conf.addEventListener("change", loadViolations);
    document.getElementById("t-slider").addEventListener("input", render);
    document.getElementById("t-window").addEventListener("change", render);
    document.getElementById("panel-close").addEventListener("click", () => { document.getElementById("panel").hidden = true; });
    document.getElementById("login").addEventListener("submit", (ev) => {
      ev.preventDefault(); const t = document.getElementById("token").value.trim();
      if (t) { sessionStorage.setItem("tw-token", t); start(t); }
    });
  }

  async function start(token) {
    state.token = token;
    try {
      state.me = await api("/me");
    } catch (e) {
      document.getElementById("who").textContent = "sign-in failed: " + e.message; return;
    }
    document.getElementById("who").textContent = `${state.me.role}${state.me.party ? " · " + state.me.party : ""}`;
    document.getElementById("login").hidden = true;
    try { await loadAgreement(); } catch (e) { toast("agreement: " + e.message); }
    legend();
    await loadViolations();
    loadOptional();
    live();
    document.body.dataset.ready = "1";
  }

  filtersUI();
  loadBasemap().catch((e) => toast("basemap: " + e.message));
  const m = /token=([^&]+)/.exec(location.hash);
  if (m) { sessionStorage.setItem("tw-token", decodeURIComponent(m[1])); history.replaceState(null, "", location.pathname); }
  const saved = sessionStorage.getItem("tw-token");
  if (saved) start(saved); else legend();
  window.trucewatch = { state, select, map };
})();
