// Shared by every page: words in Chinese and English, the JSON API with its CSRF token, and
// live updates. Chinese is the default; the choice is remembered on the device.
"use strict";

const WORDS = {
  zh: {
    app: "门岗系统", sign_in: "登录", user: "用户名", password: "密码", sign_out: "退出",
    lang: "English", bad_login: "登录失败",
    choose_door: "请选择本岗位的门", direction: "方向", dir_in: "进", dir_out: "出", change_door: "换门",
    pass_label: "通行证号 / 刷卡", look_up: "查询", ask_digits: "请对方说出手机号后四位",
    ask_digits_n: "请对方说出手机号后{n}位", confirm: "确认", clear: "清除", del: "退格",
    holder: "持证人", household: "户号", phone: "登记手机", status: "状态",
    status_active: "有效", status_suspended: "已暂停", status_revoked: "已注销", status_lost: "已挂失",
    visitor_pass: "访客证", unknown_pass: "未登记的卡",
    grant: "放行", mismatch: "不符", no_entry: "不可进入", next: "下一位",
    manual: "人工放行", manual_note: "说明（是谁、为什么放行）", temperature: "体温（可不填）",
    register_visitor: "登记访客", visitor_name: "访客姓名", visitor_phone: "访客手机号",
    host_household: "拜访户号（如 18-2-501）", reason: "事由", hours: "有效小时数",
    issue: "发放通行证", issued: "访客通行证已发放", pending: "待审批", pending_none: "没有待审批的访客",
    approve: "同意", refuse: "拒绝", close: "关闭", cancel: "取消", valid_until: "有效期至",
    keys_help: "键盘：数字键输入，回车确认，Esc 重来；M 人工放行，V 登记访客，P 待审批，L 切换语言",
    working: "处理中…",
    visit_title: "访客自助登记", visit_intro: "请填写以下信息，门岗审核后本页将显示您的二维码通行证。",
    submit: "提交", wait_guard: "已提交，请稍候，门岗正在审核…", refused: "门岗未同意您的登记",
    approved: "已同意：请在门口出示此二维码",
    tab_doors: "门禁", tab_lockdown: "封控", tab_events: "事件", tab_alarms: "告警", tab_people: "人员通行证",
    tab_import: "导入住户", tab_buildings: "楼组表", tab_users: "系统用户", tab_occupancy: "人数统计",
    as_of: "截至", inside_site: "小区内", inside_now: "在内人数", since: "进入时间", registered: "登记住户",
    who_inside: "在内人员", show_inside: "查看名单", inside_of: "在内人员", nobody_inside: "此区域现在无人。",
    view_logged: "查看在内人员名单会被记录（谁、何时、哪个区域）。", whole_estate: "全小区",
    door: "门", zone: "区域", lock: "锁", contact: "门磁", mode: "模式", online: "在线", actions: "操作",
    unlock: "开门", hold_open: "常开", relock: "锁门",
    lockdown: "封控", lift: "解封", lockdown_mode: "方式", lockdown_reason: "原因", lockdowns_now: "当前封控",
    mode_closed: "封闭", mode_residents_only: "仅本区住户", mode_quarantine: "隔离", mode_limited_exit: "限制外出",
    confirm_lockdown: "确认封控", confirm_lift: "确认解封", doors_affected: "受影响的门",
    search: "搜索", export_csv: "导出 CSV", kind: "类型", from: "从", to: "到", text: "关键字",
    person: "人员", pass: "通行证", decision: "结果", ack: "确认", acked: "已确认", cleared: "已解除",
    suspend: "暂停", restore: "恢复", revoke: "注销", mark_lost: "挂失", card: "卡号",
    new_pass: "发新通行证", name: "姓名", role: "身份", import_file: "住户名单（CSV 或 XLSX）", import_do: "导入",
    import_ok: "导入成功", import_bad: "导入未执行：以下行有错误", row: "行",
    building: "楼栋", show: "显示", members: "成员", add_user: "添加用户", live: "实时",
    none: "无", yes: "是", no: "否", at: "时间",
    st_locked: "已锁", st_unlocked: "已开锁", st_open: "开", st_closed: "关", st_unknown: "未知",
    st_normal: "正常", st_locked_down: "封控", st_closed_by_schedule: "定时关闭", st_held_open: "常开", st_fire_release: "火警释放",
  },
  en: {
    app: "Gatehouse", sign_in: "Sign in", user: "User name", password: "Password", sign_out: "Sign out",
    lang: "中文", bad_login: "Sign-in failed",
    choose_door: "Choose this checkpoint's door", direction: "Direction", dir_in: "In", dir_out: "Out", change_door: "Change door",
    pass_label: "Pass number / swipe", look_up: "Look up", ask_digits: "Ask for the last 4 phone digits",
    ask_digits_n: "Ask for the last {n} phone digits", confirm: "Confirm", clear: "Clear", del: "Delete",
    holder: "Holder", household: "Household", phone: "Registered phone", status: "Status",
    status_active: "Active", status_suspended: "Suspended", status_revoked: "Revoked", status_lost: "Lost",
    visitor_pass: "Visitor pass", unknown_pass: "Unknown pass",
    grant: "LET IN", mismatch: "MISMATCH", no_entry: "NO ENTRY", next: "Next person",
    manual: "Manual entry", manual_note: "Note (who, and why let in by hand)", temperature: "Temperature (optional)",
    register_visitor: "Register visitor", visitor_name: "Visitor's name", visitor_phone: "Visitor's phone",
    host_household: "Host household (e.g. 18-2-501)", reason: "Reason", hours: "Valid for hours",
    issue: "Issue pass", issued: "Visitor pass issued", pending: "Pending", pending_none: "No visitors waiting",
    approve: "Approve", refuse: "Refuse", close: "Close", cancel: "Cancel", valid_until: "Valid until",
    keys_help: "Keys: digits to type, Enter to confirm, Esc to start over; M manual, V visitor, P pending, L language",
    working: "Working…",
    visit_title: "Visitor self-registration", visit_intro: "Fill in the form; once the guard approves, this page shows your QR pass.",
    submit: "Submit", wait_guard: "Sent. Please wait while the guard checks…", refused: "The guard did not approve your registration",
    approved: "Approved: show this QR code at the gate",
    tab_doors: "Doors", tab_lockdown: "Lockdown", tab_events: "Events", tab_alarms: "Alarms", tab_people: "People & passes",
    tab_import: "Import residents", tab_buildings: "Building tables", tab_users: "Console users", tab_occupancy: "Head counts",
    as_of: "As of", inside_site: "Inside the estate", inside_now: "Inside now", since: "Since", registered: "Registered residents",
    who_inside: "Who is inside", show_inside: "Show list", inside_of: "Inside", nobody_inside: "Nobody is inside this zone now.",
    view_logged: "Viewing who is inside is recorded (who, when, which zone).", whole_estate: "Whole estate",
    door: "Door", zone: "Zone", lock: "Lock", contact: "Contact", mode: "Mode", online: "Online", actions: "Actions",
    unlock: "Unlock", hold_open: "Hold open", relock: "Lock",
    lockdown: "Lock down", lift: "Lift", lockdown_mode: "Mode", lockdown_reason: "Reason", lockdowns_now: "Lockdowns in force",
    mode_closed: "Closed", mode_residents_only: "Residents only", mode_quarantine: "Quarantine", mode_limited_exit: "Limited exit",
    confirm_lockdown: "Confirm lockdown", confirm_lift: "Confirm lift", doors_affected: "Doors affected",
    search: "Search", export_csv: "Export CSV", kind: "Kind", from: "From", to: "To", text: "Text",
    person: "Person", pass: "Pass", decision: "Decision", ack: "Acknowledge", acked: "Acknowledged", cleared: "Cleared",
    suspend: "Suspend", restore: "Restore", revoke: "Revoke", mark_lost: "Mark lost", card: "Card",
    new_pass: "Issue a pass", name: "Name", role: "Role", import_file: "Residents file (CSV or XLSX)", import_do: "Import",
    import_ok: "Imported", import_bad: "Nothing imported: these rows are wrong", row: "Row",
    building: "Building", show: "Show", members: "Members", add_user: "Add user", live: "Live",
    none: "None", yes: "yes", no: "no", at: "At",
    st_locked: "locked", st_unlocked: "unlocked", st_open: "open", st_closed: "closed", st_unknown: "unknown",
    st_normal: "normal", st_locked_down: "locked down", st_closed_by_schedule: "closed by schedule", st_held_open: "held open", st_fire_release: "fire release",
  },
};

const GH = {
  lang: localStorage.getItem("gh_lang") === "en" ? "en" : "zh",

  t(key, vars) {
    let s = (WORDS[GH.lang] && WORDS[GH.lang][key]) || WORDS.zh[key] || key;
    for (const [k, v] of Object.entries(vars || {})) s = s.replace(`{${k}}`, v);
    return s;
  },

  /** Fills every [data-i18n] element (and data-i18n-placeholder) with words in the chosen language. */
  applyWords(root) {
    document.documentElement.lang = GH.lang === "zh" ? "zh-CN" : "en";
    for (const el of (root || document).querySelectorAll("[data-i18n]")) el.textContent = GH.t(el.dataset.i18n);
    for (const el of (root || document).querySelectorAll("[data-i18n-placeholder]")) el.placeholder = GH.t(el.dataset.i18nPlaceholder);
  },

  toggleLang() {
    GH.lang = GH.lang === "zh" ? "en" : "zh";
    localStorage.setItem("gh_lang", GH.lang);
    GH.applyWords();
    document.dispatchEvent(new Event("gh-lang"));
  },

  csrf() {
    const m = document.cookie.match(/(?:^|;\s*)gh_csrf=([^;]+)/);
    return m ? m[1] : "";
  },

  /** Calls the JSON API; throws an Error whose message is the server's advice. */
  async api(method, path, body, raw) {
    const headers = { "X-CSRF-Token": GH.csrf() };
    let payload;
    if (raw !== undefined) payload = raw;
    else if (body !== undefined) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
    const res = await fetch(path, { method, headers, body: payload, credentials: "same-origin" });
    if (res.status === 401 && !path.startsWith("/api/login") && !path.startsWith("/api/visit")) {
      location.href = "/login";
      throw new Error("not signed in");
    }
    const text = await res.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (_) { data = text; }
    if (!res.ok) throw new Error((data && data.message) || `HTTP ${res.status}`);
    return data;
  },

  /** Subscribes to a server-sent events stream; reconnects on its own (EventSource does). */
  live(path, handlers) {
    const es = new EventSource(path);
    for (const [name, fn] of Object.entries(handlers)) es.addEventListener(name, (e) => fn(e.data));
    return es;
  },

  async signOut() {
    try { await GH.api("POST", "/api/logout"); } finally { location.href = "/login"; }
  },

  el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else if (k === "text") e.textContent = v;
      else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c);
    return e;
  },
};
