//! Calls reported by the center's own PBX through the CTI event API: the
//! events, how each moves a call along, and the figures calls give (the
//! formulas the simulator reports, so a live wallboard and a simulated day
//! are read the same way).

use crate::FieldError;
use crate::case::vocabulary;
use crate::simulate::Figures;
use serde::{Deserialize, Serialize};
use std::fmt;

vocabulary!(
    /// What the PBX tells about a call.
    CallEvent, "event" {
        New = "new",
        Answered = "answered",
        Hangup = "hangup",
        Transferred = "transferred",
        Recording = "recording",
    }
);

vocabulary!(
    CallState, "state" {
        Ringing = "ringing",
        Answered = "answered",
        Ended = "ended",
    }
);

vocabulary!(
    CallDirection, "direction" {
        Inbound = "inbound",
        Outbound = "outbound",
    }
);

vocabulary!(
    /// How the agent closes a call in the wrap-up form: the matter settled
    /// (the case is resolved), or more work needed (it stays open).
    CallResult, "result" {
        Resolved = "resolved",
        InProgress = "in_progress",
    }
);

/// What an event does to a call in `state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The call moves to this state (and the event's fields are written).
    To(CallState),
    /// Already done: a PBX repeating itself changes nothing.
    Repeat,
}

/// Moves a call along. `None` is a call not seen before: any event but a
/// recording starts it (a lost "new" must not lose the call).
pub fn step(state: Option<CallState>, event: CallEvent) -> Result<Step, FieldError> {
    use CallEvent as E;
    use CallState as S;
    let late = || FieldError::new("event", "the call has already ended");
    Ok(match (state, event) {
        (None, E::New | E::Transferred) => Step::To(S::Ringing),
        (None, E::Answered) => Step::To(S::Answered),
        (None, E::Hangup) => Step::To(S::Ended),
        (None, E::Recording) => {
            return Err(FieldError::new("call_id", "no call with this id"));
        }
        (Some(_), E::New) => Step::Repeat,
        (Some(S::Ringing), E::Answered) => Step::To(S::Answered),
        (Some(S::Answered), E::Answered) => Step::Repeat,
        (Some(S::Ended), E::Answered | E::Transferred) => return Err(late()),
        (Some(s), E::Transferred) => Step::To(s),
        (Some(S::Ended), E::Hangup) => Step::Repeat,
        (Some(_), E::Hangup) => Step::To(S::Ended),
        (Some(s), E::Recording) => Step::To(s),
    })
}

/// The longest talk a hang-up may report: a day.
pub const TALK_MAX_SECS: i64 = 86_400;

/// When a call was answered, now that the hang-up at `ended` reports the
/// seconds talked. The PBX's own count wins over the moment its "answered"
/// event reached us, and recovers one that never did; no talk leaves the
/// answer as it was. Never before the call began.
pub fn answered_by_talk(
    started: jiff::Timestamp,
    answered: Option<jiff::Timestamp>,
    ended: jiff::Timestamp,
    talk_secs: i64,
) -> Option<jiff::Timestamp> {
    if talk_secs <= 0 {
        return answered;
    }
    let at = ended
        .checked_sub(jiff::SignedDuration::from_secs(talk_secs))
        .unwrap_or(started);
    Some(at.max(started))
}

/// The largest recording the PBX may send as a file: an hour of 8 kHz
/// 16-bit WAV is 58 MB.
pub const RECORDING_MAX_BYTES: usize = 64 * 1024 * 1024;

/// A recording the PBX sends as a file, checked: its media type (audio,
/// lower-cased, without parameters) and its file name, the PBX's or one made
/// from the call's id and the type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingFile {
    pub content_type: String,
    pub filename: String,
}

impl RecordingFile {
    pub fn parse(
        call_ref: &str,
        content_type: Option<&str>,
        filename: Option<&str>,
        len: usize,
    ) -> Result<RecordingFile, FieldError> {
        if len == 0 {
            return Err(FieldError::new("body", "must hold the recording"));
        }
        if len > RECORDING_MAX_BYTES {
            return Err(FieldError::new("body", "must be at most 64 MB"));
        }
        let kind = content_type
            .and_then(|t| t.split(';').next())
            .map(|t| t.trim().to_ascii_lowercase())
            .unwrap_or_default();
        let sub = kind.strip_prefix("audio/").unwrap_or_default();
        if sub.is_empty()
            || !sub
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        {
            return Err(FieldError::new(
                "content_type",
                "must be an audio type, such as audio/wav or audio/mpeg",
            ));
        }
        let filename = match filename.map(str::trim).filter(|n| !n.is_empty()) {
            Some(n) => {
                if n.chars().count() > 200
                    || n.chars().any(|c| c.is_control() || c == '/' || c == '\\')
                    || n.starts_with('.')
                {
                    return Err(FieldError::new(
                        "filename",
                        "must be a plain file name of at most 200 characters",
                    ));
                }
                n.to_string()
            }
            None => {
                let ext = match sub {
                    "wav" | "x-wav" | "wave" | "vnd.wave" => "wav",
                    "mpeg" | "mp3" => "mp3",
                    "ogg" | "opus" => "ogg",
                    "gsm" | "x-gsm" => "gsm",
                    other => other,
                };
                let base: String = call_ref
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || c == '-' {
                            c
                        } else {
                            '_'
                        }
                    })
                    .collect();
                format!("recording-{base}.{ext}")
            }
        };
        Ok(RecordingFile {
            content_type: kind,
            filename,
        })
    }
}

/// One call's times, in milliseconds, as the figures need them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallTimes {
    pub direction: CallDirection,
    pub started: i64,
    pub answered: Option<i64>,
    pub ended: Option<i64>,
}

impl Figures {
    /// Counts one call at `now`. Only inbound calls that have stopped waiting
    /// are offered (answered or abandoned); a ringing call is waiting now.
    /// Talk time runs to the hang-up, or to `now` for a call in progress.
    pub fn count_call(&mut self, c: &CallTimes, threshold_secs: u32, now: i64) {
        if c.direction != CallDirection::Inbound {
            return;
        }
        let secs = |ms: i64| ms.max(0) as f64 / 1000.0;
        match (c.answered, c.ended) {
            (Some(a), end) => {
                self.offered += 1;
                self.answered += 1;
                let wait = a - c.started;
                if wait > 0 {
                    self.waited += 1;
                }
                if wait <= i64::from(threshold_secs) * 1000 {
                    self.answered_within += 1;
                }
                self.wait_answered_secs += secs(wait);
                self.wait_all_secs += secs(wait);
                self.busy_secs += secs(end.unwrap_or(now) - a);
            }
            (None, Some(e)) => {
                self.offered += 1;
                self.abandoned += 1;
                self.waited += 1;
                self.wait_all_secs += secs(e - c.started);
            }
            (None, None) => {}
        }
    }

    /// Average handle time: talk per answered call.
    pub fn aht_secs(&self) -> f64 {
        if self.answered > 0 {
            self.busy_secs / self.answered as f64
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CallEvent as E;
    use CallState as S;

    #[test]
    fn the_talk_a_hang_up_reports_dates_the_answer() {
        let t = |s: &str| -> jiff::Timestamp { s.parse().unwrap() };
        let (start, end) = (t("2026-12-01T08:00:00Z"), t("2026-12-01T08:05:00Z"));
        let heard = Some(t("2026-12-01T08:00:30Z"));
        let cases = [
            (None, 95, Some(t("2026-12-01T08:03:25Z"))),
            (heard, 270, Some(t("2026-12-01T08:00:30Z"))),
            (heard, 250, Some(t("2026-12-01T08:00:50Z"))),
            (heard, 0, heard),
            (None, 0, None),
            (None, 9_999, Some(start)),
        ];
        for (answered, talk, want) in cases {
            assert_eq!(
                answered_by_talk(start, answered, end, talk),
                want,
                "{answered:?} {talk}"
            );
        }
    }

    #[test]
    fn a_recording_file_is_audio_with_a_plain_name() {
        let ok = |t: &str, n: &str| {
            Ok(RecordingFile {
                content_type: t.into(),
                filename: n.into(),
            })
        };
        let cases = [
            (
                "1700.1",
                Some("audio/wav"),
                None,
                10,
                ok("audio/wav", "recording-1700_1.wav"),
            ),
            (
                "a",
                Some("Audio/MPEG; bitrate=32"),
                None,
                10,
                ok("audio/mpeg", "recording-a.mp3"),
            ),
            (
                "a",
                Some("audio/ogg"),
                Some(" 王伟 来电.ogg "),
                10,
                ok("audio/ogg", "王伟 来电.ogg"),
            ),
            (
                "a",
                Some("audio/x-flac"),
                None,
                10,
                ok("audio/x-flac", "recording-a.x-flac"),
            ),
            ("a", Some("audio/wav"), None, 0, Err("body")),
            (
                "a",
                Some("audio/wav"),
                None,
                RECORDING_MAX_BYTES + 1,
                Err("body"),
            ),
            ("a", None, None, 10, Err("content_type")),
            (
                "a",
                Some("application/octet-stream"),
                None,
                10,
                Err("content_type"),
            ),
            ("a", Some("audio/"), None, 10, Err("content_type")),
            (
                "a",
                Some("audio/wav"),
                Some("../etc/passwd"),
                10,
                Err("filename"),
            ),
            ("a", Some("audio/wav"), Some(".hidden"), 10, Err("filename")),
            (
                "a",
                Some("audio/wav"),
                Some("a\nb.wav"),
                10,
                Err("filename"),
            ),
        ];
        for (call, kind, name, len, want) in cases {
            let got = RecordingFile::parse(call, kind, name, len).map_err(|e| e.field);
            assert_eq!(got, want.map_err(String::from), "{kind:?} {name:?} {len}");
        }
    }

    #[test]
    fn events_move_a_call_and_repeats_change_nothing() {
        let cases = [
            (None, E::New, Ok(Step::To(S::Ringing))),
            (None, E::Answered, Ok(Step::To(S::Answered))),
            (None, E::Hangup, Ok(Step::To(S::Ended))),
            (None, E::Recording, Err("call_id")),
            (Some(S::Ringing), E::New, Ok(Step::Repeat)),
            (Some(S::Ringing), E::Answered, Ok(Step::To(S::Answered))),
            (Some(S::Answered), E::Answered, Ok(Step::Repeat)),
            (Some(S::Answered), E::Transferred, Ok(Step::To(S::Answered))),
            (Some(S::Ringing), E::Hangup, Ok(Step::To(S::Ended))),
            (Some(S::Ended), E::Hangup, Ok(Step::Repeat)),
            (Some(S::Ended), E::Answered, Err("event")),
            (Some(S::Ended), E::Transferred, Err("event")),
            (Some(S::Ended), E::Recording, Ok(Step::To(S::Ended))),
        ];
        for (state, event, want) in cases {
            let got = step(state, event).map_err(|e| e.field);
            assert_eq!(got, want.map_err(String::from), "{state:?} + {event:?}");
        }
    }

    #[test]
    fn calls_give_service_level_asa_abandonment_and_aht() {
        let s = 1000;
        let inbound = |answered: Option<i64>, ended: Option<i64>| CallTimes {
            direction: CallDirection::Inbound,
            started: 0,
            answered,
            ended,
        };
        let calls = [
            inbound(Some(10 * s), Some(190 * s)), // answered in 10 s, 3 min talk
            inbound(Some(30 * s), Some(90 * s)),  // answered in 30 s, 1 min talk
            inbound(None, Some(45 * s)),          // gave up after 45 s
            inbound(None, None),                  // still ringing: not offered yet
            CallTimes {
                direction: CallDirection::Outbound,
                ..inbound(Some(5 * s), Some(65 * s))
            },
        ];
        let mut f = Figures::default();
        for c in &calls {
            f.count_call(c, 20, 1_000 * s);
        }
        assert_eq!((f.offered, f.answered, f.abandoned), (3, 2, 1));
        assert_eq!(f.answered_within, 1);
        assert!((f.sl_offered() - 1.0 / 3.0).abs() < 1e-9);
        assert!((f.asa_secs() - 20.0).abs() < 1e-9);
        assert!((f.abandon_rate() - 1.0 / 3.0).abs() < 1e-9);
        assert!((f.aht_secs() - 120.0).abs() < 1e-9);
        // A call in progress counts its talk so far.
        let mut live = Figures::default();
        live.count_call(&inbound(Some(0), None), 20, 50 * s);
        assert!((live.busy_secs - 50.0).abs() < 1e-9);
    }
}
