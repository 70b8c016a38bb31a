//! A small calendar date: the core never reads a clock, so "today" is a value the caller
//! passes in, and birth dates are checked against it.

use std::fmt;

/// A proleptic Gregorian calendar date that is known to exist (no 30 February).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i32,
    month: u32,
    day: u32,
}

impl Date {
    /// The date, or `None` when it does not exist in the calendar.
    pub fn new(year: i32, month: u32, day: u32) -> Option<Date> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Date { year, month, day })
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn month(self) -> u32 {
        self.month
    }

    pub fn day(self) -> u32 {
        self.day
    }

    /// Whole years from `self` (a birth date) to `today`; 0 when `today` is earlier.
    ///
    /// Someone born on 29 February turns a year older on 1 March in common years, which
    /// is how the age is counted by the civil registry.
    pub fn years_until(self, today: Date) -> u32 {
        if today <= self {
            return 0;
        }
        let mut years = today.year - self.year;
        if (today.month, today.day) < (self.month, self.day) {
            years -= 1;
        }
        u32::try_from(years).unwrap_or(0)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Gregorian leap years: every 4th, except centuries not divisible by 400.
pub fn is_leap_year(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Days in `month` (1-12) of `year`; 0 for a month outside 1-12.
pub fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_table() {
        let cases = [
            ((2000, 2, 29), true),
            ((1900, 2, 29), false),
            ((2024, 2, 29), true),
            ((2023, 2, 29), false),
            ((2023, 4, 31), false),
            ((2023, 12, 31), true),
            ((2023, 13, 1), false),
            ((2023, 0, 1), false),
            ((2023, 1, 0), false),
        ];
        for ((y, m, d), ok) in cases {
            assert_eq!(Date::new(y, m, d).is_some(), ok, "{y}-{m}-{d}");
        }
    }

    #[test]
    fn ages() {
        let d = |y, m, dd| Date::new(y, m, dd).unwrap();
        assert_eq!(d(1990, 3, 7).years_until(d(2026, 3, 6)), 35);
        assert_eq!(d(1990, 3, 7).years_until(d(2026, 3, 7)), 36);
        assert_eq!(d(2004, 2, 29).years_until(d(2022, 2, 28)), 17);
        assert_eq!(d(2004, 2, 29).years_until(d(2022, 3, 1)), 18);
        assert_eq!(d(2030, 1, 1).years_until(d(2026, 1, 1)), 0);
        assert_eq!(d(2026, 1, 1).to_string(), "2026-01-01");
    }
}
