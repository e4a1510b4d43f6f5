//! The per-process timers and the health rule, as pure decisions.
//!
//! A process's local history ([`Timeline`]) and the node's limits ([`Limits`], from
//! `config.hosting`) decide, at any instant, whether the supervisor must act
//! ([`Timeline::verdict`]) and whether the process counts as healthy ([`Timeline::health`]).
//! Rules (GameLift's, GAMELIFT.md §1.3, §1.4, §4.6):
//!
//! - no InitSDK (socket connect) within `sdk_init` of launch → kill,
//!   `SERVER_PROCESS_SDK_INITIALIZATION_TIMEOUT`;
//! - no ProcessReady within `ready` of InitSDK → kill, `SERVER_PROCESS_PROCESS_READY_TIMEOUT`;
//! - still running `exit` after ProcessEnding → kill, `SERVER_PROCESS_PROCESS_EXIT_TIMEOUT`;
//! - still running `grace` after a TerminateProcess push → kill (the code of why it was asked
//!   to end: `SERVER_PROCESS_TERMINATED_UNHEALTHY`, else `SERVER_PROCESS_FORCE_TERMINATED`);
//! - health: after ProcessReady, each unhealthy report and each missed report counts one
//!   "bad" interval, a healthy report resets the count; 3 consecutive bad intervals →
//!   terminate as unhealthy. A report is missed when none arrived for one interval plus a
//!   slack of half an interval (the SDK adds up to ±1/6 interval of jitter). The process is
//!   healthy while the count is 0.
//!
//! No clock is read here: callers pass `now`.

use std::time::{Duration, Instant};

/// Fleet event codes the supervisor records (GameLift's `EventCode` values).
pub mod code {
    /// Exit without ProcessEnding.
    pub const CRASHED: &str = "SERVER_PROCESS_CRASHED";
    /// No InitSDK in time.
    pub const SDK_INITIALIZATION_TIMEOUT: &str = "SERVER_PROCESS_SDK_INITIALIZATION_TIMEOUT";
    /// No ProcessReady in time.
    pub const PROCESS_READY_TIMEOUT: &str = "SERVER_PROCESS_PROCESS_READY_TIMEOUT";
    /// No exit in time after ProcessEnding.
    pub const PROCESS_EXIT_TIMEOUT: &str = "SERVER_PROCESS_PROCESS_EXIT_TIMEOUT";
    /// Terminated by the health rule.
    pub const TERMINATED_UNHEALTHY: &str = "SERVER_PROCESS_TERMINATED_UNHEALTHY";
    /// Did not exit in time after OnProcessTerminate.
    pub const FORCE_TERMINATED: &str = "SERVER_PROCESS_FORCE_TERMINATED";
    /// The launch path is missing or not executable.
    pub const INVALID_PATH: &str = "SERVER_PROCESS_INVALID_PATH";
}

/// Consecutive bad intervals that terminate a process.
pub const UNHEALTHY_AFTER: u32 = 3;

/// The node's timer settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Launch → InitSDK.
    pub sdk_init: Duration,
    /// InitSDK → ProcessReady.
    pub ready: Duration,
    /// ProcessEnding → exit.
    pub exit: Duration,
    /// TerminateProcess push → exit.
    pub grace: Duration,
    /// Expected heartbeat interval.
    pub health_interval: Duration,
}

/// Why the supervisor asked a process to end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndRequest {
    /// The health rule.
    Unhealthy,
    /// The fleet is no longer hosted here, or the runtime configuration changed.
    Retired,
    /// The node is shutting down.
    NodeShutdown,
}

/// What a process did, locally observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeline {
    /// When it was spawned.
    pub launched: Instant,
    /// First InitSDK (socket connect).
    pub connected: Option<Instant>,
    /// ProcessReady recorded.
    pub ready: Option<Instant>,
    /// ProcessEnding recorded.
    pub ending: Option<Instant>,
    /// The supervisor asked it to end (TerminateProcess push), and why.
    pub end_requested: Option<(Instant, EndRequest)>,
    /// The last heartbeat.
    pub last_report: Option<Instant>,
    /// Unhealthy reports since the last healthy one.
    pub unhealthy_reports: u32,
}

/// What the supervisor must do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// SIGKILL the process group; record `code` when it is gone.
    Kill(&'static str),
    /// Ask the process to end (TerminateProcess push) because it is unhealthy.
    TerminateUnhealthy,
}

/// The health rule's view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Health {
    /// No bad interval right now.
    pub healthy: bool,
    /// Consecutive bad intervals.
    pub bad: u32,
}

impl Timeline {
    /// A process spawned at `now`.
    pub fn new(now: Instant) -> Self {
        Timeline {
            launched: now,
            connected: None,
            ready: None,
            ending: None,
            end_requested: None,
            last_report: None,
            unhealthy_reports: 0,
        }
    }

    /// Records a heartbeat.
    pub fn report(&mut self, now: Instant, healthy: bool) {
        self.last_report = Some(now);
        if healthy {
            self.unhealthy_reports = 0;
        } else {
            self.unhealthy_reports += 1;
        }
    }

    /// The health rule (see the module docs). Before ProcessReady a process is healthy.
    pub fn health(&self, now: Instant, limits: &Limits) -> Health {
        let Some(ready) = self.ready else {
            return Health {
                healthy: true,
                bad: 0,
            };
        };
        let since = self.last_report.unwrap_or(ready).max(ready);
        let interval = limits.health_interval.max(Duration::from_millis(1));
        let silent = now.saturating_duration_since(since);
        let slack = interval / 2;
        // Report k (k >= 1) is missed once `silent > k * interval + slack`.
        let missed = if silent <= interval + slack {
            0
        } else {
            let (n, i) = ((silent - slack).as_nanos(), interval.as_nanos());
            u32::try_from(n.div_ceil(i) - 1).unwrap_or(u32::MAX)
        };
        let bad = self.unhealthy_reports.saturating_add(missed);
        Health {
            healthy: bad == 0,
            bad,
        }
    }

    /// What to do at `now`, if anything. Killing wins over terminating.
    pub fn verdict(&self, now: Instant, limits: &Limits) -> Option<Verdict> {
        let elapsed = |t: Instant| now.saturating_duration_since(t);
        if let Some(t) = self.ending {
            let code = match self.end_requested {
                Some((_, EndRequest::Unhealthy)) => code::TERMINATED_UNHEALTHY,
                _ => code::PROCESS_EXIT_TIMEOUT,
            };
            return (elapsed(t) > limits.exit).then_some(Verdict::Kill(code));
        }
        if let Some((t, why)) = self.end_requested {
            let code = match why {
                EndRequest::Unhealthy => code::TERMINATED_UNHEALTHY,
                EndRequest::Retired | EndRequest::NodeShutdown => code::FORCE_TERMINATED,
            };
            return (elapsed(t) > limits.grace).then_some(Verdict::Kill(code));
        }
        match (self.connected, self.ready) {
            (None, _) if elapsed(self.launched) > limits.sdk_init => {
                Some(Verdict::Kill(code::SDK_INITIALIZATION_TIMEOUT))
            }
            (Some(c), None) if elapsed(c) > limits.ready => {
                Some(Verdict::Kill(code::PROCESS_READY_TIMEOUT))
            }
            (_, Some(_)) if self.health(now, limits).bad >= UNHEALTHY_AFTER => {
                Some(Verdict::TerminateUnhealthy)
            }
            _ => None,
        }
    }

    /// The fleet event code for a process that exited by itself (not killed by a verdict):
    /// `TERMINATED_UNHEALTHY` when it was asked to end for its health (whether or not it then
    /// called ProcessEnding), none after ProcessEnding or when asked to end for retirement or
    /// shutdown, else `CRASHED`.
    pub fn exit_code(&self) -> Option<&'static str> {
        match (self.end_requested, self.ending) {
            (Some((_, EndRequest::Unhealthy)), _) => Some(code::TERMINATED_UNHEALTHY),
            (Some(_), _) | (None, Some(_)) => None,
            (None, None) => Some(code::CRASHED),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    fn limits() -> Limits {
        Limits {
            sdk_init: 10 * S,
            ready: 20 * S,
            exit: 5 * S,
            grace: 30 * S,
            health_interval: 6 * S,
        }
    }

    #[test]
    fn init_and_ready_timeouts() {
        let t0 = Instant::now();
        let mut t = Timeline::new(t0);
        assert_eq!(t.verdict(t0 + 10 * S, &limits()), None);
        assert_eq!(
            t.verdict(t0 + 11 * S, &limits()),
            Some(Verdict::Kill(code::SDK_INITIALIZATION_TIMEOUT))
        );
        t.connected = Some(t0 + 9 * S);
        assert_eq!(t.verdict(t0 + 29 * S, &limits()), None);
        assert_eq!(
            t.verdict(t0 + 30 * S, &limits()),
            Some(Verdict::Kill(code::PROCESS_READY_TIMEOUT))
        );
        t.ready = Some(t0 + 12 * S);
        assert_eq!(t.verdict(t0 + 13 * S, &limits()), None);
    }

    #[test]
    fn missed_and_unhealthy_reports_add_up_to_termination() {
        let t0 = Instant::now();
        let mut t = Timeline::new(t0);
        t.connected = Some(t0);
        t.ready = Some(t0);
        let l = limits();
        // Interval 6 s, slack 3 s: first miss after 9 s, then one per 6 s.
        assert_eq!(
            t.health(t0 + 9 * S, &l),
            Health {
                healthy: true,
                bad: 0
            }
        );
        assert_eq!(t.health(t0 + 10 * S, &l).bad, 1);
        assert_eq!(t.health(t0 + 16 * S, &l).bad, 2);
        assert_eq!(t.verdict(t0 + 21 * S, &l), None);
        assert_eq!(
            t.verdict(t0 + 22 * S, &l),
            Some(Verdict::TerminateUnhealthy)
        );

        t.report(t0 + 8 * S, false);
        t.report(t0 + 14 * S, false);
        assert_eq!(
            t.health(t0 + 15 * S, &l),
            Health {
                healthy: false,
                bad: 2
            }
        );
        assert_eq!(t.verdict(t0 + 15 * S, &l), None);
        t.report(t0 + 20 * S, false);
        assert_eq!(
            t.verdict(t0 + 20 * S, &l),
            Some(Verdict::TerminateUnhealthy)
        );
        t.report(t0 + 21 * S, true);
        assert_eq!(
            t.health(t0 + 22 * S, &l),
            Health {
                healthy: true,
                bad: 0
            }
        );
        // Two unhealthy reports, then silence: the miss is the third bad interval.
        t.report(t0 + 22 * S, false);
        t.report(t0 + 28 * S, false);
        assert_eq!(t.verdict(t0 + 37 * S, &l), None);
        assert_eq!(
            t.verdict(t0 + 38 * S, &l),
            Some(Verdict::TerminateUnhealthy)
        );
    }

    #[test]
    fn ending_and_termination_deadlines() {
        let t0 = Instant::now();
        let mut t = Timeline::new(t0);
        t.connected = Some(t0);
        t.ready = Some(t0);
        t.end_requested = Some((t0, EndRequest::Unhealthy));
        // Once asked to end, health no longer matters; the grace does.
        assert_eq!(t.verdict(t0 + 30 * S, &limits()), None);
        assert_eq!(
            t.verdict(t0 + 31 * S, &limits()),
            Some(Verdict::Kill(code::TERMINATED_UNHEALTHY))
        );
        assert_eq!(t.exit_code(), Some(code::TERMINATED_UNHEALTHY));
        t.end_requested = Some((t0, EndRequest::Retired));
        assert_eq!(
            t.verdict(t0 + 31 * S, &limits()),
            Some(Verdict::Kill(code::FORCE_TERMINATED))
        );
        assert_eq!(t.exit_code(), None);
        // ProcessEnding: the exit timer wins.
        t.ending = Some(t0 + 2 * S);
        assert_eq!(t.verdict(t0 + 7 * S, &limits()), None);
        assert_eq!(
            t.verdict(t0 + 8 * S, &limits()),
            Some(Verdict::Kill(code::PROCESS_EXIT_TIMEOUT))
        );
        assert_eq!(t.exit_code(), None);
        // An unhealthy process keeps its cause whatever it does next.
        t.end_requested = Some((t0, EndRequest::Unhealthy));
        assert_eq!(
            t.verdict(t0 + 8 * S, &limits()),
            Some(Verdict::Kill(code::TERMINATED_UNHEALTHY))
        );
        assert_eq!(t.exit_code(), Some(code::TERMINATED_UNHEALTHY));
        t.end_requested = None;
        assert_eq!(t.exit_code(), None);
    }

    #[test]
    fn exit_without_process_ending_is_a_crash() {
        let t = Timeline::new(Instant::now());
        assert_eq!(t.exit_code(), Some(code::CRASHED));
    }
}
