//! Where head offices and units are placed: the 2025 wards grouped by province, provinces drawn by
//! their number of enterprises, and the legacy wards of before the 2025 reform.

use rand_chacha::ChaCha8Rng;

use registry_domain::reference::Reference;

use crate::registration::Ward;
use crate::sampling::{pick, Weighted};

/// The 2025 wards, grouped by province.
pub(crate) struct Places {
    wards: Vec<Ward>,
    /// Province codes in order of first appearance among the wards (deterministic for an input).
    pub(crate) provinces: Vec<String>,
    /// Per province (as `provinces`): indices into `wards`.
    province_wards: Vec<Vec<usize>>,
    province_sampler: Weighted,
}

impl Places {
    pub(crate) fn new(wards: Vec<Ward>) -> Places {
        let mut provinces: Vec<String> = Vec::new();
        let mut province_wards: Vec<Vec<usize>> = Vec::new();
        for (i, w) in wards.iter().enumerate() {
            match provinces.iter().position(|p| *p == w.province_code) {
                Some(p) => province_wards[p].push(i),
                None => {
                    provinces.push(w.province_code.clone());
                    province_wards.push(vec![i]);
                }
            }
        }
        let province_sampler = Weighted::new(provinces.iter().map(|p| u64::from(province_weight(p))));
        Places { wards, provinces, province_wards, province_sampler }
    }

    /// A province (an index into `provinces`) drawn by its weight.
    pub(crate) fn draw_province(&self, rng: &mut ChaCha8Rng) -> usize {
        self.province_sampler.sample(rng)
    }

    /// A ward of the province `p`, every ward alike.
    pub(crate) fn draw_ward(&self, rng: &mut ChaCha8Rng, p: usize) -> &Ward {
        &self.wards[*pick(rng, &self.province_wards[p])]
    }

    /// The index of the province `code` in `provinces`.
    pub(crate) fn province_index(&self, code: &str) -> Option<usize> {
        self.provinces.iter().position(|c| c == code)
    }
}

/// Weight of a 2025 province (by economic size / number of enterprises).
fn province_weight(code: &str) -> u32 {
    match code {
        "79" => 3000,
        "01" => 2000,
        "31" => 400,
        "75" => 350,
        "48" => 300,
        "24" => 280,
        "22" | "92" | "38" | "37" | "25" | "80" => 150,
        "56" | "40" | "33" | "68" => 140,
        "52" => 120,
        "66" | "19" | "86" | "91" | "82" => 100,
        "51" => 80,
        "46" => 70,
        "44" => 60,
        "42" | "15" | "96" => 50,
        "08" => 40,
        "20" | "14" => 30,
        "04" | "11" | "12" => 20,
        _ => 30,
    }
}

/// A legacy ward (province, ward) and the 2025 ward it became.
#[derive(Debug, Clone)]
pub(crate) struct LegacyPlace {
    pub(crate) province: String,
    pub(crate) ward: String,
    pub(crate) ward_2025: String,
}

/// Per 2025 province of `places`: the legacy wards that lie in it (those whose 2025 ward the
/// reference resolves), in code order.
pub(crate) fn legacy_places(reference: &Reference, places: &Places) -> Vec<Vec<LegacyPlace>> {
    let mut found: Vec<(String, LegacyPlace)> = reference
        .legacy_wards()
        .filter_map(|w| {
            let m = reference.legacy_to_2025(&w.province_code, &w.ward_code)?;
            reference.resolve(&m.province_code, &m.ward_code).ok()?;
            Some((
                m.province_code.clone(),
                LegacyPlace {
                    province: w.province_code.clone(),
                    ward: w.ward_code.clone(),
                    ward_2025: m.ward_code.clone(),
                },
            ))
        })
        .collect();
    // The reference keeps legacy wards in a hash map: sort for a deterministic order.
    found.sort_by(|a, b| (&a.1.province, &a.1.ward).cmp(&(&b.1.province, &b.1.ward)));
    let mut per_province = vec![Vec::new(); places.provinces.len()];
    for (province, place) in found {
        if let Some(p) = places.province_index(&province) {
            per_province[p].push(place);
        }
    }
    per_province
}
