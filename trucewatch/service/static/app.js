/* TruceWatch dashboard: one page, Leaflet (vendored), no network beyond this server.
 * Data comes from /api/v1 with the bearer token given in the URL fragment
 * (#token=…, never sent to the server in URLs or logs) or typed in the header.
 * All text from the API is inserted with textContent (no HTML injection); no inline
 * script or style (the Content-Security-Policy allows neither).
 * Labels come from /static/i18n/{en,uk,ru}.json (?lang=…, remembered in localStorage);
 * free text (posts, explanations, reasons) is shown as written. */
(function () {
  "use strict";
  const API = "/api/v1";
  const LANGS = ["en", "uk", "ru"];
  // status = fill colour, from the Okabe–Ito colour-blind-safe palette; party = a letter badge, never a colour
  const STATUS_COLOURS = {
    detected: "#bdbdbd", corroborated: "#e69f00", verified: "#d55e00", notified: "#cc79a7",
    contested: "#56b4e9", confirmed: "#000000", dismissed: "#ffffff",
  };
  const RULES = ["fire_across_line", "heavy_weapon_in_zone", "strike_on_protected_object", "flight_across_line",
    "interference_with_monitors", "naval_vessel_in_zone", "launch_from_territory"];
  const ZONE_COLOURS = { buffer: "#ffb300", withdrawal: "#7e57c2", weapon: "#7e57c2", maritime: "#00838f",
    corridor: "#00838f", port_exclusion: "#00838f", exclusion: "#00838f" };
  const LINE_COLOUR = "#b71c1c";
  const PROTECTED_COLOUR = "#00695c";
  // air tracks: line colour = class (contract classes of trucewatch.sources.air.tracks)
  const AIR_COLOURS = {
    shahed: "#d81b60", decoy: "#f06292", drone: "#ad1457", cruise_missile: "#5e35b1", ballistic_missile: "#4a148c",
    guided_missile: "#7b1fa2", glide_bomb: "#6d4c41", aircraft: "#283593", missile: "#512da8", unknown: "#757575",
  };
  // sea incidents: point colour = kind (trucewatch.sources.sea.incidents)
  const SEA_COLOURS = { barred_vessel_in_zone: "#c62828", ais_gap: "#00838f", spoofing: "#ef6c00", loitering: "#6a1b9a" };
  const LAUNCH_AREA = { color: "#4e342e", fillColor: "#bcaaa4", forbidden: "#ff7043" };
  // settlements labelled per zoom: [min zoom, min population, villages too]
  const PLACE_ZOOMS = [[11, 0, true], [10, 1000, true], [9, 5000, false], [8, 20000, false], [7, 60000, false], [0, 250000, false]];
  const state = { token: null, me: null, violations: [], parties: [], markers: new Map(), selected: null, es: null,
    timed: [], lang: "en", cat: {}, en: {}, search: "", zoneKinds: new Set() };

  // ------------------------------------------------------------- language
  function t(key, vars) {
    let s = state.cat[key];
    if (s == null) s = state.en[key];
    if (s == null) s = key;
    for (const [k, v] of Object.entries(vars || {})) s = s.replaceAll("{" + k + "}", String(v));
    return s;
  }
  const tr = (prefix, v) => (state.cat[prefix + v] != null || state.en[prefix + v] != null ? t(prefix + v) : words(v));
  function pickLang() {
    const q = new URLSearchParams(location.search).get("lang");
    if (q && LANGS.includes(q)) { localStorage.setItem("tw-lang", q); return q; }
    const saved = localStorage.getItem("tw-lang");
    return saved && LANGS.includes(saved) ? saved : "en";
  }
  async function loadLang() {
    state.lang = pickLang();
    state.en = await getJSON("/static/i18n/en.json");
    state.cat = state.lang === "en" ? state.en : await getJSON(`/static/i18n/${state.lang}.json`);
    document.documentElement.lang = state.lang;
    for (const e of document.querySelectorAll("[data-i18n]")) e.textContent = t(e.dataset.i18n);
    for (const e of document.querySelectorAll("[data-i18n-placeholder]")) e.placeholder = t(e.dataset.i18nPlaceholder);
    for (const e of document.querySelectorAll("[data-i18n-title]")) e.title = t(e.dataset.i18nTitle);
    for (const e of document.querySelectorAll("[data-i18n-aria-label]")) e.setAttribute("aria-label", t(e.dataset.i18nAriaLabel));
    const sel = document.getElementById("lang");
    sel.value = state.lang;
    sel.addEventListener("change", () => {
      localStorage.setItem("tw-lang", sel.value);
      const q = new URLSearchParams(location.search); q.set("lang", sel.value);
      location.search = q.toString();  // reloads; the token stays in sessionStorage, the hash (permalink) in the URL
    });
  }

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v; else if (k === "text") e.textContent = v; else e.setAttribute(k, v);
    }
    for (const c of children) e.append(c);
    return e;
  }
  function toast(msg) {
    const tt = document.getElementById("toast");
    tt.textContent = msg; tt.classList.add("show");
    clearTimeout(toast._t); toast._t = setTimeout(() => { tt.classList.remove("show"); }, 4000);
  }
  async function api(path, opts) {
    const o = opts || {};
    const headers = { Authorization: "Bearer " + state.token };
    if (o.body) headers["Content-Type"] = "application/json";
    const r = await fetch(API + path, { method: o.method || "GET", headers, body: o.body ? JSON.stringify(o.body) : undefined });
    if (!r.ok) {
      let detail = r.statusText;
      try { detail = (await r.json()).detail; } catch (e) { /* not JSON */ }
      const err = new Error(typeof detail === "string" ? detail : JSON.stringify(detail));
      err.status = r.status; throw err;
    }
    return o.blob ? r.blob() : r.json();
  }
  async function getJSON(url) { const r = await fetch(url); if (!r.ok) throw new Error(url + ": " + r.status); return r.json(); }
  const fmtTime = (iso) => iso.replace("T", " ").slice(0, 16) + " UTC";
  const words = (s) => String(s == null ? "–" : s).replaceAll("_", " ");
  const partyName = (p) => (p === "undetermined" ? t("party.undetermined") : p);
  const badgeText = (p) => (p && p !== "undetermined" ? String(p).slice(0, 3).toUpperCase() : "?");

  /** "3 km NE of Horlivka" in the reader's language (names in Cyrillic for uk/ru). */
  function placeLabel(pl) {
    if (!pl) return "";
    const name = state.lang === "en" ? pl.name : (pl.name_local || pl.name);
    if (pl.inside) return t("place.in", { name });
    const vars = { km: Math.round(pl.distance_km), dir: t("dir." + pl.direction), name, region: pl.admin1 || pl.country };
    return t(pl.near ? "place.near" : "place.far", vars);
  }

  /** The 95 % ellipse as lat/lon ring: major axis at ``angle`` degrees clockwise from north. */
  function ellipseRing(loc, n) {
    const a = loc.err_major_m || 0; const b = loc.err_minor_m || a; const az = ((loc.err_angle_deg || 0) * Math.PI) / 180;
    const kLat = 1 / 111320; const kLon = 1 / (111320 * Math.cos((loc.lat * Math.PI) / 180));
    const out = [];
    for (let i = 0; i < (n || 48); i++) {
      const th = (2 * Math.PI * i) / (n || 48);
      const u = a * Math.cos(th); const w = b * Math.sin(th);
      const east = u * Math.sin(az) + w * Math.cos(az); const north = u * Math.cos(az) - w * Math.sin(az);
      out.push([loc.lat + north * kLat, loc.lon + east * kLon]);
    }
    return out;
  }
  /** Footprint polygon when the location has one, else its ellipse (a Leaflet layer). */
  function uncertaintyLayer(loc, style) {
    if (loc.footprint && loc.footprint.type) return L.geoJSON(loc.footprint, { style: () => style, interactive: false });
    return L.polygon(ellipseRing(loc), { ...style, interactive: false });
  }

  // ------------------------------------------------------------------ map
  const map = L.map("map", { zoomControl: true, attributionControl: true, preferCanvas: false, worldCopyJump: false })
    .setView([48.3, 35.5], 6);
  map.attributionControl.setPrefix("Leaflet | borders: Natural Earth via world-atlas (ISC) | places: GeoNames (CC BY 4.0)");
  map.createPane("uncertainty").style.zIndex = 430;
  map.createPane("labels").style.zIndex = 440;
  map.createPane("findings").style.zIndex = 450;  // above zones and labels, below markers and tooltips
  map.getPane("labels").classList.add("no-pointer");
  map.getPane("uncertainty").classList.add("no-pointer");
  const layers = {
    land: L.layerGroup().addTo(map), countries: L.layerGroup().addTo(map), zones: L.layerGroup().addTo(map),
    line: L.layerGroup().addTo(map), coverage: L.layerGroup().addTo(map), sensors: L.layerGroup().addTo(map),
    events: L.layerGroup(), air: L.layerGroup().addTo(map), sea: L.layerGroup().addTo(map),
    places: L.layerGroup().addTo(map), uncertainty: L.layerGroup().addTo(map), violations: L.layerGroup().addTo(map),
  };
  let control = null;
  L.control.scale({ imperial: false }).addTo(map);
  const LegendControl = L.Control.extend({
    options: { position: "bottomright" },
    onAdd() {
      const box = L.DomUtil.create("details", "legend-control");
      box.open = true;
      box.append(el("summary", { text: t("legend.title") }), el("div", { id: "legend", "data-testid": "legend" }));
      L.DomEvent.disableClickPropagation(box); L.DomEvent.disableScrollPropagation(box);
      return box;
    },
  });

  async function loadBasemap() {
    const [land, countries] = await Promise.all([getJSON("/basemap/land.geojson"), getJSON("/basemap/countries.geojson")]);
    L.geoJSON(land, { style: { color: "#cfc8b8", weight: 0, fillColor: "#f2efe6", fillOpacity: 1 }, interactive: false })
      .addTo(layers.land);
    L.geoJSON(countries, {
      style: { color: "#8d8776", weight: 1, fill: false }, interactive: false,
    }).addTo(layers.countries);
  }

  // --------------------------------------------------------------- places
  let placesReq = 0;
  async function loadPlaces() {
    if (!state.token || !map.hasLayer(layers.places)) return;
    const z = map.getZoom();
    const [, minPop, villages] = PLACE_ZOOMS.find(([zmin]) => z >= zmin);
    const b = map.getBounds();
    const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
    const bbox = [clamp(b.getWest(), -180, 180), clamp(b.getSouth(), -90, 90), clamp(b.getEast(), -180, 180), clamp(b.getNorth(), -90, 90)]
      .map((v) => v.toFixed(4)).join(",");
    const req = ++placesReq;
    let fc;
    try {
      fc = await api(`/layers/places?bbox=${bbox}&min_population=${minPop}&villages=${villages}&limit=${villages ? 400 : 150}`);
    } catch (e) { return; }
    if (req !== placesReq) return;  // a newer view asked meanwhile
    layers.places.clearLayers();
    // biggest first; a label whose box would overlap one already placed is left out (Leaflet has no collision)
    const placed = [];
    const size = { city: [7.5, 15], town: [6.5, 13], village: [6, 12] };
    for (const f of fc.features) {
      const p = f.properties;
      const name = state.lang === "en" ? p.name : (p.name_local || p.name);
      const pt = map.latLngToContainerPoint([f.geometry.coordinates[1], f.geometry.coordinates[0]]);
      const [cw, h] = size[p.kind] || size.village;
      const box = [pt.x - (name.length * cw) / 2 - 3, pt.y - h / 2 - 2, pt.x + (name.length * cw) / 2 + 3, pt.y + h / 2 + 2];
      if (placed.some((b) => box[0] < b[2] && box[2] > b[0] && box[1] < b[3] && box[3] > b[1])) continue;
      placed.push(box);
      const span = el("span", { text: name });
      const icon = L.divIcon({ className: `place-label place-${p.kind}`, html: span, iconSize: [0, 0] });
      const [lon, lat] = f.geometry.coordinates;
      L.marker([lat, lon], { icon, interactive: false, keyboard: false, pane: "labels" }).addTo(layers.places);
    }
    document.getElementById("map").dataset.placeLabels = String(placed.length);
  }
  let placesTimer = null;
  map.on("moveend zoomend", () => { clearTimeout(placesTimer); placesTimer = setTimeout(loadPlaces, 150); });

  async function loadAgreement() {
    const fc = await api("/agreement");
    state.parties = ((fc.properties || {}).parties || []).map((p) => p.id);
    const zones = { type: "FeatureCollection", features: fc.features.filter((f) => f.properties.layer === "zone") };
    const line = { type: "FeatureCollection", features: fc.features.filter((f) => f.properties.layer === "contact_line") };
    const objects = fc.features.filter((f) => f.properties.layer === "protected_object");
    for (const z of zones.features) state.zoneKinds.add(z.properties.kind);
    L.geoJSON(zones, {
      style: (f) => ({ color: ZONE_COLOURS[f.properties.kind] || "#7e57c2", weight: 1, fillOpacity: 0.06, dashArray: "4 3" }),
      onEachFeature: (f, l) => l.bindTooltip(t("zone.tooltip", { id: f.properties.id,
        kind: tr("zone.", f.properties.kind) + (f.properties.party ? ", " + f.properties.party : "") })),
    }).addTo(layers.zones);
    for (const o of objects) {
      const [lon, lat] = o.geometry.coordinates;
      L.circle([lat, lon], { radius: o.properties.radius_m || 1000, color: PROTECTED_COLOUR, weight: 2, fillOpacity: 0.15 })
        .bindTooltip(t("protected.tooltip", { name: o.properties.name, category: words(o.properties.category) })).addTo(layers.zones);
    }
    const lineLayer = L.geoJSON(line, { style: { color: LINE_COLOUR, weight: 3 }, interactive: false }).addTo(layers.line);
    if (lineLayer.getBounds().isValid()) map.fitBounds(lineLayer.getBounds().pad(0.15));
    const partySel = document.getElementById("f-party");
    const offered = state.me && state.me.role === "liaison" ? [state.me.party] : [...state.parties, "undetermined"];
    for (const p of offered) partySel.append(el("option", { value: p, text: partyName(p) }));
  }

  async function loadOptional() {
    try {
      const s = await api("/layers/sensors");
      L.geoJSON(s, { pointToLayer: (f, ll) => L.circleMarker(ll, { radius: 4, color: "#37474f", weight: 1, fillColor: "#eceff1", fillOpacity: 1 })
        .bindTooltip(`${f.properties.kind}: ${f.properties.id}`) }).addTo(layers.sensors);
      control.addOverlay(layers.sensors, t("layer.sensors"));
    } catch (e) { /* role without sensor positions */ }
    try {
      const c = await api("/layers/coverage");
      L.geoJSON(c, { style: { color: "#1e88e5", weight: 1, dashArray: "2 4", fillOpacity: 0.08 } }).addTo(layers.coverage);
      if (c.features.length) control.addOverlay(layers.coverage, t("layer.coverage"));
    } catch (e) { /* role without coverage */ }
    try { await loadAir(); } catch (e) { /* role without the air layer (monitor) */ }
    try { await loadSea(); } catch (e) { /* role without the sea layer (monitor) */ }
    try {
      const evs = await api("/events?limit=5000");
      for (const ev of evs) {
        uncertaintyLayer(ev.location, { color: "#607d8b", weight: 1, fillOpacity: 0.05, dashArray: "2 3", className: "event-ellipse", pane: "uncertainty" })
          .addTo(layers.events);
        L.circleMarker([ev.location.lat, ev.location.lon], { radius: 3, color: "#607d8b", weight: 1, fillOpacity: 0.6, className: "event-marker" })
          .bindTooltip(`${tr("kind.", ev.kind)} ${fmtTime(ev.time)} (p=${ev.confidence.toFixed(2)}, ±${Math.round(ev.location.err_major_m)} m)`).addTo(layers.events);
      }
      control.addOverlay(layers.events, t("layer.events", { n: evs.length }));
    } catch (e) { /* role without events */ }
  }

  // ------------------------------------------------------------ air and sea
  const airColour = (c) => AIR_COLOURS[c] || AIR_COLOURS.unknown;
  const seaColour = (k) => SEA_COLOURS[k] || "#455a64";
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
    control.addOverlay(layers.air, full ? t("layer.air_tracks") : t("layer.air_launches"));
    legendSection("air", t("air.legend"), [
      ...(full ? Object.keys((fc.summary || {}).tracks_by_class || {}) : []).map((c) => [airColour(c), words(c), "line"]),
      ...(full ? [["#9e9e9e", t("air.intercepted_faded"), "line faded"]] : []),
      [LAUNCH_AREA.fillColor, t("air.launch_area"), "", LAUNCH_AREA.color],
      [LAUNCH_AREA.forbidden, t("air.launch_forbidden"), "", LAUNCH_AREA.color],
    ]);
  }

  function airSummary(summary) {
    const box = document.getElementById("air-summary");
    const rows = Object.entries(summary.by_type || {});
    if (!rows.length) return;
    const table = el("table", {}, el("tr", {}, el("th", { text: t("air.type") }), el("th", { class: "n", text: t("air.launched") }), el("th", { class: "n", text: t("air.intercepted") })));
    for (const [k, v] of rows) {
      table.append(el("tr", { "data-type": k }, el("td", { text: words(k) }), el("td", { class: "n", text: String(v.launched) }),
        el("td", { class: "n", text: String(v.intercepted) })));
    }
    const n = summary.summaries || 0;
    box.replaceChildren(el("h2", { text: t("air.title") }), table,
      el("p", { class: "small", text: t("air.from_summaries", { n }) + (summary.inconsistent_summaries ? ", " + t("air.not_adding_up", { n: summary.inconsistent_summaries }) : "") }));
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
    control.addOverlay(layers.sea, full ? t("layer.sea_incidents") : t("layer.sea_counts"));
    legendSection("sea", t("sea.legend"), [
      ...Object.entries(SEA_COLOURS).map(([k, c]) => [c, words(k), "", "#263238"]),
      ...(full ? [[SEA_COLOURS.ais_gap, t("sea.gap"), "dash"], ["#455a64", t("sea.track"), "line"]] : []),
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

  function legendSection(key, title, entries) {
    const lg = document.getElementById("legend");
    if (!lg) return;
    const old = lg.querySelector(`[data-testid=legend-${key}]`);
    if (old) old.remove();
    const box = el("div", { class: "legend-extra", "data-testid": `legend-${key}` }, el("h2", { text: title }));
    for (const [colour, label, kind, ring] of entries) {
      const sw = el("span", { class: `swatch ${kind || ""}`.trim() });
      if (kind && kind.includes("dash")) sw.style.borderTopColor = colour;
      else if (kind && kind.includes("badge")) sw.textContent = colour;
      else sw.style.background = colour;
      if (ring) sw.style.borderColor = ring;
      box.append(el("div", {}, sw, label));
    }
    lg.append(box);
  }

  // ----------------------------------------------------------- violations
  function query() {
    const q = new URLSearchParams();
    const rule = document.getElementById("f-rule").value; if (rule) q.set("rule", rule);
    const party = document.getElementById("f-party").value; if (party) q.set("party", party);
    const conf = parseFloat(document.getElementById("f-conf").value); if (conf > 0) q.set("min_confidence", String(conf));
    for (const cb of document.querySelectorAll("#f-status input:checked")) q.append("status", cb.value);
    return q;
  }

  async function loadViolations() {
    const q = query(); q.set("limit", "5000");
    try {
      state.violations = await api("/violations?" + q.toString());
    } catch (e) {
      state.violations = [];
      toast(t("toast.findings", { msg: e.message }));
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

  /** Search: a finding id (or part), a place name in any script, a rule. */
  function matches(v) {
    const s = state.search;
    if (!s) return true;
    const pl = v.place || {};
    const hay = [v.id, pl.name, pl.name_local, placeLabel(pl), v.rule, tr("rule.", v.rule)].join(" ").toLowerCase();
    return hay.includes(s);
  }

  function render() {
    layers.violations.clearLayers(); layers.uncertainty.clearLayers(); state.markers.clear();
    const list = document.getElementById("list"); list.replaceChildren();
    const [from, to] = timeWindow();
    filterTimed(from, to);
    const searched = state.violations.filter(matches);
    let n = 0;
    for (const v of searched) {
      const tv = Date.parse(v.time);
      if (tv < from || tv > to) continue;
      n++;
      drawFinding(v);
      const when = fmtTime(v.time).slice(5, 16);
      const li = el("li", { "data-violation": v.id },
        el("span", { class: "dot", "data-status": v.status }),
        el("span", { class: "badge-inline", text: badgeText(v.party) }),
        el("span", { class: "when", text: when + " " }),
        el("span", { text: tr("rule.", v.rule) }),
        el("span", { class: "where", "data-testid": "place", text: placeLabel(v.place) }));
      li.querySelector(".dot").style.background = STATUS_COLOURS[v.status] || "#000";
      li.title = `${partyName(v.party)} · ${tr("status.", v.status)} · ${(v.confidence * 100).toFixed(0)}%`;
      li.addEventListener("click", () => select(v.id));
      list.append(li);
    }
    document.getElementById("count").textContent = t("count.shown", { n, total: state.violations.length });
    histogram(searched, from, to);
    exportLinks(from, to);
  }

  function drawFinding(v) {
    const loc = v.location || { lat: v.lat, lon: v.lon };
    const fill = STATUS_COLOURS[v.status] || "#000";
    uncertaintyLayer({ ...loc, lat: v.lat, lon: v.lon }, { color: "#37474f", weight: 1, dashArray: "3 3", fillColor: fill,
      fillOpacity: 0.12, className: `uncertainty status-${v.status}`, pane: "uncertainty" }).addTo(layers.uncertainty);
    if (v.origin) {
      L.polyline([[v.origin.lat, v.origin.lon], [v.lat, v.lon]], { color: "#1d2733", weight: 1.5, dashArray: "6 4",
        className: "launch-line", pane: "uncertainty", interactive: false }).addTo(layers.uncertainty);
      if (v.origin.err_major_m) {
        uncertaintyLayer(v.origin, { color: "#1d2733", weight: 1, dashArray: "1 3", fillOpacity: 0.04, className: "origin-ellipse",
          pane: "uncertainty" }).addTo(layers.uncertainty);
      }
      L.circleMarker([v.origin.lat, v.origin.lon], { radius: 3, color: "#1d2733", weight: 1, fillColor: "#fff", fillOpacity: 1,
        className: "origin-marker", pane: "findings" }).addTo(layers.uncertainty);
    }
    const err = Math.round((loc.err_major_m || 0));
    const m = L.circleMarker([v.lat, v.lon], {
      radius: 5 + 5 * v.confidence, color: "#1d2733", weight: 1.5, fillColor: fill, fillOpacity: 0.95,
      className: `violation-marker status-${v.status}`, pane: "findings",
    });
    m.bindTooltip(`${tr("rule.", v.rule)} · ${partyName(v.party)} · ${tr("status.", v.status)} · ${(v.confidence * 100).toFixed(0)}%`
      + ` · ±${err >= 10000 ? (err / 1000).toFixed(0) + " km" : err + " m"}${v.place ? " · " + placeLabel(v.place) : ""}`);
    m.on("click", () => select(v.id));
    m.addTo(layers.violations);
    if (m._path) m._path.setAttribute("data-violation", v.id);
    const badge = L.marker([v.lat, v.lon], { icon: L.divIcon({ className: "party-badge", html: el("span", { text: badgeText(v.party) }),
      iconSize: [0, 0] }), keyboard: false, title: partyName(v.party) });
    badge.on("click", () => select(v.id));
    badge.addTo(layers.violations);
    state.markers.set(v.id, m);
  }

  function histogram(rows, from, to) {
    const box = document.getElementById("histogram");
    const bins = 48; const counts = new Array(bins).fill(0);
    const span = Math.max(state.tmax - state.tmin, 1);
    for (const v of rows) counts[Math.min(bins - 1, Math.floor(((Date.parse(v.time) - state.tmin) / span) * bins))]++;
    const top = Math.max(1, ...counts);
    box.replaceChildren();
    counts.forEach((c, i) => {
      const a = state.tmin + (i / bins) * span; const b = state.tmin + ((i + 1) / bins) * span;
      const bar = el("span", { class: "bar" + (b >= from && a <= to ? " in" : ""), "data-count": String(c) });
      bar.style.height = `${Math.round((c / top) * 100)}%`;
      bar.title = `${fmtTime(new Date(a).toISOString())} – ${fmtTime(new Date(b).toISOString())}: ${c}`;
      bar.addEventListener("click", () => {
        const s = document.getElementById("t-slider"); s.value = String(Math.round(((i + 1) / bins) * 1000));
        const w = document.getElementById("t-window");
        if (w.value === "0") w.value = span / bins <= 21600e3 ? "21600" : span / bins <= 86400e3 ? "86400" : "604800";
        render();
      });
      box.append(bar);
    });
  }

  function exportLinks(from, to) {
    const box = document.getElementById("exports");
    if (!state.me || !["administrator", "analyst", "liaison", "public"].includes(state.me.role)) return;
    box.hidden = false;
    const q = query();
    if (Number.isFinite(from)) q.set("t_from", new Date(from).toISOString());
    if (Number.isFinite(to)) q.set("t_to", new Date(to).toISOString());
    for (const a of box.querySelectorAll("a.export")) a.href = `${API}/exports/${a.dataset.fmt}${q.toString() ? "?" + q : ""}`;
  }

  async function download(ev) {
    ev.preventDefault();
    const a = ev.currentTarget;
    try {
      const blob = await api(a.getAttribute("href").slice(API.length), { blob: true });
      const url = URL.createObjectURL(blob);
      const tmp = el("a", { href: url, download: `trucewatch.${a.dataset.fmt === "acled" ? "acled.csv" : a.dataset.fmt}` });
      document.body.append(tmp); tmp.click(); tmp.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (e) { toast(t("export.failed", { msg: e.message })); }
  }

  function legend() {
    const lg = document.getElementById("legend");
    if (!lg) return;
    const keep = [...lg.querySelectorAll(".legend-extra")];
    lg.replaceChildren();
    const sec = (key, title, rows) => {
      const box = el("div", { class: "legend-sec", "data-testid": `legend-${key}` }, el("h2", { text: title }));
      for (const [sw, label] of rows) box.append(el("div", {}, sw, label));
      lg.append(box);
    };
    const swatch = (cls, bg, border) => {
      const s = el("span", { class: "swatch " + cls }); if (bg) s.style.background = bg; if (border) s.style.borderColor = border; return s;
    };
    sec("status", t("legend.status"), Object.entries(STATUS_COLOURS).map(([s, c]) => [swatch("status", c), tr("status.", s)]));
    const parties = state.me && state.me.role === "liaison" ? [state.me.party] : state.parties;
    sec("party", t("legend.party"), [...parties.map((p) => [el("span", { class: "swatch badge", text: badgeText(p) }), partyName(p)]),
      [el("span", { class: "swatch badge", text: "?" }), t("legend.undetermined_badge")]]);
    const zoneRows = [[swatch("line", LINE_COLOUR), t("legend.contact_line")], [swatch("ring", "", PROTECTED_COLOUR), t("legend.protected")]];
    for (const k of state.zoneKinds) {
      const s = swatch("area", "", ZONE_COLOURS[k] || "#7e57c2"); s.style.background = (ZONE_COLOURS[k] || "#7e57c2") + "22";
      zoneRows.push([s, tr("zone.", k)]);
    }
    sec("zones", t("legend.zones"), zoneRows);
    sec("symbols", t("legend.symbols"), [
      [swatch("area dashed", "#d55e0022", "#37474f"), t("legend.ellipse")],
      [swatch("dash", "", ""), t("legend.launch_line")],
      [swatch("status small", "#fff", "#1d2733"), t("legend.origin")],
      [el("span", { class: "swatch text", text: "Aa" }), t("legend.place")],
      [swatch("status", "#999", "#1d2733"), t("legend.size")],
    ]);
    for (const k of keep) lg.append(k);
  }

  // ------------------------------------------------------- evidence panel
  function row(dl, k, v, testid) {
    const dd = el("dd", { text: v == null || v === "" ? "–" : String(v) });
    if (testid) dd.setAttribute("data-testid", testid);
    dl.append(el("dt", { text: k }), dd);
    return dd;
  }
  const safeUrl = (u) => (typeof u === "string" && /^https?:\/\//i.test(u) ? u : null);
  const SHOWN = new Set(["text", "channel", "url", "language", "sensor_ids", "sensors", "residual_rms_s", "residual_s", "satellite",
    "frp", "confidence", "flight_id", "frame_time", "first_seen", "gsd_m", "best_gsd_m", "withheld", "note"]);

  /** What one observation says, by kind: a post's words, a fix's sensors, a pixel's satellite, a frame's flight. */
  function evidenceDetails(o) {
    const a = o.attributes || {};
    const dl = el("dl", { class: "ev-details" });
    const withheld = new Set(a.withheld || []);
    if ("text" in a || withheld.has("text")) {
      if (a.text) {
        const q = el("blockquote", { class: "post", "data-testid": "evidence-text", text: a.text });
        if (a.language) q.setAttribute("lang", a.language);
        dl.append(el("dt", { text: t("ev.text") }), el("dd", {}, q));
      } else row(dl, t("ev.text"), t("panel.withheld"));
    }
    if (a.channel || withheld.has("channel")) row(dl, t("ev.channel"), a.channel || t("panel.withheld"));
    const url = safeUrl(a.url);
    if (url) {
      const link = el("a", { href: url, target: "_blank", rel: "noopener noreferrer nofollow", "data-testid": "evidence-link", text: url });
      dl.append(el("dt", { text: t("ev.link") }), el("dd", {}, link));
    } else if (withheld.has("url")) row(dl, t("ev.link"), t("panel.withheld"));
    if (a.language) row(dl, t("ev.language"), a.language);
    const sensors = a.sensor_ids || a.sensors;
    if (Array.isArray(sensors)) row(dl, t("ev.sensors"), sensors.join(", "));
    else if (a.n_sensors != null) row(dl, t("ev.sensors"), String(a.n_sensors));
    const res = a.residual_rms_s != null ? a.residual_rms_s : a.residual_s;
    if (res != null) row(dl, t("ev.residual"), `${(res * 1000).toFixed(1)} ${t("unit.ms")}`);
    if (o.kind === "thermal_anomaly" || a.frp != null) {
      row(dl, t("ev.satellite"), [a.satellite, a.instrument].filter(Boolean).join(" "));
      row(dl, t("ev.frp"), a.frp == null ? null : `${a.frp} ${t("unit.mw")}`);
      row(dl, t("ev.confidence"), a.confidence);
    }
    if (a.flight_id) row(dl, t("ev.flight"), a.flight_id);
    if (a.frame_time || a.first_seen) row(dl, t("ev.frame_time"), fmtTime(String(a.frame_time || a.first_seen)));
    const gsd = a.gsd_m != null ? a.gsd_m : a.best_gsd_m;
    if (gsd != null) row(dl, t("ev.gsd"), `${(gsd * 100).toFixed(0)} ${t("unit.cm_px")}`);
    const rest = Object.entries(a).filter(([k, v]) => !SHOWN.has(k) && v != null && typeof v !== "object").slice(0, 12);
    if (rest.length) row(dl, t("ev.other"), rest.map(([k, v]) => `${words(k)}: ${v}`).join("; "));
    return dl;
  }

  function ledgerBadge(lg) {
    let cls = "none"; let txt = t("ledger.not_checked");
    if (lg.available === false) txt = t("ledger.unavailable");
    else if (lg.in_ledger === false) txt = t("ledger.not_appended");
    else if (lg.verified === true) { cls = "ok"; txt = t("ledger.verifies"); }
    else if (lg.verified === false) { cls = "bad"; txt = t("ledger.fails"); }
    const badge = el("span", { class: `proof ${cls}`, "data-testid": "proof", text: txt });
    if (lg.reason || lg.error) badge.title = lg.reason || lg.error;
    return badge;
  }

  async function select(id) {
    state.selected = id;
    const panel = document.getElementById("panel"); const body = document.getElementById("panel-body");
    panel.hidden = false; body.replaceChildren(el("p", { text: t("panel.loading") }));
    if (location.hash !== "#/finding/" + encodeURIComponent(id)) history.replaceState(null, "", "#/finding/" + encodeURIComponent(id));
    const m = state.markers.get(id);
    if (m) map.panTo(m.getLatLng());
    let data;
    try {
      data = await api(`/violations/${encodeURIComponent(id)}/evidence`);
    } catch (e) {
      if (e.status !== 403) { body.replaceChildren(el("p", { text: e.status === 404 ? t("toast.not_found", { id }) : e.message })); return; }
      let v = state.violations.find((x) => x.id === id);
      if (!v) {
        try { v = await api(`/violations/${encodeURIComponent(id)}`); } catch (e2) { body.replaceChildren(el("p", { text: t("toast.not_found", { id }) })); return; }
      }
      data = { violation: v, items: null };
    }
    if (state.selected !== id) return;
    const v = data.violation;
    if (!m) map.setView([v.lat, v.lon], Math.max(map.getZoom(), 9));
    const dl = el("dl");
    row(dl, t("panel.rule"), tr("rule.", v.rule)); row(dl, t("panel.party"), partyName(v.party));
    row(dl, t("panel.status"), tr("status.", v.status), "panel-status");
    row(dl, t("panel.confidence"), (v.confidence * 100).toFixed(1) + " %"); row(dl, t("panel.time"), fmtTime(v.time));
    row(dl, t("panel.place"), placeLabel(v.place), "panel-place");
    row(dl, t("panel.position"), `${v.lat.toFixed(4)}, ${v.lon.toFixed(4)} (±${Math.round((v.location || {}).err_major_m || 0)} ${t("unit.m")})`);
    if (v.origin) row(dl, t("panel.origin"), `${v.origin.lat.toFixed(4)}, ${v.origin.lon.toFixed(4)}`);
    if (v.explanation) row(dl, t("panel.why"), v.explanation);
    const link = el("a", { href: "#/finding/" + encodeURIComponent(v.id), class: "permalink", "data-testid": "permalink", text: t("panel.permalink") });
    body.replaceChildren(el("h3", { text: v.id, "data-testid": "panel-title" }), link, dl);
    actions(body, v);
    if (!data.items) {
      const counts = v.evidence_counts || {};
      body.append(el("p", { text: t("panel.evidence_by_kind", { counts: Object.entries(counts).map(([k, n]) => `${tr("kind.", k)} ×${n}`).join(", ") }) }));
      return;
    }
    body.append(el("h3", { text: t("panel.evidence", { n: data.items.length }) }));
    for (const it of data.items) {
      const o = it.observation; const e = it.evidence;
      const box = el("div", { class: "evidence", "data-testid": "evidence" });
      box.append(el("div", { class: "k", text: `${tr("kind.", e.kind)} — ${e.source_id}` }));
      if (e.summary) box.append(el("div", { class: "small", text: e.summary }));
      if (o) {
        box.append(el("div", { text: t("panel.at", { time: fmtTime(o.time), lat: o.location.lat.toFixed(4), lon: o.location.lon.toFixed(4),
          err: Math.round(o.location.err_major_m) }) }));
        box.append(evidenceDetails(o));
      } else box.append(el("div", { text: t("panel.not_in_store") }));
      box.append(ledgerBadge(it.ledger || {}));
      body.append(box);
    }
    history_(body, v.id);
  }

  async function history_(body, id) {
    const box = el("div", { class: "history", "data-testid": "history" }, el("h3", { text: t("panel.history") }));
    body.append(box);
    let rows;
    try { rows = await api(`/violations/${encodeURIComponent(id)}/transitions`); } catch (e) { box.remove(); return; }
    if (state.selected !== id) return;
    if (!rows.length) { box.append(el("p", { class: "small", text: t("panel.no_history") })); return; }
    const ol = el("ol");
    for (const r of rows) {
      const li = el("li", { text: t("panel.history_row", { time: fmtTime(typeof r.at === "string" ? r.at : new Date((r.at || 0) * 1000).toISOString()),
        from: r.from_status ? tr("status.", r.from_status) : "–", to: tr("status.", r.to_status), actor: r.actor }) });
      if (r.reason) li.append(el("div", { class: "reason", text: r.reason }));
      ol.append(li);
    }
    box.append(ol);
  }

  /** Workflow buttons for the roles the API lets use them (it decides again on each call). */
  function actions(body, v) {
    const role = state.me && state.me.role;
    const canMove = role === "administrator" || role === "analyst";
    const canContest = (role === "liaison" && v.party === state.me.party) || role === "administrator";
    if (!canMove && !(canContest && (v.status === "notified" || v.status === "confirmed"))) return;
    const box = el("form", { class: "actions", "data-testid": "actions" }, el("h3", { text: t("panel.actions") }));
    const reason = el("textarea", { rows: "2", required: "", maxlength: "2000", "data-testid": "reason", "aria-label": t("panel.reason"),
      placeholder: t("panel.reason") });
    box.append(reason);
    const after = async (p) => {
      try {
        const nv = await p;
        toast(t("panel.done", { status: tr("status.", nv.status) }));
        await loadViolations(); select(v.id);
      } catch (e) { toast(t("panel.failed", { msg: e.message })); }
    };
    if (canMove) {
      const sel = el("select", { "data-testid": "to-status", "aria-label": t("panel.move_to") });
      for (const s of Object.keys(STATUS_COLOURS)) if (s !== v.status) sel.append(el("option", { value: s, text: tr("status.", s) }));
      const btn = el("button", { type: "button", "data-testid": "apply", text: t("panel.apply") });
      btn.addEventListener("click", () => {
        if (!reason.value.trim()) { reason.reportValidity(); return; }
        after(api(`/violations/${encodeURIComponent(v.id)}/transitions`, { method: "POST", body: { to_status: sel.value, reason: reason.value.trim() } }));
      });
      box.append(el("label", {}, el("span", { text: t("panel.move_to") + " " }), sel), btn);
    }
    // the workflow lets a party contest a notified finding, or appeal a confirmed one with new counter-evidence
    if (canContest && (v.status === "notified" || v.status === "confirmed")) {
      const counter = el("textarea", { rows: "2", required: "", "data-testid": "counter", "aria-label": t("panel.counter_evidence"), placeholder: t("panel.counter_evidence") });
      const btn = el("button", { type: "button", class: "contest", "data-testid": "contest", text: t("panel.contest") });
      btn.addEventListener("click", () => {
        if (!reason.value.trim()) { reason.reportValidity(); return; }
        if (!counter.value.trim()) { counter.reportValidity(); return; }
        const ce = counter.value.split("\n").map((s) => s.trim()).filter(Boolean);
        after(api(`/violations/${encodeURIComponent(v.id)}/contest`, { method: "POST", body: { reason: reason.value.trim(), counter_evidence: ce } }));
      });
      box.append(counter, btn);
    }
    box.addEventListener("submit", (ev) => ev.preventDefault());
    body.append(box);
  }

  // --------------------------------------------------------------- alerts
  function live() {
    if (state.es) state.es.close();
    if (!state.me || !["administrator", "analyst", "liaison"].includes(state.me.role)) return;
    const es = new EventSource(`${API}/alerts/stream?access_token=${encodeURIComponent(state.token)}`);
    state.es = es;
    const badge = document.getElementById("live");
    es.addEventListener("ready", () => { badge.textContent = t("alerts.live"); badge.className = "live on"; });
    es.addEventListener("violation.verified", (ev) => {
      const a = JSON.parse(ev.data);
      toast(t("alerts.verified", { rule: tr("rule.", a.violation.rule), party: partyName(a.violation.party) }));
      loadViolations();
    });
    es.onerror = () => { badge.textContent = t("alerts.reconnecting"); badge.className = "live off"; };
  }

  // ----------------------------------------------------------------- init
  function filtersUI() {
    const ruleSel = document.getElementById("f-rule");
    for (const r of RULES) ruleSel.append(el("option", { value: r, text: tr("rule.", r) }));
    const fs = document.getElementById("f-status");
    for (const s of Object.keys(STATUS_COLOURS)) {
      const cb = el("input", { type: "checkbox", value: s });
      cb.addEventListener("change", loadViolations);
      fs.append(el("label", {}, cb, " " + tr("status.", s)));
    }
    for (const id of ["f-rule", "f-party"]) document.getElementById(id).addEventListener("change", loadViolations);
    const conf = document.getElementById("f-conf");
    conf.addEventListener("input", () => { document.getElementById("f-conf-out").textContent = (+conf.value).toFixed(2); });
    conf.addEventListener("change", loadViolations);
    document.getElementById("t-slider").addEventListener("input", render);
    document.getElementById("t-window").addEventListener("change", render);
    let st = null;
    document.getElementById("search").addEventListener("input", (ev) => {
      clearTimeout(st); st = setTimeout(() => { state.search = ev.target.value.trim().toLowerCase(); render(); }, 120);
    });
    for (const a of document.querySelectorAll("a.export")) a.addEventListener("click", download);
    document.getElementById("panel-close").addEventListener("click", () => {
      document.getElementById("panel").hidden = true; state.selected = null;
      history.replaceState(null, "", location.pathname + location.search);
    });
    document.getElementById("login").addEventListener("submit", (ev) => {
      ev.preventDefault(); const tok = document.getElementById("token").value.trim();
      if (tok) { sessionStorage.setItem("tw-token", tok); start(tok); }
    });
    window.addEventListener("hashchange", openFromHash);
  }

  function openFromHash() {
    const m = /^#\/finding\/(.+)$/.exec(location.hash);
    if (m && state.me) {
      const id = decodeURIComponent(m[1]);
      if (id !== state.selected) select(id);
    }
  }

  async function start(token) {
    state.token = token;
    try {
      state.me = await api("/me");
    } catch (e) {
      document.getElementById("who").textContent = t("header.sign_in_failed", { msg: e.message }); return;
    }
    document.getElementById("who").textContent = `${tr("role.", state.me.role)}${state.me.party ? " · " + state.me.party : ""}`;
    document.getElementById("login").hidden = true;
    try { await loadAgreement(); } catch (e) { toast(t("toast.agreement", { msg: e.message })); }
    legend();
    await loadViolations();
    loadPlaces();
    openFromHash();
    loadOptional();
    live();
    document.body.dataset.ready = "1";
  }

  async function boot() {
    try { await loadLang(); } catch (e) { /* labels stay in English */ }
    control = L.control.layers(null, {
      [t("layer.contact_line")]: layers.line, [t("layer.zones")]: layers.zones, [t("layer.violations")]: layers.violations,
      [t("layer.uncertainty")]: layers.uncertainty, [t("layer.places")]: layers.places,
    }, { collapsed: false }).addTo(map);
    new LegendControl().addTo(map);
    map.on("overlayadd", (e) => { if (e.layer === layers.places) loadPlaces(); });
    filtersUI();
    loadBasemap().catch((e) => toast(t("toast.basemap", { msg: e.message })));
    const m = /token=([^&]+)/.exec(location.hash);
    if (m) { sessionStorage.setItem("tw-token", decodeURIComponent(m[1])); history.replaceState(null, "", location.pathname + location.search); }
    const saved = sessionStorage.getItem("tw-token");
    if (saved) start(saved); else legend();
  }

  boot();
  window.trucewatch = { state, select, map, t };
})();
