//! Public holidays from an iCalendar (RFC 5545) feed: each event's days
//! become holidays, or make-up working days (调休) when its summary says so,
//! as Chinese holiday feeds mark them ("国庆节 补班").

use crate::FieldError;
use jiff::ToSpan;
use jiff::civil::Date;
use std::collections::BTreeSet;

/// An event longer than this is not a holiday (a feed's "term time" or a
/// typing mistake) and is refused rather than closing a month.
const MAX_EVENT_DAYS: i32 = 31;

/// The days a feed names, each list sorted and without repeats.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedDays {
    pub holidays: Vec<Date>,
    pub workdays: Vec<Date>,
}

/// Words in an event's summary that make its days working days.
const WORKDAY_WORDS: [&str; 4] = ["补班", "上班", "workday", "working day"];

pub fn read(text: &str) -> Result<FeedDays, FieldError> {
    let lines = unfold(text);
    if !lines
        .iter()
        .any(|l| l.eq_ignore_ascii_case("BEGIN:VCALENDAR"))
    {
        return Err(FieldError::new(
            "ics",
            "is not an iCalendar file (no BEGIN:VCALENDAR)",
        ));
    }
    let (mut holidays, mut workdays) = (BTreeSet::new(), BTreeSet::new());
    let mut event: Option<Event> = None;
    for (n, line) in lines.iter().enumerate() {
        let (name, value) = match line.split_once(':') {
            Some((head, value)) => (head.split(';').next().unwrap_or(head), value),
            None => continue,
        };
        let at = |reason: &str| FieldError::new(format!("ics.line[{}]", n + 1), reason);
        match (name.to_ascii_uppercase().as_str(), &mut event) {
            ("BEGIN", None) if value.eq_ignore_ascii_case("VEVENT") => {
                event = Some(Event::default());
            }
            ("END", Some(e)) if value.eq_ignore_ascii_case("VEVENT") => {
                let start = e.start.ok_or_else(|| at("an event has no DTSTART"))?;
                // DTEND of a whole-day event is the day after its last.
                let end = e.end.unwrap_or(
                    start
                        .tomorrow()
                        .map_err(|_| at("DTSTART is out of range"))?,
                );
                let days = start
                    .until(end)
                    .map_err(|_| at("DTEND is out of range"))?
                    .get_days();
                if days > MAX_EVENT_DAYS {
                    return Err(at("an event longer than 31 days is not a holiday"));
                }
                let working = WORKDAY_WORDS
                    .iter()
                    .any(|w| e.summary.to_lowercase().contains(w));
                for i in 0..days.max(1) {
                    let d = start
                        .checked_add(i.days())
                        .map_err(|_| at("a date is out of range"))?;
                    if working {
                        workdays.insert(d);
                    } else {
                        holidays.insert(d);
                    }
                }
                event = None;
            }
            ("DTSTART", Some(e)) => {
                e.start = Some(date(value).ok_or_else(|| at("DTSTART is not a date"))?)
            }
            ("DTEND", Some(e)) => {
                e.end = Some(date(value).ok_or_else(|| at("DTEND is not a date"))?)
            }
            ("SUMMARY", Some(e)) => e.summary = value.to_string(),
            _ => {}
        }
    }
    // A day that is both (two feeds merged) counts as the working day it was moved to.
    holidays.retain(|d| !workdays.contains(d));
    Ok(FeedDays {
        holidays: holidays.into_iter().collect(),
        workdays: workdays.into_iter().collect(),
    })
}

#[derive(Default)]
struct Event {
    start: Option<Date>,
    end: Option<Date>,
    summary: String,
}

/// Joins continuation lines (a line break followed by a space or tab).
fn unfold(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for raw in text.split('\n') {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        match (line.strip_prefix([' ', '\t']), out.last_mut()) {
            (Some(rest), Some(last)) => last.push_str(rest),
            _ => out.push(line.trim().to_string()),
        }
    }
    out
}

/// `20261001` or `20261001T090000[Z]`: the date part.
fn date(value: &str) -> Option<Date> {
    let d = value.trim().get(..8)?;
    if !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (y, m, day) = (
        d[..4].parse().ok()?,
        d[4..6].parse().ok()?,
        d[6..8].parse().ok()?,
    );
    Date::new(y, m, day).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chinese_holiday_feed() {
        let feed = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//holidays//CN\r\n\
            BEGIN:VEVENT\r\nUID:1\r\nDTSTART;VALUE=DATE:20261001\r\nDTEND;VALUE=DATE:20261008\r\n\
            SUMMARY:国庆节 假期\r\nEND:VEVENT\r\n\
            BEGIN:VEVENT\r\nUID:2\r\nDTSTART;VALUE=DATE:20261010\r\nDTEND;VALUE=DATE:20261011\r\n\
            SUMMARY:国庆节 补班\r\nEND:VEVENT\r\n\
            BEGIN:VEVENT\r\nUID:3\r\nDTSTART:20260101T000000Z\r\n\
            SUMMARY:New Year's\r\n  Day\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let days = read(feed).unwrap();
        let d = |s: &str| -> Date { s.parse().unwrap() };
        let mut want: Vec<Date> = (1..=7).map(|i| d(&format!("2026-10-0{i}"))).collect();
        want.insert(0, d("2026-01-01"));
        assert_eq!(days.holidays, want);
        assert_eq!(days.workdays, vec![d("2026-10-10")]);
    }

    #[test]
    fn bad_feeds_name_the_line() {
        let cases = [
            ("hello", "ics"),
            (
                "BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:x\nEND:VEVENT\n",
                "ics.line[4]",
            ),
            (
                "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:2026-10-01\n",
                "ics.line[3]",
            ),
            (
                "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20260101\nDTEND:20260301\nEND:VEVENT\n",
                "ics.line[5]",
            ),
        ];
        for (text, field) in cases {
            assert_eq!(read(text).unwrap_err().field, field, "{text}");
        }
    }
}
