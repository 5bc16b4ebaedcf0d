//! SLA clocks: a target in business time of a calendar (calendar minutes are
//! business minutes of [`Calendar::always_open`]), paused while the case
//! waits for the customer, stopped when the promise is kept.

use crate::FieldError;
use crate::calendar::{Calendar, CalendarError};
use crate::case::vocabulary;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use std::fmt;

vocabulary!(
    /// Where a clock stands, as lists filter and sort by it.
    SlaState, "sla" {
        Ok = "ok",
        Warning = "warning",
        Breached = "breached",
        Paused = "paused",
        Met = "met",
    }
);

/// A span the clock did not run: `until` is `None` while it is paused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    pub from: Timestamp,
    pub until: Option<Timestamp>,
}

/// One promise's clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clock {
    pub started_at: Timestamp,
    /// Business time allowed.
    pub target: SignedDuration,
    /// In order, none overlapping, all after the start.
    pub pauses: Vec<Pause>,
    /// When the promise was kept (the answer sent, the case resolved).
    pub stopped_at: Option<Timestamp>,
}

impl Clock {
    pub fn start(at: Timestamp, target: SignedDuration) -> Clock {
        Clock {
            started_at: at,
            target,
            pauses: Vec::new(),
            stopped_at: None,
        }
    }

    pub fn is_paused(&self) -> bool {
        self.pauses.last().is_some_and(|p| p.until.is_none())
    }

    /// Pauses the clock at `at` (the case waits for the customer); a paused
    /// or stopped clock is left as it is.
    pub fn pause(&mut self, at: Timestamp) {
        if !self.is_paused() && self.stopped_at.is_none() {
            let at = at.max(self.started_at);
            self.pauses.push(Pause {
                from: at,
                until: None,
            });
        }
    }

    /// Runs the clock again from `at` (the customer replied).
    pub fn resume(&mut self, at: Timestamp) {
        if let Some(p) = self.pauses.last_mut().filter(|p| p.until.is_none()) {
            p.until = Some(at.max(p.from));
        }
    }

    /// Stops the clock at `at`: the promise is kept. Stopping twice keeps
    /// the first.
    pub fn stop(&mut self, at: Timestamp) {
        if self.stopped_at.is_none() {
            self.resume(at);
            self.stopped_at = Some(at.max(self.started_at));
        }
    }

    /// The business time the clock has run by `now`.
    pub fn used(
        &self,
        calendar: &Calendar,
        now: Timestamp,
    ) -> Result<SignedDuration, CalendarError> {
        let end = self.stopped_at.map_or(now, |s| s.min(now));
        let mut used = calendar.elapsed(self.started_at, end)?;
        for p in &self.pauses {
            let until = p.until.unwrap_or(end).min(end);
            used -= calendar.elapsed(p.from, until)?;
        }
        Ok(used.max(SignedDuration::ZERO))
    }

    /// The instant the target is reached, counting the pauses so far;
    /// `None` while the clock is paused (it has no due instant then).
    pub fn due(&self, calendar: &Calendar) -> Result<Option<Timestamp>, CalendarError> {
        let (mut at, mut left) = (self.started_at, self.target);
        for p in &self.pauses {
            let before = calendar.elapsed(at, p.from)?;
            if before >= left {
                break;
            }
            left -= before;
            match p.until {
                Some(until) => at = until.max(at),
                None => return Ok(None),
            }
        }
        calendar.due_after(at, left).map(Some)
    }

    /// The instant `percent` of the target is used, counting the pauses so
    /// far; `None` while paused.
    pub fn warn_at(
        &self,
        calendar: &Calendar,
        percent: u8,
    ) -> Result<Option<Timestamp>, CalendarError> {
        let share = self.target.as_secs() * i64::from(percent) / 100;
        let early = Clock {
            target: SignedDuration::from_secs(share),
            ..self.clone()
        };
        early.due(calendar)
    }

    /// The clock's state at `now`; `warning` once `warn_percent` of the
    /// target is used.
    pub fn state(
        &self,
        calendar: &Calendar,
        now: Timestamp,
        warn_percent: u8,
    ) -> Result<SlaState, CalendarError> {
        let due = self.due(calendar)?;
        if let Some(stopped) = self.stopped_at {
            let late = due.is_some_and(|d| stopped > d);
            return Ok(if late {
                SlaState::Breached
            } else {
                SlaState::Met
            });
        }
        if due.is_some_and(|d| now >= d) {
            return Ok(SlaState::Breached);
        }
        if self.is_paused() {
            return Ok(SlaState::Paused);
        }
        let used = self.used(calendar, now)?.as_secs() as i128;
        let warn = self.target.as_secs() as i128 * i128::from(warn_percent) / 100;
        Ok(if used >= warn {
            SlaState::Warning
        } else {
            SlaState::Ok
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::CalendarSpec;

    fn office() -> Calendar {
        let week = ["mon", "tue", "wed", "thu", "fri"].map(|d| {
            (
                d.to_string(),
                vec!["09:00-12:00".to_string(), "13:00-18:00".to_string()],
            )
        });
        Calendar::parse(&CalendarSpec {
            timezone: "Asia/Shanghai".into(),
            hours: week.into_iter().collect(),
            exceptions: Default::default(),
        })
        .unwrap()
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn mins(n: i64) -> SignedDuration {
        SignedDuration::from_mins(n)
    }

    #[test]
    fn a_clock_through_its_states() {
        let c = office();
        // Four business hours from Monday 09:00: due 14:00 (lunch is closed).
        let mut clock = Clock::start(at("2026-11-02T09:00:00+08:00"), mins(240));
        let due = |clock: &Clock| clock.due(&c).unwrap();
        let state = |clock: &Clock, t: &str| clock.state(&c, at(t), 80).unwrap();
        assert_eq!(due(&clock), Some(at("2026-11-02T14:00:00+08:00")));
        assert_eq!(
            clock.warn_at(&c, 80).unwrap(),
            Some(at("2026-11-02T13:12:00+08:00"))
        );
        assert_eq!(state(&clock, "2026-11-02T11:00:00+08:00"), SlaState::Ok);
        assert_eq!(
            state(&clock, "2026-11-02T13:12:00+08:00"),
            SlaState::Warning
        );
        // Waiting for the customer from 10:00 to 17:00: seven hours on the
        // wall, six of them business hours, add six to the due instant.
        clock.pause(at("2026-11-02T10:00:00+08:00"));
        assert_eq!(due(&clock), None);
        assert_eq!(state(&clock, "2026-11-02T15:00:00+08:00"), SlaState::Paused);
        clock.resume(at("2026-11-02T17:00:00+08:00"));
        assert_eq!(due(&clock), Some(at("2026-11-03T11:00:00+08:00")));
        assert_eq!(
            clock.used(&c, at("2026-11-03T09:00:00+08:00")).unwrap(),
            mins(120)
        );
        assert_eq!(
            state(&clock, "2026-11-03T11:00:00+08:00"),
            SlaState::Breached
        );
        // Answered in time, the clock is met for good.
        let mut answered = clock.clone();
        answered.stop(at("2026-11-03T10:59:00+08:00"));
        assert_eq!(state(&answered, "2026-11-09T00:00:00+08:00"), SlaState::Met);
        answered.stop(at("2026-11-04T10:00:00+08:00"));
        assert_eq!(answered.stopped_at, Some(at("2026-11-03T10:59:00+08:00")));
        // Answered late, it stays breached.
        clock.stop(at("2026-11-03T11:30:00+08:00"));
        assert_eq!(
            state(&clock, "2026-11-09T00:00:00+08:00"),
            SlaState::Breached
        );
        // A zero target is due at its start.
        let now = Clock::start(at("2026-11-07T20:00:00+08:00"), mins(0));
        assert_eq!(due(&now), Some(at("2026-11-07T20:00:00+08:00")));
    }

    /// Pausing and resuming adds exactly the paused business time, on a
    /// business calendar and on the wall clock alike.
    #[test]
    fn a_pause_adds_exactly_its_span() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut below = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n) as i64
        };
        let year = at("2026-01-01T00:00:00Z").as_second();
        for c in [office(), Calendar::always_open()] {
            for _ in 0..300 {
                let start = Timestamp::from_second(year + below(300 * 86_400)).unwrap();
                let target = mins(1 + below(3_000));
                let clock = Clock::start(start, target);
                let plain = clock.due(&c).unwrap().unwrap();
                // A pause that begins before the clock would be due.
                let span = plain.as_second() - start.as_second();
                let from =
                    Timestamp::from_second(start.as_second() + below(span.max(1) as u64)).unwrap();
                let until = Timestamp::from_second(from.as_second() + below(10 * 86_400)).unwrap();
                let mut paused = clock.clone();
                paused.pause(from);
                paused.resume(until);
                let due = paused.due(&c).unwrap().unwrap();
                let pause = c.elapsed(from, until).unwrap();
                assert_eq!(
                    c.elapsed(plain, due).unwrap(),
                    pause,
                    "{start} + {target}, paused {from} to {until}"
                );
                assert_eq!(paused.used(&c, due).unwrap(), target);
                if c == Calendar::always_open() {
                    assert_eq!(due.duration_since(plain), until.duration_since(from));
                }
            }
        }
    }
}
