//! The columns of a residents file (`spec/files.md`) in English and Chinese, and the words for
//! roles. The sample generator writes files with these names, the import reads them.

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

/// Role words of the file: the role, its English and Chinese word.
pub const ROLES: [(Role, &str, &str); 5] = [
    (Role::Owner, "owner", "业主"),
    (Role::Tenant, "tenant", "租户"),
    (Role::Family, "family", "家属"),
    (Role::Staff, "staff", "工作人员"),
    (Role::Resident, "resident", "住户"),
];

/// The column a header names, in either language (case and surrounding spaces ignored).
pub fn column(header: &str) -> Option<Column> {
    let h = header.trim().trim_start_matches('\u{feff}').to_lowercase();
    COLUMNS
        .iter()
        .find(|(_, en, zh, _)| h == *en || h == *zh)
        .map(|c| c.0)
}

/// The role a word names, in either language; an empty cell is a plain resident.
pub fn role(word: &str) -> Option<Role> {
    let w = word.trim().to_lowercase();
    if w.is_empty() {
        return Some(Role::Resident);
    }
    ROLES
        .iter()
        .find(|(_, en, zh)| w == *en || w == *zh)
        .map(|r| r.0)
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
    let c = COLUMNS
        .iter()
        .find(|c| c.0 == column)
        .expect("every column is listed");
    if chinese { c.2 } else { c.1 }
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
        assert_eq!(role("landlord"), None);
        for (r, en, zh) in ROLES {
            assert_eq!(role(role_word(r, true)), Some(r), "{zh}");
            assert_eq!(role(role_word(r, false)), Some(r), "{en}");
        }
    }
}
