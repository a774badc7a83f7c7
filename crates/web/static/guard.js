// The guard's checkpoint screen. One person at a time: pass number → holder shown → the
// digits the person says on the keypad → full-screen verdict (the core decided, recorded it,
// and released the gate on a grant) → next person. Everything works from the keyboard.
"use strict";

const $ = (id) => document.getElementById(id);
const G = {
  me: null, site: null,
  door: localStorage.getItem("gh_door"),
  dir: localStorage.getItem("gh_dir") === "out" ? "out" : "in",
  stage: "pass", // pass | digits | verdict
  lookup: null, digits: "", busy: false, doorModes: {},
};

function doorInfo() { return G.site && G.site.doors.find((d) => d.id === G.door); }

// The door picker: a search over every door (names and ids), the first nine matches on the
// number keys. An estate has a hundred doors or more; a guard types two characters of the
// gate's name.
function pickerMatches() {
  const q = $("door-search").value.trim().toLowerCase();
  return G.site.doors.filter((d) => !q || d.name.toLowerCase().includes(q) || d.id.toLowerCase().includes(q));
}

function renderPicker() {
  const list = $("door-list");
  const found = pickerMatches();
  list.replaceChildren(...found.map((d, i) => GH.el("button", { type: "button", class: "door-choice", "data-door": d.id, onclick: () => chooseDoor(d.id) },
    i < 9 ? GH.el("kbd", { text: String(i + 1) }) : null, ` ${d.name}`)));
  $("door-none").hidden = found.length > 0;
}

function showPicker() {
  $("checkpoint").hidden = true;
  $("door-picker").hidden = false;
  $("door-search").value = "";
  renderPicker();
  markDir();
  $("door-list").querySelector("button")?.focus();
}

function markDir() {
  $("dir-in").className = G.dir === "in" ? "primary" : "";
  $("dir-out").className = G.dir === "out" ? "primary" : "";
  $("dir-name").textContent = G.dir === "in" ? `(${GH.t("dir_in")})` : `(${GH.t("dir_out")})`;
}

function chooseDoor(id) {
  G.door = id;
  localStorage.setItem("gh_door", id);
  localStorage.setItem("gh_dir", G.dir);
  showCheckpoint();
}

function showCheckpoint() {
  $("door-picker").hidden = true;
  $("checkpoint").hidden = false;
  $("door-name").textContent = doorInfo()?.name || G.door;
  markDir();
  showDoorMode();
  reset();
}

function setStage(stage) {
  G.stage = stage;
  document.body.dataset.stage = stage;
}

function reset() {
  setStage("pass"); G.lookup = null; G.digits = ""; G.busy = false;
  $("digits-error").textContent = "";
  $("verdict").hidden = true;
  $("holder").hidden = true;
  $("keypad-area").hidden = true;
  $("check-error").textContent = "";
  $("pass-input").value = "";
  $("pass-input").focus();
}

function renderDigits() {
  $("digits").textContent = G.digits.padEnd(Math.max(G.lookup?.digits || 4, G.digits.length), "_");
}

async function lookUp(pass) {
  if (G.busy || !pass.trim()) return;
  G.busy = true;
  $("check-error").textContent = "";
  try {
    const r = await GH.api("POST", "/api/guard/lookup", { pass });
    G.busy = false;
    // A pass that is unknown or not active is refused at once; the core records the refusal.
    if (!r.found || r.status !== "active") return check(pass, null);
    G.lookup = r;
    const h = r.holder || {};
    $("holder-name").textContent = (r.visitor ? `${GH.t("visitor_pass")} · ` : "") + (h.name || "");
    $("holder-household").textContent = h.household || "—";
    $("holder-phone").textContent = h.phone_masked || "—";
    $("holder-status").textContent = `${GH.t("status")}: ${GH.t("status_" + r.status)}`;
    showTries($("holder-tries"), r.tries_left, 2);
    $("holder").hidden = false;
    $("keypad-area").hidden = false;
    $("ask-digits").textContent = GH.t("ask_digits_n", { n: r.digits });
    setStage("digits"); G.digits = "";
    $("digits-error").textContent = "";
    renderDigits();
    $("pass-input").blur();
    $("key-ok").focus({ preventScroll: true });
    // The holder and the keypad together: on a phone the page starts at the holder's card.
    $("holder").scrollIntoView({ block: "start" });
  } catch (x) {
    G.busy = false;
    $("check-error").textContent = x.message;
  }
}

async function check(pass, pin) {
  if (G.busy) return;
  G.busy = true;
  const t0 = performance.now();
  try {
    const v = await GH.api("POST", "/api/guard/check", { door: G.door, direction: G.dir, pass, pin });
    showVerdict(v, t0);
  } catch (x) {
    G.busy = false;
    $("check-error").textContent = x.message;
  }
}

/** "N tries left" when `left` is known and at most `from` (always, when `from` is absent). */
function showTries(el, left, from) {
  const show = typeof left === "number" && (from === undefined || left <= from);
  el.hidden = !show;
  el.textContent = !show ? "" : left === 0 ? GH.t("tries_none") : left === 1 ? GH.t("tries_last") : GH.t("tries_left", { n: left });
}

function fitHeadline(el) {
  // Wide enough for the longest verdict on one line: CJK characters are one em wide, Latin
  // capitals about two thirds of one.
  let units = 0;
  for (const ch of el.textContent) units += ch.charCodeAt(0) > 0x2e80 ? 1 : 0.68;
  el.style.setProperty("--units", String(Math.max(units, 2)));
}

function showVerdict(v, t0) {
  const box = $("verdict");
  G.verdict = v;
  box.className = `verdict ${v.grant ? "grant" : "deny"}`;
  box.dataset.grant = String(v.grant);
  box.dataset.reason = v.reason;
  $("verdict-headline").textContent = v.grant ? GH.t("grant") : v.reason === "phone_mismatch" ? GH.t("mismatch") : GH.t("no_entry");
  fitHeadline($("verdict-headline"));
  $("verdict-reason").textContent = GH.lang === "zh" ? v.words_zh : v.words_en;
  showTries($("verdict-tries"), v.reason === "phone_mismatch" ? v.tries_left : undefined);
  const h = v.holder;
  $("verdict-who").textContent = h ? `${h.name}${h.household ? " · " + h.household : ""}` : "";
  setStage("verdict"); G.busy = false;
  box.hidden = false;
  $("next").focus();
  if (t0 !== undefined) {
    // Measured once the verdict is painted: the benchmark reads it.
    requestAnimationFrame(() => { box.dataset.ms = (performance.now() - t0).toFixed(1); });
  }
}

function key(k) {
  if (G.stage !== "digits") return;
  $("digits-error").textContent = "";
  if (k === "del") G.digits = G.digits.slice(0, -1);
  else if (k === "ok") {
    // Fewer digits than asked is a slip, not a wrong phone: ask again, count nothing.
    const n = G.lookup.digits;
    if (G.digits.length < n) {
      $("digits-error").textContent = GH.t("err_digits_short", { typed: G.digits.length, n });
      return;
    }
    return check(G.lookup.pass, G.digits);
  } else if (G.digits.length < 11) G.digits += k;
  renderDigits();
}

function showDoorMode() {
  const mode = G.doorModes[G.door];
  const note = $("lockdown-note");
  note.hidden = !mode || mode === "normal";
  note.textContent = mode ? `${GH.t("mode")}: ${GH.t("st_" + mode)}` : "";
}

// --- dialogs ---------------------------------------------------------------------------

function openDialog(id) {
  const d = $(id);
  d.querySelectorAll(".error").forEach((e) => (e.textContent = ""));
  d.showModal();
  d.querySelector("input, textarea, button")?.focus();
  return d;
}

/** The temperature typed: null when empty, a number in 30–45, else an error to show. */
function temperature(text) {
  const t = text.trim().replace("，", ".").replace("。", ".");
  if (!t) return { value: null };
  if (!/^\d{2}(\.\d{1,2})?$/.test(t)) return { error: GH.t("err_temperature_format") };
  const value = Number(t);
  if (value < 30 || value > 45) return { error: GH.t("err_temperature_range", { value: t }) };
  return { value };
}

async function submitManual(e) {
  e.preventDefault();
  const temp = temperature($("manual-temp").value);
  if (temp.error) { $("manual-error").textContent = temp.error; $("manual-temp").focus(); return; }
  try {
    const v = await GH.api("POST", "/api/guard/manual", {
      door: G.door, direction: G.dir, note: $("manual-note").value,
      temperature: temp.value,
    });
    $("manual-dialog").close();
    $("manual-note").value = ""; $("manual-temp").value = "";
    showVerdict(v);
  } catch (x) { $("manual-error").textContent = x.message; }
}

async function submitVisitor(e) {
  e.preventDefault();
  try {
    const r = await GH.api("POST", "/api/guard/visitors", {
      name: $("vis-name").value, phone: $("vis-phone").value, host_household: $("vis-host").value,
      reason: $("vis-reason").value, hours: Number($("vis-hours").value) || 4,
    });
    $("visitor-error").textContent = "";
    $("visitor-qr").innerHTML = r.qr_svg; // our own server's SVG of the signed token
    $("visitor-pass").textContent = `${r.pass} · ${GH.t("valid_until")} ${GH.when(r.valid_until)}`;
    $("visitor-issued").hidden = false;
    $("visitor-submit").hidden = true;
    $("visitor-dialog").querySelector(".cancel").focus();
  } catch (x) { $("visitor-error").textContent = x.message; }
}

function closeVisitor() {
  $("visitor-dialog").close();
  $("visitor-form").reset();
  $("visitor-issued").hidden = true;
  $("visitor-submit").hidden = false;
  $("vis-hours").value = "4";
  reset();
}

async function openPending() {
  const d = openDialog("pending-dialog");
  $("pending-issued").hidden = true;
  const list = $("pending-list");
  list.replaceChildren(GH.t("working"));
  try {
    const items = await GH.api("GET", "/api/guard/pending");
    list.replaceChildren();
    if (!items.length) list.append(GH.el("p", { text: GH.t("pending_none") }));
    for (const r of items) {
      const decide = async (what) => {
        try {
          const res = await GH.api("POST", `/api/guard/pending/${encodeURIComponent(r.id)}/${what}`, {});
          item.remove();
          if (what === "approve") {
            $("pending-error").textContent = "";
            $("pending-issued").innerHTML = res.qr_svg;
            $("pending-issued").hidden = false;
          }
        } catch (x) { $("pending-error").textContent = x.message; }
      };
      const item = GH.el("div", { class: "pending-item", "data-id": r.id },
        GH.el("div", { class: "name" }, GH.el("b", { text: r.name }), ` · ${r.phone_masked} → ${r.host_household}`),
        GH.el("div", { class: "muted", text: `${r.reason || ""} ${GH.when(r.at)}` }),
        GH.el("div", { class: "buttons" },
          GH.el("button", { type: "button", class: "ok approve", onclick: () => decide("approve"), text: GH.t("approve") }),
          GH.el("button", { type: "button", class: "danger refuse", onclick: () => decide("refuse"), text: GH.t("refuse") })));
      list.append(item);
    }
    d.querySelector("button")?.focus();
  } catch (x) { $("pending-error").textContent = x.message; }
}

// --- keyboard --------------------------------------------------------------------------

function inTextField(e) {
  const t = e.target;
  return t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT");
}

// Function keys work wherever the focus is (a pass number has letters, so letters cannot be
// shortcuts while it is typed); the letters M, V, P, L work outside text fields, Alt+letter
// everywhere.
const FKEYS = { F2: "m", F3: "v", F4: "p", F8: "l" };

document.addEventListener("keydown", (e) => {
  if (document.querySelector("dialog[open]")) return; // dialogs handle their own keys (Esc closes)
  if (!$("door-picker").hidden) {
    if (e.key === "Enter" && e.target === $("door-search")) {
      const q = $("door-search").value.trim().toLowerCase();
      const found = pickerMatches();
      const first = found.find((d) => d.id.toLowerCase() === q || d.name.toLowerCase() === q) || found[0];
      if (first) { e.preventDefault(); chooseDoor(first.id); }
      return;
    }
    // Typing a name goes to the search: a letter outside it moves the focus there.
    if (!inTextField(e) && e.key.length === 1 && !/[0-9 ]/.test(e.key) && !e.altKey && !e.ctrlKey && !e.metaKey) {
      $("door-search").focus();
      return;
    }
    const n = Number(e.key);
    const found = pickerMatches();
    if (!inTextField(e) && n >= 1 && n <= 9 && found[n - 1]) { e.preventDefault(); chooseDoor(found[n - 1].id); }
    return;
  }
  if (G.stage === "verdict") {
    if (["Enter", "Escape", " "].includes(e.key)) { e.preventDefault(); reset(); }
    return;
  }
  if (G.stage === "digits") {
    if (/^[0-9]$/.test(e.key)) { e.preventDefault(); key(e.key); return; }
    if (e.key === "Backspace") { e.preventDefault(); key("del"); return; }
    if (e.key === "Enter") { e.preventDefault(); key("ok"); return; }
    if (e.key === "Escape") { e.preventDefault(); reset(); return; }
  }
  const fkey = FKEYS[e.key];
  const hot = fkey || ((e.altKey || !inTextField(e)) && !e.ctrlKey && !e.metaKey);
  if (!hot) return;
  const k = fkey || e.key.toLowerCase();
  if (k === "m") { e.preventDefault(); openDialog("manual-dialog"); }
  else if (k === "v") { e.preventDefault(); openDialog("visitor-dialog"); }
  else if (k === "p") { e.preventDefault(); openPending(); }
  else if (k === "l") { e.preventDefault(); GH.toggleLang(); }
});

document.addEventListener("DOMContentLoaded", async () => {
  GH.applyWords();
  $("lang").addEventListener("click", GH.toggleLang);
  $("sign-out").addEventListener("click", GH.signOut);
  $("change-door").addEventListener("click", showPicker);
  $("door-search").addEventListener("input", renderPicker);
  $("dir-in").addEventListener("click", () => { G.dir = "in"; markDir(); });
  $("dir-out").addEventListener("click", () => { G.dir = "out"; markDir(); });
  $("pass-form").addEventListener("submit", (e) => { e.preventDefault(); lookUp($("pass-input").value); });
  $("keypad").addEventListener("click", (e) => { const b = e.target.closest("button"); if (b) key(b.dataset.key); });
  $("next").addEventListener("click", reset);
  $("open-manual").addEventListener("click", () => openDialog("manual-dialog"));
  $("open-visitor").addEventListener("click", () => openDialog("visitor-dialog"));
  $("open-pending").addEventListener("click", openPending);
  $("manual-form").addEventListener("submit", submitManual);
  $("visitor-form").addEventListener("submit", submitVisitor);
  $("manual-dialog").querySelector(".cancel").addEventListener("click", () => $("manual-dialog").close());
  $("visitor-dialog").querySelector(".cancel").addEventListener("click", closeVisitor);
  $("pending-dialog").querySelector(".cancel").addEventListener("click", () => { $("pending-dialog").close(); reset(); });
  document.addEventListener("gh-lang", () => {
    markDir();
    if (G.lookup) $("ask-digits").textContent = GH.t("ask_digits_n", { n: G.lookup.digits });
    if (G.stage === "verdict" && G.verdict) showVerdict(G.verdict);
  });

  G.me = await GH.api("GET", "/api/me");
  $("user-name").textContent = G.me.user;
  G.site = await GH.api("GET", "/api/site");
  $("site-name").textContent = G.site.name;
  GH.live("/api/live", {
    doors: (data) => {
      const d = JSON.parse(data);
      for (const door of d.doors) G.doorModes[door.id] = door.mode;
      if (!$("checkpoint").hidden) showDoorMode();
    },
    pending: (n) => { $("pending-count").textContent = n; },
    // A card read at this door's reader (the desk reader) fills in the pass by itself.
    swipe: (data) => {
      const s = JSON.parse(data);
      if (s.door === G.door && G.stage === "pass" && !G.busy && !document.querySelector("dialog[open]")) {
        $("pass-input").value = s.pass;
        lookUp(s.pass);
      }
    },
  });
  if (doorInfo()) showCheckpoint(); else showPicker();
  document.body.dataset.ready = "true";
});
