//! Reference data: the 2025 administrative units (34 provinces, 3,321 communes, Resolution
//! 202/2025/QH15), the legacy units in force before 1 July 2025 with the legacy-to-2025 map, and
//! the VSIC editions of Decision 27/2018 and Decision 36/2025. Parsed from CSV text; the caller
//! decides where the text comes from (the binary embeds the project's `data/`).

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

/// A province or centrally governed city (tỉnh, thành phố trực thuộc trung ương), 2025 units.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Province {
    pub code: String,
    pub name: String,
    pub ward_count: usize,
}

/// A commune-level unit (xã, phường, đặc khu), 2025 units.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Ward {
    pub code: String,
    pub name: String,
    /// `Phường`, `Xã` or `Đặc khu`.
    pub kind: String,
    pub province_code: String,
}

/// A ward as it was before 1 July 2025 (63 provinces, with districts).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LegacyWard {
    pub province_code: String,
    pub province_name: String,
    pub district_code: String,
    pub district_name: String,
    pub ward_code: String,
    pub ward_name: String,
}

/// An edition of the Vietnam Standard Industrial Classification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
pub enum VsicEdition {
    /// Decision 27/2018/QĐ-TTg.
    #[serde(rename = "2018")]
    Vsic2018,
    /// Decision 36/2025/QĐ-TTg, in force from 15 November 2025.
    #[serde(rename = "2025")]
    Vsic2025,
}

impl VsicEdition {
    pub fn as_str(self) -> &'static str {
        match self {
            VsicEdition::Vsic2018 => "2018",
            VsicEdition::Vsic2025 => "2025",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "2018" => Some(VsicEdition::Vsic2018),
            "2025" => Some(VsicEdition::Vsic2025),
            _ => None,
        }
    }
}

/// One entry of a VSIC edition.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VsicEntry {
    pub code: String,
    pub level: u8,
    pub name: String,
    pub parent_code: Option<String>,
    pub edition: VsicEdition,
}

/// Where a legacy ward lies in the 2025 units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyMapping {
    pub province_code: String,
    pub ward_code: String,
    /// The legacy ward was split across several 2025 wards; this is the default one.
    pub ambiguous: bool,
}

/// The whole reference catalogue, read-only once built.
#[derive(Debug, Default)]
pub struct Reference {
    provinces: BTreeMap<String, Province>,
    wards: HashMap<String, Ward>,
    wards_by_province: BTreeMap<String, Vec<String>>,
    legacy_wards: HashMap<(String, String), LegacyWard>,
    legacy_map: HashMap<(String, String), LegacyMapping>,
    vsic: HashMap<(VsicEdition, String), VsicEntry>,
    vsic_order: Vec<(VsicEdition, String)>,
}

/// Why an address does not resolve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressError {
    UnknownProvince,
    UnknownWard,
    WardNotInProvince,
}

impl AddressError {
    pub fn code(self) -> &'static str {
        match self {
            AddressError::UnknownProvince => "unknown_province",
            AddressError::UnknownWard => "unknown_ward",
            AddressError::WardNotInProvince => "ward_not_in_province",
        }
    }
}

/// The CSV texts the catalogue is built from.
pub struct ReferenceSources<'a> {
    pub units_2025: &'a str,
    pub units_legacy: &'a str,
    pub legacy_to_2025: &'a str,
    pub vsic_2018: &'a str,
    pub vsic_2025: &'a str,
}

#[derive(Debug, thiserror::Error)]
#[error("reference data {file}: {message}")]
pub struct ReferenceError {
    pub file: &'static str,
    pub message: String,
}

fn records(file: &'static str, text: &str) -> Result<Vec<HashMap<String, String>>, ReferenceError> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| ReferenceError { file, message: e.to_string() })?.clone();
    let mut out = Vec::new();
    for row in reader.records() {
        let row = row.map_err(|e| ReferenceError { file, message: e.to_string() })?;
        out.push(headers.iter().zip(row.iter()).map(|(h, v)| (h.to_string(), v.to_string())).collect());
    }
    Ok(out)
}

fn field(file: &'static str, row: &HashMap<String, String>, name: &str) -> Result<String, ReferenceError> {
    row.get(name).cloned().ok_or_else(|| ReferenceError { file, message: format!("missing column {name}") })
}

impl Reference {
    pub fn parse(src: &ReferenceSources) -> Result<Self, ReferenceError> {
        let mut r = Reference::default();
        const U: &str = "admin_units_2025.csv";
        for row in records(U, src.units_2025)? {
            let province_code = field(U, &row, "province_code")?;
            let ward = Ward {
                code: field(U, &row, "ward_code")?,
                name: field(U, &row, "ward_name")?,
                kind: field(U, &row, "ward_type")?,
                province_code: province_code.clone(),
            };
            let province = r.provinces.entry(province_code.clone()).or_insert_with(|| Province {
                code: province_code.clone(),
                name: row.get("province_name").cloned().unwrap_or_default(),
                ward_count: 0,
            });
            province.ward_count += 1;
            r.wards_by_province.entry(province_code).or_default().push(ward.code.clone());
            r.wards.insert(ward.code.clone(), ward);
        }
        const L: &str = "admin_units_legacy.csv";
        for row in records(L, src.units_legacy)? {
            let w = LegacyWard {
                province_code: field(L, &row, "province_code")?,
                province_name: field(L, &row, "province_name")?,
                district_code: field(L, &row, "district_code")?,
                district_name: field(L, &row, "district_name")?,
                ward_code: field(L, &row, "ward_code")?,
                ward_name: field(L, &row, "ward_name")?,
            };
            r.legacy_wards.insert((w.province_code.clone(), w.ward_code.clone()), w);
        }
        const M: &str = "admin_units_legacy_to_2025.csv";
        let mut split_count: HashMap<(String, String), usize> = HashMap::new();
        let mut defaults: HashMap<(String, String), (String, String)> = HashMap::new();
        for row in records(M, src.legacy_to_2025)? {
            let key = (field(M, &row, "legacy_province_code")?, field(M, &row, "legacy_ward_code")?);
            *split_count.entry(key.clone()).or_default() += 1;
            if field(M, &row, "is_default")? == "1" {
                defaults.insert(key, (field(M, &row, "province_code")?, field(M, &row, "ward_code")?));
            }
        }
        for (key, (province_code, ward_code)) in defaults {
            let ambiguous = split_count.get(&key).copied().unwrap_or(1) > 1;
            r.legacy_map.insert(key, LegacyMapping { province_code, ward_code, ambiguous });
        }
        for (file, text, edition) in [
            ("vsic_2018.csv", src.vsic_2018, VsicEdition::Vsic2018),
            ("vsic_2025.csv", src.vsic_2025, VsicEdition::Vsic2025),
        ] {
            for row in records(file, text)? {
                let code = field(file, &row, "code")?;
                let level: u8 = field(file, &row, "level")?
                    .parse()
                    .map_err(|_| ReferenceError { file, message: format!("bad level for {code}") })?;
                let parent = field(file, &row, "parent_code")?;
                r.vsic_order.push((edition, code.clone()));
                r.vsic.insert(
                    (edition, code.clone()),
                    VsicEntry {
                        code,
                        level,
                        name: field(file, &row, "name")?,
                        parent_code: (!parent.is_empty()).then_some(parent),
                        edition,
                    },
                );
            }
        }
        Ok(r)
    }

    pub fn provinces(&self) -> impl Iterator<Item = &Province> {
        self.provinces.values()
    }

    pub fn province(&self, code: &str) -> Option<&Province> {
        self.provinces.get(code)
    }

    pub fn ward(&self, code: &str) -> Option<&Ward> {
        self.wards.get(code)
    }

    /// The wards of a province, in code order.
    pub fn wards_of(&self, province_code: &str) -> Option<impl Iterator<Item = &Ward>> {
        self.wards_by_province.get(province_code).map(|codes| codes.iter().filter_map(|c| self.wards.get(c)))
    }

    /// Every 2025 ward.
    pub fn all_wards(&self) -> impl Iterator<Item = &Ward> {
        self.wards_by_province.values().flatten().filter_map(|c| self.wards.get(c))
    }

    /// Resolves a 2025 address: the province exists and the ward belongs to it.
    pub fn resolve(&self, province_code: &str, ward_code: &str) -> Result<(&Province, &Ward), AddressError> {
        let province = self.provinces.get(province_code).ok_or(AddressError::UnknownProvince)?;
        let ward = self.wards.get(ward_code).ok_or(AddressError::UnknownWard)?;
        if ward.province_code != province.code {
            return Err(AddressError::WardNotInProvince);
        }
        Ok((province, ward))
    }

    pub fn legacy_ward(&self, province_code: &str, ward_code: &str) -> Option<&LegacyWard> {
        self.legacy_wards.get(&(province_code.to_string(), ward_code.to_string()))
    }

    /// Every legacy ward, in no particular order.
    pub fn legacy_wards(&self) -> impl Iterator<Item = &LegacyWard> {
        self.legacy_wards.values()
    }

    /// The 2025 ward a legacy ward became (its default one when it was split).
    pub fn legacy_to_2025(&self, province_code: &str, ward_code: &str) -> Option<&LegacyMapping> {
        self.legacy_map.get(&(province_code.to_string(), ward_code.to_string()))
    }

    pub fn vsic(&self, edition: VsicEdition, code: &str) -> Option<&VsicEntry> {
        self.vsic.get(&(edition, code.to_string()))
    }

    /// The entries of an edition in the order of the decision.
    pub fn vsic_entries(&self, edition: VsicEdition) -> impl Iterator<Item = &VsicEntry> {
        self.vsic_order.iter().filter(move |(e, _)| *e == edition).filter_map(|k| self.vsic.get(k))
    }
}

/// VSIC level-4 codes of road transport, the same in both editions (SPEC §2.4).
pub const ROAD_TRANSPORT_VSIC: [&str; 3] = ["4931", "4932", "4933"];

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn sample() -> Reference {
        Reference::parse(&crate::reference_data::SOURCES).unwrap()
    }

    #[test]
    fn the_published_counts() {
        let r = sample();
        assert_eq!(r.provinces().count(), 34);
        assert_eq!(r.all_wards().count(), 3321);
        assert_eq!(r.province("01").unwrap().ward_count, 126);
        assert_eq!(r.province("79").unwrap().ward_count, 168);
        assert_eq!(r.vsic_entries(VsicEdition::Vsic2025).filter(|e| e.level == 4).count(), 495);
        assert_eq!(r.vsic_entries(VsicEdition::Vsic2018).filter(|e| e.level == 4).count(), 464);
    }

    #[test]
    fn addresses_resolve_against_2025_units() {
        let r = sample();
        let (p, w) = r.resolve("01", "00070").unwrap();
        assert_eq!(p.name, "Thành phố Hà Nội");
        assert_eq!(w.name, "Phường Hoàn Kiếm");
        assert_eq!(r.resolve("79", "00070").unwrap_err(), AddressError::WardNotInProvince);
        assert_eq!(r.resolve("01", "99999").unwrap_err(), AddressError::UnknownWard);
        assert_eq!(r.resolve("02", "00070").unwrap_err(), AddressError::UnknownProvince);
        assert!(r.resolve("79", "26743").is_ok());
    }

    #[test]
    fn legacy_wards_map_to_2025() {
        let r = sample();
        let m = r.legacy_to_2025("01", "00001").unwrap();
        assert_eq!((m.province_code.as_str(), m.ward_code.as_str()), ("01", "00097"));
        assert!(r.legacy_ward("01", "00001").is_some());
        // Some legacy wards were split: they are flagged.
        assert!(r.legacy_map.values().any(|m| m.ambiguous));
        assert!(r.legacy_map.values().any(|m| !m.ambiguous));
    }

    #[test]
    fn road_transport_lines_exist_in_both_editions() {
        let r = sample();
        for code in ROAD_TRANSPORT_VSIC {
            assert!(r.vsic(VsicEdition::Vsic2018, code).is_some());
            assert!(r.vsic(VsicEdition::Vsic2025, code).is_some());
        }
        assert!(r.vsic(VsicEdition::Vsic2018, "6201").is_some());
        assert!(r.vsic(VsicEdition::Vsic2025, "6201").is_none());
        assert!(r.vsic(VsicEdition::Vsic2025, "6211").is_some());
    }
}
