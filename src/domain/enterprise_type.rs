//! The five types of enterprise and the prefix each name must start with (Law on Enterprises
//! art. 37–38: a name is the type of enterprise followed by the proper name, tên riêng).

use serde::{Deserialize, Serialize};

use super::text;

/// Loại hình doanh nghiệp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EnterpriseType {
    /// Công ty TNHH một thành viên.
    LlcSingle,
    /// Công ty TNHH hai thành viên trở lên (2–50 members).
    LlcMulti,
    /// Công ty cổ phần (at least 3 founding shareholders).
    Jsc,
    /// Công ty hợp danh (at least 2 general partners).
    Partnership,
    /// Doanh nghiệp tư nhân (one individual owner).
    PrivateEnterprise,
}

/// Prefixes per type, longest first so that the longest match wins.
const LLC_PREFIXES: &[&str] = &["công ty trách nhiệm hữu hạn", "công ty tnhh"];
const SINGLE_MEMBER_WORDS: &[&str] = &["một thành viên", "mtv"];
const JSC_PREFIXES: &[&str] = &["công ty cổ phần", "công ty cp"];
const PARTNERSHIP_PREFIXES: &[&str] = &["công ty hợp danh", "công ty hd"];
const PRIVATE_PREFIXES: &[&str] = &["doanh nghiệp tư nhân", "doanh nghiệp tn", "dntn"];

impl EnterpriseType {
    pub const ALL: [EnterpriseType; 5] = [
        EnterpriseType::LlcSingle,
        EnterpriseType::LlcMulti,
        EnterpriseType::Jsc,
        EnterpriseType::Partnership,
        EnterpriseType::PrivateEnterprise,
    ];

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == value)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EnterpriseType::LlcSingle => "llc_single",
            EnterpriseType::LlcMulti => "llc_multi",
            EnterpriseType::Jsc => "jsc",
            EnterpriseType::Partnership => "partnership",
            EnterpriseType::PrivateEnterprise => "private_enterprise",
        }
    }

    /// The prefixes a name of this type may start with, as shown to users.
    pub fn prefixes_described(self) -> &'static str {
        match self {
            EnterpriseType::LlcSingle => {
                "\"Công ty trách nhiệm hữu hạn\" or \"Công ty TNHH\" (\"một thành viên\"/\"MTV\" may follow)"
            }
            EnterpriseType::LlcMulti => "\"Công ty trách nhiệm hữu hạn\" or \"Công ty TNHH\"",
            EnterpriseType::Jsc => "\"Công ty cổ phần\" or \"Công ty CP\"",
            EnterpriseType::Partnership => "\"Công ty hợp danh\" or \"Công ty HD\"",
            EnterpriseType::PrivateEnterprise => "\"Doanh nghiệp tư nhân\", \"DNTN\" or \"Doanh nghiệp TN\"",
        }
    }

    fn prefixes(self) -> &'static [&'static str] {
        match self {
            EnterpriseType::LlcSingle | EnterpriseType::LlcMulti => LLC_PREFIXES,
            EnterpriseType::Jsc => JSC_PREFIXES,
            EnterpriseType::Partnership => PARTNERSHIP_PREFIXES,
            EnterpriseType::PrivateEnterprise => PRIVATE_PREFIXES,
        }
    }

    /// Whether owners are members with capital shares (LLC, JSC) rather than a single owner or
    /// general partners.
    pub fn has_legal_representative_requirement(self) -> bool {
        matches!(self, EnterpriseType::LlcSingle | EnterpriseType::LlcMulti | EnterpriseType::Jsc)
    }
}

/// Why a name does not fit its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameError {
    /// The name does not start with the type's prefix (art. 38.1(a)).
    MissingPrefix,
    /// Nothing follows the prefix: the proper name is empty (art. 38.1(b)).
    EmptyProperName,
    /// `một thành viên` in the name of a company with several members.
    SingleMemberWordForMulti,
}

/// Splits a normalised Vietnamese name into its type prefix and proper name (tên riêng).
/// Returns the proper name as written (case kept).
pub fn proper_name(kind: EnterpriseType, name: &str) -> Result<String, NameError> {
    let name = text::normalize(name);
    let lower = name.to_lowercase();
    let after_prefix =
        kind.prefixes().iter().find_map(|p| strip_word_prefix(&lower, p)).ok_or(NameError::MissingPrefix)?;
    let mut rest = after_prefix.trim_start();
    if matches!(kind, EnterpriseType::LlcSingle | EnterpriseType::LlcMulti) {
        if let Some(r) = SINGLE_MEMBER_WORDS.iter().find_map(|w| strip_word_prefix(rest, w)) {
            if kind == EnterpriseType::LlcMulti {
                return Err(NameError::SingleMemberWordForMulti);
            }
            rest = r;
        }
    }
    let rest = rest.trim_start();
    if rest.is_empty() {
        return Err(NameError::EmptyProperName);
    }
    // Lower-casing keeps byte offsets only for characters whose lower case has the same length;
    // count characters instead to cut the original.
    let skip = lower.chars().count() - rest.chars().count();
    Ok(name.chars().skip(skip).collect())
}

/// `text` without `word` at its start, when `word` is followed by a space or the end.
fn strip_word_prefix<'a>(text: &'a str, word: &str) -> Option<&'a str> {
    let rest = text.strip_prefix(word)?;
    if rest.is_empty() || rest.starts_with(' ') {
        Some(rest)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use EnterpriseType::*;

    #[test]
    fn the_prefixes_of_each_type() {
        let cases = [
            (LlcMulti, "Công ty TNHH Vận tải Hoàng Long Phát", "Vận tải Hoàng Long Phát"),
            (LlcMulti, "Công ty trách nhiệm hữu hạn An Bình", "An Bình"),
            (LlcSingle, "Công ty TNHH MTV Minh Phát", "Minh Phát"),
            (LlcSingle, "CÔNG TY TNHH MỘT THÀNH VIÊN SAO VIỆT", "SAO VIỆT"),
            (LlcSingle, "Công ty TNHH Sao Việt", "Sao Việt"),
            (Jsc, "Công ty cổ phần Sữa Việt Nam", "Sữa Việt Nam"),
            (Jsc, "Công ty CP Thành Đạt", "Thành Đạt"),
            (Partnership, "Công ty hợp danh Luật Việt", "Luật Việt"),
            (Partnership, "Công ty HD Luật Việt", "Luật Việt"),
            (PrivateEnterprise, "Doanh nghiệp tư nhân Phú Quý", "Phú Quý"),
            (PrivateEnterprise, "DNTN Phú Quý", "Phú Quý"),
            (PrivateEnterprise, "Doanh nghiệp TN Phú Quý", "Phú Quý"),
        ];
        for (kind, name, proper) in cases {
            assert_eq!(proper_name(kind, name).as_deref(), Ok(proper), "{name}");
        }
    }

    #[test]
    fn nfd_and_stray_spaces_are_accepted() {
        let nfd = "  Co\u{0302}ng ty   TNHH  Hoa\u{0300}ng Long ";
        assert_eq!(proper_name(LlcMulti, nfd).as_deref(), Ok("Hoàng Long"));
    }

    #[test]
    fn refused_names() {
        assert_eq!(proper_name(Jsc, "Công ty TNHH ABC"), Err(NameError::MissingPrefix));
        assert_eq!(proper_name(LlcMulti, "Công ty TNHHABC"), Err(NameError::MissingPrefix));
        assert_eq!(proper_name(LlcMulti, "Hoàng Long"), Err(NameError::MissingPrefix));
        assert_eq!(proper_name(LlcMulti, "Công ty TNHH"), Err(NameError::EmptyProperName));
        assert_eq!(proper_name(LlcSingle, "Công ty TNHH MTV "), Err(NameError::EmptyProperName));
        assert_eq!(proper_name(LlcMulti, "Công ty TNHH MTV ABC"), Err(NameError::SingleMemberWordForMulti));
        assert_eq!(proper_name(PrivateEnterprise, "Công ty ABC"), Err(NameError::MissingPrefix));
    }

    #[test]
    fn type_values() {
        for t in EnterpriseType::ALL {
            assert_eq!(EnterpriseType::parse(t.as_str()), Some(t));
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
        assert_eq!(EnterpriseType::parse("llc"), None);
    }
}
