// The district console: every estate's state with its age, district orders with each
// estate's answer, alarms, the (audited) search, head-count reports and the audit.
"use strict";

Object.assign(WORDS.zh, {
  district_title: "街道办公室", whole_estate: "全小区", tab_estates: "小区", tab_orders: "指令", tab_search: "查询", tab_reports: "报表", tab_audit: "审计",
  order_action: "指令", order_send: "对所选小区下达", estate: "小区", online: "在线", last_event: "最新事件", gaps: "缺口",
  state_online: "在线", state_offline: "离线", state_unknown: "未知", stale: "数据过时", ago: "{n}前",
  alarms_note: "近24小时内未解除的告警", alarm: "告警", where: "位置", detail: "说明", action: "操作",
  search_label: "通行证号或人员编号", search_audited: "每次查询都会记入审计。", search_none: "没有找到。",
  last_seen: "最后出现", decision: "结果", events_n: "记录数",
  report_html: "人数统计（网页，可打印）", report_xlsx: "人数统计（Excel）",
  hh_occupied: "常住", hh_occasional: "偶住", hh_vacant: "空置", hh_unknown: "不确定", total: "合计",
  choose_estates: "请先勾选小区。", confirm_title: "确认下达指令", confirm_text: "对以下 {n} 个小区{action}：{detail}", order_sent: "指令 {id} 已下达，正在等待各小区回复。",
  order_title: "指令 {id}：{action} {zone}（{by}，{at}）", order_expires: "有效至 {at}",
  os_waiting: "等待回复", os_applied: "已执行", os_refused: "被拒绝", os_expired: "已过期（小区回复）", os_no_answer: "无回复",
  sends: "发送 {n} 次", after: "用时 {s} 秒", summary: "{n} 个小区 · 在线 {on} · 封控中 {locked} · 在内 {inside} 人 / 登记 {registered} 人",
  none_yet: "还没有小区接入。", no_orders: "还没有指令。", no_alarms: "没有未解除的告警。",
  err_bad_order: "指令不能下达：{message}", err_bad_query: "无法查询：{message}",
  err_database: "办公室数据库暂时没有响应：请稍后再试；仍不行请联系管理员。",
  s: "秒", m: "分钟", h: "小时", d: "天",
});
Object.assign(WORDS.en, {
  district_title: "District office", whole_estate: "whole estate", tab_estates: "Estates", tab_orders: "Orders", tab_search: "Search", tab_reports: "Reports", tab_audit: "Audit",
  order_action: "Order", order_send: "Send to the chosen estates", estate: "Estate", online: "Online", last_event: "Latest event", gaps: "Gaps",
  state_online: "online", state_offline: "offline", state_unknown: "unknown", stale: "stale", ago: "{n} ago",
  alarms_note: "Alarms not cleared in the last 24 hours", alarm: "Alarm", where: "Where", detail: "Detail", action: "Action",
  search_label: "Pass id or person id", search_audited: "Every search is recorded in the audit.", search_none: "Nothing found.",
  last_seen: "Last seen", decision: "Decision", events_n: "Records",
  report_html: "Head counts (web page, printable)", report_xlsx: "Head counts (Excel)",
  hh_occupied: "Occupied", hh_occasional: "Occasional", hh_vacant: "Vacant", hh_unknown: "Unknown", total: "Total",
  choose_estates: "Tick the estates first.", confirm_title: "Send this order?", confirm_text: "{action} at these {n} estates: {detail}", order_sent: "Order {id} sent; waiting for each estate's answer.",
  order_title: "Order {id}: {action} {zone} ({by}, {at})", order_expires: "valid until {at}",
  os_waiting: "waiting", os_applied: "applied", os_refused: "refused", os_expired: "expired (the estate said)", os_no_answer: "no answer",
  sends: "sent {n}×", after: "after {s} s", summary: "{n} estates · {on} online · {locked} locked down · {inside} inside / {registered} registered",
  none_yet: "No estate has reported yet.", no_orders: "No orders yet.", no_alarms: "No alarm is open.",
  err_bad_order: "The order cannot be sent: {message}", err_bad_query: "Cannot search: {message}",
  err_database: "The office's database is not answering: try again shortly; if it persists, call the administrator.",
  s: "s", m: "min", h: "h", d: "d",
});

const D = {
  zone(z) { return z === "site" ? GH.t("whole_estate") : z; },
  note(text) { const n = document.getElementById("district-error"); n.textContent = text; n.className = "muted"; },
  selected: new Set(),
  tab: "estates",
  showError(e) { const n = document.getElementById("district-error"); n.className = "error"; n.textContent = e ? e.message : ""; },
  age(seconds) {
    if (seconds === null || seconds === undefined) return "";
    const s = Math.max(0, Math.round(seconds));
    const n = s < 60 ? `${s}${GH.t("s")}` : s < 3600 ? `${Math.round(s / 60)}${GH.t("m")}` : s < 86400 ? `${Math.round(s / 3600)}${GH.t("h")}` : `${Math.round(s / 86400)}${GH.t("d")}`;
    return GH.t("ago", { n });
  },
  fill(id, rows) { const body = document.getElementById(id); body.replaceChildren(...rows); },
  td(text, cls) { return GH.el("td", { text: text === null || text === undefined ? "" : String(text), class: cls }); },

  async estates() {
    const list = await GH.api("GET", "/api/district/estates");
    let on = 0, locked = 0, inside = 0, registered = 0;
    const rows = list.map((e) => {
      const zones = Object.entries(e.lockdowns || {});
      if (e.state === "online" && !e.stale) on += 1;
      if (zones.length) locked += 1;
      inside += e.inside || 0; registered += e.registered || 0;
      const box = GH.el("input", { type: "checkbox", "data-site": e.site, "aria-label": e.site });
      box.checked = D.selected.has(e.site);
      box.addEventListener("change", () => { if (box.checked) D.selected.add(e.site); else D.selected.delete(e.site); });
      const state = e.state ? GH.t(`state_${e.state}`) : GH.t("state_unknown");
      const online = GH.el("td", { class: e.state === "online" && !e.stale ? "" : "error" },
        `${state} ${D.age(e.state_age_s)}`, e.stale ? GH.el("strong", { text: ` · ${GH.t("stale")}` }) : null);
      const lockText = zones.map(([z, l]) => `${D.zone(z)}: ${GH.t(`mode_${l.mode}`)} (${l.by || ""})`).join("; ");
      return GH.el("tr", { "data-site": e.site, "data-state": e.state || "unknown", "data-locked": String(zones.length > 0), class: e.stale ? "stale" : "" },
        GH.el("td", {}, box),
        D.td(e.name ? `${e.name} (${e.site})` : e.site),
        online,
        D.td(lockText || "—", zones.length ? "error" : ""),
        D.td(e.inside), D.td(e.registered),
        D.td(e.alarms || 0, e.alarms ? "error" : ""),
        D.td(e.last_event_at ? `#${e.head_seq} · ${GH.when(e.last_event_at)}` : ""),
        D.td(e.open_gaps || 0, e.open_gaps ? "error" : ""));
    });
    D.fill("estate-rows", rows.length ? rows : [GH.el("tr", {}, GH.el("td", { colspan: 9, text: GH.t("none_yet") }))]);
    document.getElementById("district-summary").textContent =
      GH.t("summary", { n: list.length, on, locked, inside, registered });
  },

  async order(e) {
    e.preventDefault();
    D.showError(null);
    const sites = [...D.selected];
    if (!sites.length) { D.showError({ message: GH.t("choose_estates") }); return; }
    const action = document.getElementById("order-action").value;
    const body = { action, sites };
    if (action === "lockdown") {
      body.mode = document.getElementById("order-mode").value;
      body.reason = document.getElementById("order-reason").value;
    }
    if (!(await D.confirm(body))) return;
    const made = await GH.api("POST", "/api/district/orders", body);
    D.note(GH.t("order_sent", { id: made.id }));
    D.show("orders");
  },

  /** Asks before an order goes out, naming every estate it reaches. */
  confirm(body) {
    const dialog = document.getElementById("confirm-dialog");
    document.getElementById("confirm-title").textContent = GH.t("confirm_title");
    const detail = body.action === "lockdown" ? `${GH.t(`mode_${body.mode}`)} · ${body.reason}` : "";
    document.getElementById("confirm-text").textContent =
      GH.t("confirm_text", { n: body.sites.length, action: GH.t(body.action), detail });
    document.getElementById("confirm-estates").replaceChildren(...body.sites.map((s) => GH.el("li", { text: s })));
    return new Promise((resolve) => {
      const done = (ok) => () => { dialog.close(); resolve(ok); };
      document.getElementById("confirm-ok").onclick = done(true);
      document.getElementById("confirm-cancel").onclick = done(false);
      dialog.showModal();
    });
  },

  async orders() {
    const list = await GH.api("GET", "/api/district/orders?limit=20");
    const blocks = list.map((o) => GH.el("div", { class: "order", "data-order": o.id },
      GH.el("h3", { text: GH.t("order_title", { id: o.id, action: GH.t(o.action), zone: D.zone(o.zone), by: o.by, at: GH.when(o.created, true) }) }),
      GH.el("p", { class: "muted", text: `${o.mode ? GH.t(`mode_${o.mode}`) + " · " : ""}${o.reason || ""} · ${GH.t("order_expires", { at: GH.when(o.expires_at) })}` }),
      GH.el("table", {}, GH.el("tbody", {}, ...o.sites.map((s) => GH.el("tr", { "data-site": s.site, "data-state": s.state },
        D.td(s.site), D.td(GH.t(`os_${s.state}`), s.state === "applied" ? "" : "error"),
        D.td([s.error, s.detail].filter(Boolean).join(": ")),
        D.td(GH.t("sends", { n: s.sends })),
        D.td(s.answered_after_s !== null && s.answered_after_s !== undefined ? GH.t("after", { s: s.answered_after_s.toFixed(1) }) : "")))))));
    document.getElementById("order-list").replaceChildren(...(blocks.length ? blocks : [GH.el("p", { text: GH.t("no_orders") })]));
  },

  async alarms() {
    const list = await GH.api("GET", "/api/district/alarms");
    D.fill("alarm-rows", list.length ? list.map((a) => GH.el("tr", {},
      D.td(a.site), D.td(GH.when(a.at)), D.td(GH.word("alarm", a.alarm)), D.td(a.door || a.zone || ""), D.td(a.detail || "")))
      : [GH.el("tr", {}, GH.el("td", { colspan: 5, text: GH.t("no_alarms") }))]);
  },

  async search(e) {
    e.preventDefault();
    D.showError(null);
    const q = document.getElementById("search-q").value;
    const found = await GH.api("GET", `/api/district/search?q=${encodeURIComponent(q)}`);
    D.fill("search-rows", found.map((f) => GH.el("tr", { "data-site": f.site },
      D.td(f.site), D.td(f.pass), D.td(f.person), D.td(f.household), D.td(GH.when(f.last_seen, true)),
      D.td(`${f.last_door || ""} ${GH.word("direction", f.last_direction)}`),
      D.td(`${GH.word("decision", f.last_decision)} ${GH.word("reason", f.last_reason)}`), D.td(f.events))));
    document.getElementById("search-none").hidden = found.length > 0;
  },

  async counts() {
    const c = await GH.api("GET", "/api/district/headcounts");
    const row = (name, r, h, at, stale) => GH.el("tr", { class: stale ? "stale" : "" }, D.td(name), D.td(r.inside), D.td(r.registered),
      D.td(h.occupied), D.td(h.occasional), D.td(h.vacant), D.td(h.unknown), D.td(at ? `${GH.when(at)}${stale ? " · " + GH.t("stale") : ""}` : ""));
    D.fill("count-rows", [...c.estates.map((e) => row(e.name ? `${e.name} (${e.site})` : e.site, e, e.households, e.at, e.stale)),
      row(GH.t("total"), c, c.households, null, false)]);
  },

  async audit() {
    const lines = await GH.api("GET", "/api/district/audit?limit=100");
    D.fill("audit-rows", lines.map((l) => GH.el("tr", {}, D.td(GH.when(l.at, true)), D.td(l.actor), D.td(l.action), D.td(l.detail))));
  },

  refresh() {
    const run = { estates: D.estates, orders: D.orders, alarms: D.alarms, reports: D.counts, audit: D.audit }[D.tab];
    if (run) run().catch(D.showError);
  },

  show(tab) {
    D.tab = tab;
    for (const b of document.querySelectorAll("nav.tabs button")) b.setAttribute("aria-selected", String(b.dataset.tab === tab));
    for (const s of document.querySelectorAll("section.tab")) s.hidden = s.id !== `tab-${tab}`;
    D.refresh();
  },
};

document.addEventListener("DOMContentLoaded", async () => {
  GH.applyWords();
  await GH.loadWords();
  document.getElementById("lang").addEventListener("click", GH.toggleLang);
  document.addEventListener("gh-lang", D.refresh);
  document.getElementById("sign-out").addEventListener("click", GH.signOut);
  for (const b of document.querySelectorAll("nav.tabs button")) b.addEventListener("click", () => D.show(b.dataset.tab));
  document.getElementById("order-form").addEventListener("submit", (e) => D.order(e).catch(D.showError));
  document.getElementById("search-form").addEventListener("submit", (e) => D.search(e).catch(D.showError));
  const action = document.getElementById("order-action");
  action.addEventListener("change", () => {
    const lockdown = action.value === "lockdown";
    document.getElementById("order-mode-label").hidden = !lockdown;
    document.getElementById("order-reason-label").hidden = !lockdown;
  });
  document.getElementById("select-all").addEventListener("change", (e) => {
    for (const box of document.querySelectorAll("#estate-rows input[type=checkbox]")) {
      box.checked = e.target.checked;
      if (box.checked) D.selected.add(box.dataset.site); else D.selected.delete(box.dataset.site);
    }
  });
  try {
    const me = await GH.api("GET", "/api/me");
    document.getElementById("user-name").textContent = `${me.user} (${me.role})`;
    if (me.role === "auditor") document.getElementById("order-form").hidden = true;
  } catch (e) { D.showError(e); }
  D.show("estates");
  await D.estates().catch(D.showError);
  document.body.dataset.ready = "true";
  setInterval(() => { if (D.tab !== "search") D.refresh(); }, 3000);
});
