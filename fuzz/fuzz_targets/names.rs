//! Names (art. 37–38 prefixes, art. 41) from any text: normalisation is idempotent, the proper
//! name ends the normalised name, conflicts are symmetric without owners, and every conflict is
//! found by a look-up key (the store finds candidates by key equality).
#![no_main]

use libfuzzer_sys::fuzz_target;
use registry::domain::enterprise_type::{proper_name, EnterpriseType};
use registry::domain::name_check::{conflicts, keys, lookup_core_keys, NameCandidate, NameKeys, RegisteredName};
use registry::domain::text;

type Name<'a> = (&'a str, &'a str, Option<&'a str>, Option<&'a str>);

fn candidate<'a>(n: &Name<'a>) -> NameCandidate<'a> {
    NameCandidate {
        enterprise_type: EnterpriseType::LlcMulti,
        full_name: n.0,
        proper_name: n.1,
        abbreviation: n.2,
        foreign_name: n.3,
        parent_codes: &[],
    }
}

fn registered<'a>(n: &Name<'a>) -> RegisteredName<'a> {
    RegisteredName {
        code: "0100233488",
        enterprise_type: EnterpriseType::LlcMulti,
        full_name: n.0,
        proper_name: n.1,
        abbreviation: n.2,
        foreign_name: n.3,
    }
}

fn name_keys(n: &Name) -> NameKeys {
    keys(n.0, n.1, n.2, n.3)
}

fuzz_target!(|input: (Name, Name)| {
    let (a, b) = input;
    for s in [a.0, a.1, b.0] {
        let once = text::normalize(s);
        assert_eq!(text::normalize(&once), once);
        for kind in EnterpriseType::ALL {
            if let Ok(p) = proper_name(kind, s) {
                assert!(!p.is_empty() && once.ends_with(&p), "{s:?} → {p:?}");
            }
        }
    }
    let ab = conflicts(&candidate(&a), &registered(&b));
    let ba = conflicts(&candidate(&b), &registered(&a));
    assert_eq!(ab, ba, "{a:?} / {b:?}");
    if !ab.is_empty() {
        let (ka, kb) = (name_keys(&a), name_keys(&b));
        let same = |x: &Option<String>, y: &Option<String>| x.is_some() && x == y;
        assert!(
            ka.read_key == kb.read_key
                || lookup_core_keys(a.1).contains(&kb.core_key)
                || same(&ka.abbreviation_key, &kb.abbreviation_key)
                || same(&ka.foreign_key, &kb.foreign_key),
            "{a:?} / {b:?}: {ab:?} but no key in common"
        );
    }
});
