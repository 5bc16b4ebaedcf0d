//! Business calendars: when a line is open, and the two sums every SLA clock
//! rests on: the instant N business minutes after a start (`due`), and the
//! business time between two instants (`elapsed`).
//!
//! Opening hours are local times in the calendar's time zone, turned into
//! instants date by date, so a day that daylight-saving time shortens or
//! lengthens counts the hours it really has. A span whose end is not after
//! its start runs past midnight into the next day (a night line).

use crate::error::FieldError;
use jiff::civil::{Date, DateTime, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// How far ahead a sum looks for open time before it gives up: a calendar
/// closed for longer than this has no due instant.
const HORIZON_DAYS: i32 = 3 * 366;

const DAYS: [(&str, Weekday); 7] = [
    ("mon", Weekday::Monday),
    ("tue", Weekday::Tuesday),
    ("wed", Weekday::Wednesday),
    ("thu", Weekday::Thursday),
    ("fri", Weekday::Friday),
    ("sat", Weekday::Saturday),
    ("sun", Weekday::Sunday),
];

/// A calendar as written (TOML file, API, store): checked by [`Calendar::parse`].
///
/// ```toml
/// timezone = "Asia/Shanghai"
/// [hours]
/// mon = ["07:45-12:00", "13:00-18:00"]   # also tue … sun; a missing day is closed
/// [exceptions]
/// holidays = ["2026-10-01", "2026-10-02"]
/// workdays = ["2026-10-10"]               # make-up working days
/// [exceptions.hours]                      # a date's own hours
/// "2026-12-24" = ["09:00-12:00"]
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarSpec {
    pub timezone: String,
    #[serde(default)]
    pub hours: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub exceptions: ExceptionsSpec,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExceptionsSpec {
    #[serde(default)]
    pub holidays: Vec<String>,
    /// Make-up working days (调休): open with a normal weekday's hours.
    #[serde(default)]
    pub workdays: Vec<String>,
    /// Dates with hours of their own (a short day, a make-up day's hours).
    #[serde(default)]
    pub hours: BTreeMap<String, Vec<String>>,
}

/// Opening hours within a day: minutes after local midnight. `end` is at
/// most 24:00; an `end` not after `start` is on the next day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Span {
    start: u16,
    end: u16,
}

impl Span {
    /// `HH:MM-HH:MM`, e.g. `07:45-12:00`, `00:00-24:00`, `22:00-06:00`.
    fn parse(text: &str) -> Option<Span> {
        let (a, b) = text.trim().split_once('-')?;
        let (start, end) = (minute_of_day(a)?, minute_of_day(b)?);
        (start < 24 * 60 && start != end).then_some(Span { start, end })
    }
}

fn minute_of_day(text: &str) -> Option<u16> {
    let (h, m) = text.trim().split_once(':')?;
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    let at = h * 60 + m;
    (m < 60 && at <= 24 * 60).then_some(at)
}

/// A checked business calendar.
#[derive(Debug, Clone, PartialEq)]
pub struct Calendar {
    tz: TimeZone,
    /// Monday first.
    week: [Vec<Span>; 7],
    holidays: BTreeSet<Date>,
    workdays: BTreeSet<Date>,
    own_hours: BTreeMap<Date, Vec<Span>>,
    /// Open all day every day: business time is time on the wall clock,
    /// summed without walking the days (and without their horizon).
    wall: bool,
}

/// A sum that has no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("the calendar has no open time within {HORIZON_DAYS} days of {0}")]
    NeverOpen(Timestamp),
    #[error("the instant {0} is out of the calendar's range")]
    OutOfRange(String),
}

impl Calendar {
    pub fn parse(spec: &CalendarSpec) -> Result<Calendar, FieldError> {
        let tz = TimeZone::get(spec.timezone.trim())
            .map_err(|_| FieldError::new("timezone", "is not a known time zone"))?;
        let mut week: [Vec<Span>; 7] = Default::default();
        for (day, hours) in &spec.hours {
            let Some(i) = DAYS.iter().position(|(name, _)| name == day) else {
                return Err(FieldError::new(
                    format!("hours.{day}"),
                    "is not a day: use mon, tue, wed, thu, fri, sat or sun",
                ));
            };
            week[i] = spans(&format!("hours.{day}"), hours)?;
        }
        let dates = |field: &str, list: &[String]| -> Result<BTreeSet<Date>, FieldError> {
            list.iter()
                .enumerate()
                .map(|(i, d)| {
                    date(d).ok_or_else(|| {
                        FieldError::new(format!("{field}[{i}]"), "must be a date YYYY-MM-DD")
                    })
                })
                .collect()
        };
        let holidays = dates("exceptions.holidays", &spec.exceptions.holidays)?;
        let workdays = dates("exceptions.workdays", &spec.exceptions.workdays)?;
        if let Some(both) = holidays.intersection(&workdays).next() {
            return Err(FieldError::new(
                "exceptions.workdays",
                format!("{both} is a holiday too"),
            ));
        }
        let mut own_hours = BTreeMap::new();
        for (d, hours) in &spec.exceptions.hours {
            let field = format!("exceptions.hours.{d}");
            let at = date(d).ok_or_else(|| FieldError::new(&field, "must be a date YYYY-MM-DD"))?;
            own_hours.insert(at, spans(&field, hours)?);
        }
        if week.iter().all(Vec::is_empty) {
            return Err(FieldError::new("hours", "no day of the week is open"));
        }
        let all_day = [Span {
            start: 0,
            end: 24 * 60,
        }];
        let wall = week.iter().all(|d| d.as_slice() == all_day)
            && holidays.is_empty()
            && own_hours.is_empty();
        Ok(Calendar {
            tz,
            week,
            holidays,
            workdays,
            wall,
            own_hours,
        })
    }

    /// Open every hour of every day, in UTC: business minutes are then
    /// calendar minutes.
    pub fn always_open() -> Calendar {
        let all = vec![Span {
            start: 0,
            end: 24 * 60,
        }];
        Calendar {
            tz: TimeZone::UTC,
            week: std::array::from_fn(|_| all.clone()),
            holidays: BTreeSet::new(),
            workdays: BTreeSet::new(),
            own_hours: BTreeMap::new(),
            wall: true,
        }
    }

    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    /// An instant as the calendar's wall clocks show it (RFC 3339 with offset).
    pub fn show(&self, t: Timestamp) -> String {
        t.to_zoned(self.tz.clone())
            .strftime("%Y-%m-%dT%H:%M:%S%:z")
            .to_string()
    }

    /// The hours a date is open: its own hours, else none on a holiday, a
    /// normal weekday's on a make-up day, else its weekday's.
    fn hours_on(&self, d: Date) -> &[Span] {
        if let Some(own) = self.own_hours.get(&d) {
            return own;
        }
        if self.holidays.contains(&d) {
            return &[];
        }
        if self.workdays.contains(&d) {
            // The first day of the week, from Monday, that is open.
            return self
                .week
                .iter()
                .find(|s| !s.is_empty())
                .map_or(&[], Vec::as_slice);
        }
        &self.week[d.weekday().to_monday_zero_offset() as usize]
    }

    /// The open intervals that end after `from`, in order and disjoint,
    /// clipped to start no earlier than `from`, for up to [`HORIZON_DAYS`].
    fn open_from(
        &self,
        from: Timestamp,
    ) -> impl Iterator<Item = Result<(Timestamp, Timestamp), CalendarError>> + '_ {
        let first = from.to_zoned(self.tz.clone()).date();
        // The day before too: its night span may still be open.
        let days = (-1..HORIZON_DAYS).filter_map(move |i| first.checked_add(i.days()).ok());
        let mut cursor = from;
        days.flat_map(move |d| self.hours_on(d).iter().map(move |s| (d, *s)))
            .filter_map(move |(d, span)| {
                let (start, end) = match self.instants(d, span) {
                    Ok(x) => x,
                    Err(e) => return Some(Err(e)),
                };
                let start = start.max(cursor);
                if end <= start {
                    return None;
                }
                cursor = end;
                Some(Ok((start, end)))
            })
    }

    fn instants(&self, d: Date, span: Span) -> Result<(Timestamp, Timestamp), CalendarError> {
        let end_day = if span.end <= span.start { 1 } else { 0 };
        Ok((
            self.local(d, span.start, 0)?,
            self.local(d, span.end, end_day)?,
        ))
    }

    /// The instant of local `minute` on `d` plus `days` (24:00 is the next
    /// midnight); a time that daylight-saving skips counts as the instant
    /// after the gap.
    fn local(&self, d: Date, minute: u16, days: i32) -> Result<Timestamp, CalendarError> {
        let out = |_| CalendarError::OutOfRange(d.to_string());
        let day = d
            .checked_add((days + i32::from(minute / (24 * 60))).days())
            .map_err(out)?;
        let minute = minute % (24 * 60);
        let at = DateTime::from_parts(
            day,
            jiff::civil::time((minute / 60) as i8, (minute % 60) as i8, 0, 0),
        );
        Ok(at.to_zoned(self.tz.clone()).map_err(out)?.timestamp())
    }

    /// The instant `minutes` business minutes after `start`. A zero target
    /// is due at once, even in closed time; otherwise the due instant is in
    /// open time or at the end of an open span.
    pub fn due(&self, start: Timestamp, minutes: i64) -> Result<Timestamp, CalendarError> {
        self.due_after(start, SignedDuration::from_mins(minutes))
    }

    /// As [`Calendar::due`], for business time of any length.
    pub fn due_after(
        &self,
        start: Timestamp,
        time: SignedDuration,
    ) -> Result<Timestamp, CalendarError> {
        if time <= SignedDuration::ZERO {
            return Ok(start);
        }
        if self.wall {
            return start
                .checked_add(time)
                .map_err(|e| CalendarError::OutOfRange(e.to_string()));
        }
        let mut left = time;
        for interval in self.open_from(start) {
            let (a, b) = interval?;
            let here = b.duration_since(a);
            if left <= here {
                return a
                    .checked_add(left)
                    .map_err(|e| CalendarError::OutOfRange(e.to_string()));
            }
            left -= here;
        }
        Err(CalendarError::NeverOpen(start))
    }

    /// The business time from `from` to `to` (zero when `to` is not later).
    pub fn elapsed(&self, from: Timestamp, to: Timestamp) -> Result<SignedDuration, CalendarError> {
        let mut sum = SignedDuration::ZERO;
        if to <= from {
            return Ok(sum);
        }
        if self.wall {
            return Ok(to.duration_since(from));
        }
        for interval in self.open_from(from) {
            let (a, b) = interval?;
            if a >= to {
                return Ok(sum);
            }
            sum += b.min(to).duration_since(a);
            if b >= to {
                return Ok(sum);
            }
        }
        Ok(sum)
    }

    /// The first instant from `t` on when the line is open.
    pub fn next_open(&self, t: Timestamp) -> Result<Timestamp, CalendarError> {
        match self.open_from(t).next() {
            Some(interval) => interval.map(|(a, _)| a),
            None => Err(CalendarError::NeverOpen(t)),
        }
    }

    /// Whether the line is open at `t`.
    pub fn is_open(&self, t: Timestamp) -> bool {
        match self.open_from(t).next() {
            Some(Ok((a, _))) => a == t,
            _ => false,
        }
    }
}

fn spans(field: &str, list: &[String]) -> Result<Vec<Span>, FieldError> {
    let mut out = list
        .iter()
        .enumerate()
        .map(|(i, s)| {
            Span::parse(s).ok_or_else(|| {
                FieldError::new(
                    format!("{field}[{i}]"),
                    "must be HH:MM-HH:MM, e.g. 09:00-18:00",
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    out.sort();
    Ok(out)
}

fn date(text: &str) -> Option<Date> {
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cal(text: &str) -> Calendar {
        Calendar::parse(&toml::from_str(text).unwrap()).unwrap()
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    /// Office hours with a lunch break, and a year of holidays and make-up
    /// days shaped like China's 2026 schedule.
    const SHANGHAI: &str = r#"
        timezone = "Asia/Shanghai"
        [hours]
        mon = ["09:00-12:00", "13:00-18:00"]
        tue = ["09:00-12:00", "13:00-18:00"]
        wed = ["09:00-12:00", "13:00-18:00"]
        thu = ["09:00-12:00", "13:00-18:00"]
        fri = ["13:00-18:00", "09:00-12:00"]
        [exceptions]
        holidays = ["2026-01-01", "2026-01-02", "2026-01-03", "2026-02-15", "2026-02-16",
            "2026-02-17", "2026-02-18", "2026-02-19", "2026-02-20", "2026-02-21", "2026-02-22",
            "2026-02-23", "2026-04-04", "2026-04-05", "2026-04-06", "2026-05-01", "2026-05-02",
            "2026-05-03", "2026-05-04", "2026-05-05", "2026-06-19", "2026-06-20", "2026-06-21",
            "2026-09-25", "2026-09-26", "2026-09-27", "2026-10-01", "2026-10-02", "2026-10-03",
            "2026-10-04", "2026-10-05", "2026-10-06", "2026-10-07", "2027-01-01"]
        workdays = ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20",
            "2026-10-10"]
        [exceptions.hours]
        "2026-12-24" = ["09:00-12:00"]
    "#;

    /// A 24-hour rescue line.
    const ALWAYS: &str = r#"
        timezone = "Asia/Shanghai"
        [hours]
        mon = ["00:00-24:00"]
        tue = ["00:00-24:00"]
        wed = ["00:00-24:00"]
        thu = ["00:00-24:00"]
        fri = ["00:00-24:00"]
        sat = ["00:00-24:00"]
        sun = ["00:00-24:00"]
    "#;

    /// A night line: every span runs past midnight.
    const NIGHTS: &str = r#"
        timezone = "Asia/Shanghai"
        [hours]
        mon = ["20:00-02:00"]
        tue = ["20:00-02:00"]
        wed = ["20:00-02:00"]
        thu = ["20:00-02:00"]
        fri = ["20:00-02:00"]
    "#;

    /// Weekdays, and all Sunday, where daylight-saving time changes.
    const BERLIN: &str = r#"
        timezone = "Europe/Berlin"
        [hours]
        mon = ["08:00-20:00"]
        tue = ["08:00-20:00"]
        wed = ["08:00-20:00"]
        thu = ["08:00-20:00"]
        fri = ["08:00-20:00"]
        sun = ["00:00-24:00"]
    "#;

    #[test]
    fn due_instants() {
        for (calendar, start, minutes, due) in [
            // Over a holiday weekend (Mid-Autumn).
            (
                SHANGHAI,
                "2026-09-24T17:00:00+08:00",
                120,
                "2026-09-28T10:00:00+08:00",
            ),
            // Onto a make-up Sunday, with a normal weekday's hours.
            (
                SHANGHAI,
                "2026-09-18T17:30:00+08:00",
                60,
                "2026-09-20T09:30:00+08:00",
            ),
            // Over the National Day week.
            (
                SHANGHAI,
                "2026-09-30T17:30:00+08:00",
                60,
                "2026-10-08T09:30:00+08:00",
            ),
            // From closing time onto a make-up Saturday.
            (
                SHANGHAI,
                "2026-10-09T18:00:00+08:00",
                30,
                "2026-10-10T09:30:00+08:00",
            ),
            // Over lunch.
            (
                SHANGHAI,
                "2026-11-02T11:30:00+08:00",
                60,
                "2026-11-02T13:30:00+08:00",
            ),
            // From closed time.
            (
                SHANGHAI,
                "2026-11-07T20:00:00+08:00",
                1,
                "2026-11-09T09:01:00+08:00",
            ),
            // A zero target is due at once, even when closed.
            (
                SHANGHAI,
                "2026-11-07T20:00:00+08:00",
                0,
                "2026-11-07T20:00:00+08:00",
            ),
            // A whole day ends at closing time, not the next morning.
            (
                SHANGHAI,
                "2026-11-02T09:00:00+08:00",
                480,
                "2026-11-02T18:00:00+08:00",
            ),
            (
                SHANGHAI,
                "2026-11-02T09:00:00+08:00",
                481,
                "2026-11-03T09:01:00+08:00",
            ),
            (
                SHANGHAI,
                "2026-11-02T09:00:00+08:00",
                5 * 480,
                "2026-11-06T18:00:00+08:00",
            ),
            // A short day of its own hours.
            (
                SHANGHAI,
                "2026-12-24T11:00:00+08:00",
                120,
                "2026-12-25T10:00:00+08:00",
            ),
            // Across the end of the year, over New Year's Day and a weekend.
            (
                SHANGHAI,
                "2026-12-31T17:00:00+08:00",
                120,
                "2027-01-04T10:00:00+08:00",
            ),
            (
                ALWAYS,
                "2026-12-31T23:30:00+08:00",
                90,
                "2027-01-01T01:00:00+08:00",
            ),
            // Night spans past midnight, from inside yesterday's span too.
            (
                NIGHTS,
                "2026-11-02T23:00:00+08:00",
                240,
                "2026-11-03T21:00:00+08:00",
            ),
            (
                NIGHTS,
                "2026-11-03T01:00:00+08:00",
                30,
                "2026-11-03T01:30:00+08:00",
            ),
            // Saturday 01:00 is still Friday night.
            (
                NIGHTS,
                "2026-11-07T01:00:00+08:00",
                90,
                "2026-11-09T20:30:00+08:00",
            ),
            // The Sunday that loses an hour has 23 of them.
            (
                BERLIN,
                "2026-03-29T00:00:00+01:00",
                180,
                "2026-03-29T04:00:00+02:00",
            ),
            (
                BERLIN,
                "2026-03-29T00:00:00+01:00",
                1380,
                "2026-03-30T00:00:00+02:00",
            ),
            (
                BERLIN,
                "2026-03-29T00:00:00+01:00",
                1381,
                "2026-03-30T08:01:00+02:00",
            ),
            // The Sunday that gains one has 25.
            (
                BERLIN,
                "2026-10-25T00:00:00+02:00",
                1500,
                "2026-10-26T00:00:00+01:00",
            ),
            (
                BERLIN,
                "2026-10-23T19:00:00+02:00",
                120,
                "2026-10-25T01:00:00+02:00",
            ),
        ] {
            let got = cal(calendar).due(at(start), minutes).unwrap();
            assert_eq!(got, at(due), "{start} + {minutes} min");
        }
    }

    #[test]
    fn elapsed_business_time() {
        for (calendar, from, to, minutes) in [
            (
                SHANGHAI,
                "2026-09-24T17:00:00+08:00",
                "2026-09-28T10:00:00+08:00",
                120,
            ),
            (
                SHANGHAI,
                "2026-10-01T00:00:00+08:00",
                "2026-10-08T00:00:00+08:00",
                0,
            ),
            (
                SHANGHAI,
                "2026-11-02T08:00:00+08:00",
                "2026-11-02T20:00:00+08:00",
                480,
            ),
            (
                SHANGHAI,
                "2026-11-02T20:00:00+08:00",
                "2026-11-02T08:00:00+08:00",
                0,
            ),
            (
                SHANGHAI,
                "2026-12-31T00:00:00+08:00",
                "2027-01-05T00:00:00+08:00",
                960,
            ),
            (
                NIGHTS,
                "2026-11-02T00:00:00+08:00",
                "2026-11-03T00:00:00+08:00",
                240,
            ),
            (
                BERLIN,
                "2026-10-25T00:00:00+02:00",
                "2026-10-26T00:00:00+01:00",
                1500,
            ),
            (
                BERLIN,
                "2026-03-29T00:00:00+01:00",
                "2026-03-30T00:00:00+02:00",
                1380,
            ),
        ] {
            let got = cal(calendar).elapsed(at(from), at(to)).unwrap();
            assert_eq!(got, SignedDuration::from_mins(minutes), "{from} to {to}");
        }
    }

    #[test]
    fn bad_calendars_name_the_field() {
        for (text, field) in [
            (r#"timezone = "Mars/Olympus""#, "timezone"),
            (
                "timezone = \"UTC\"\n[hours]\nmonday = [\"09:00-18:00\"]",
                "hours.monday",
            ),
            (
                "timezone = \"UTC\"\n[hours]\nmon = [\"09:00-18:00\", \"9-5\"]",
                "hours.mon[1]",
            ),
            (
                "timezone = \"UTC\"\n[hours]\nmon = [\"09:00-25:00\"]",
                "hours.mon[0]",
            ),
            (
                "timezone = \"UTC\"\n[hours]\nmon = [\"09:00-09:00\"]",
                "hours.mon[0]",
            ),
            ("timezone = \"UTC\"\n[hours]\nmon = []", "hours"),
            (
                "timezone = \"UTC\"\n[hours]\nmon = [\"09:00-18:00\"]\n[exceptions]\nholidays = [\"2026-02-30\"]",
                "exceptions.holidays[0]",
            ),
            (
                "timezone = \"UTC\"\n[hours]\nmon = [\"09:00-18:00\"]\n[exceptions]\nholidays = [\"2026-10-10\"]\nworkdays = [\"2026-10-10\"]",
                "exceptions.workdays",
            ),
        ] {
            let spec: CalendarSpec = toml::from_str(text).unwrap();
            assert_eq!(Calendar::parse(&spec).unwrap_err().field, field, "{text}");
        }
    }

    /// A small deterministic generator for the properties below.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    #[test]
    fn properties_of_due_and_elapsed() {
        let mut rng = Rng(0x5eed);
        let year = at("2026-01-01T00:00:00Z").as_second();
        for text in [SHANGHAI, ALWAYS, NIGHTS, BERLIN] {
            let c = cal(text);
            for _ in 0..400 {
                let start = Timestamp::from_second(year + rng.below(366 * 86_400) as i64).unwrap();
                let n = rng.below(6_000) as i64;
                let more = rng.below(3_000) as i64;
                let due = c.due(start, n).unwrap();
                if n > 0 {
                    let before = due.checked_sub(SignedDuration::from_secs(1)).unwrap();
                    assert!(
                        c.is_open(before),
                        "{start} + {n}: due {due} after closed time"
                    );
                }
                assert!(c.due(start, n + more).unwrap() >= due, "{start}: monotonic");
                assert_eq!(
                    c.elapsed(start, due).unwrap(),
                    SignedDuration::from_mins(n),
                    "{start} + {n}"
                );
            }
        }
    }
}
