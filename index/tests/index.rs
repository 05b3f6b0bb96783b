mod common;

use std::collections::HashSet;
use std::time::Instant;

use chrono::NaiveDate;
use common::{code_for, generate, index_docs};
use registry_index::{
    analyzer, open_current, swap_in, EnterpriseDoc, IndexError, MatchStep, SearchIndex, SearchRequest, StoredRecord,
};
use unicode_normalization::UnicodeNormalization;

fn doc(code: &str, name: &str, proper: &str) -> EnterpriseDoc {
    EnterpriseDoc {
        code: code.into(),
        name: name.into(),
        proper_name: proper.into(),
        province_code: "01".into(),
        ward_code: "01001".into(),
        status: "active".into(),
        enterprise_type: "TNHH2TV".into(),
        vsic: vec!["4610".into()],
        registered_on: NaiveDate::from_ymd_opt(2020, 5, 17).unwrap(),
        ..Default::default()
    }
}

fn codes(idx: &SearchIndex, q: &str, limit: usize) -> Vec<String> {
    let page = idx.search(&SearchRequest { q: q.into(), limit, ..Default::default() }).unwrap();
    page.hits.into_iter().map(|h| h.code).collect()
}

fn corpus() -> (SearchIndex, Vec<EnterpriseDoc>) {
    let docs = generate(400, 7);
    let idx = SearchIndex::in_memory().unwrap();
    index_docs(&idx, &docs, 60);
    (idx, docs)
}

/// One edit in the first folded word of 5+ letters, keeping its length (substitution or
/// transposition), so the word stays eligible for fuzzy matching.
fn with_typo(folded_words: &[String], variant: usize) -> Option<String> {
    let pos = folded_words.iter().position(|w| w.chars().count() >= 5)?;
    let mut w: Vec<char> = folded_words[pos].chars().collect();
    let i = w.len() / 2;
    if variant.is_multiple_of(2) {
        w.swap(i, i + 1);
        if w.iter().collect::<String>() == folded_words[pos] {
            w[i] = 'x';
        }
    } else {
        w[i] = if w[i] == 'x' { 'z' } else { 'x' };
    }
    let mut out = folded_words.to_vec();
    out[pos] = w.into_iter().collect();
    Some(out.join(" "))
}

#[test]
fn relevance_recall_at_10() {
    let (idx, docs) = corpus();
    assert_eq!(idx.num_docs(), docs.len() as u64);
    let mut total = 0;
    let mut found = 0;
    let mut typos = 0;
    let mut misses = Vec::new();
    for (t, target) in docs.iter().step_by(8).take(50).enumerate() {
        let folded_proper = analyzer::folded_words(&target.proper_name);
        let mut queries = vec![
            ("folded", folded_proper.join(" ")),
            ("nfd", target.name.nfd().collect::<String>()),
            ("reordered", target.proper_name.split(' ').rev().collect::<Vec<_>>().join(" ")),
            ("folded-full-reordered", {
                let mut w = analyzer::folded_words(&target.name);
                w.reverse();
                w.join(" ")
            }),
            ("abbreviated", target.name.replace("Công ty", "Cty").replace("Thương mại", "TM").replace("Dịch vụ", "DV")),
        ];
        if let Some(q) = with_typo(&folded_proper, t) {
            typos += 1;
            queries.push(("typo", q));
        }
        for (kind, q) in queries {
            total += 1;
            let top = codes(&idx, &q, 10);
            if top.contains(&target.code) {
                found += 1;
            } else {
                misses.push(format!("{kind}: {q:?} -> {} not in {top:?}", target.name));
            }
        }
    }
    let recall = found as f64 / total as f64;
    println!("recall@10 = {recall:.3} over {total} queries ({typos} with a typo); misses: {misses:#?}");
    assert!(typos >= 30, "too few typo queries: {typos}");
    assert!(recall >= 0.97, "recall@10 {recall:.3} < 0.97; misses: {misses:#?}");
}

#[test]
fn exact_diacritics_rank_first_and_folded_finds_both() {
    let idx = SearchIndex::in_memory().unwrap();
    idx.upsert(&doc("0100000001", "Công ty TNHH Thương mại Dương Minh", "Thương mại Dương Minh")).unwrap();
    idx.upsert(&doc("0100000002", "Công ty TNHH Thương mại Đường Minh", "Thương mại Đường Minh")).unwrap();
    idx.upsert(&doc("0100000003", "Công ty TNHH Hòa Bình", "Hòa Bình")).unwrap();
    idx.upsert(&doc("0100000004", "Công ty TNHH Hoà Phát", "Hoà Phát")).unwrap();
    idx.commit(1).unwrap();
    assert_eq!(codes(&idx, "Đường Minh", 10)[0], "0100000002");
    assert_eq!(codes(&idx, "Dương Minh", 10)[0], "0100000001");
    assert_eq!(codes(&idx, "đường", 10)[0], "0100000002");
    let both: HashSet<String> = codes(&idx, "duong minh", 10).into_iter().collect();
    assert_eq!(both, ["0100000001", "0100000002"].iter().map(|s| s.to_string()).collect());
    // Old and new tone placement fold to the same word.
    let hoa: HashSet<String> = codes(&idx, "hoa", 10).into_iter().collect();
    assert!(hoa.contains("0100000003") && hoa.contains("0100000004"));
    assert_eq!(codes(&idx, "Hoà Bình", 10)[0], "0100000003");
    // NFD query with exact diacritics behaves like NFC.
    let nfd: String = "Đường Minh".nfd().collect();
    assert_eq!(codes(&idx, &nfd, 10)[0], "0100000002");
}

#[test]
fn legal_form_words_do_not_drown_the_proper_name() {
    let idx = SearchIndex::in_memory().unwrap();
    idx.upsert(&doc("0100000001", "Doanh nghiệp tư nhân Minh Anh Khoa", "Minh Anh Khoa")).unwrap();
    idx.upsert(&doc("0100000002", "Công ty TNHH Thành Công", "Thành Công")).unwrap();
    idx.upsert(&doc("0100000003", "Công ty TNHH Thành Phát", "Thành Phát")).unwrap();
    for i in 0..20 {
        let p = format!("Phú Quý {}", ["Long", "Sơn", "Hải", "Việt"][i % 4]);
        idx.upsert(&doc(&format!("02000000{i:02}"), &format!("Công ty TNHH Một thành viên {p}"), &p)).unwrap();
    }
    idx.commit(1).unwrap();
    // The legal-form words of the query are optional: the DNTN is found by a "Công ty TNHH" query.
    let top = codes(&idx, "Công ty TNHH Minh Anh Khoa", 10);
    assert_eq!(top, vec!["0100000001"]);
    // "Thành Công" as a proper name beats "Công" from the legal form "Công ty".
    assert_eq!(codes(&idx, "thanh cong", 10)[0], "0100000002");
    // Only legal-form words: every word required; all 23 are companies "công ty tnhh".
    let page = idx.search(&SearchRequest::text("cong ty tnhh")).unwrap();
    assert_eq!(page.total, 22);
    // The proper name field has its own weight: an exact proper-name match outranks a longer name.
    let top = codes(&idx, "Phú Quý Long", 3);
    assert!(top.iter().all(|c| c.starts_with("02")));
}

#[test]
fn abbreviations_find_long_forms_and_back() {
    let idx = SearchIndex::in_memory().unwrap();
    idx.upsert(&doc("0100000001", "Công ty Trách nhiệm hữu hạn Vận tải Xuất nhập khẩu Hưng Thịnh", "Hưng Thịnh"))
        .unwrap();
    idx.upsert(&doc("0100000002", "Cty CP TM DV XD Sông Hồng", "TM DV XD Sông Hồng")).unwrap();
    idx.upsert(&doc("0100000003", "Công ty TNHH Sản xuất TP Hồ Chí Minh", "Sản xuất TP Hồ Chí Minh")).unwrap();
    idx.commit(1).unwrap();
    assert_eq!(codes(&idx, "Cty TNHH VT XNK Hưng Thịnh", 10), vec!["0100000001"]);
    assert_eq!(codes(&idx, "cong ty co phan thuong mai dich vu xay dung song hong", 10), vec!["0100000002"]);
    assert_eq!(codes(&idx, "SX thanh pho ho chi minh", 10), vec!["0100000003"]);
}

#[test]
fn typos_in_words_of_three_letters_or_more_rank_below_exact() {
    let idx = SearchIndex::in_memory().unwrap();
    idx.upsert(&doc("0100000001", "Công ty TNHH Nguyễn Phát", "Nguyễn Phát")).unwrap();
    idx.upsert(&doc("0100000002", "Công ty TNHH Nguyên Phát", "Nguyên Phát")).unwrap();
    idx.upsert(&doc("0100000003", "Công ty TNHH Minh Long", "Minh Long")).unwrap();
    idx.commit(1).unwrap();
    // One typo in a 6-letter word finds it, flagged as fuzzy.
    let page = idx.search(&SearchRequest::text("nguyne")).unwrap();
    assert_eq!(page.hits.len(), 2);
    assert!(page.hits[0].matched_terms.iter().all(|t| t.ends_with('~')));
    // Exact beats fuzzy: "nguyen" exact for both (folded); with diacritics the exact one is first.
    let page = idx.search(&SearchRequest::text("Nguyễn")).unwrap();
    assert_eq!(page.hits[0].code, "0100000001");
    // "nguyenx" (typo) ranks below an exact match of the other word.
    let exact = idx.search(&SearchRequest::text("nguyen phat")).unwrap();
    let typo = idx.search(&SearchRequest::text("nguyenx phat")).unwrap();
    assert!(typo.hits[0].score < exact.hits[0].score);
    // Short syllables too: "minx" finds "Minh", "lon" finds "Long", each hit saying a typo found it.
    let page = idx.search(&SearchRequest::text("minx")).unwrap();
    assert_eq!(page.hits.iter().map(|h| h.code.as_str()).collect::<Vec<_>>(), ["0100000003"]);
    assert_eq!(page.hits[0].step, MatchStep::Typo);
    assert_eq!(page.hits[0].matched_terms, ["minx~"]);
    assert_eq!(codes(&idx, "lon", 10), ["0100000003"]);
    // Words of two letters: no typo.
    assert!(codes(&idx, "mi", 10).is_empty());
    // Two typos in a word under eight letters: not found; in a word of eight or more, found.
    assert!(codes(&idx, "ngyune", 10).is_empty());
    idx.upsert(&doc("0100000004", "Công ty TNHH Nghiêng Thương", "Nghiêng Thương")).unwrap();
    idx.commit(2).unwrap();
    assert!(codes(&idx, "nghieng thuogn", 10).contains(&"0100000004".to_string()));
    assert_eq!(codes(&idx, "ngheingg thuong", 10), ["0100000004"]);
}

#[test]
fn codes_and_code_prefixes_find_their_enterprise_first() {
    let (idx, docs) = corpus();
    let mut extra = doc("0100233488", "Công ty Cổ phần Sữa Việt Nam", "Sữa Việt Nam");
    extra.unit_codes = vec!["0100233488-001".into(), "0100233488-002".into()];
    extra.unit_names = vec!["Chi nhánh Công ty Cổ phần Sữa Việt Nam tại Đà Nẵng".into()];
    idx.upsert(&extra).unwrap();
    idx.commit(100).unwrap();

    let page = idx.search(&SearchRequest::text("0100233488")).unwrap();
    assert_eq!(page.hits[0].code, "0100233488");
    assert!(page.hits[0].matched_fields.contains(&"code".to_string()), "{:?}", page.hits[0]);
    assert_eq!(codes(&idx, "01002334", 10)[0], "0100233488");
    assert_eq!(codes(&idx, " 0100233488-001 ", 10)[0], "0100233488");
    assert_eq!(codes(&idx, "0100233488001", 10)[0], "0100233488");
    let page = idx.search(&SearchRequest::text("0100233488-002")).unwrap();
    assert_eq!(page.hits[0].code, "0100233488");
    assert!(page.hits[0].matched_fields.contains(&"unit_code".to_string()));
    // Unit names are searchable too.
    assert_eq!(codes(&idx, "sua viet nam da nang", 10)[0], "0100233488");
    // Every generated code, whole and as its 8-digit prefix.
    for d in docs.iter().step_by(37) {
        assert_eq!(codes(&idx, &d.code, 5)[0], d.code);
        let prefix_hits = codes(&idx, &d.code[..8], 100);
        assert!(prefix_hits.contains(&d.code));
        assert!(prefix_hits.iter().all(|c| c.starts_with(&d.code[..8])));
    }
    // A 4-digit prefix: every hit starts with it, ordered by code.
    let page = idx.search(&SearchRequest { q: "0100".into(), limit: 100, ..Default::default() }).unwrap();
    assert!(!page.hits.is_empty());
    assert!(page.hits.iter().all(|h| h.code.starts_with("0100")));
    // Too short to be a code: treated as a word (no name has it).
    assert!(codes(&idx, "010", 10).is_empty());
}

#[test]
fn former_names_and_english_names_are_searchable_at_lower_weight() {
    let idx = SearchIndex::in_memory().unwrap();
    let mut a = doc("0100000001", "Công ty TNHH Bình Minh", "Bình Minh");
    a.former_names = vec!["Công ty TNHH Hoàng Hôn".into()];
    a.name_en = Some("Dawn Company Limited".into());
    a.abbreviation = Some("BMC".into());
    let b = doc("0100000002", "Công ty TNHH Hoàng Hôn Mới", "Hoàng Hôn Mới");
    idx.upsert(&a).unwrap();
    idx.upsert(&b).unwrap();
    idx.commit(1).unwrap();
    let page = idx.search(&SearchRequest::text("hoang hon")).unwrap();
    assert_eq!(page.hits.iter().map(|h| h.code.as_str()).collect::<Vec<_>>(), vec!["0100000002", "0100000001"]);
    assert_eq!(page.hits[1].matched_fields, vec!["former_names"]);
    assert_eq!(codes(&idx, "dawn", 10), vec!["0100000001"]);
    assert_eq!(codes(&idx, "bmc", 10), vec!["0100000001"]);
    let hit = &idx.search(&SearchRequest::text("Bình Minh")).unwrap().hits[0];
    assert!(
        hit.matched_fields.contains(&"proper_name".to_string()) && hit.matched_fields.contains(&"name".to_string())
    );
    assert_eq!(hit.matched_terms, vec!["bình", "minh"]);
    assert_eq!(hit.status, "active");
    assert_eq!(hit.province_code, "01");
    assert_eq!(hit.name, "Công ty TNHH Bình Minh");
}

fn all_pages(idx: &SearchIndex, req: &SearchRequest) -> Vec<registry_index::Hit> {
    let mut out = Vec::new();
    let mut req = req.clone();
    loop {
        let page = idx.search(&req).unwrap();
        assert!(page.hits.len() <= req.limit);
        out.extend(page.hits);
        match page.next_cursor {
            Some(c) => req.cursor = Some(c),
            None => break,
        }
    }
    out
}

#[test]
fn filters_narrow_and_empty_query_lists_by_code() {
    let (idx, docs) = corpus();
    let check = |req: SearchRequest, pred: &dyn Fn(&EnterpriseDoc) -> bool| {
        let mut expected: Vec<String> = docs.iter().filter(|d| pred(d)).map(|d| d.code.clone()).collect();
        expected.sort();
        assert!(!expected.is_empty() && expected.len() < docs.len(), "{req:?}: filter too broad or empty");
        let got: Vec<String> = all_pages(&idx, &req).into_iter().map(|h| h.code).collect();
        assert_eq!(got, expected, "{req:?}");
        assert_eq!(idx.search(&req).unwrap().total, expected.len() as u64);
    };
    let base = SearchRequest { limit: 30, ..Default::default() };
    check(SearchRequest { province: Some("79".into()), ..base.clone() }, &|d| d.province_code == "79");
    check(SearchRequest { ward: Some("79003".into()), ..base.clone() }, &|d| d.ward_code == "79003");
    check(SearchRequest { status: Some("dissolved".into()), ..base.clone() }, &|d| d.status == "dissolved");
    check(SearchRequest { enterprise_type: Some("DNTN".into()), ..base.clone() }, &|d| d.enterprise_type == "DNTN");
    check(SearchRequest { vsic: Some("4933".into()), ..base.clone() }, &|d| d.vsic.contains(&"4933".to_string()));
    check(SearchRequest { vsic: Some("46".into()), ..base.clone() }, &|d| d.vsic.iter().any(|v| v.starts_with("46")));
    let from = NaiveDate::from_ymd_opt(2010, 1, 1).unwrap();
    let to = NaiveDate::from_ymd_opt(2012, 12, 31).unwrap();
    check(SearchRequest { registered_from: Some(from), registered_to: Some(to), ..base.clone() }, &|d| {
        d.registered_on >= from && d.registered_on <= to
    });
    check(SearchRequest { registered_from: Some(to), ..base.clone() }, &|d| d.registered_on >= to);
    check(SearchRequest { registered_to: Some(from), ..base.clone() }, &|d| d.registered_on <= from);
    check(SearchRequest { province: Some("01".into()), status: Some("active".into()), ..base.clone() }, &|d| {
        d.province_code == "01" && d.status == "active"
    });
    // Filters combine with text.
    let unfiltered = idx.search(&SearchRequest { q: "thuong mai".into(), ..base.clone() }).unwrap();
    let req = SearchRequest { q: "thuong mai".into(), province: Some("48".into()), ..base.clone() };
    let hits = all_pages(&idx, &req);
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|h| h.province_code == "48" && h.score > 0.0));
    assert!((hits.len() as u64) < unfiltered.total);
    // Empty q, no filter: everything by code.
    let all: Vec<String> =
        all_pages(&idx, &SearchRequest { limit: 100, ..Default::default() }).into_iter().map(|h| h.code).collect();
    let mut expected: Vec<String> = docs.iter().map(|d| d.code.clone()).collect();
    expected.sort();
    assert_eq!(all, expected);
}

#[test]
fn paging_never_repeats_or_skips() {
    let (idx, _docs) = corpus();
    for q in ["thuong mai", "cong ty", "cty tnhh", "minh", "phat dat", ""] {
        let big = idx.search(&SearchRequest { q: q.into(), limit: 100, ..Default::default() }).unwrap();
        for limit in [1, 7, 30] {
            let walked = all_pages(&idx, &SearchRequest { q: q.into(), limit, ..Default::default() });
            let unique: HashSet<&str> = walked.iter().map(|h| h.code.as_str()).collect();
            assert_eq!(unique.len(), walked.len(), "{q:?}/{limit}: repeated hit");
            assert_eq!(walked.len() as u64, big.total, "{q:?}/{limit}: skipped hit");
            let n = big.hits.len();
            let a: Vec<(&str, f32)> = walked[..n].iter().map(|h| (h.code.as_str(), h.score)).collect();
            let b: Vec<(&str, f32)> = big.hits.iter().map(|h| (h.code.as_str(), h.score)).collect();
            assert_eq!(a, b, "{q:?}/{limit}: order differs from one big page");
            for w in walked.windows(2) {
                assert!(w[0].score > w[1].score || (w[0].score == w[1].score && w[0].code < w[1].code));
            }
        }
    }
}

#[test]
fn invalid_cursors_and_limits_are_errors() {
    let (idx, _docs) = corpus();
    let req = SearchRequest { q: "thuong mai".into(), limit: 5, ..Default::default() };
    let cursor = idx.search(&req).unwrap().next_cursor.unwrap();
    let mut forged = cursor.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    for bad in [forged, "not a cursor".to_string(), "eyJ2IjoxfQ".to_string(), String::new()] {
        let r = idx.search(&SearchRequest { cursor: Some(bad.clone()), ..req.clone() });
        assert!(matches!(r, Err(IndexError::InvalidCursor(_))), "{bad:?}: {r:?}");
    }
    // A cursor of another query.
    let r = idx.search(&SearchRequest { q: "dich vu".into(), cursor: Some(cursor.clone()), ..req.clone() });
    assert!(matches!(r, Err(IndexError::InvalidCursor(_))));
    // The same query in another case is the same query; so is the NFD form of a query.
    let upper = SearchRequest { q: "THUONG  MAI".into(), cursor: Some(cursor), ..req.clone() };
    assert_eq!(idx.search(&upper).unwrap().hits.len(), 5);
    let req = SearchRequest { q: "thương mại".into(), ..req.clone() };
    let cursor = idx.search(&req).unwrap().next_cursor.unwrap();
    let nfd = SearchRequest { q: "Thương Mại".nfd().collect(), cursor: Some(cursor), ..req.clone() };
    assert_eq!(idx.search(&nfd).unwrap().hits.len(), 5);
    for limit in [0, 101] {
        let r = idx.search(&SearchRequest { limit, ..req.clone() });
        assert!(matches!(r, Err(IndexError::InvalidRequest(_))));
    }
}

#[test]
fn commit_payload_survives_reopen_and_changes_are_visible_at_once() {
    let dir = tempfile::tempdir().unwrap();
    {
        let idx = SearchIndex::open_or_create(dir.path()).unwrap();
        assert_eq!(idx.position(), None);
        idx.upsert(&doc("0100000001", "Công ty TNHH Bình Minh", "Bình Minh")).unwrap();
        idx.commit(42).unwrap();
        assert_eq!(idx.position(), Some(42));
        // Visible right after commit, no sleep.
        assert_eq!(codes(&idx, "binh minh", 10), vec!["0100000001"]);
    }
    {
        let idx = SearchIndex::open_or_create(dir.path()).unwrap();
        assert_eq!(idx.position(), Some(42));
        assert_eq!(idx.num_docs(), 1);
        // A commit with no document change still records the position.
        idx.commit(43).unwrap();
        assert_eq!(idx.position(), Some(43));
        // Uncommitted changes are invisible and lost on reopen; the position stays.
        idx.upsert(&doc("0100000002", "Công ty TNHH Hoàng Hôn", "Hoàng Hôn")).unwrap();
        assert!(!codes(&idx, "hoang hon", 10).contains(&"0100000002".to_string()));
    }
    {
        let idx = SearchIndex::open_or_create(dir.path()).unwrap();
        assert_eq!(idx.position(), Some(43));
        assert_eq!(idx.num_docs(), 1);
        // Upsert replaces (rename), delete removes; both visible immediately after commit.
        idx.upsert(&doc("0100000001", "Công ty TNHH Ánh Dương", "Ánh Dương")).unwrap();
        idx.commit(44).unwrap();
        assert!(codes(&idx, "binh minh", 10).is_empty());
        assert_eq!(codes(&idx, "anh duong", 10), vec!["0100000001"]);
        assert_eq!(idx.num_docs(), 1);
        idx.delete("0100000001").unwrap();
        idx.commit(45).unwrap();
        assert_eq!(idx.num_docs(), 0);
        assert!(codes(&idx, "anh duong", 10).is_empty());
    }
    assert_eq!(SearchIndex::open_or_create(dir.path()).unwrap().position(), Some(45));
}

fn with_record(mut d: EnterpriseDoc, version: u64) -> EnterpriseDoc {
    d.record = Some(StoredRecord {
        version,
        full: format!("{{\"code\":\"{}\",\"version\":{version},\"owners\":[]}}", d.code).into_bytes(),
        public: format!("{{\"code\":\"{}\",\"version\":{version}}}", d.code).into_bytes(),
        authority: format!("{{\"code\":\"{}\",\"version\":{version},\"owners\":[],\"discrepancies\":[]}}", d.code)
            .into_bytes(),
    });
    d
}

#[test]
fn stored_records_are_looked_up_by_code_across_segments_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    {
        let idx = SearchIndex::open_or_create(dir.path()).unwrap();
        // Several segments: one commit each.
        for (i, code) in ["0100000001", "0100000002", "0100000003"].into_iter().enumerate() {
            idx.upsert(&with_record(doc(code, "Công ty TNHH Bình Minh", "Bình Minh"), 1)).unwrap();
            idx.commit(i as u64 + 1).unwrap();
        }
        // Indexed for search only: no stored record.
        idx.upsert(&doc("0100000004", "Công ty TNHH Hoàng Hôn", "Hoàng Hôn")).unwrap();
        idx.commit(4).unwrap();
        assert!(idx.num_segments() > 1);
        let r = idx.record("0100000002").unwrap().expect("stored");
        assert_eq!(r.version, 1);
        assert_eq!(r.public, br#"{"code":"0100000002","version":1}"#);
        assert_eq!(r.full, br#"{"code":"0100000002","version":1,"owners":[]}"#);
        assert_eq!(r.authority, br#"{"code":"0100000002","version":1,"owners":[],"discrepancies":[]}"#);
        assert_eq!(idx.record("0100000004").unwrap(), None);
        assert_eq!(idx.record("0100000009").unwrap(), None);
        // A new version replaces the old one (deleted in its segment); uncommitted, it is not seen.
        idx.upsert(&with_record(doc("0100000002", "Công ty TNHH Bình Minh", "Bình Minh"), 2)).unwrap();
        assert_eq!(idx.record("0100000002").unwrap().unwrap().version, 1);
        idx.commit(5).unwrap();
        assert_eq!(idx.record("0100000002").unwrap().unwrap().version, 2);
        idx.delete("0100000003").unwrap();
        idx.commit(6).unwrap();
        assert_eq!(idx.record("0100000003").unwrap(), None);
    }
    // Reopened (the document store read with positioned reads), then merged into one segment.
    let idx = SearchIndex::open_or_create(dir.path()).unwrap();
    assert_eq!(idx.record("0100000002").unwrap().unwrap().version, 2);
    idx.merge_segments().unwrap();
    idx.commit(7).unwrap();
    assert_eq!(idx.num_segments(), 1);
    assert_eq!(idx.record("0100000001").unwrap().unwrap().version, 1);
    assert_eq!(idx.record("0100000002").unwrap().unwrap().full, br#"{"code":"0100000002","version":2,"owners":[]}"#);
    assert_eq!(idx.record("0100000003").unwrap(), None);
    // Search hits still read their fields from the same documents.
    assert_eq!(codes(&idx, "binh minh", 10), vec!["0100000001", "0100000002"]);
}

#[test]
fn rebuild_and_swap_in() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    // First start: an empty generation.
    let old = open_current(root).unwrap();
    assert_eq!(old.position(), None);
    old.upsert(&doc("0100000001", "Công ty TNHH Bình Minh", "Bình Minh")).unwrap();
    old.commit(10).unwrap();
    let old_dir = registry_index::current_dir(root).unwrap().unwrap();

    // Rebuild into a new generation while the old one serves.
    let new_dir = registry_index::new_generation_dir(root).unwrap();
    {
        let builder = SearchIndex::create_for_rebuild(&new_dir, 64 * 1024 * 1024).unwrap();
        let docs = generate(200, 3);
        for d in &docs[..100] {
            builder.add(d).unwrap();
        }
        builder.commit(250).unwrap();
        for d in &docs[100..] {
            builder.add(d).unwrap();
        }
        // A service starting meanwhile clears old generations: not one a writer is building.
        assert!(registry_index::being_written(&new_dir));
        assert!(registry_index::remove_generation(root, &new_dir).is_err());
        assert!(new_dir.exists());
        builder.commit(500).unwrap();
        assert!(builder.num_segments() >= 2, "two commits, two segments at least");
        builder.close().unwrap(); // merged into one segment, writer lock released
        assert!(!registry_index::being_written(&new_dir));
    }
    // A rebuild never reuses a directory that holds an index.
    assert!(matches!(SearchIndex::create_for_rebuild(&new_dir, 64 * 1024 * 1024), Err(IndexError::NotEmpty(_))));
    // Still the old one until the swap.
    assert_eq!(registry_index::current_dir(root).unwrap().unwrap(), old_dir);
    swap_in(root, &new_dir).unwrap();
    let new = open_current(root).unwrap();
    assert_eq!(new.position(), Some(500));
    assert_eq!(new.num_docs(), 200);
    assert_eq!(new.num_segments(), 1, "a rebuilt generation is served as one segment");
    // The old handle keeps serving until dropped.
    assert_eq!(codes(&old, "binh minh", 10), vec!["0100000001"]);
    assert_eq!(old.position(), Some(10));
    // A directory outside the root, or the current one, is refused.
    let elsewhere = tempfile::tempdir().unwrap();
    assert!(swap_in(root, elsewhere.path()).is_err());
    assert!(registry_index::remove_generation(root, &new_dir).is_err());
    drop(old);
    registry_index::remove_generation(root, &old_dir).unwrap();
    assert!(!old_dir.exists());
    drop(new);
    assert_eq!(open_current(root).unwrap().num_docs(), 200);
}

#[test]
fn suggest_completes_the_last_word() {
    let (idx, docs) = corpus();
    for d in docs.iter().step_by(23) {
        let words: Vec<String> = analyzer::folded_words(&d.proper_name);
        let last = &words[words.len() - 1];
        let cut: String = last.chars().take(2.max(last.chars().count() - 1)).collect();
        let prefix = format!("{} {}", words[..words.len() - 1].join(" "), cut);
        let got = idx.suggest(&prefix, 10).unwrap();
        assert!(got.len() <= 10);
        assert!(!got.is_empty(), "{prefix:?}");
        for s in &got {
            let f = analyzer::folded_words(&s.name);
            for w in &words[..words.len() - 1] {
                assert!(f.contains(w), "{prefix:?}: {} lacks {w}", s.name);
            }
            assert!(f.iter().any(|w| w.starts_with(&cut)), "{prefix:?}: {}", s.name);
        }
        if got.len() < 10 {
            assert!(got.iter().any(|s| s.code == d.code), "{prefix:?} -> {got:?}");
        }
    }
    // Diacritics, NFD and a legal-form prefix are all fine.
    let nfd: String = "Công ty TNHH Thươn".nfd().collect();
    let got = idx.suggest(&nfd, 5).unwrap();
    assert_eq!(got.len(), 5);
    assert!(got.iter().all(|s| analyzer::fold(&s.name).contains("thuon")));
    assert!(idx.suggest("", 10).unwrap().is_empty());
    assert!(idx.suggest("zzzz", 10).unwrap().is_empty());
    assert_eq!(idx.suggest("t", 50).unwrap().len(), 10);
    assert!(idx.suggest("t", 0).unwrap().is_empty());
}

#[test]
fn name_candidates_share_folded_words() {
    let (idx, _docs) = corpus();
    let cands = idx.name_candidates("Công ty TNHH Hưng Thịnh Phát", 20).unwrap();
    assert!(!cands.is_empty());
    for c in &cands {
        assert!(!c.shared_words.is_empty());
        assert!(c.shared_words.iter().all(|w| ["hung", "thinh", "phat"].contains(&w.as_str())));
    }
    assert!(idx.name_candidates("Công ty TNHH", 20).unwrap().is_empty());
}

#[test]
fn serialises_to_json() {
    let (idx, _docs) = corpus();
    let page = idx.search(&SearchRequest { q: "minh".into(), limit: 2, ..Default::default() }).unwrap();
    let json = serde_json::to_value(&page).unwrap();
    assert!(json["hits"][0]["matched_fields"].is_array());
    assert!(json["next_cursor"].is_string());
    let s = serde_json::to_string(&idx.suggest("min", 3).unwrap()).unwrap();
    assert!(s.starts_with("[{\"code\""));
}

#[test]
fn timing_at_50k_documents() {
    let n: usize = std::env::var("INDEX_TIMING_DOCS").ok().and_then(|s| s.parse().ok()).unwrap_or(50_000);
    let t = Instant::now();
    let docs = generate(n, 11);
    let idx = SearchIndex::in_memory().unwrap();
    for d in &docs {
        idx.add(d).unwrap();
    }
    idx.commit(1).unwrap();
    println!("indexed {n} docs in {:?}", t.elapsed());
    let prefixes = ["t", "th", "thuo", "an ph", "minh ho", "thuong mai hung th", "nguy", "dai", "cong ty tnhh ph"];
    let mut times = Vec::new();
    for _ in 0..20 {
        for p in prefixes {
            let t = Instant::now();
            let s = idx.suggest(p, 10).unwrap();
            times.push(t.elapsed());
            assert!(s.len() <= 10);
        }
    }
    times.sort();
    println!(
        "suggest over {n} docs: p50 {:?} p99 {:?} max {:?}",
        times[times.len() / 2],
        times[times.len() * 99 / 100],
        times[times.len() - 1]
    );
    let mut times = Vec::new();
    for q in ["thuong mai", "nguyen phat", "thuong mai dich vu hung thinh", "cong ty", "nguyne", "0100", ""] {
        let t = Instant::now();
        idx.search(&SearchRequest { q: q.into(), limit: 20, ..Default::default() }).unwrap();
        times.push((q, t.elapsed()));
    }
    println!("search over {n} docs: {times:?}");
    assert_eq!(code_for(0).len(), 10);
}

/// An index of the given `(code, name)` pairs, the proper name found by the analyzer.
fn names(list: &[(&str, &str)]) -> SearchIndex {
    let idx = SearchIndex::in_memory().unwrap();
    for (code, name) in list {
        idx.upsert(&doc(code, name, "")).unwrap();
    }
    idx.commit(1).unwrap();
    idx
}

#[test]
fn the_name_the_query_is_comes_first_then_its_words_in_order_and_together() {
    let idx = names(&[
        ("0100000001", "Công ty TNHH Vận tải Long Minh"),
        ("0100000002", "Công ty TNHH Vận tải Minh Minh Long"),
        ("0100000003", "Công ty TNHH Vận tải Minh Long Phát Đạt"),
        ("0100000004", "Công ty TNHH Vận tải Minh Long"),
        ("0100000005", "Công ty TNHH Long Vận tải Minh"),
    ]);
    for q in ["van tai minh long", "Vận tải Minh Long", "cong ty tnhh van tai minh long"] {
        let got = codes(&idx, q, 10);
        assert_eq!(got[0], "0100000004", "{q}: {got:?}");
        // Holding "minh long" together and in order beats holding the words apart.
        let pos = |c: &str| got.iter().position(|g| g == c).unwrap();
        assert!(pos("0100000003") < pos("0100000001"), "{q}: {got:?}");
        assert!(pos("0100000002") < pos("0100000005"), "{q}: {got:?}");
    }
}

#[test]
fn exact_spelling_ranks_above_folded_and_each_hit_says_which() {
    let idx = names(&[("0100000001", "Công ty TNHH Dương Minh"), ("0100000002", "Công ty TNHH Đường Minh")]);
    let page = idx.search(&SearchRequest::text("Đường Minh")).unwrap();
    assert_eq!(page.hits[0].code, "0100000002");
    assert_eq!(page.hits[0].step, MatchStep::Exact);
    assert_eq!(page.hits[1].step, MatchStep::Folded);
    let page = idx.search(&SearchRequest::text("duong minh")).unwrap();
    assert_eq!(page.hits.len(), 2);
    assert!(page.hits.iter().all(|h| h.step == MatchStep::Folded));
}

#[test]
fn telex_and_vni_typed_with_the_input_method_off_find_the_name() {
    let idx = names(&[
        ("0100000001", "Công ty TNHH Hoàng Long"),
        ("0100000002", "Công ty Cổ phần Thương mại Việt Đông"),
        ("0100000003", "Công ty TNHH Hoa Long"),
    ]);
    for q in ["Hoangf Long", "hoafng long", "Hoa2ng Long", "coong ty hoangf long"] {
        assert_eq!(codes(&idx, q, 10)[0], "0100000001", "{q}");
    }
    for q in ["thuowng mai vieejt ddoong", "thu7o7ng ma5i vie65t d9o6ng", "Vieetj Ddoong", "vie65t do6ng"] {
        assert_eq!(codes(&idx, q, 10), ["0100000002"], "{q}");
    }
    // The raw word is searched beside its reading: a word that is a syllable as typed stays one.
    assert_eq!(codes(&idx, "hoa long", 10)[0], "0100000003");
}

#[test]
fn syllables_run_together_or_split_are_found_by_the_registers_own_syllables() {
    let idx = names(&[
        ("0100000001", "Công ty TNHH Vận tải Hoàng Long"),
        ("0100000002", "Công ty TNHH Long Hoàng"),
        ("0100000003", "Công ty TNHH Thương mại Minh Phát"),
    ]);
    assert_eq!(codes(&idx, "hoanglong", 10), ["0100000001"]);
    assert_eq!(codes(&idx, "vantai hoang long", 10), ["0100000001"]);
    assert_eq!(codes(&idx, "thuongmai minh phat", 10), ["0100000003"]);
    // A space typed inside a syllable.
    assert_eq!(codes(&idx, "thuo ng mai minh phat", 10), ["0100000003"]);
    let page = idx.search(&SearchRequest::text("hoanglong")).unwrap();
    assert_eq!(page.hits[0].step, MatchStep::Folded);
    // The README's example: run together, and a typo.
    let idx = names(&[("0100000001", "Công ty TNHH Vận tải Minh Long"), ("0100000002", "Công ty TNHH Minh Long")]);
    let page = idx.search(&SearchRequest::text("vantai minh lomg")).unwrap();
    assert_eq!(page.hits.len(), 1);
    assert_eq!(page.hits[0].name, "Công ty TNHH Vận tải Minh Long");
    assert_eq!(page.hits[0].step, MatchStep::Typo);
    assert_eq!(page.hits[0].matched_terms, ["vantai", "minh", "lomg~"]);
    assert_eq!(page.hits[0].matched_fields, ["name", "proper_name"]);
}

#[test]
fn a_query_matching_nothing_relaxes_to_typos_then_to_one_word_left_out() {
    let idx = names(&[
        ("0100000001", "Công ty TNHH Xây dựng Cát Khang"),
        ("0100000002", "Công ty TNHH Xây dựng Cát Tường"),
        ("0100000003", "Công ty TNHH Thương mại Cát Khang"),
    ]);
    // As typed: both words found, no relaxation.
    let page = idx.search(&SearchRequest::text("cat khang")).unwrap();
    assert_eq!(page.hits.len(), 2);
    assert!(page.hits.iter().all(|h| h.step == MatchStep::Folded));
    // One typo in a short syllable: the typo step.
    let page = idx.search(&SearchRequest::text("xay dunf cat khang")).unwrap();
    assert_eq!(page.hits[0].code, "0100000001");
    assert!(page.hits.iter().all(|h| h.step == MatchStep::Typo));
    assert!(page.hits[0].matched_terms.contains(&"dunf~".to_string()), "{:?}", page.hits[0]);
    // A word no name holds, even with a typo: one word left out, and the page is not empty.
    let page = idx.search(&SearchRequest::text("xay dung cat khang quockte")).unwrap();
    assert_eq!(page.hits[0].code, "0100000001");
    assert!(page.hits.iter().all(|h| h.step == MatchStep::Partial));
    assert!(!page.hits[0].matched_terms.iter().any(|t| t.starts_with("quockte")));
    // The partial step pages like any other (the left-out word differs between hits).
    let page = idx.search(&SearchRequest { limit: 1, ..SearchRequest::text("xay khang tuong") }).unwrap();
    let mut seen = vec![page.hits[0].code.clone()];
    let mut cursor = page.next_cursor;
    while let Some(c) = cursor {
        let next =
            idx.search(&SearchRequest { limit: 1, cursor: Some(c), ..SearchRequest::text("xay khang tuong") }).unwrap();
        seen.extend(next.hits.iter().map(|h| h.code.clone()));
        cursor = next.next_cursor;
    }
    seen.sort();
    // (Without `xay`: `Thương mại Cát Khang` holds `khang` but `tuong` only at a typo, and this
    // step keeps typos on the words found nowhere only.)
    assert_eq!(seen, ["0100000001", "0100000002"]);
    // A single word is never left out.
    assert!(codes(&idx, "quockte", 10).is_empty());
}

/// An enterprise of the suggestion tests: `name` with its legal form, `proper` without.
fn named(i: usize, name: &str, proper: &str) -> EnterpriseDoc {
    EnterpriseDoc {
        code: code_for(900_000 + i),
        name: name.to_string(),
        proper_name: proper.to_string(),
        province_code: "01".into(),
        status: "active".into(),
        ..Default::default()
    }
}

/// The generated corpus plus restaurants whose names share words in other orders and legal forms.
fn restaurants() -> (SearchIndex, Vec<EnterpriseDoc>) {
    let (idx, _) = corpus();
    let docs = vec![
        named(0, "Doanh nghiệp tư nhân Nhà hàng Tân Bảo Phúc", "Nhà hàng Tân Bảo Phúc"),
        named(1, "Công ty TNHH MTV Nhà hàng Tân Phúc", "Nhà hàng Tân Phúc"),
        named(2, "Công ty TNHH MTV Nhà hàng Phúc Tân", "Nhà hàng Phúc Tân"),
        named(3, "Công ty TNHH Nhà hàng Tân Phương", "Nhà hàng Tân Phương"),
        named(4, "Doanh nghiệp tư nhân Tân Phúc Nhà hàng", "Tân Phúc Nhà hàng"),
    ];
    for d in &docs {
        idx.upsert(d).unwrap();
    }
    idx.commit(1_000).unwrap();
    (idx, docs)
}

/// The name that continues what was typed, legal form included, comes before names of another
/// legal form or with the words in another order.
#[test]
fn suggest_ranks_the_name_continuing_the_typed_text_first() {
    let (idx, docs) = restaurants();
    for typed in
        ["cong ty tnhh mtv nha hang tan ph", "Công ty TNHH MTV Nhà hàng Tân Ph", "CÔNG TY TNHH MTV NHÀ HÀNG TÂN PHÚ"]
    {
        let got = idx.suggest(typed, 10).unwrap();
        assert_eq!(got[0].code, docs[1].code, "{typed:?} -> {got:?}");
        let dntn = got.iter().position(|s| s.code == docs[0].code);
        assert!(dntn.is_none_or(|p| p > 0), "{typed:?} -> {got:?}");
    }
    // Without the legal form: the proper names continuing the text, the shortest first.
    let got = idx.suggest("nha hang tan ph", 10).unwrap();
    let codes: Vec<&str> = got.iter().map(|s| s.code.as_str()).collect();
    assert_eq!(codes[..2], [docs[1].code.as_str(), docs[3].code.as_str()], "{got:?}");
    // The legal-form words are not required, but rank that legal form first.
    let got = idx.suggest("doanh nghiep tu nhan nha hang tan", 10).unwrap();
    assert_eq!(got[0].code, docs[0].code, "{got:?}");
    assert!(got.iter().any(|s| s.code == docs[1].code), "{got:?}");
}

/// The order of the typed words counts: `phuc tan` and `tan phuc` rank different names first.
#[test]
fn suggest_follows_the_order_of_the_typed_words() {
    let (idx, docs) = restaurants();
    let got = idx.suggest("nha hang phuc ta", 10).unwrap();
    assert_eq!(got[0].code, docs[2].code, "{got:?}");
    let got = idx.suggest("tan phuc nha ha", 10).unwrap();
    assert_eq!(got[0].code, docs[4].code, "{got:?}");
    // In order but not at the start of a name: before the same words in another order.
    let got = idx.suggest("hang tan phuc ", 10).unwrap();
    let first = got.iter().position(|s| s.code == docs[1].code).unwrap();
    let other = got.iter().position(|s| s.code == docs[2].code).unwrap();
    assert!(first < other, "{got:?}");
}

/// A complete word with a typo, or typed in Telex or VNI with the input method off, is read as
/// the word it stands for.
#[test]
fn suggest_forgives_a_typo_or_telex_in_a_complete_word() {
    let (idx, docs) = restaurants();
    for typed in [
        "cong ty tnhh mtv nha hagn tan ph",
        "cong ty tnhh mtv nha hangf tan ph",
        "cong ty tnhh mtv nhaf hang tan ph",
        "cong ty tnhh mtv nha ha2ng tan ph",
        "cong ty tnhh mtv nha hang taan ph",
        "cogn ty tnhh mtv nha hang tan ph",
    ] {
        let got = idx.suggest(typed, 10).unwrap();
        assert_eq!(got.first().map(|s| s.code.as_str()), Some(docs[1].code.as_str()), "{typed:?} -> {got:?}");
    }
}

/// A generated name typed whole but its last two letters, with or without diacritics, is
/// suggested, and first unless a name as short continues the same text.
#[test]
fn suggest_offers_a_name_typed_whole_but_its_last_letters_first() {
    let (idx, docs) = corpus();
    let (mut tried, mut first) = (0, 0);
    for (i, d) in docs.iter().enumerate().step_by(3) {
        let n = d.name.chars().count();
        let cut: String = d.name.chars().take(n - 2).collect();
        let typed = if i % 2 == 0 { cut } else { analyzer::fold(&cut) };
        let got = idx.suggest(&typed, 10).unwrap();
        assert!(got.iter().any(|s| s.code == d.code), "{typed:?} -> {got:?}");
        let folded = analyzer::folded_words(&typed).join(" ");
        assert!(analyzer::folded_words(&got[0].name).join(" ").starts_with(&folded), "{typed:?} -> {got:?}");
        tried += 1;
        first += usize::from(got[0].code == d.code);
    }
    assert!(first * 10 >= tried * 9, "first for {first} of {tried}");
}
