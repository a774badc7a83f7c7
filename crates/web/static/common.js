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
    // Errors the server answers with a code (and parameters), in the guard's and office's words.
    err_network: "连不上门岗系统：请检查本机网络（网线或 Wi-Fi），稍等片刻再试；仍不行请联系管理员。",
    err_server_down: "门岗系统暂时没有响应（{status}）：请稍等一分钟再试；仍不行请联系管理员。需要放人时请用人工放行并写明情况。",
    err_unknown: "操作没有成功（{status}）：请再试一次；仍不行请联系管理员。",
    err_bad_password: "用户名或密码不对：请检查后重试。",
    err_locked: "登录失败次数太多：请等 {minutes} 分钟再试，或请管理员重设密码。",
    err_not_signed_in: "您尚未登录或已超时：请重新登录。",
    err_forbidden: "您的账号没有这项权限：如需要，请找管理员。",
    err_csrf: "页面已过期：请刷新页面后再试。",
    err_phone_not_digits: "“{phone}”里有不是数字的字符：请只填写手机号的数字。",
    err_phone_not_mobile: "“{phone}”不是大陆手机号：应为 1 开头的 11 位数字（如 13812345678）。",
    err_unknown_household: "没有户号“{household}”：请按 楼号-单元-房号 填写（如 18-2-501）。",
    err_name_required: "请填写姓名。",
    err_note_required: "请写明说明：是谁、为什么人工放行。",
    err_temperature_range: "体温 {value} °C 不对：请重新测量（30–45 °C）。",
    err_temperature_format: "体温只能填数字（如 36.5），或不填。",
    err_digits_short: "只输入了 {typed} 位：请对方说出全部 {n} 位后再确认（不计入错误次数）。",
    err_pass_required: "请先输入或刷通行证号。",
    err_unknown_door: "没有这个门：请重新选择本岗位的门。",
    err_too_many: "这台设备登记次数太多：请直接找门口的门岗。",
    err_queue_full: "等候审批的访客太多：请直接找门口的门岗。",
    err_not_found: "没有找到：可能已处理或已过期，请刷新后再试。",
    err_no_verdict: "门岗系统没有给出结果：这次不要放行；请再试一次，或用人工放行并写明情况。",
    err_gateway_unavailable: "门禁主机暂时不可用：请稍后再试；需要放人时请用人工放行并写明情况。",
    err_store_unavailable: "记录暂时读不出来：请稍后再试；仍不行请联系管理员。",
    err_query_short: "请至少输入 {min} 个字。",
    err_card_not_hex: "卡号“{card}”不对：请按读卡器显示的抄写（0-9、A-F）。",
    err_unknown_person: "没有人员“{person}”：请先搜索，或登记新人员。",
    err_person_or_new: "请选择已有人员，或填写新人员，二者选一。",
    err_not_a_date: "“{value}”不是日期：请写成 2027-03-31。",
    err_not_a_time: "“{value}”不是时间：请写成 2026-11-22 或 2026-11-22 08:00。",
    err_file_empty: "文件是空的：请重新选择住户名单文件。",
    err_import_failed: "导入没有完成：{detail}",
    err_no_import: "本系统的网页不能导入文件：请在门岗主机上运行 gatehouse import residents 文件名。",
    err_unknown_zone: "没有区域“{zone}”：请从列表中选择。",
    err_unknown_mode: "没有这种封控方式：请从列表中选择。",
    err_reason_required: "请填写原因：住户和门岗都会看到。",
    err_confirm_required: "请先确认。",
    err_zone_required: "请先选择要封控的区域。",
    err_user_name: "用户名只能用 1–32 个字母、数字、“-”“_”“.”（如 wang、guard-2）。",
    err_password_short: "密码至少 {min} 个字符。",
    err_users_file: "保存用户失败：请联系管理员（系统日志里有原因）。",
    err_not_available: "本系统未开启实时人数统计：请使用人数报表。",
    err_occupancy_unavailable: "实时人数暂时不可用：请一分钟后再试。",
    err_refused: "门禁主机拒绝了这项修改：{message}",
    err_method_not_allowed: "这个地址不支持此操作。",
    tries_left: "还可再错 {n} 次，之后此卡将被暂停",
    tries_last: "再错一次，此卡将被暂停",
    tries_none: "手机号多次不符，此卡已暂停：请持证人联系物业办公室",
    today: "今天", yesterday: "昨天",
    door_search: "搜索门（名称或编号）", no_match: "没有匹配的门",
    keys_help_guard: "快捷键（输入通行证时也可用）：Enter 查询/确认 · Esc 重来 · F2 人工放行 · F3 登记访客 · F4 待审批 · F8 切换语言",
    choose_zone: "— 请选择区域 —", households_affected: "受影响的住户",
    import_rows: "行数", import_new: "新增", import_updated: "更新", import_unchanged: "未变", import_refused: "有错误被拒",
    actor: "操作人", reason_state: "原因 / 状态", place: "位置",
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
    err_network: "Cannot reach the gatehouse server: check this device's network (cable or Wi-Fi), wait a moment and try again; if it still fails, call the administrator.",
    err_server_down: "The gatehouse server is not answering just now ({status}): wait a minute and try again; if it still fails, call the administrator. To let someone in meanwhile, use manual entry with a note.",
    err_unknown: "That did not work ({status}): try again; if it still fails, call the administrator.",
    err_bad_password: "Wrong user name or password: check both and try again.",
    err_locked: "Too many failed sign-ins: wait {minutes} minutes, or ask an admin to reset the password.",
    err_not_signed_in: "You are not signed in, or your session ended: sign in again.",
    err_forbidden: "Your account may not do this: ask an admin if you need it.",
    err_csrf: "The page is out of date: reload it and try again.",
    err_phone_not_digits: "'{phone}' has characters that are not digits: type the phone number's digits only.",
    err_phone_not_mobile: "'{phone}' is not a mainland mobile number: 11 digits starting with 1 (e.g. 13812345678).",
    err_unknown_household: "No household '{household}': write building-unit-room (e.g. 18-2-501).",
    err_name_required: "Write the name.",
    err_note_required: "Write a note: who the person is and why they are let in by hand.",
    err_temperature_range: "{value} °C is not a body temperature: measure again (30–45 °C).",
    err_temperature_format: "Write the temperature as a number (e.g. 36.5), or leave it empty.",
    err_digits_short: "Only {typed} digits typed: ask for all {n} and confirm again (this does not count as a mismatch).",
    err_pass_required: "Type or scan a pass number first.",
    err_unknown_door: "Unknown door: choose this checkpoint's door again.",
    err_too_many: "Too many registrations from this device: please ask the guard at the gate.",
    err_queue_full: "Too many visitors are waiting: please ask the guard at the gate.",
    err_not_found: "Not found: it may be decided or expired already; refresh and try again.",
    err_no_verdict: "The gateway gave no verdict: do not let the person in on this check; try again, or use manual entry with a note.",
    err_gateway_unavailable: "The door controller is not available just now: try again shortly; to let someone in meanwhile, use manual entry with a note.",
    err_store_unavailable: "The records cannot be read just now: try again shortly; if it persists, call the administrator.",
    err_query_short: "Type at least {min} characters.",
    err_card_not_hex: "Card number '{card}' is wrong: copy it as the reader shows it (0-9, A-F).",
    err_unknown_person: "No person '{person}': search for them first, or register a new person.",
    err_person_or_new: "Choose an existing person or fill in a new one, not both.",
    err_not_a_date: "'{value}' is not a date: write 2027-03-31.",
    err_not_a_time: "'{value}' is not a time: write 2026-11-22 or 2026-11-22 08:00.",
    err_file_empty: "The file is empty: choose the residents file again.",
    err_import_failed: "The import did not complete: {detail}",
    err_no_import: "This console cannot import files: run `gatehouse import residents FILE` on the gateway.",
    err_unknown_zone: "No zone '{zone}': choose one from the list.",
    err_unknown_mode: "No such lockdown mode: choose one from the list.",
    err_reason_required: "Give a reason: residents and guards see it.",
    err_confirm_required: "Confirm first.",
    err_zone_required: "Choose the zone to lock down first.",
    err_user_name: "User names are 1–32 letters, digits, '-', '_' or '.' (e.g. wang or guard-2).",
    err_password_short: "Passwords need at least {min} characters.",
    err_users_file: "Saving the user failed: call the administrator (the gateway's log says why).",
    err_not_available: "Live head counts are not running in this gateway: use the occupancy report.",
    err_occupancy_unavailable: "Live head counts are not available just now: try again in a minute.",
    err_refused: "The gateway refused the change: {message}",
    err_method_not_allowed: "This address does not take that action.",
    tries_left: "{n} tries left before this pass is suspended",
    tries_last: "One more mismatch suspends this pass",
    tries_none: "Too many mismatches: this pass is now suspended; the holder should see the office",
    today: "today", yesterday: "yesterday",
    door_search: "Search doors (name or id)", no_match: "No door matches",
    keys_help_guard: "Keys (they work while typing a pass too): Enter look up/confirm · Esc start over · F2 manual entry · F3 register visitor · F4 pending · F8 language",
    choose_zone: "— choose a zone —", households_affected: "Households affected",
    import_rows: "Rows", import_new: "New", import_updated: "Updated", import_unchanged: "Unchanged", import_refused: "Refused",
    actor: "By", reason_state: "Reason / state", place: "Place",
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

  /**
   * An error the person can act on, in the chosen language: the server's code and parameters
   * put into our words (`err_<code>`), network trouble in plain words with what to do next.
   * Its `message` follows the language; `code` and `params` stay for the screens.
   */
  failure(code, params, status) {
    const e = new Error();
    e.code = code; e.params = params || {}; e.status = status;
    Object.defineProperty(e, "message", { get: () => GH.errorText(e) });
    return e;
  },

  errorText(e) {
    const params = { status: e.status || "", ...e.params };
    if (WORDS.zh[`err_${e.code}`]) return GH.t(`err_${e.code}`, params);
    if (e.status >= 500 || e.code === "server_down") return GH.t("err_server_down", params);
    return GH.t("err_unknown", params);
  },

  /** Calls the JSON API; throws a [GH.failure] the screens show as it is. */
  async api(method, path, body, raw) {
    const headers = { "X-CSRF-Token": GH.csrf() };
    let payload;
    if (raw !== undefined) payload = raw;
    else if (body !== undefined) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
    let res;
    try {
      res = await fetch(path, { method, headers, body: payload, credentials: "same-origin" });
    } catch (_) {
      throw GH.failure("network", {}, 0);
    }
    if (res.status === 401 && !path.startsWith("/api/login") && !path.startsWith("/api/visit")) {
      location.href = "/login";
      throw GH.failure("not_signed_in", {}, 401);
    }
    let text = "";
    try { text = await res.text(); } catch (_) { throw GH.failure("network", {}, 0); }
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
    if (!res.ok) {
      // A proxy's 502/503/504 page, or no JSON at all: the server is not answering.
      if (!data || typeof data.error !== "string") throw GH.failure(res.status >= 500 ? "server_down" : "unknown", {}, res.status);
      throw GH.failure(data.error, { message: data.message, ...(data.params || {}) }, res.status);
    }
    return data;
  },

  /** The translation table of codes (event kinds, reasons, alarms, roles, modes …). */
  words: null,
  async loadWords() {
    try { GH.words = await GH.api("GET", "/api/words"); } catch (_) { GH.words = null; }
  },
  /** A code in the chosen language (`GH.word("reason", "phone_mismatch")`); the code if unknown. */
  word(group, code) {
    if (code === undefined || code === null || code === "") return "";
    const table = GH.words && GH.words[GH.lang];
    return (table && table[group] && table[group][code]) || code;
  },

  /**
   * An instant (RFC 3339) in this device's local time, the way people say it: 今天 09:31,
   * 12月3日 21:31, 2025年12月3日 21:31 (today 09:31, 3 Dec 21:31 in English).
   */
  when(iso, withSeconds) {
    if (!iso) return "";
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    const pad = (n) => String(n).padStart(2, "0");
    const time = `${pad(d.getHours())}:${pad(d.getMinutes())}${withSeconds ? ":" + pad(d.getSeconds()) : ""}`;
    const now = new Date();
    const day = (x) => new Date(x.getFullYear(), x.getMonth(), x.getDate()).getTime();
    const days = Math.round((day(now) - day(d)) / 86400000);
    if (days === 0) return `${GH.t("today")} ${time}`;
    if (days === 1) return `${GH.t("yesterday")} ${time}`;
    const sameYear = d.getFullYear() === now.getFullYear();
    if (GH.lang === "zh") return `${sameYear ? "" : d.getFullYear() + "年"}${d.getMonth() + 1}月${d.getDate()}日 ${time}`;
    const month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][d.getMonth()];
    return `${d.getDate()} ${month}${sameYear ? "" : " " + d.getFullYear()} ${time}`;
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
