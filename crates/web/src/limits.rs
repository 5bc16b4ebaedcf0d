//! Per-address rate limits for what anyone may do without an account: the
//! portal's form, replies and search. A fixed window per address and action,
//! in memory: a restart forgets them, which costs a flood a minute at most.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What is limited, how many times, and per how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// "Contact us" forms sent.
    Contact,
    /// Answers on a case's private page.
    Reply,
    /// Portal searches.
    Search,
}

impl Action {
    fn allowance(self) -> (u32, Duration) {
        match self {
            Action::Contact => (5, Duration::from_secs(600)),
            Action::Reply => (20, Duration::from_secs(600)),
            Action::Search => (30, Duration::from_secs(60)),
        }
    }
}

/// Past this many addresses, windows that ended are swept.
const SWEEP_AT: usize = 10_000;

#[derive(Default)]
pub struct RateLimits {
    windows: Mutex<HashMap<(IpAddr, Action), (Instant, u32)>>,
}

impl RateLimits {
    /// Counts one `action` from `addr` at `now`; `Err` holds how long until
    /// it is allowed again.
    pub fn check(&self, addr: IpAddr, action: Action, now: Instant) -> Result<(), Duration> {
        let (most, per) = action.allowance();
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() >= SWEEP_AT {
            windows.retain(|(_, a), (start, _)| now.duration_since(*start) < a.allowance().1);
        }
        let (start, count) = windows.entry((addr, action)).or_insert((now, 0));
        if now.duration_since(*start) >= per {
            *start = now;
            *count = 0;
        }
        if *count >= most {
            return Err(per.saturating_sub(now.duration_since(*start)));
        }
        *count += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_has_its_own_window() {
        let limits = RateLimits::default();
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let t0 = Instant::now();
        for _ in 0..5 {
            assert!(limits.check(a, Action::Contact, t0).is_ok());
        }
        let wait = limits.check(a, Action::Contact, t0 + Duration::from_secs(60));
        assert_eq!(wait, Err(Duration::from_secs(540)));
        assert!(
            limits.check(b, Action::Contact, t0).is_ok(),
            "another address"
        );
        assert!(
            limits.check(a, Action::Search, t0).is_ok(),
            "another action"
        );
        assert!(
            limits
                .check(a, Action::Contact, t0 + Duration::from_secs(600))
                .is_ok(),
            "a new window"
        );
    }
}
