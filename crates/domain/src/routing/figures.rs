//! Today's figures of routed work for the wallboard, counted with the
//! simulator's [`Figures`] so a queue reads the same on the wall as in a
//! simulation.

use super::WorkKind;
use crate::simulate::Figures;

/// One work item's times, in milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct WorkTimes {
    pub kind: WorkKind,
    pub arrived: i64,
    /// When an agent first took it.
    pub assigned: Option<i64>,
    pub ended: Option<i64>,
    /// How it ended unanswered: `withdrawn` (the contact went away, or the
    /// case was dealt with outside routing), `callback` or `voicemail` (the
    /// queue's maximum wait or closed hours).
    pub outcome: Option<WorkEnd>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkEnd {
    Finished,
    Withdrawn,
    Expired,
}

impl WorkEnd {
    /// The outcome as the store records it.
    pub fn of(outcome: &str) -> WorkEnd {
        match outcome {
            "withdrawn" => WorkEnd::Withdrawn,
            "callback" | "voicemail" => WorkEnd::Expired,
            _ => WorkEnd::Finished,
        }
    }
}

impl WorkKind {
    /// How soon an agent should take the work for it to count within the
    /// service level: a caller on the line waits seconds, a chat a minute,
    /// a message an hour (its reply time is the SLA clock's business).
    pub fn answer_target_secs(self) -> u32 {
        match self {
            WorkKind::Call => 20,
            WorkKind::Chat => 60,
            _ => 3600,
        }
    }
}

impl Figures {
    /// Counts one work item at `now`. Work still waiting is not yet offered;
    /// a caller who left unanswered abandoned, but a message withdrawn
    /// unanswered was dealt with elsewhere (there is no abandoned e-mail),
    /// so it is not counted at all.
    pub fn count_work(&mut self, w: &WorkTimes, now: i64) {
        let secs = |ms: i64| ms.max(0) as f64 / 1000.0;
        match (w.assigned, w.ended, w.outcome) {
            (Some(a), end, _) => {
                self.offered += 1;
                self.answered += 1;
                let wait = a - w.arrived;
                if wait > 0 {
                    self.waited += 1;
                }
                if wait <= i64::from(w.kind.answer_target_secs()) * 1000 {
                    self.answered_within += 1;
                }
                self.wait_answered_secs += secs(wait);
                self.wait_all_secs += secs(wait);
                self.busy_secs += secs(end.unwrap_or(now) - a);
            }
            (None, Some(e), Some(WorkEnd::Expired)) => {
                self.offered += 1;
                self.expired += 1;
                self.waited += 1;
                self.wait_all_secs += secs(e - w.arrived);
            }
            (None, Some(e), _) if w.kind.live() || w.kind == WorkKind::Chat => {
                self.offered += 1;
                self.abandoned += 1;
                self.waited += 1;
                self.wait_all_secs += secs(e - w.arrived);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1000;

    fn w(
        kind: WorkKind,
        assigned: Option<i64>,
        ended: Option<i64>,
        end: Option<WorkEnd>,
    ) -> WorkTimes {
        WorkTimes {
            kind,
            arrived: 0,
            assigned,
            ended,
            outcome: end,
        }
    }

    #[test]
    fn routed_work_counts_by_its_kind() {
        use WorkEnd::*;
        use WorkKind::*;
        let items = [
            // (item, offered, answered, within, abandoned, expired)
            (
                w(Call, Some(10 * S), Some(70 * S), Some(Finished)),
                1,
                1,
                1,
                0,
                0,
            ),
            (w(Call, Some(30 * S), None, None), 1, 1, 0, 0, 0),
            (w(Call, None, Some(40 * S), Some(Withdrawn)), 1, 0, 0, 1, 0),
            (w(Call, None, Some(300 * S), Some(Expired)), 1, 0, 0, 0, 1),
            (w(Email, Some(1800 * S), None, None), 1, 1, 1, 0, 0),
            (w(Email, Some(7200 * S), None, None), 1, 1, 0, 0, 0),
            // Answered from the case list before routing reached it.
            (w(Email, None, Some(60 * S), Some(Withdrawn)), 0, 0, 0, 0, 0),
            (w(Chat, None, Some(60 * S), Some(Withdrawn)), 1, 0, 0, 1, 0),
            // Still waiting.
            (w(Call, None, None, None), 0, 0, 0, 0, 0),
        ];
        for (item, offered, answered, within, abandoned, expired) in items {
            let mut f = Figures::default();
            f.count_work(&item, 100 * S);
            assert_eq!(
                (
                    f.offered,
                    f.answered,
                    f.answered_within,
                    f.abandoned,
                    f.expired
                ),
                (offered, answered, within, abandoned, expired),
                "{item:?}"
            );
        }
        let mut f = Figures::default();
        for (item, ..) in &items[..3] {
            f.count_work(item, 100 * S);
        }
        assert!((f.asa_secs() - 20.0).abs() < 1e-9);
        assert!((f.sl_offered() - 1.0 / 3.0).abs() < 1e-9);
        // Talk runs to the end, or to now while the work is in hand.
        assert!((f.busy_secs - (60.0 + 70.0)).abs() < 1e-9);
    }
}
