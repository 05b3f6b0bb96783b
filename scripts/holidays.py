#!/usr/bin/env python3
"""Writes data/holidays_vn.csv: Vietnam's public holidays (days off), 2020-2035.

Standard library only, so that the file regenerates byte for byte anywhere:

    python3 scripts/holidays.py > data/holidays_vn.csv

Law: Labour Code 2019 (45/2019/QH14) art. 112.1 (the holidays), art. 112.3 (the Prime
Minister fixes the Tết and Quốc khánh days each year) and art. 111.3 (nghỉ bù: a holiday on the
weekly rest day is taken on the next working day). 2020 still fell under Labour Code 2012
(10/2012/QH13) art. 115: the same holidays but Quốc khánh one day (2 September) only.

Lunar dates: Hồ Ngọc Đức's published algorithm ("Thuật toán tính âm lịch", after Jean Meeus,
Astronomical Algorithms) with the time zone of Vietnam, UTC+7. The Chinese calendar (UTC+8)
differs from it in some years, so no Chinese-calendar package is used.

Conventions (data/README.md):
- Tết Âm lịch, 5 days: the last day of the lunar year (29 or 30 tháng Chạp) and mùng 1 to mùng 4.
- Quốc khánh, 2 days from 2021: 2 September and the adjacent day (1 or 3 September) that the
  Prime Minister chose in 2021-2025: 3/9 when 2/9 is a Monday, Thursday or Sunday; 1/9 when it is
  a Tuesday, Wednesday, Friday or Saturday (Wednesday: no precedent yet; 1/9 chosen).
- Weekends are Saturday and Sunday. Days swapped by the government for public servants (hoán đổi
  ngày làm việc) are not holidays in law and are not listed.
"""

import csv
import datetime as dt
import math
import sys

FIRST_YEAR, LAST_YEAR = 2020, 2035
TIME_ZONE = 7.0  # Vietnam, UTC+7


# --- Hồ Ngọc Đức's algorithm -------------------------------------------------------------------


def jd_from_date(dd, mm, yy):
    a = (14 - mm) // 12
    y = yy + 4800 - a
    m = mm + 12 * a - 3
    jd = dd + (153 * m + 2) // 5 + 365 * y + y // 4 - y // 100 + y // 400 - 32045
    if jd < 2299161:
        jd = dd + (153 * m + 2) // 5 + 365 * y + y // 4 - 32083
    return jd


def jd_to_date(jd):
    if jd > 2299160:
        a = jd + 32044
        b = (4 * a + 3) // 146097
        c = a - (b * 146097) // 4
    else:
        b = 0
        c = jd + 32082
    d = (4 * c + 3) // 1461
    e = c - (1461 * d) // 4
    m = (5 * e + 2) // 153
    day = e - (153 * m + 2) // 5 + 1
    month = m + 3 - 12 * (m // 10)
    year = b * 100 + d - 4800 + m // 10
    return dt.date(year, month, day)


def new_moon(k):
    """Julian day (UT) of the k-th new moon after 1900-01-01."""
    t = k / 1236.85
    t2 = t * t
    t3 = t2 * t
    dr = math.pi / 180
    jd1 = 2415020.75933 + 29.53058868 * k + 0.0001178 * t2 - 0.000000155 * t3
    jd1 += 0.00033 * math.sin((166.56 + 132.87 * t - 0.009173 * t2) * dr)
    m = 359.2242 + 29.10535608 * k - 0.0000333 * t2 - 0.00000347 * t3
    mpr = 306.0253 + 385.81691806 * k + 0.0107306 * t2 + 0.00001236 * t3
    f = 21.2964 + 390.67050646 * k - 0.0016528 * t2 - 0.00000239 * t3
    c1 = (0.1734 - 0.000393 * t) * math.sin(m * dr) + 0.0021 * math.sin(2 * dr * m)
    c1 = c1 - 0.4068 * math.sin(mpr * dr) + 0.0161 * math.sin(dr * 2 * mpr)
    c1 = c1 - 0.0004 * math.sin(dr * 3 * mpr)
    c1 = c1 + 0.0104 * math.sin(dr * 2 * f) - 0.0051 * math.sin(dr * (m + mpr))
    c1 = c1 - 0.0074 * math.sin(dr * (m - mpr)) + 0.0004 * math.sin(dr * (2 * f + m))
    c1 = c1 - 0.0004 * math.sin(dr * (2 * f - m)) - 0.0006 * math.sin(dr * (2 * f + mpr))
    c1 = c1 + 0.0010 * math.sin(dr * (2 * f - mpr)) + 0.0005 * math.sin(dr * (2 * mpr + m))
    if t < -11:
        deltat = 0.001 + 0.000839 * t + 0.0002261 * t2 - 0.00000845 * t3 - 0.000000081 * t * t3
    else:
        deltat = -0.000278 + 0.000265 * t + 0.000262 * t2
    return jd1 + c1 - deltat


def sun_longitude(jdn):
    """The sun's longitude in radians at Julian day jdn (UT), normalised to [0, 2π)."""
    t = (jdn - 2451545.0) / 36525
    t2 = t * t
    dr = math.pi / 180
    m = 357.52910 + 35999.05030 * t - 0.0001559 * t2 - 0.00000048 * t * t2
    l0 = 280.46645 + 36000.76983 * t + 0.0003032 * t2
    dl = (1.914600 - 0.004817 * t - 0.000014 * t2) * math.sin(dr * m)
    dl += (0.019993 - 0.000101 * t) * math.sin(dr * 2 * m) + 0.000290 * math.sin(dr * 3 * m)
    lon = (l0 + dl) * dr
    return lon - math.pi * 2 * math.floor(lon / (math.pi * 2))


def new_moon_day(k, tz):
    return math.floor(new_moon(k) + 0.5 + tz / 24)


def sun_longitude_sector(day_number, tz):
    """Which of the 12 major solar terms' sectors the sun is in at local midnight starting the day."""
    return math.floor(sun_longitude(day_number - 0.5 - tz / 24) / math.pi * 6)


def lunar_month_11(yy, tz):
    """The day number starting lunar month 11 (the month holding the winter solstice) before yy's end."""
    off = jd_from_date(31, 12, yy) - 2415021
    k = math.floor(off / 29.530588853)
    nm = new_moon_day(k, tz)
    if sun_longitude_sector(nm, tz) >= 9:
        nm = new_moon_day(k - 1, tz)
    return nm


def leap_month_offset(a11, tz):
    k = math.floor((a11 - 2415021.076998695) / 29.530588853 + 0.5)
    i = 1
    arc = sun_longitude_sector(new_moon_day(k + i, tz), tz)
    while True:
        last = arc
        i += 1
        arc = sun_longitude_sector(new_moon_day(k + i, tz), tz)
        if arc == last or i >= 14:
            break
    return i - 1


def lunar_to_solar(lunar_day, lunar_month, lunar_year, lunar_leap=False, tz=TIME_ZONE):
    if lunar_month < 11:
        a11 = lunar_month_11(lunar_year - 1, tz)
        b11 = lunar_month_11(lunar_year, tz)
    else:
        a11 = lunar_month_11(lunar_year, tz)
        b11 = lunar_month_11(lunar_year + 1, tz)
    k = math.floor(0.5 + (a11 - 2415021.076998695) / 29.530588853)
    off = lunar_month - 11
    if off < 0:
        off += 12
    if b11 - a11 > 365:
        leap_off = leap_month_offset(a11, tz)
        leap_month = leap_off - 2
        if leap_month < 0:
            leap_month += 12
        if lunar_leap and lunar_month != leap_month:
            raise ValueError("not a leap month")
        if lunar_leap or off >= leap_off:
            off += 1
    month_start = new_moon_day(k + off, tz)
    return jd_to_date(month_start + lunar_day - 1)


def tet(lunar_year, tz=TIME_ZONE):
    """Mùng 1 Tết of a lunar year (the year that begins in Gregorian lunar_year)."""
    return lunar_to_solar(1, 1, lunar_year, tz=tz)


# --- The holidays -----------------------------------------------------------------------------

ONE_DAY = dt.timedelta(days=1)
TET_DAYS = [
    ("Tết Âm lịch (ngày cuối năm âm lịch)", "Lunar New Year (last day of the lunar year)"),
    ("Tết Âm lịch (mùng 1)", "Lunar New Year (day 1)"),
    ("Tết Âm lịch (mùng 2)", "Lunar New Year (day 2)"),
    ("Tết Âm lịch (mùng 3)", "Lunar New Year (day 3)"),
    ("Tết Âm lịch (mùng 4)", "Lunar New Year (day 4)"),
]
# Monday = 0: the side of 2 September on which the second Quốc khánh day falls.
NATIONAL_DAY_SIDE = {0: +1, 1: -1, 2: -1, 3: +1, 4: -1, 5: -1, 6: +1}


def holidays_of(year):
    """(date, name_vi, name_en, rule) of the holidays of one year, before compensation."""
    days = [(dt.date(year, 1, 1), "Tết Dương lịch", "New Year's Day", "fixed")]
    first = tet(year)
    for i, (vi, en) in enumerate(TET_DAYS):
        days.append((first + (i - 1) * ONE_DAY, vi, en, "lunar"))
    days.append((lunar_to_solar(10, 3, year), "Giỗ Tổ Hùng Vương", "Hung Kings' Commemoration Day", "lunar"))
    days.append((dt.date(year, 4, 30), "Ngày Chiến thắng", "Reunification Day", "fixed"))
    days.append((dt.date(year, 5, 1), "Ngày Quốc tế Lao động", "International Labour Day", "fixed"))
    national_day = dt.date(year, 9, 2)
    days.append((national_day, "Quốc khánh", "National Day", "fixed"))
    if year >= 2021:  # Labour Code 2019 art. 112.1(đ); Labour Code 2012 art. 115 gave one day
        other = national_day + NATIONAL_DAY_SIDE[national_day.weekday()] * ONE_DAY
        days.append((other, "Quốc khánh (ngày liền kề)", "National Day (adjacent day)", "national_day_adjacent"))
    return sorted(days)


def with_compensatory(days):
    """Adds a nghỉ bù day (art. 111.3) for each holiday on a Saturday or Sunday: the next day that is
    neither a weekend day, a holiday nor already a compensatory day."""
    taken = {d for d, *_ in days}
    out = list(days)
    for d, vi, en, _ in days:
        if d.weekday() < 5:
            continue
        c = d + ONE_DAY
        while c.weekday() >= 5 or c in taken:
            c += ONE_DAY
        taken.add(c)
        out.append((c, f"Nghỉ bù {vi}", f"Compensatory day for {en}", "compensatory"))
    return sorted(out)


# Published first days of Tết (mùng 1) and Giỗ Tổ dates: the algorithm must give them. In 2030 the
# new moon falls at 23:07 in Hà Nội and 00:07 the next day in Beijing: Tết is 2 February in Vietnam
# and 3 February in China, the case for computing at UTC+7.
KNOWN_TET = ["2020-01-25", "2021-02-12", "2022-02-01", "2023-01-22", "2024-02-10", "2025-01-29",
             "2026-02-17", "2027-02-06", "2028-01-26", "2030-02-02"]
KNOWN_GIO_TO = ["2025-04-07", "2026-04-26"]


def check():
    for known in KNOWN_TET:
        d = dt.date.fromisoformat(known)
        assert tet(d.year) == d, (known, tet(d.year))
    for known in KNOWN_GIO_TO:
        d = dt.date.fromisoformat(known)
        assert lunar_to_solar(10, 3, d.year) == d, (known, lunar_to_solar(10, 3, d.year))
    assert tet(2030, tz=8.0) == dt.date(2030, 2, 3), "the Chinese calendar's Tết 2030"


def main():
    check()
    rows = []
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        rows.extend(with_compensatory(holidays_of(year)))
    assert len({d for d, *_ in rows}) == len(rows), "two holidays on one day"
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["date", "name_vi", "name_en", "rule"])
    for d, vi, en, rule in rows:
        writer.writerow([d.isoformat(), vi, en, rule])


if __name__ == "__main__":
    main()
