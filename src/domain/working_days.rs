//! Working days (ngày làm việc): Monday to Friday, less Vietnam's public holidays (ngày nghỉ lễ,
//! tết: Labour Code 2019 art. 112, lunar ones included) and their compensatory days (nghỉ bù,
//! art. 111.3). The register counts them for the notice of a suspension, given at least 3 working
//! days before it starts (SPEC §2.3, 422 `notice_too_short`).
//!
//! The holidays are the reference table `data/holidays_vn.csv` (2020–2035, source and conventions
//! in `data/README.md`), embedded in the binary. Outside those years only Saturdays and Sundays
//! are days off: the table says nothing there, and a guess would be worse than a known gap.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;
use std::sync::OnceLock;

use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::Deserialize;

/// The years the holiday table covers; outside them only weekends are days off.
pub const HOLIDAY_YEARS: RangeInclusive<i32> = 2020..=2035;

const HOLIDAYS_CSV: &str = include_str!("../../data/holidays_vn.csv");

/// One day off in the holiday table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holiday {
    pub date: NaiveDate,
    /// The name in Vietnamese, e.g. `Tết Âm lịch (mùng 1)`, `Nghỉ bù Giỗ Tổ Hùng Vương`.
    pub name_vi: String,
    pub name_en: String,
    /// A nghỉ bù day (art. 111.3): taken for a holiday that fell on a Saturday or Sunday.
    pub compensatory: bool,
}

#[derive(Deserialize)]
struct Row {
    date: NaiveDate,
    name_vi: String,
    name_en: String,
    rule: String,
}

/// Parses the table, in its order; an unknown `rule` is an error (the generator writes four).
fn parse(csv_text: &str) -> Result<Vec<Holiday>, String> {
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    reader
        .deserialize::<Row>()
        .map(|row| {
            let row = row.map_err(|e| e.to_string())?;
            let compensatory = match row.rule.as_str() {
                "compensatory" => true,
                "fixed" | "lunar" | "national_day_adjacent" => false,
                other => return Err(format!("{}: unknown rule {other:?}", row.date)),
            };
            Ok(Holiday { date: row.date, name_vi: row.name_vi, name_en: row.name_en, compensatory })
        })
        .collect()
}

fn table() -> &'static BTreeMap<NaiveDate, Holiday> {
    static TABLE: OnceLock<BTreeMap<NaiveDate, Holiday>> = OnceLock::new();
    TABLE.get_or_init(|| {
        parse(HOLIDAYS_CSV).expect("the embedded holiday table parses").into_iter().map(|h| (h.date, h)).collect()
    })
}

fn is_weekend(day: NaiveDate) -> bool {
    matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The holiday (or compensatory day) on `day`, if the table has one. A holiday on a weekend is
/// listed too (its nghỉ bù is the next working day, its own row).
pub fn holiday(day: NaiveDate) -> Option<&'static Holiday> {
    table().get(&day)
}

/// Monday to Friday and not a holiday. Outside [`HOLIDAY_YEARS`] every weekday is a working day.
pub fn is_working_day(day: NaiveDate) -> bool {
    !is_weekend(day) && holiday(day).is_none()
}

/// The number of working days `d` with `notified_on <= d < starts_on` (0 when `starts_on` is not
/// after `notified_on`): the notice a suspension starting on `starts_on` was given.
pub fn working_days_before(notified_on: NaiveDate, starts_on: NaiveDate) -> u32 {
    if starts_on <= notified_on {
        return 0;
    }
    let holidays_on_weekdays =
        table().range(notified_on..starts_on).filter(|(day, _)| !is_weekend(**day)).count() as i64;
    let days = (starts_on - notified_on).num_days();
    // Whole weeks hold five weekdays each; the remaining days (fewer than 7) are counted one by one.
    let whole_weeks = days / 7;
    let tail_start = notified_on + Days::new(whole_weeks as u64 * 7);
    let tail = tail_start.iter_days().take((days % 7) as usize).filter(|d| !is_weekend(*d)).count() as i64;
    u32::try_from(whole_weeks * 5 + tail - holidays_on_weekdays).unwrap_or(u32::MAX)
}

/// The first date on which a suspension notified on `notified_on` may start: the first `S` with
/// `working_days_before(notified_on, S) >= notice_days`, i.e. the day after the `notice_days`-th
/// working day counted from `notified_on` itself. `notice_days == 0` gives `notified_on`.
/// The start itself may be any day, a weekend or a holiday included.
pub fn earliest_start(notified_on: NaiveDate, notice_days: u32) -> NaiveDate {
    if notice_days == 0 {
        return notified_on;
    }
    let mut counted = 0;
    let mut day = notified_on;
    loop {
        if is_working_day(day) {
            counted += 1;
        }
        let Some(next) = day.succ_opt() else { return NaiveDate::MAX };
        if counted == notice_days {
            return next;
        }
        day = next;
    }
}

/// Whether a suspension notified on `notified_on` and starting on `starts_on` had `notice_days`
/// working days of notice (SPEC §2.3: 3; otherwise 422 `notice_too_short`).
pub fn notice_given(notified_on: NaiveDate, starts_on: NaiveDate, notice_days: u32) -> bool {
    working_days_before(notified_on, starts_on) >= notice_days
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn rows() -> Vec<Holiday> {
        parse(HOLIDAYS_CSV).unwrap()
    }

    #[test]
    fn the_table_is_sorted_without_duplicate_dates() {
        let rows = rows();
        assert!(rows.windows(2).all(|w| w[0].date < w[1].date), "dates strictly increasing");
        assert_eq!(rows.first().unwrap().date, d("2020-01-01"));
        assert!(rows.iter().all(|h| HOLIDAY_YEARS.contains(&h.date.year())));
        assert_eq!(table().len(), rows.len());
    }

    #[test]
    fn every_year_has_its_holidays() {
        // Art. 112.1: 1 + 5 + 1 + 1 + 1 + 2 = 11 days; 2020 still under Labour Code 2012 art. 115,
        // whose Quốc khánh was one day.
        for year in HOLIDAY_YEARS {
            let of_year: Vec<_> = rows().into_iter().filter(|h| h.date.year() == year).collect();
            let holidays = of_year.iter().filter(|h| !h.compensatory).count();
            assert_eq!(holidays, if year == 2020 { 10 } else { 11 }, "{year}");
            // One nghỉ bù per holiday on a weekend, each on a weekday.
            let on_weekends = of_year.iter().filter(|h| !h.compensatory && is_weekend(h.date)).count();
            let compensatory: Vec<_> = of_year.iter().filter(|h| h.compensatory).collect();
            assert_eq!(compensatory.len(), on_weekends, "{year}");
            assert!(compensatory.iter().all(|h| !is_weekend(h.date)), "{year}");
        }
    }

    #[test]
    fn tet_falls_on_the_vietnamese_lunar_new_year() {
        for mung_1 in [
            "2020-01-25",
            "2021-02-12",
            "2022-02-01",
            "2023-01-22",
            "2024-02-10",
            "2025-01-29",
            "2026-02-17",
            "2027-02-06",
            "2028-01-26",
        ] {
            let h = holiday(d(mung_1)).unwrap_or_else(|| panic!("{mung_1}"));
            assert_eq!(h.name_vi, "Tết Âm lịch (mùng 1)", "{mung_1}");
        }
        // The new moon of 2030 falls at 23:07 in Hà Nội, 00:07 in Beijing: Tết is 2 February in
        // Vietnam (UTC+7), 3 February in the Chinese calendar (UTC+8).
        assert_eq!(holiday(d("2030-02-02")).unwrap().name_vi, "Tết Âm lịch (mùng 1)");
        assert_eq!(holiday(d("2030-02-03")).unwrap().name_vi, "Tết Âm lịch (mùng 2)");
        assert_eq!(holiday(d("2030-02-01")).unwrap().name_vi, "Tết Âm lịch (ngày cuối năm âm lịch)");
    }

    #[test]
    fn tet_2026_is_five_days_off() {
        for day in d("2026-02-16").iter_days().take(5) {
            assert!(!is_working_day(day), "{day}");
        }
        assert!(is_working_day(d("2026-02-13")), "Friday before Tết");
        assert!(is_working_day(d("2026-02-23")), "Monday after Tết");
    }

    #[test]
    fn gio_to_and_its_compensatory_day() {
        let gio_to_2025 = holiday(d("2025-04-07")).unwrap();
        assert_eq!((gio_to_2025.name_vi.as_str(), gio_to_2025.compensatory), ("Giỗ Tổ Hùng Vương", false));
        // Giỗ Tổ 2026 is a Sunday: Monday 27 April is off instead (art. 111.3).
        assert_eq!(d("2026-04-26").weekday(), Weekday::Sun);
        assert_eq!(holiday(d("2026-04-26")).unwrap().name_vi, "Giỗ Tổ Hùng Vương");
        assert!(holiday(d("2026-04-27")).unwrap().compensatory);
        assert!(!is_working_day(d("2026-04-27")));
        // 30/4 on a Saturday and 1/5 on a Sunday (2022): Monday and Tuesday are off.
        assert!(holiday(d("2022-05-02")).unwrap().compensatory);
        assert!(holiday(d("2022-05-03")).unwrap().compensatory);
        assert!(is_working_day(d("2022-05-04")));
    }

    #[test]
    fn national_day_has_its_adjacent_day() {
        // The days the Prime Minister chose: 2021 Thu+Fri, 2022 Thu+Fri, 2023 Fri+Sat (+ Mon nghỉ
        // bù), 2024 Mon+Tue, 2025 Mon+Tue.
        for day in ["2021-09-03", "2022-09-01", "2023-09-01", "2024-09-03", "2025-09-01"] {
            assert!(!is_working_day(d(day)), "{day}");
        }
        assert!(holiday(d("2023-09-04")).unwrap().compensatory);
        assert!(is_working_day(d("2020-09-03")) && is_working_day(d("2020-09-01")), "2020: one day");
        assert!(holiday(d("2021-09-01")).is_none() && holiday(d("2025-09-03")).is_none());
    }

    #[test]
    fn outside_the_table_only_weekends_are_off() {
        assert!(is_working_day(d("2019-01-01")), "a Tuesday before the table");
        assert!(is_working_day(d("2036-01-01")), "a Tuesday after the table");
        assert!(!is_working_day(d("2036-01-05")), "a Saturday");
        assert!(holiday(d("2036-01-01")).is_none());
    }

    #[test]
    fn three_working_days_of_notice() {
        // Notified on Monday: Monday, Tuesday, Wednesday are the 3 days; Thursday may start.
        let monday = d("2026-12-07");
        assert_eq!(earliest_start(monday, 3), d("2026-12-10"));
        assert!(notice_given(monday, d("2026-12-10"), 3));
        assert!(!notice_given(monday, d("2026-12-09"), 3));
        assert_eq!(working_days_before(monday, d("2026-12-09")), 2);
        // Notified on Saturday: the weekend does not count.
        assert_eq!(earliest_start(d("2026-12-05"), 3), d("2026-12-10"));
        assert_eq!(working_days_before(d("2026-12-05"), d("2026-12-09")), 2);
        // Across a weekend: Thursday, Friday, Monday.
        assert_eq!(earliest_start(d("2026-12-03"), 3), d("2026-12-08"));
    }

    #[test]
    fn notice_across_holidays() {
        // Tết 2026 (16–20 February): Thursday 12, Friday 13, then Monday 23.
        assert_eq!(earliest_start(d("2026-02-12"), 3), d("2026-02-24"));
        assert!(!notice_given(d("2026-02-12"), d("2026-02-23"), 3));
        // 30/4 and 1/5 2026 (Thursday, Friday): Wednesday 29, Monday 4, Tuesday 5.
        assert_eq!(earliest_start(d("2026-04-29"), 3), d("2026-05-06"));
        // Friday 24 April, the nghỉ bù Monday 27 skipped, Tuesday 28, Wednesday 29: may start on
        // 30 April, a holiday (the start need not be a working day).
        assert_eq!(earliest_start(d("2026-04-24"), 3), d("2026-04-30"));
    }

    #[test]
    fn counting_edges() {
        let day = d("2026-12-07");
        assert_eq!(working_days_before(day, day), 0);
        assert_eq!(working_days_before(day, d("2026-12-01")), 0);
        assert_eq!(earliest_start(day, 0), day);
        assert!(notice_given(day, day, 0));
        // 2026: 261 weekdays, less the 10 holidays on weekdays and the nghỉ bù of Giỗ Tổ (a Sunday).
        assert_eq!(working_days_before(d("2026-01-01"), d("2027-01-01")), 261 - 10 - 1);
    }

    #[test]
    fn counting_agrees_with_walking_day_by_day() {
        let naive = |from: NaiveDate, to: NaiveDate| {
            from.iter_days().take_while(|d| *d < to).filter(|d| is_working_day(*d)).count()
        };
        let mut from = d("2019-12-20");
        while from < d("2036-01-10") {
            for span in [1, 2, 6, 7, 8, 13, 30, 400] {
                let to = from + Days::new(span);
                assert_eq!(working_days_before(from, to) as usize, naive(from, to), "{from}..{to}");
            }
            for notice in 1..=5 {
                let start = earliest_start(from, notice);
                assert!(notice_given(from, start, notice), "{from} {notice}");
                assert!(!notice_given(from, start.pred_opt().unwrap(), notice), "{from} {notice}");
            }
            from = from + Days::new(3);
        }
    }

    #[test]
    fn an_unknown_rule_is_refused() {
        assert!(parse("date,name_vi,name_en,rule\n2026-01-01,x,y,guess\n").is_err());
    }
}
