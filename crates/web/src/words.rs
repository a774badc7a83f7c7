//! The one translation table for the codes the console shows: event kinds, reasons (the
//! core's own words, [`Reason::words`]), alarms, door states and modes, lockdown modes, person
//! and console roles, decisions, directions, methods and admin actions, each in Chinese and
//! English. The screens read it from `GET /api/words`; the CSV export and the guard's verdict
//! use it here, so a code reads the same everywhere.

use gatehouse_core::Reason;
use serde_json::{Map, Value, json};

/// `(group, code, 中文, English)`. Reasons come from the core instead (see [`lookup`]).
const TABLE: &[(&str, &str, &str, &str)] = &[
    ("kind", "access", "通行", "Access"),
    ("kind", "egress", "出门", "Exit"),
    ("kind", "door", "门状态", "Door"),
    ("kind", "alarm", "告警", "Alarm"),
    ("kind", "device", "设备", "Device"),
    ("kind", "mode", "门模式", "Door mode"),
    ("kind", "command", "远程指令", "Remote command"),
    ("kind", "admin", "管理操作", "Office action"),
    ("kind", "rejected_input", "无效输入", "Rejected input"),
    ("alarm", "door_forced", "强行开门", "Door forced"),
    ("alarm", "door_held_open", "门长时间未关", "Door held open"),
    ("alarm", "tamper", "设备被拆", "Tamper"),
    ("alarm", "fire", "火警", "Fire"),
    (
        "alarm",
        "phone_failures",
        "手机号多次不符，卡已暂停",
        "Repeated phone mismatches: pass suspended",
    ),
    (
        "alarm",
        "anti_passback",
        "重复进出（防潜回）",
        "Anti-passback",
    ),
    (
        "alarm",
        "quarantine_exit",
        "隔离区有人外出",
        "Exit from quarantine",
    ),
    (
        "alarm",
        "impossible_travel",
        "异常行程",
        "Impossible travel",
    ),
    ("alarm", "reads_lost", "读卡记录丢失", "Card reads lost"),
    ("alarm", "log_unavailable", "记录不可写", "Log unavailable"),
    ("alarm", "clock", "系统时钟跳变", "Clock jumped"),
    ("alarm", "log_damaged", "记录已损坏", "Log damaged"),
    ("state", "open", "开", "open"),
    ("state", "closed", "关", "closed"),
    ("state", "locked", "已锁", "locked"),
    ("state", "unlocked", "已开锁", "unlocked"),
    ("state", "unknown", "未知", "unknown"),
    ("state", "normal", "正常", "normal"),
    ("state", "locked_down", "封控", "locked down"),
    (
        "state",
        "closed_by_schedule",
        "定时关闭",
        "closed by schedule",
    ),
    (
        "state",
        "door_closed_by_schedule",
        "定时关闭",
        "closed by schedule",
    ),
    ("state", "held_open", "常开", "held open"),
    ("state", "fire_release", "火警释放", "fire release"),
    ("state", "forced", "强行打开", "forced"),
    ("state", "unlock_failed", "开锁失败", "unlock failed"),
    ("state", "lifted", "已解封", "lifted"),
    ("state", "online", "在线", "online"),
    ("state", "offline", "离线", "offline"),
    ("lockdown", "closed", "封闭", "Closed"),
    ("lockdown", "residents_only", "仅本区住户", "Residents only"),
    ("lockdown", "quarantine", "隔离", "Quarantine"),
    ("lockdown", "limited_exit", "限制外出", "Limited exit"),
    ("role", "resident", "住户", "Resident"),
    ("role", "owner", "业主", "Owner"),
    ("role", "tenant", "租户", "Tenant"),
    ("role", "family", "家属", "Family member"),
    ("role", "staff", "工作人员", "Staff"),
    ("role", "medical", "医护人员", "Medical staff"),
    ("role", "visitor", "访客", "Visitor"),
    ("role", "guard", "门岗", "Guard"),
    (
        "console_role",
        "guard",
        "门岗（核验放行）",
        "Guard (checkpoint)",
    ),
    (
        "console_role",
        "office",
        "物业办公室（可修改）",
        "Office (can change)",
    ),
    (
        "console_role",
        "admin",
        "管理员（含系统用户）",
        "Admin (and console users)",
    ),
    (
        "console_role",
        "auditor",
        "审计（只读）",
        "Auditor (read only)",
    ),
    ("decision", "grant", "放行", "Let in"),
    ("decision", "deny", "拒绝", "Refused"),
    ("direction", "in", "进", "In"),
    ("direction", "out", "出", "Out"),
    ("method", "card", "刷卡", "Card"),
    ("method", "card+phone", "刷卡+手机号", "Card and phone"),
    ("method", "guard", "门岗核验", "Guard check"),
    ("method", "qr", "二维码", "QR code"),
    ("method", "remote", "远程开门", "Remote"),
    ("method", "rex", "出门按钮", "Exit button"),
    ("method", "manual", "人工放行", "Manual"),
    ("method", "import", "导入", "Import"),
    ("action", "issue_pass", "发放通行证", "Pass issued"),
    ("action", "pass_active", "通行证恢复", "Pass restored"),
    ("action", "pass_suspended", "通行证暂停", "Pass suspended"),
    ("action", "pass_revoked", "通行证注销", "Pass revoked"),
    ("action", "pass_lost", "通行证挂失", "Pass marked lost"),
    ("action", "lockdown", "封控", "Lockdown"),
    ("action", "lift", "解封", "Lockdown lifted"),
    ("action", "door_control", "远程控制门", "Door control"),
    ("action", "alarm_ack", "确认告警", "Alarm acknowledged"),
    (
        "action",
        "guard_lookup",
        "门岗查询持证人",
        "Guard looked up a pass",
    ),
    (
        "action",
        "visitor_requests",
        "查看访客申请",
        "Visitor requests viewed",
    ),
    ("action", "people_search", "搜索人员", "People searched"),
    ("action", "events_search", "搜索事件", "Events searched"),
    ("action", "export_events", "导出事件", "Events exported"),
    (
        "action",
        "building_table",
        "查看楼组表",
        "Building table viewed",
    ),
    (
        "action",
        "view_inside_now",
        "查看在内人员",
        "Inside-now list viewed",
    ),
    (
        "action",
        "console_user_put",
        "修改系统用户",
        "Console user changed",
    ),
    (
        "action",
        "import_residents",
        "导入住户",
        "Residents imported",
    ),
    (
        "action",
        "import_swipes",
        "导入刷卡记录",
        "Swipe records imported",
    ),
    (
        "action",
        "reload_estate",
        "重新载入住户数据",
        "Estate data reloaded",
    ),
];

/// The words for `code` in `group` (`reason`, `kind`, `alarm`, …): `(中文, English)`.
pub fn lookup(group: &str, code: &str) -> Option<(&'static str, &'static str)> {
    if group == "reason" {
        return Reason::ALL
            .iter()
            .find(|r| r.as_str() == code)
            .map(|r| r.words());
    }
    TABLE
        .iter()
        .find(|(g, c, _, _)| *g == group && *c == code)
        .map(|(_, _, zh, en)| (*zh, *en))
}

/// The Chinese words for `code`, or the code itself when the table has none.
pub fn zh(group: &str, code: &str) -> String {
    lookup(group, code).map_or_else(|| code.to_string(), |(zh, _)| zh.to_string())
}

/// The whole table as `{"zh": {group: {code: words}}, "en": {...}}`.
pub fn table() -> Value {
    let mut zh: Map<String, Value> = Map::new();
    let mut en: Map<String, Value> = Map::new();
    let mut put = |group: &str, code: &str, z: &str, e: &str| {
        for (lang, words) in [(&mut zh, z), (&mut en, e)] {
            let entry = lang
                .entry(group.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(m) = entry {
                m.insert(code.to_string(), Value::String(words.to_string()));
            }
        }
    };
    for r in Reason::ALL {
        let (z, e) = r.words();
        put("reason", r.as_str(), z, e);
    }
    for (g, c, z, e) in TABLE {
        put(g, c, z, e);
    }
    json!({ "zh": zh, "en": en })
}

/// `GET /api/words`: the table, for the screens (public: it holds no data about anyone).
pub async fn serve() -> axum::Json<Value> {
    axum::Json(table())
}

/// Every code a list of wire names has, for the tests: `Kind::ALL` and the like.
#[cfg(test)]
fn missing<'a>(group: &str, codes: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    codes
        .into_iter()
        .filter(|c| lookup(group, c).is_none_or(|(z, e)| z.is_empty() || e.is_empty()))
        .map(|c| format!("{group}/{c}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_core::estate::Role;
    use gatehouse_core::lockdown::LockdownMode;
    use gatehouse_core::{Kind, Method, event::AlarmKind};

    #[test]
    fn every_code_the_core_knows_has_words_in_both_languages() {
        let mut gaps = Vec::new();
        gaps.extend(missing("kind", Kind::ALL.iter().map(|k| k.as_str())));
        gaps.extend(missing("reason", Reason::ALL.iter().map(|r| r.as_str())));
        gaps.extend(missing("alarm", AlarmKind::ALL.iter().map(|a| a.as_str())));
        gaps.extend(missing("method", Method::ALL.iter().map(|m| m.as_str())));
        gaps.extend(missing(
            "lockdown",
            LockdownMode::ALL.iter().map(|m| m.as_str()),
        ));
        let roles = [
            Role::Resident,
            Role::Owner,
            Role::Tenant,
            Role::Family,
            Role::Staff,
            Role::Medical,
            Role::Visitor,
            Role::Guard,
        ];
        let names: Vec<String> = roles.iter().map(crate::app::wire_name).collect();
        gaps.extend(missing("role", names.iter().map(String::as_str)));
        let console: Vec<&str> = crate::users::Role::ALL.iter().map(|r| r.as_str()).collect();
        gaps.extend(missing("console_role", console));
        assert!(gaps.is_empty(), "no words for {gaps:?}");
    }

    #[test]
    fn the_table_serves_both_languages_and_the_core_reasons() {
        let t = table();
        assert_eq!(t["zh"]["reason"]["phone_mismatch"], "手机号不符");
        assert_eq!(t["en"]["role"]["tenant"], "Tenant");
        assert_eq!(zh("kind", "access"), "通行");
        assert_eq!(zh("kind", "no_such_kind"), "no_such_kind");
    }
}
