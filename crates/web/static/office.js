// The office console: doors by zone (live), lockdown and lift with a confirmation, events
// (live and searchable, CSV export), alarms, people and passes, residents import, building
// household tables, live head counts and console users. Every screen is a view of the JSON API.
"use strict";

const $ = (id) => document.getElementById(id);
const O = { me: null, site: null, doors: null, canChange: false, liveEvents: [] };

function zoneName(id) { return O.site.zones.find((z) => z.id === id)?.name || id; }
function within(zone, outer) {
  for (let z = zone, n = 0; z && n < 64; n++) {
    if (z === outer) return true;
    z = O.site.zones.find((x) => x.id === z)?.parent;
  }
  return false;
}
function fail(x) { $("office-error").textContent = x.message || String(x); }
function doorName(id) { return O.site.doors.find((d) => d.id === id)?.name || id; }
function ok() { $("office-error").textContent = ""; }

// --- tabs ------------------------------------------------------------------------------

function showTab(name) {
  for (const s of document.querySelectorAll("section.tab")) s.hidden = s.id !== `tab-${name}`;
  for (const b of document.querySelectorAll("nav.tabs button")) b.setAttribute("aria-selected", String(b.dataset.tab === name));
  location.hash = name;
  const load = { alarms: loadAlarms, users: loadUsers, occupancy: loadHeadCounts, events: () => O.liveEvents.length || searchEvents() }[name];
  if (load) load();
}

// --- doors -----------------------------------------------------------------------------

function renderDoors() {
  const d = O.doors;
  if (!d) return;
  const banners = $("lockdown-banners");
  banners.replaceChildren(...d.lockdowns.map((l) =>
    GH.el("p", { class: "lockdown-banner", "data-zone": l.zone, text: `${GH.t("lockdown")}: ${zoneName(l.zone)} · ${GH.word("lockdown", l.mode)} · ${l.reason}` })));
  const byZone = new Map();
  for (const door of d.doors) {
    if (!byZone.has(door.zone)) byZone.set(door.zone, []);
    byZone.get(door.zone).push(door);
  }
  // One table, a header row per zone: a large estate stays one screen to scroll, not dozens.
  const rows = [];
  for (const [zone, doors] of byZone) {
    rows.push(GH.el("tr", { class: "zone-row", "data-zone": zone }, GH.el("th", { colspan: "6", text: `${zoneName(zone)} (${zone})` })));
    rows.push(...doors.map((door) => GH.el("tr", { id: `door-${door.id}`, "data-mode": door.mode, "data-lock": door.lock, "data-online": String(door.online) },
      GH.el("td", { text: door.name }),
      GH.el("td", { class: `state-${door.lock}`, text: GH.t("st_" + door.lock) }),
      GH.el("td", { text: GH.t("st_" + door.contact) }),
      GH.el("td", { class: `state-${door.mode} mode`, text: GH.t("st_" + door.mode) }),
      GH.el("td", { class: door.online ? "" : "state-offline", text: door.online ? GH.t("yes") : GH.t("no") }),
      GH.el("td", {}, ...(O.canChange ? [
        GH.el("button", { type: "button", onclick: () => control(door.id, "unlock"), text: GH.t("unlock") }), " ",
        GH.el("button", { type: "button", onclick: () => control(door.id, "hold_open"), text: GH.t("hold_open") }), " ",
        GH.el("button", { type: "button", onclick: () => control(door.id, "lock"), text: GH.t("relock") }),
      ] : [])))));
  }
  const out = [GH.el("table", { class: "doors" },
    GH.el("thead", {}, GH.el("tr", {}, ...["door", "lock", "contact", "mode", "online", "actions"].map((k) => GH.el("th", { text: GH.t(k) })))),
    GH.el("tbody", {}, ...rows))];
  $("doors-by-zone").replaceChildren(...out);
  renderLockdowns();
}

async function control(door, action) {
  try { await GH.api("POST", `/api/doors/${encodeURIComponent(door)}/control`, { action }); ok(); } catch (x) { fail(x); }
}

// --- lockdown --------------------------------------------------------------------------

function confirmDialog(title, text, doors, button, action, households) {
  $("confirm-title").textContent = title;
  $("confirm-text").textContent = text;
  $("confirm-doors").replaceChildren(...doors.map((d) => GH.el("li", { text: d.name })));
  const hh = households || [];
  $("confirm-households-box").hidden = !households;
  $("confirm-households-title").textContent = `${GH.t("households_affected")} (${hh.length})`;
  $("confirm-households").textContent = hh.join("、") || GH.t("none");
  $("confirm-ok").textContent = button;
  $("confirm-ok").onclick = async () => { $("confirm-dialog").close(); await action(); };
  $("confirm-dialog").showModal();
  $("confirm-cancel").focus();
}

function renderLockdowns() {
  const rows = (O.doors?.lockdowns || []).map((l) => GH.el("tr", { "data-zone": l.zone },
    GH.el("td", { text: `${zoneName(l.zone)} (${l.zone})` }),
    GH.el("td", { text: GH.word("lockdown", l.mode) }),
    GH.el("td", { text: l.reason }),
    GH.el("td", { text: `${GH.when(l.since)} · ${l.by}` }),
    GH.el("td", {}, O.canChange ? GH.el("button", { type: "button", class: "ok lift", onclick: () => liftZone(l.zone), text: GH.t("lift") }) : "")));
  $("lockdown-rows").replaceChildren(...rows);
}

function doorsIn(zone) { return O.site.doors.filter((d) => within(d.inside, zone)); }

// No zone is chosen for the office: a lockdown names its zone on purpose. The confirmation
// lists the doors it closes and the households that live behind them, from the server.
async function lockdownSubmit(e) {
  e.preventDefault();
  const zone = $("ld-zone").value, mode = $("ld-mode").value, reason = $("ld-reason").value.trim();
  if (!zone) { fail(GH.failure("zone_required")); $("ld-zone").focus(); return; }
  if (!mode) { fail(GH.failure("unknown_mode")); $("ld-mode").focus(); return; }
  if (!reason) { fail(GH.failure("reason_required")); $("ld-reason").focus(); return; }
  let preview;
  try { preview = await GH.api("GET", `/api/lockdown/preview?zone=${encodeURIComponent(zone)}`); } catch (x) { fail(x); return; }
  ok();
  confirmDialog(`${GH.t("confirm_lockdown")}: ${zoneName(zone)}`, `${GH.word("lockdown", mode)} · ${reason} · ${GH.t("doors_affected")} (${preview.doors.length}):`,
    preview.doors, GH.t("confirm_lockdown"), async () => {
      try { await GH.api("POST", "/api/lockdown", { zone, mode, reason, confirm: true }); ok(); showTab("doors"); } catch (x) { fail(x); }
    }, preview.households);
}

function liftZone(zone) {
  confirmDialog(`${GH.t("confirm_lift")}: ${zoneName(zone)}`, `${GH.t("doors_affected")}:`, doorsIn(zone), GH.t("confirm_lift"), async () => {
    try { await GH.api("POST", "/api/lockdown/lift", { zone, confirm: true }); ok(); showTab("doors"); } catch (x) { fail(x); }
  });
}

// --- events ----------------------------------------------------------------------------

// Every code in the office's words (the server's one table, /api/words); the raw code stays
// in a data attribute for searching and tests.
function eventWhat(e) {
  if (e.reason) return GH.word("reason", e.reason);
  if (e.alarm) return GH.word("alarm", e.alarm);
  if (e.action) return GH.word("action", e.action);
  // A mode event's mode is a lockdown's (closed, quarantine …) or a door's (lifted, held_open …).
  const mode = e.mode && (GH.word("lockdown", e.mode) !== e.mode ? GH.word("lockdown", e.mode) : GH.word("state", e.mode));
  return [e.state && GH.word("state", e.state), mode].filter(Boolean).join(" · ");
}

function eventRow(e) {
  return GH.el("tr", { class: e.decision === "deny" ? "deny-row" : "", "data-seq": e.seq, "data-kind": e.kind },
    GH.el("td", { text: GH.when(e.at, true) }),
    GH.el("td", { text: GH.word("kind", e.kind) }),
    GH.el("td", { text: e.door ? doorName(e.door) : e.zone ? zoneName(e.zone) : e.device || "" }),
    GH.el("td", { text: e.pass || e.card || "" }),
    GH.el("td", { text: [e.person, e.household].filter(Boolean).join(" · ") }),
    GH.el("td", { text: GH.word("decision", e.decision) }),
    GH.el("td", { text: eventWhat(e) }),
    GH.el("td", { text: e.actor || e.by || "" }));
}

function filterQuery() {
  const p = new URLSearchParams();
  for (const [k, id] of [["kind", "ev-kind"], ["door", "ev-door"], ["person", "ev-person"], ["pass", "ev-pass"], ["from", "ev-from"], ["to", "ev-to"], ["q", "ev-q"]]) {
    const v = $(id).value.trim();
    if (v) p.set(k, v);
  }
  return p;
}

async function searchEvents(e) {
  if (e) e.preventDefault();
  const p = filterQuery();
  $("ev-export").href = `/api/events.csv?${p}`;
  try {
    const r = await GH.api("GET", `/api/events?${p}`);
    O.liveEvents = r.events;
    $("event-rows").replaceChildren(...r.events.map(eventRow));
    ok();
  } catch (x) { fail(x); }
}

function onLiveEvent(data) {
  if (!$("ev-live").checked || filterQuery().toString()) return;
  const e = JSON.parse(data);
  O.liveEvents.unshift(e);
  O.liveEvents.length = Math.min(O.liveEvents.length, 300);
  const body = $("event-rows");
  body.prepend(eventRow(e));
  while (body.children.length > 300) body.lastChild.remove();
  if (e.kind === "alarm" && !$("tab-alarms").hidden) loadAlarms();
}

// --- alarms ----------------------------------------------------------------------------

async function loadAlarms() {
  try {
    const list = await GH.api("GET", "/api/alarms");
    $("alarm-rows").replaceChildren(...list.map((a) => GH.el("tr", { "data-id": a.id },
      GH.el("td", { text: GH.when(a.at, true) }),
      GH.el("td", { class: "state-forced", "data-alarm": a.alarm, text: GH.word("alarm", a.alarm) }),
      GH.el("td", { text: a.door ? doorName(a.door) : "" }),
      // An alarm at a door is in the zone the door leads into.
      GH.el("td", { text: zoneName(a.zone || O.site.doors.find((d) => d.id === a.door)?.inside || "") }),
      GH.el("td", { text: a.is_cleared ? GH.t("yes") : GH.t("no") }),
      GH.el("td", { text: a.acknowledged ? GH.t("yes") : GH.t("no") }),
      GH.el("td", {}, O.canChange && !a.acknowledged ? GH.el("button", { type: "button", onclick: async () => {
        try { await GH.api("POST", "/api/alarms/ack", { event: a.id }); loadAlarms(); } catch (x) { fail(x); }
      }, text: GH.t("ack") }) : ""))));
  } catch (x) { fail(x); }
}

// --- people and passes -----------------------------------------------------------------

async function searchPeople(e) {
  e.preventDefault();
  try {
    const list = await GH.api("GET", `/api/people?q=${encodeURIComponent($("people-q").value)}`);
    $("people-rows").replaceChildren(...list.map((p) => GH.el("tr", {},
      GH.el("td", { text: `${p.name} (${p.id})` }),
      GH.el("td", { text: p.household || "" }),
      GH.el("td", { text: p.phone_masked }),
      GH.el("td", { text: GH.word("role", p.role) }),
      GH.el("td", {}, ...p.passes.map((s) => GH.el("div", { "data-pass": s.id },
        `${s.id}${s.card ? " / " + s.card : ""} · ${GH.t("status_" + s.status)} `,
        ...(O.canChange ? [["suspended", "suspend"], ["active", "restore"], ["revoked", "revoke"], ["lost", "mark_lost"]]
          .filter(([st]) => st !== s.status)
          .map(([st, word]) => GH.el("button", { type: "button", onclick: async () => {
            try { await GH.api("POST", `/api/passes/${encodeURIComponent(s.id)}/status`, { status: st }); searchPeople(e); } catch (x) { fail(x); }
          }, text: GH.t(word) })) : [])))))));
    ok();
  } catch (x) { fail(x); }
}

async function issuePass(e) {
  e.preventDefault();
  const person = $("is-person").value.trim();
  const body = { card: $("is-card").value.trim() || null, valid_until: $("is-until").value || null };
  if (person) body.person = person;
  else body.new_person = { name: $("is-name").value, phone: $("is-phone").value, household: $("is-household").value.trim() || null };
  try {
    const r = await GH.api("POST", "/api/passes", body);
    $("issue-result").textContent = `${r.pass} → ${r.person}`;
    ok();
  } catch (x) { fail(x); }
}

// --- import ----------------------------------------------------------------------------

async function importResidents(e) {
  e.preventDefault();
  const file = $("import-file").files[0];
  if (!file) return;
  const out = $("import-result");
  out.textContent = GH.t("working");
  try {
    const bytes = await file.arrayBuffer();
    const r = await GH.api("POST", `/api/import/residents?file=${encodeURIComponent(file.name)}`, undefined, bytes);
    // Labelled counts: new, updated, unchanged, refused (people; rows for the refused).
    const counts = GH.el("table", { class: "import-counts" }, GH.el("tbody", {},
      ...[["import_rows", r.rows], ["import_new", r.added], ["import_updated", r.updated], ["import_unchanged", r.unchanged], ["import_refused", r.refused]]
        .map(([k, n]) => GH.el("tr", { "data-count": k.slice(7) }, GH.el("th", { text: GH.t(k) }), GH.el("td", { text: String(n ?? 0) })))));
    if (r.ok) {
      out.replaceChildren(GH.el("p", { text: GH.t("import_ok") }), counts);
    } else {
      out.replaceChildren(GH.el("p", { class: "error", text: GH.t("import_bad") }), counts,
        GH.el("table", {}, GH.el("thead", {}, GH.el("tr", {}, GH.el("th", { text: GH.t("row") }), GH.el("th", { text: GH.t("reason") }))),
          GH.el("tbody", {}, ...r.errors.map((x) => GH.el("tr", {}, GH.el("td", { text: String(x.row) }), GH.el("td", { text: x.reason }))))));
    }
    ok();
  } catch (x) { out.textContent = ""; fail(x); }
}

// --- building tables -------------------------------------------------------------------

async function showBuilding(e) {
  e.preventDefault();
  try {
    const t = await GH.api("GET", `/api/buildings/${encodeURIComponent($("bt-zone").value)}/households`);
    const rows = [];
    for (const h of t.households) {
      const members = h.members.length ? h.members : [null];
      members.forEach((m, i) => rows.push(GH.el("tr", {},
        i === 0 ? GH.el("td", { rowspan: String(members.length), text: h.household }) : null,
        GH.el("td", { text: m ? m.name : "—" }), GH.el("td", { text: m ? m.phone_masked : "" }),
        GH.el("td", { text: m ? GH.word("role", m.role) : "" }), GH.el("td", { text: m ? String(m.passes) : "" }))));
    }
    const parts = [GH.el("h2", { text: `${t.name} (${t.zone})` }),
      GH.el("table", {}, GH.el("thead", {}, GH.el("tr", {}, ...["household", "name", "phone", "role", "pass"].map((k) => GH.el("th", { text: GH.t(k) })))),
        GH.el("tbody", {}, ...rows))];
    $("building-table").replaceChildren(...parts);
    if (t.report_html) {
      const box = GH.el("div");
      box.innerHTML = t.report_html; // our own server's report (occupancy crate), no scripts run under the CSP
      $("building-table").append(box);
    }
    ok();
  } catch (x) { fail(x); }
}

// --- head counts -----------------------------------------------------------------------

// Counts carry no names, so the tab refreshes them every 10 s while it is shown; the list of
// who is inside is personal data and is fetched (and logged) only when a zone's button asks.
async function loadHeadCounts() {
  try {
    O.headCounts = await GH.api("GET", "/api/occupancy");
    renderHeadCounts();
    ok();
  } catch (x) { fail(x); }
}

// Zones in tree order (estate → areas → buildings), each with its depth for indenting.
function zoneTree(zones) {
  const children = new Map();
  for (const z of zones) {
    const key = z.parent || "";
    if (!children.has(key)) children.set(key, []);
    children.get(key).push(z);
  }
  const ids = new Set(zones.map((z) => z.zone));
  const out = [];
  const walk = (parent, depth) => {
    for (const z of children.get(parent) || []) { out.push([z, depth]); walk(z.zone, depth + 1); }
  };
  // Roots: no parent, or a parent that is not a configured zone (the implicit `site`).
  for (const [key] of children) if (key === "" || !ids.has(key)) walk(key, 0);
  return out;
}

function renderHeadCounts() {
  const c = O.headCounts;
  if (!c) return;
  $("occ-as-of").textContent = c.as_of ? GH.when(c.as_of, true) : "—";
  $("occ-site").textContent = String(c.site);
  $("occ-registered").textContent = String(c.registered ?? "—");
  const row = (id, label, depth, inside, registered) => GH.el("tr", { "data-zone": id },
    GH.el("td", { class: `depth-${Math.min(depth, 4)}`, text: label }),
    GH.el("td", { class: "count", text: String(inside) }),
    GH.el("td", { class: "count", text: String(registered ?? "—") }),
    GH.el("td", {}, GH.el("button", { type: "button", class: "show-inside", "data-zone": id, text: GH.t("show_inside") })));
  $("occ-rows").replaceChildren(
    row("", GH.t("whole_estate"), 0, c.site, c.registered),
    ...zoneTree(c.zones).map(([z, depth]) => row(z.zone, `${z.name || zoneName(z.zone)} (${z.zone})`, depth + 1, z.inside_now, z.registered)));
  for (const b of $("occ-rows").querySelectorAll("button.show-inside")) b.addEventListener("click", () => showInside(b.dataset.zone));
}

async function showInside(zone) {
  try {
    const r = await GH.api("GET", `/api/occupancy/inside${zone ? `?zone=${encodeURIComponent(zone)}` : ""}`);
    O.inside = { zone, list: r.inside };
    renderInside();
    ok();
  } catch (x) { fail(x); }
}

function renderInside() {
  if (!O.inside) return;
  const { zone, list } = O.inside;
  $("inside-box").hidden = false;
  $("inside-box").dataset.zone = zone;
  $("inside-title").textContent = `${GH.t("inside_of")}: ${zone ? zoneName(zone) : GH.t("whole_estate")} (${list.length})`;
  $("inside-empty").hidden = list.length > 0;
  $("inside-rows").replaceChildren(...list.map((i) => GH.el("tr", {},
    GH.el("td", { text: i.name || i.person }), GH.el("td", { text: i.household || "" }),
    GH.el("td", { text: i.pass }), GH.el("td", { text: zoneName(i.zone) }), GH.el("td", { text: GH.when(i.since) }))));
}

// --- users -----------------------------------------------------------------------------

async function loadUsers() {
  if (O.me.role !== "admin") return;
  try {
    const users = await GH.api("GET", "/api/users");
    $("user-rows").replaceChildren(...users.map((u) => GH.el("tr", {}, GH.el("td", { text: u.name }), GH.el("td", { text: GH.word("console_role", u.role) }))));
  } catch (x) { fail(x); }
}

async function addUser(e) {
  e.preventDefault();
  try {
    await GH.api("POST", "/api/users", { name: $("us-name").value, role: $("us-role").value, password: $("us-password").value });
    $("user-form").reset();
    loadUsers();
    ok();
  } catch (x) { fail(x); }
}

// The choices whose words follow the language: the lockdown's zone (none chosen: a lockdown
// names its zone on purpose) and mode, event kinds, console roles.
function fillChoices() {
  const keep = (id) => $(id).value;
  const zone = keep("ld-zone"), mode = keep("ld-mode"), kind = keep("ev-kind"), role = keep("us-role");
  $("ld-zone").replaceChildren(GH.el("option", { value: "", text: GH.t("choose_zone") }),
    ...O.site.zones.map((z) => GH.el("option", { value: z.id, text: `${z.name} (${z.id})` })));
  $("ld-mode").replaceChildren(GH.el("option", { value: "", text: "—" }),
    ...["closed", "residents_only", "quarantine", "limited_exit"].map((m) => GH.el("option", { value: m, text: GH.word("lockdown", m) })));
  $("ev-kind").replaceChildren(GH.el("option", { value: "" }),
    ...["access", "egress", "door", "alarm", "device", "mode", "command", "admin", "rejected_input"].map((k) => GH.el("option", { value: k, text: GH.word("kind", k) })));
  $("us-role").replaceChildren(...["guard", "office", "auditor", "admin"].map((r) => GH.el("option", { value: r, text: GH.word("console_role", r) })));
  $("ld-zone").value = zone; $("ld-mode").value = mode; $("ev-kind").value = kind; $("us-role").value = role || "guard";
}

// --- start -----------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", async () => {
  GH.applyWords();
  $("lang").addEventListener("click", GH.toggleLang);
  document.addEventListener("gh-lang", renderDoors);
  $("sign-out").addEventListener("click", GH.signOut);
  for (const b of document.querySelectorAll("nav.tabs button")) b.addEventListener("click", () => showTab(b.dataset.tab));
  $("lockdown-form").addEventListener("submit", lockdownSubmit);
  $("confirm-cancel").addEventListener("click", () => $("confirm-dialog").close());
  $("events-form").addEventListener("submit", searchEvents);
  $("people-form").addEventListener("submit", searchPeople);
  $("issue-form").addEventListener("submit", issuePass);
  $("import-form").addEventListener("submit", importResidents);
  $("building-form").addEventListener("submit", showBuilding);
  $("user-form").addEventListener("submit", addUser);
  document.addEventListener("gh-lang", () => { renderHeadCounts(); renderInside(); fillChoices(); $("event-rows").replaceChildren(...O.liveEvents.map(eventRow)); });
  setInterval(() => { if (!$("tab-occupancy").hidden) loadHeadCounts(); }, 10000);
  try {
    O.me = await GH.api("GET", "/api/me");
    O.canChange = O.me.role === "office" || O.me.role === "admin";
    await GH.loadWords();
    $("user-name").textContent = `${O.me.user} (${GH.word("console_role", O.me.role)})`;
    if (O.me.role !== "admin") document.querySelector('[data-tab="users"]').hidden = true;
    if (!O.canChange) for (const id of ["lockdown-form", "issue-form", "import-form"]) $(id).hidden = true;
    O.site = await GH.api("GET", "/api/site");
    $("site-name").textContent = O.site.name;
    fillChoices();
    const zones = O.site.zones.map((z) => GH.el("option", { value: z.id, text: `${z.name} (${z.id})` }));
    $("bt-zone").replaceChildren(...zones);
    $("ev-door").append(...O.site.doors.map((d) => GH.el("option", { value: d.id, text: d.name })));
    O.doors = await GH.api("GET", "/api/doors");
    renderDoors();
    GH.live("/api/live", { doors: (data) => { O.doors = JSON.parse(data); renderDoors(); } });
    GH.live("/api/events/live", { event: onLiveEvent, lagged: () => searchEvents() });
    showTab((location.hash || "#doors").slice(1));
    document.body.dataset.ready = "true";
  } catch (x) { fail(x); }
});
