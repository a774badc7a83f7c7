//! The columns of a residents file (`docs/configuration.md`) in English and Chinese, the other
//! headers offices use for them, and the words for roles. The sample generator writes files
//! with the first names, the import reads all of them.

use super::text::fold;
use gatehouse_core::estate::Role;

/// A column of the residents file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Column {
    Household,
    Name,
    Phone,
    Role,
    Pass,
    ValidUntil,
    /// Split household code: the building (楼号), unit (单元) and room (房号) in columns of
    /// their own, combined into `building-unit-room`.
    Building,
    Unit,
    Room,
}

/// Every column in file order: the column, its English and Chinese header, whether required.
pub const COLUMNS: [(Column, &str, &str, bool); 6] = [
    (Column::Household, "household", "户号", true),
    (Column::Name, "name", "姓名", true),
    (Column::Phone, "phone", "手机号", true),
    (Column::Role, "role", "身份", false),
    (Column::Pass, "pass", "卡号", false),
    (Column::ValidUntil, "valid_until", "有效期至", false),
];

/// Other headers for the columns, as office sheets write them (compared after folding
/// full-width letters, ignoring case, spaces and a trailing `(…)` note).
pub const SYNONYMS: [(Column, &[&str]); 9] = [
    (
        Column::Household,
        &[
            "户",
            "房屋编号",
            "房屋",
            "住户编号",
            "household code",
            "flat",
        ],
    ),
    (
        Column::Name,
        &[
            "名字",
            "住户姓名",
            "人员姓名",
            "居民姓名",
            "姓名/名称",
            "full name",
        ],
    ),
    (
        Column::Phone,
        &[
            "手机",
            "手机号码",
            "联系电话",
            "电话",
            "电话号码",
            "联系方式",
            "移动电话",
            "mobile",
            "mobile phone",
            "tel",
            "telephone",
        ],
    ),
    (
        Column::Role,
        &[
            "角色",
            "人员类型",
            "住户类型",
            "人员身份",
            "住户身份",
            "类型",
            "type",
        ],
    ),
    (
        Column::Pass,
        &[
            "门禁卡号",
            "门禁卡",
            "卡片号",
            "卡片编号",
            "ic卡号",
            "卡",
            "card",
            "card number",
            "card no",
            "card no.",
        ],
    ),
    (
        Column::ValidUntil,
        &[
            "有效期",
            "有效期限",
            "到期日",
            "到期日期",
            "到期时间",
            "截止日期",
            "有效日期",
            "valid until",
            "expires",
            "expiry",
        ],
    ),
    (
        Column::Building,
        &[
            "楼号",
            "楼栋",
            "楼栋号",
            "栋",
            "栋号",
            "幢",
            "幢号",
            "楼",
            "building",
        ],
    ),
    (Column::Unit, &["单元", "单元号", "unit"]),
    (
        Column::Room,
        &["房号", "门牌号", "室", "室号", "房间号", "房间", "room"],
    ),
];

/// Headers of columns offices keep that the import has no use for; they are read past.
pub const IGNORED: [&str; 16] = [
    "序号",
    "编号",
    "备注",
    "说明",
    "性别",
    "年龄",
    "民族",
    "身份证号",
    "身份证号码",
    "证件号码",
    "籍贯",
    "工作单位",
    "no",
    "no.",
    "notes",
    "remarks",
];

/// Role words of the file: the role, its English and Chinese word.
pub const ROLES: [(Role, &str, &str); 5] = [
    (Role::Owner, "owner", "业主"),
    (Role::Tenant, "tenant", "租户"),
    (Role::Family, "family", "家属"),
    (Role::Staff, "staff", "工作人员"),
    (Role::Resident, "resident", "住户"),
];

/// Other words offices write for the roles.
pub const ROLE_SYNONYMS: [(Role, &[&str]); 5] = [
    (Role::Owner, &["房主", "产权人", "业主本人"]),
    (
        Role::Tenant,
        &["租客", "承租人", "租住", "租住户", "renter"],
    ),
    (
        Role::Family,
        &[
            "家庭成员",
            "成员",
            "亲属",
            "业主家属",
            "租户家属",
            "family member",
        ],
    ),
    (
        Role::Staff,
        &[
            "员工",
            "保姆",
            "家政",
            "物业",
            "物业人员",
            "employee",
            "helper",
        ],
    ),
    (Role::Resident, &["居民", "常住", "常住人口", "住户人员"]),
];

/// A header or word as compared: folded, lower case, `_` and `-` as spaces, single spaces, no
/// trailing `*` (a "required" mark) or `(…)` note.
fn key(text: &str) -> String {
    let mut t = fold(text).to_lowercase().replace(['_', '-'], " ");
    t = t.trim_end_matches(['*', ':']).trim().to_string();
    if t.ends_with(')')
        && let Some(open) = t.rfind('(')
        && open > 0
    {
        t.truncate(open);
    }
    t.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The column a header names, in either language or by one of its synonyms.
pub fn column(header: &str) -> Option<Column> {
    let h = key(header);
    COLUMNS
        .iter()
        .find(|(_, en, zh, _)| h == key(en) || h == *zh)
        .map(|c| c.0)
        .or_else(|| {
            SYNONYMS
                .iter()
                .find(|(_, words)| words.iter().any(|w| h == key(w)))
                .map(|s| s.0)
        })
}

/// Whether a header names a column the import reads past (序号, 备注, …).
pub fn ignored(header: &str) -> bool {
    let h = key(header);
    IGNORED.iter().any(|w| h == key(w))
}

/// The role a word names, in either language or by a synonym; an empty cell is a plain
/// resident.
pub fn role(word: &str) -> Option<Role> {
    let w = key(word);
    if w.is_empty() {
        return Some(Role::Resident);
    }
    ROLES
        .iter()
        .find(|(_, en, zh)| w == *en || w == *zh)
        .map(|r| r.0)
        .or_else(|| {
            ROLE_SYNONYMS
                .iter()
                .find(|(_, words)| words.iter().any(|s| w == key(s)))
                .map(|r| r.0)
        })
}

/// The role words for messages: `owner, tenant, … (业主, 租户, …)`.
pub fn role_words() -> String {
    let en: Vec<&str> = ROLES.iter().map(|r| r.1).collect();
    let zh: Vec<&str> = ROLES.iter().map(|r| r.2).collect();
    format!("{} ({})", en.join(", "), zh.join(", "))
}

/// The word for `role` in English or Chinese.
pub fn role_word(role: Role, chinese: bool) -> &'static str {
    ROLES
        .iter()
        .find(|r| r.0 == role)
        .map_or("resident", |r| if chinese { r.2 } else { r.1 })
}

/// The header of `column` in English or Chinese.
pub fn header(column: Column, chinese: bool) -> &'static str {
    let found = COLUMNS.iter().find(|c| c.0 == column).map(|c| (c.1, c.2));
    let synonym = || {
        SYNONYMS
            .iter()
            .find(|s| s.0 == column)
            .and_then(|s| s.1.first().copied())
            .map(|zh| (zh, zh))
    };
    let (en, zh) = found.or_else(synonym).unwrap_or(("", ""));
    if chinese { zh } else { en }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_and_roles_read_in_both_languages() {
        assert_eq!(column(" 户号 "), Some(Column::Household));
        assert_eq!(column("Valid_Until"), Some(Column::ValidUntil));
        assert_eq!(column("\u{feff}household"), Some(Column::Household));
        assert_eq!(column("住址"), None);
        assert_eq!(role("业主"), Some(Role::Owner));
        assert_eq!(role("Tenant"), Some(Role::Tenant));
        assert_eq!(role(""), Some(Role::Resident));
        assert_eq!(role("boss"), None);
        for (r, en, zh) in ROLES {
            assert_eq!(role(role_word(r, true)), Some(r), "{zh}");
            assert_eq!(role(role_word(r, false)), Some(r), "{en}");
        }
    }

    #[test]
    fn office_headers_and_role_words_are_understood() {
        let cases = [
            ("手机", Column::Phone),
            ("手机号码", Column::Phone),
            ("联系电话", Column::Phone),
            ("手机号（必填）", Column::Phone),
            ("姓名*", Column::Name),
            ("名字", Column::Name),
            ("房号", Column::Room),
            ("门牌号", Column::Room),
            ("室", Column::Room),
            ("楼号", Column::Building),
            ("楼栋", Column::Building),
            ("单元", Column::Unit),
            ("身份", Column::Role),
            ("门禁卡号", Column::Pass),
            ("有效期", Column::ValidUntil),
            ("Valid Until", Column::ValidUntil),
            ("ｐｈｏｎｅ", Column::Phone),
        ];
        for (h, c) in cases {
            assert_eq!(column(h), Some(c), "{h}");
        }
        assert_eq!(column("身份证号"), None, "an ID number is not the role");
        assert!(ignored("身份证号") && ignored("序号") && ignored("备注"));
        for (word, r) in [
            ("resident", Role::Resident),
            ("住户", Role::Resident),
            ("Resident", Role::Resident),
            ("租客", Role::Tenant),
            ("家庭成员", Role::Family),
            ("房主", Role::Owner),
            ("保姆", Role::Staff),
            ("ＯＷＮＥＲ", Role::Owner),
        ] {
            assert_eq!(role(word), Some(r), "{word}");
        }
    }
}
