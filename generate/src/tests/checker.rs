//! Checks generated bodies against the rules the service validates, and the generator's own
//! stronger uniqueness.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use registry_domain::enterprise_type::{self, EnterpriseType};
use registry_domain::text;
use EnterpriseType::*;

use crate::registration::GeneratorInput;
use crate::words::{nfc, BIRTH_PROVINCES, TRADES};

/// Whether `s` is in NFC.
pub(super) fn is_nfc(s: &str) -> bool {
    text::nfc(s) == s
}

/// Lower case, without tones and diacritics.
pub(super) fn fold_key(s: &str) -> String {
    text::strip_diacritics(s).to_lowercase()
}

/// The proper name (after the type's prefix and `MTV`/`một thành viên`) by the domain's rule,
/// lower case.
fn proper_name(kind: EnterpriseType, vi: &str) -> String {
    enterprise_type::proper_name(kind, vi)
        .unwrap_or_else(|e| panic!("{vi:?} does not fit its type {}: {e:?}", kind.as_str()))
        .to_lowercase()
}

/// Strips leading trade words; returns (trade words, distinctive syllables), lower case.
fn split_trades(proper: &str) -> (Vec<String>, Vec<String>) {
    let trades: Vec<String> = TRADES.iter().map(|t| nfc(t.0).to_lowercase()).collect();
    let mut tokens: Vec<&str> = proper.split(' ').collect();
    let mut found = Vec::new();
    'outer: loop {
        for t in &trades {
            let words: Vec<&str> = t.split(' ').collect();
            if tokens.len() > words.len() && tokens[..words.len()] == words[..] {
                found.push(t.clone());
                tokens.drain(..words.len());
                continue 'outer;
            }
        }
        break;
    }
    (found, tokens.into_iter().map(String::from).collect())
}

/// The legal-test core: folded, `tân`/`mới` dropped, no spaces.
fn core_key(syllables: &[String]) -> String {
    syllables.iter().map(|s| fold_key(s)).filter(|s| s != "tan" && s != "moi").collect::<Vec<_>>().concat()
}

fn all_strings_nfc(v: &Value) -> bool {
    match v {
        Value::String(s) => is_nfc(s),
        Value::Array(a) => a.iter().all(all_strings_nfc),
        Value::Object(o) => o.iter().all(|(k, v)| is_nfc(k) && all_strings_nfc(v)),
        _ => true,
    }
}

pub(super) fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("missing string {key} in {v}"))
}

fn check_cccd(number: &str, birth: &str, full_name: &str) {
    assert_eq!(number.len(), 12, "{number}");
    assert!(number.bytes().all(|b| b.is_ascii_digit()), "{number}");
    let prov: u32 = number[..3].parse().unwrap();
    assert!((1..=96).contains(&prov), "{number}");
    assert!(BIRTH_PROVINCES.contains(&(prov as u16)), "{number}");
    let g: u32 = number[3..4].parse().unwrap();
    let year: u32 = birth[..4].parse().unwrap();
    assert!((1950..=2004).contains(&year), "{birth}");
    assert_eq!(g / 2, if year >= 2000 { 1 } else { 0 }, "{number} {birth}");
    assert_eq!(&number[4..6], &birth[2..4], "{number} {birth}");
    let female = g % 2 == 1;
    let words: Vec<&str> = full_name.split(' ').collect();
    assert!(words.len() >= 3, "{full_name}");
    let middles = &words[1..words.len() - 1];
    if middles.contains(&"Văn") {
        assert!(!female, "{full_name} {number}");
    }
    if middles.contains(&"Thị") {
        assert!(female, "{full_name} {number}");
    }
}

pub(super) struct Checker {
    vsic: HashSet<String>,
    ward_province: HashMap<String, String>,
    org_codes: Vec<String>,
    identities: HashSet<String>,
    cores: HashSet<String>,
    propers: HashSet<String>,
    en: HashSet<String>,
    abbr: HashSet<String>,
}

impl Checker {
    pub(super) fn new(input: &GeneratorInput) -> Checker {
        Checker {
            vsic: input.vsic4.iter().cloned().collect(),
            ward_province: input.wards.iter().map(|w| (w.ward_code.clone(), w.province_code.clone())).collect(),
            org_codes: input.organisation_owner_codes.clone(),
            identities: HashSet::new(),
            cores: HashSet::new(),
            propers: HashSet::new(),
            en: HashSet::new(),
            abbr: HashSet::new(),
        }
    }

    pub(super) fn check(&mut self, b: &Value) {
        assert!(all_strings_nfc(b), "not NFC: {b}");
        let obj = b.as_object().unwrap();
        let allowed =
            ["type", "name", "head_office", "charter_capital_vnd", "business_lines", "legal_representatives", "owners"];
        assert_eq!(obj.len(), allowed.len());
        assert!(obj.keys().all(|k| allowed.contains(&k.as_str())));
        let kind = EnterpriseType::parse(str_of(b, "type")).expect("a known type");
        self.check_name(kind, &b["name"]);
        self.check_head_office(&b["head_office"]);
        let capital = self.check_capital_and_lines(b);
        let (reps, owners) = (b["legal_representatives"].as_array().unwrap(), b["owners"].as_array().unwrap());
        let mut body_ids = check_representatives(kind, reps);
        let owner_ids = self.check_owners(owners, capital, &mut body_ids);
        check_type_rules(kind, reps, owners, &owner_ids);
        // Identities unique across the run (one person per number).
        for number in body_ids.keys() {
            assert!(self.identities.insert(number.clone()), "identity {number} used by two enterprises");
        }
    }

    /// The Vietnamese name fits the type; its proper-name core, its English name and its
    /// abbreviation were not generated before.
    fn check_name(&mut self, kind: EnterpriseType, name: &Value) {
        let vi = str_of(name, "vi");
        let proper = proper_name(kind, vi);
        let (trades, syl) = split_trades(&proper);
        assert!(trades.len() <= 2, "{vi}");
        assert!((2..=12).contains(&syl.len()), "{vi}");
        let core = core_key(&syl);
        assert!(self.cores.insert(core.clone()), "proper-name core {core:?} repeats ({vi})");
        assert!(self.propers.insert(fold_key(&proper)), "proper name repeats ({vi})");
        let name_obj = name.as_object().unwrap();
        assert!(name_obj.keys().all(|k| ["vi", "en", "abbreviation"].contains(&k.as_str())));
        if let Some(en) = name.get("en") {
            let en = en.as_str().unwrap();
            assert!(en.is_ascii(), "{en}");
            let suffix = match kind {
                LlcSingle | LlcMulti => "Company Limited",
                Jsc => "Joint Stock Company",
                Partnership => "Partnership",
                PrivateEnterprise => "Private Enterprise",
            };
            assert!(en.ends_with(suffix), "{en}");
            assert!(self.en.insert(en.to_lowercase()), "English name repeats: {en}");
        }
        if let Some(a) = name.get("abbreviation") {
            let a = a.as_str().unwrap();
            assert!(a.is_ascii() && a == a.to_uppercase(), "{a}");
            assert!(self.abbr.insert(a.to_lowercase()), "abbreviation repeats: {a}");
        }
    }

    fn check_head_office(&self, ho: &Value) {
        let ward = str_of(ho, "ward_code");
        let province = str_of(ho, "province_code");
        assert_eq!(self.ward_province.get(ward).map(String::as_str), Some(province), "{ho}");
        assert!(!str_of(ho, "street").is_empty());
        if let Some(phone) = ho.get("phone") {
            let digits: String = phone.as_str().unwrap().chars().filter(|c| *c != ' ').collect();
            assert!(digits.len() == 10 && digits.starts_with('0'), "{phone}");
            assert!(digits.bytes().all(|c| c.is_ascii_digit()), "{phone}");
        }
        if let Some(email) = ho.get("email") {
            let email = email.as_str().unwrap();
            assert!(email.is_ascii() && email.contains('@'), "{email}");
            assert!(email.ends_with(".vn"), "{email}");
        }
    }

    /// The charter capital (returned) is whole millions within bounds; one to six distinct
    /// known lines, exactly one main.
    fn check_capital_and_lines(&self, b: &Value) -> u64 {
        let capital = b["charter_capital_vnd"].as_u64().expect("integer capital");
        assert!((100_000_000..=100_000_000_000).contains(&capital), "{capital}");
        assert_eq!(capital % 1_000_000, 0);
        let lines = b["business_lines"].as_array().unwrap();
        assert!((1..=6).contains(&lines.len()));
        assert_eq!(lines.iter().filter(|l| l["main"] == Value::Bool(true)).count(), 1);
        let codes: HashSet<&str> = lines.iter().map(|l| str_of(l, "vsic")).collect();
        assert_eq!(codes.len(), lines.len(), "duplicate line");
        assert!(codes.iter().all(|c| self.vsic.contains(*c)));
        capital
    }

    /// Owners' capitals sum to `capital`; individuals are listed once, with the name they have
    /// as a representative (`body_ids`: identity number to name, completed here); organisations
    /// are known codes, each once. Returns the owners' identity numbers.
    fn check_owners(&self, owners: &[Value], capital: u64, body_ids: &mut HashMap<String, String>) -> HashSet<String> {
        let mut sum = 0u64;
        let mut owner_ids = HashSet::new();
        let mut org_seen = HashSet::new();
        for o in owners {
            let cap = o["capital_vnd"].as_u64().expect("integer owner capital");
            assert!(cap > 0);
            sum += cap;
            match str_of(o, "kind") {
                "individual" => {
                    let id = &o["identity"];
                    let number = str_of(id, "number").to_string();
                    match str_of(id, "kind") {
                        "cccd" => assert_eq!(str_of(o, "nationality"), "VN"),
                        "passport" => {
                            assert_ne!(str_of(o, "nationality"), "VN");
                            assert_eq!(number.len(), 8);
                        }
                        other => panic!("identity kind {other}"),
                    }
                    assert!(owner_ids.insert(number.clone()), "owner listed twice");
                    match body_ids.get(&number) {
                        // also a representative: same name
                        Some(name) => assert_eq!(name, str_of(o, "name")),
                        None => {
                            body_ids.insert(number, str_of(o, "name").to_string());
                        }
                    }
                }
                "organisation" => {
                    let code = str_of(o, "enterprise_code");
                    assert!(self.org_codes.iter().any(|c| c == code));
                    assert!(org_seen.insert(code.to_string()));
                    assert!(!str_of(o, "name").is_empty());
                }
                other => panic!("owner kind {other}"),
            }
        }
        assert_eq!(sum, capital, "owner capitals must sum to the charter capital");
        owner_ids
    }
}

/// One or two Vietnamese representatives with consistent CCCDs, in positions the type has, no
/// two with one identity. Returns their identity numbers with their names.
fn check_representatives(kind: EnterpriseType, reps: &[Value]) -> HashMap<String, String> {
    assert!((1..=2).contains(&reps.len()));
    let mut body_ids: HashMap<String, String> = HashMap::new();
    for r in reps {
        let id = &r["identity"];
        assert_eq!(str_of(id, "kind"), "cccd");
        assert_eq!(str_of(r, "nationality"), "VN");
        let number = str_of(id, "number");
        check_cccd(number, str_of(r, "birth_date"), str_of(r, "full_name"));
        let pos = str_of(r, "position");
        let ok: &[&str] = match kind {
            PrivateEnterprise => &["Chủ doanh nghiệp"],
            Partnership => &["Thành viên hợp danh"],
            LlcSingle => &["Giám đốc", "Tổng Giám đốc"],
            LlcMulti => &["Giám đốc", "Tổng Giám đốc", "Chủ tịch Hội đồng thành viên"],
            Jsc => &["Giám đốc", "Tổng Giám đốc", "Chủ tịch Hội đồng quản trị"],
        };
        assert!(ok.contains(&pos), "{kind:?}: {pos}");
        let prev = body_ids.insert(number.to_string(), str_of(r, "full_name").to_string());
        assert!(prev.is_none(), "two representatives share an identity");
    }
    body_ids
}

/// The owners and representatives each type has: one owner of a single-member LLC, 2 to 50
/// members (the chair among them), at least 3 shareholders, at least 2 general partners who
/// alone represent the partnership, one owner who represents a private enterprise.
fn check_type_rules(kind: EnterpriseType, reps: &[Value], owners: &[Value], owner_ids: &HashSet<String>) {
    let rep_ids: Vec<&str> = reps.iter().map(|r| str_of(&r["identity"], "number")).collect();
    let individuals = owners.iter().filter(|o| o["kind"] == "individual").count();
    match kind {
        LlcSingle => assert_eq!(owners.len(), 1),
        LlcMulti => {
            assert!((2..=50).contains(&owners.len()));
            for r in reps {
                if str_of(r, "position") == "Chủ tịch Hội đồng thành viên" {
                    assert!(owner_ids.contains(str_of(&r["identity"], "number")));
                }
            }
        }
        Jsc => assert!(owners.len() >= 3),
        Partnership => {
            assert!(owners.len() >= 2 && individuals == owners.len());
            assert!(rep_ids.iter().all(|id| owner_ids.contains(*id)));
        }
        PrivateEnterprise => {
            assert_eq!(owners.len(), 1);
            assert_eq!(individuals, 1);
            assert_eq!(reps.len(), 1);
            assert_eq!(str_of(&owners[0]["identity"], "number"), rep_ids[0]);
            assert_eq!(str_of(&owners[0], "name"), str_of(&reps[0], "full_name"));
        }
    }
}
