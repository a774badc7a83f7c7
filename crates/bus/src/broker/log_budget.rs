//! A budget for the broker's per-message warnings: a flood of refused publishes, logins or
//! dropped messages would otherwise write one log line per message (the ingress flood bench
//! measured 22 MB of log in 30 s). Each kind of warning may log [`PER_WINDOW`] lines per
//! [`WINDOW`]; the rest are counted, and the first line of the next window says how many
//! were not logged.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a budget lasts.
pub const WINDOW: Duration = Duration::from_secs(10);
/// Lines logged one by one per window and kind.
pub const PER_WINDOW: u32 = 20;

/// One kind of warning's budget.
pub struct LogBudget {
    state: Mutex<State>,
}

struct State {
    opened: Instant,
    logged: u32,
    suppressed: u64,
}

/// What to do with one more warning.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Log it; `suppressed` lines of this kind were not logged in the window before.
    Log { suppressed: u64 },
    /// Count it only.
    Quiet,
}

impl Default for LogBudget {
    fn default() -> Self {
        LogBudget {
            state: Mutex::new(State {
                opened: Instant::now(),
                logged: 0,
                suppressed: 0,
            }),
        }
    }
}

impl LogBudget {
    /// Whether one more warning at `now` is logged.
    pub fn take(&self, now: Instant) -> Verdict {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let mut carried = 0;
        if now.duration_since(s.opened) >= WINDOW {
            carried = std::mem::take(&mut s.suppressed);
            s.opened = now;
            s.logged = 0;
        }
        if s.logged < PER_WINDOW {
            s.logged += 1;
            Verdict::Log {
                suppressed: carried,
            }
        } else {
            s.suppressed += 1;
            Verdict::Quiet
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_logs_a_few_lines_and_then_says_how_many_were_not_logged() {
        let budget = LogBudget::default();
        let t0 = Instant::now();
        let logged = (0..10_000)
            .filter(|_| budget.take(t0) != Verdict::Quiet)
            .count();
        assert_eq!(logged, PER_WINDOW as usize);
        assert_eq!(
            budget.take(t0 + WINDOW),
            Verdict::Log {
                suppressed: 10_000 - u64::from(PER_WINDOW)
            }
        );
        assert_eq!(
            budget.take(t0 + WINDOW),
            Verdict::Log { suppressed: 0 },
            "the count is told once"
        );
    }
}
