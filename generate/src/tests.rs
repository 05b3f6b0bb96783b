//! The generator's tests: determinism, the rules every body meets (see [`checker`]), spread.

mod checker;

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;

use registry_domain::reference::{VsicEdition, ROAD_TRANSPORT_VSIC};
use registry_domain::reference_data;

use crate::registration::{Generator, GeneratorInput, Ward};
use crate::words::{nfc, SYLLABLES, TRADES};
use checker::{fold_key, is_nfc, str_of, Checker};

/// Every 2025 ward and level-4 VSIC 2025 code of the reference data the service ships.
fn real_input(org_codes: Vec<String>) -> GeneratorInput {
    let reference = reference_data::reference();
    let wards: Vec<Ward> = reference
        .all_wards()
        .map(|w| Ward { province_code: w.province_code.clone(), ward_code: w.code.clone() })
        .collect();
    let vsic4: Vec<String> =
        reference.vsic_entries(VsicEdition::Vsic2025).filter(|e| e.level == 4).map(|e| e.code.clone()).collect();
    assert_eq!(wards.len(), 3321);
    assert_eq!(vsic4.len(), 495);
    GeneratorInput { wards, vsic4, organisation_owner_codes: org_codes }
}

fn org_codes() -> Vec<String> {
    vec!["0100233488".into(), "0300588569".into(), "0101245486".into(), "0302263678".into()]
}

#[test]
fn same_seed_same_sequence_other_seed_differs() {
    let input = real_input(org_codes());
    let mut a = Generator::new(42, input.clone());
    let mut b = Generator::new(42, input.clone());
    let mut c = Generator::new(43, input);
    let mut differs = 0;
    for _ in 0..200 {
        let x = a.next_registration();
        assert_eq!(x, b.next_registration());
        if x != c.next_registration() {
            differs += 1;
        }
    }
    assert!(differs > 190, "different seeds should give different bodies");
}

#[test]
fn five_thousand_bodies_satisfy_the_rules() {
    let input = real_input(org_codes());
    let mut checker = Checker::new(&input);
    let mut g = Generator::new(7, input);
    let mut types: BTreeMap<String, usize> = BTreeMap::new();
    let (mut transport, mut transport_main, mut upper, mut en, mut abbr, mut orgs, mut passports) =
        (0, 0, 0, 0, 0, 0, 0);
    let n = 5000;
    for _ in 0..n {
        let b = g.next_registration();
        checker.check(&b);
        *types.entry(str_of(&b, "type").to_string()).or_default() += 1;
        let lines = b["business_lines"].as_array().unwrap();
        if let Some(l) = lines.iter().find(|l| ROAD_TRANSPORT_VSIC.contains(&str_of(l, "vsic"))) {
            transport += 1;
            if l["main"] == Value::Bool(true) {
                transport_main += 1;
            }
        }
        let vi = str_of(&b["name"], "vi");
        if vi == vi.to_uppercase() {
            upper += 1;
        }
        en += usize::from(b["name"].get("en").is_some());
        abbr += usize::from(b["name"].get("abbreviation").is_some());
        // bodies with at least one organisation / foreign owner
        let owners = b["owners"].as_array().unwrap();
        orgs += usize::from(owners.iter().any(|o| o["kind"] == "organisation"));
        passports += usize::from(owners.iter().any(|o| o["identity"]["kind"] == "passport"));
    }
    let share = |k: &str| *types.get(k).unwrap_or(&0) as f64 / n as f64;
    assert!((0.40..0.50).contains(&share("llc_single")), "{types:?}");
    assert!((0.16..0.24).contains(&share("llc_multi")), "{types:?}");
    assert!((0.18..0.26).contains(&share("jsc")), "{types:?}");
    assert!((0.07..0.13).contains(&share("private_enterprise")), "{types:?}");
    assert!((0.015..0.05).contains(&share("partnership")), "{types:?}");
    assert!((100..=300).contains(&transport), "transport {transport}");
    assert!(transport_main * 2 > transport, "transport mostly main");
    assert!((350..=650).contains(&upper), "upper {upper}");
    assert!((2600..=3400).contains(&en), "en {en}");
    assert!((2000..=3000).contains(&abbr), "abbr {abbr}");
    assert!((25..=300).contains(&orgs), "bodies with organisation owners: {orgs}");
    assert!((25..=300).contains(&passports), "bodies with foreign owners: {passports}");
}

#[test]
fn no_organisation_owners_without_codes() {
    let input = real_input(Vec::new());
    let mut checker = Checker::new(&input);
    let mut g = Generator::new(11, input);
    for _ in 0..2000 {
        let b = g.next_registration();
        checker.check(&b);
        assert!(b["owners"].as_array().unwrap().iter().all(|o| o["kind"] == "individual"));
    }
}

#[test]
fn spread_covers_all_provinces() {
    let input = real_input(Vec::new());
    let mut g = Generator::new(2025, input);
    let mut per: HashMap<String, usize> = HashMap::new();
    for _ in 0..20_000 {
        let b = g.next_registration();
        *per.entry(str_of(&b["head_office"], "province_code").to_string()).or_default() += 1;
    }
    assert_eq!(per.len(), 34, "{per:?}");
    let mut ranked: Vec<(&String, &usize)> = per.iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(a.1));
    assert_eq!(ranked[0].0, "79");
    assert_eq!(ranked[1].0, "01");
}

#[test]
fn names_stay_unique_when_the_syllable_space_gets_crowded() {
    // Tiny input, many bodies: two-syllable names run out and names grow.
    let input = GeneratorInput {
        wards: vec![Ward { province_code: "01".into(), ward_code: "00070".into() }],
        vsic4: vec!["4933".into(), "4620".into(), "4101".into()],
        organisation_owner_codes: Vec::new(),
    };
    let mut checker = Checker::new(&input);
    let mut g = Generator::new(1, input);
    for _ in 0..40_000 {
        checker.check(&g.next_registration());
    }
}

#[test]
fn capital_split_is_exact() {
    let mut g = Generator::new(3, real_input(Vec::new()));
    for (cap, n) in [(100_000_000u64, 50usize), (101_000_000, 7), (99_999_000_000, 3), (5_000_000_000, 2)] {
        let parts = g.split_capital(cap, n, true);
        assert_eq!(parts.len(), n);
        assert!(parts.iter().all(|&p| p > 0));
        assert_eq!(parts.iter().sum::<u64>(), cap);
    }
}

#[test]
fn vocabulary_is_clean() {
    let mut folded = HashSet::new();
    for s in SYLLABLES {
        assert!(is_nfc(s), "{s}");
        let f = fold_key(s);
        assert!(f.len() >= 2, "single-letter syllable {s}");
        assert!(!["moi", "mien", "va"].contains(&f.as_str()), "{s}");
        assert!(!f.chars().all(|c| "ivxlcdm".contains(c)), "roman numeral {s}");
        assert!(folded.insert(s.to_string()), "duplicate syllable {s}");
    }
    assert!(SYLLABLES.len() >= 150);
    // no trade phrase can be read as a run of name syllables
    let syl: HashSet<String> = SYLLABLES.iter().map(|s| nfc(s).to_lowercase()).collect();
    for (t, _, _) in TRADES {
        assert!(!nfc(t).to_lowercase().split(' ').all(|w| syl.contains(w)), "{t}");
    }
}

mod beneficial {
    //! Beneficial owners of generated records (SPEC §7): every declaration passes the import,
    //! the register's own walk of the ownership graph finds the chains and cross-holdings
    //! generated, and agrees with the declarations but for the few deliberate discrepancies.

    use std::collections::{BTreeMap, HashMap};

    use registry_domain::beneficial_owners::{computed, discrepancies, holdings, Basis, Discrepancy, Holding};
    use registry_domain::enterprise_type::EnterpriseType;
    use registry_domain::record::{Enterprise, OwnerKind};
    use registry_domain::reference_data;

    use crate::records::{default_as_of, RecordGenerator};

    /// `n` current records of seed `seed`, each resolved through the import's validation (which
    /// checks the declaration as a registration's).
    fn current(seed: u64, n: usize) -> Vec<Enterprise> {
        let reference = reference_data::reference();
        let mut g = RecordGenerator::new(seed, reference.clone(), 0, default_as_of());
        (0..n)
            .map(|_| {
                let versions =
                    crate::resolve(&g.next_enterprise(), &reference, g.as_of_time()).unwrap_or_else(|e| panic!("{e}"));
                versions.into_iter().last().unwrap()
            })
            .collect()
    }

    #[test]
    fn declarations_pass_the_import_and_agree_with_the_graph() {
        let n: usize = std::env::var("GENERATE_SAMPLE").ok().and_then(|s| s.parse().ok()).unwrap_or(6000);
        let all = current(42, n);
        let register: HashMap<&str, Vec<Holding>> =
            all.iter().map(|r| (r.code.as_str(), holdings(r.owners.as_deref().unwrap_or_default()))).collect();
        let mut c: BTreeMap<&str, usize> = BTreeMap::new();
        let mut count = |k: &'static str| *c.entry(k).or_default() += 1;
        for r in &all {
            let kind = r.enterprise_type;
            if kind == EnterpriseType::PrivateEnterprise {
                assert!(r.beneficial_owners.is_none() && r.exempt.is_none(), "{}", r.code);
                continue;
            }
            count("legal persons");
            let owners = r.owners.as_deref().unwrap_or_default();
            let total = r.charter_capital_vnd;
            let parent = owners.iter().find(|o| o.kind == OwnerKind::Organisation && o.share_percent >= 50.0);
            if parent.is_some_and(|p| register.contains_key(p.enterprise_code.as_deref().unwrap_or_default())) {
                count("held 50 % or more by a generated enterprise");
            }
            for o in owners.iter().filter(|o| o.kind == OwnerKind::Individual) {
                let bp = i128::from(o.capital_vnd) * 10_000 / i128::from(total);
                if i128::from(o.capital_vnd) * 10_000 == bp * i128::from(total) {
                    match bp {
                        2499 => count("individual at 24.99 %"),
                        2500 => count("individual at 25 %"),
                        2501 => count("individual at 25.01 %"),
                        _ => {}
                    }
                }
                if (o.share_percent - 33.3333).abs() < 1e-9 || (o.share_percent - 33.33).abs() < 1e-9 {
                    count("individual at 33.33 %");
                }
            }
            let graph = computed(&r.code, &|code: &str| register.get(code).cloned());
            let deepest = graph.individuals.iter().flat_map(|p| &p.chains).map(|ch| ch.links.len()).max().unwrap_or(0);
            if deepest >= 3 {
                count("chains of 2 or more enterprise levels");
            }
            if deepest >= 4 {
                count("chains of 3 or more enterprise levels");
            }
            if !graph.cycles.is_empty() {
                count("in a cross-holding");
            }
            let Some(declared) = &r.beneficial_owners else {
                if let Some(exempt) = r.exempt {
                    count(if exempt.as_str() == "listed" { "exempt: listed" } else { "exempt: state owned" });
                } else {
                    assert!(r.registered_on < "2025-07-01".parse().unwrap(), "{} must declare", r.code);
                    count("not declared (registered before the duty, unchanged)");
                }
                continue;
            };
            count("declared");
            assert!(r.updated_at.date_naive() >= "2025-06-30".parse().unwrap(), "{}", r.code);
            if declared.iter().any(|d| d.basis == [Basis::Control]) {
                count("with a control-only beneficial owner");
            }
            if declared.iter().any(|d| d.basis == [Basis::Ownership, Basis::Control]) {
                count("with an owner on both bases");
            }
            if deepest >= 2 {
                count("declared, with chains");
            }
            for found in discrepancies(&graph, declared) {
                match found {
                    Discrepancy::Undeclared { computed_percent, .. } => {
                        assert!(deepest >= 2, "{}: an undeclared holder without a chain", r.code);
                        assert!(computed_percent >= 25.0);
                        count("discrepancy: indirect holder undeclared");
                    }
                    Discrepancy::PercentDiffers { declared_percent, computed_percent, .. } => {
                        assert!(deepest >= 2, "{}: {declared_percent} / {computed_percent}", r.code);
                        assert!(
                            computed_percent - declared_percent >= 2.5,
                            "{}: {declared_percent} / {computed_percent}",
                            r.code
                        );
                        count("discrepancy: declared percent off");
                    }
                }
            }
        }
        println!("{n} records: {c:#?}");
        let get = |k: &str| c.get(k).copied().unwrap_or(0);
        let legal = get("legal persons") as f64;
        let declared = get("declared") as f64 + get("exempt: listed") as f64 + get("exempt: state owned") as f64;
        assert!((0.75..0.95).contains(&(declared / legal)), "{c:?}");
        for k in [
            "held 50 % or more by a generated enterprise",
            "chains of 2 or more enterprise levels",
            "chains of 3 or more enterprise levels",
            "in a cross-holding",
            "exempt: listed",
            "exempt: state owned",
            "individual at 24.99 %",
            "individual at 25 %",
            "individual at 25.01 %",
            "individual at 33.33 %",
            "with a control-only beneficial owner",
            "with an owner on both bases",
            "discrepancy: indirect holder undeclared",
        ] {
            assert!(get(k) > 0, "no {k}: {c:?}");
        }
        let chained = get("declared, with chains") as f64;
        let deliberate =
            (get("discrepancy: indirect holder undeclared") + get("discrepancy: declared percent off")) as f64;
        assert!(deliberate / chained < 0.08, "{c:?}");
    }

    #[test]
    fn with_history_every_version_passes_and_declares_from_the_duty_on() {
        let reference = reference_data::reference();
        let mut g = RecordGenerator::new(9, reference.clone(), 3, default_as_of());
        let (mut declaring, mut later) = (0, 0);
        for _ in 0..1500 {
            let versions =
                crate::resolve(&g.next_enterprise(), &reference, g.as_of_time()).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(versions.len(), 4);
            for v in &versions {
                let declares = v.beneficial_owners.is_some() || v.exempt.is_some();
                let after = registry_domain::legal_date(v.updated_at) >= "2025-07-01".parse().unwrap();
                assert!(!declares || after, "{} version {} declares before the duty", v.code, v.version);
                declaring += usize::from(declares);
                later += usize::from(after && v.enterprise_type != EnterpriseType::PrivateEnterprise);
            }
        }
        assert_eq!(declaring, later);
    }
}
