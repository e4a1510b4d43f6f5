//! The sequential model of one game session that the linearizability search runs operations
//! against (its rules are in the `checker` module docs). Pure: no history, no IO.
//!
//! The cluster changes a session's status on its own (activation, crashes); the model takes
//! such a change only when an operation needs it, and then the weakest one, so that every
//! state it keeps can still reach whatever the real session could.

use std::fmt;

use super::ops::norm;

/// A game session's status; `Absent` before it is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum Status {
    Absent,
    Activating,
    Active,
    Terminating,
    Terminated,
    Error,
}

impl Status {
    pub fn parse(s: &str) -> Option<Status> {
        Some(match norm(s).as_str() {
            "ACTIVATING" => Status::Activating,
            "ACTIVE" => Status::Active,
            "TERMINATING" => Status::Terminating,
            "TERMINATED" => Status::Terminated,
            "ERROR" => Status::Error,
            _ => return None,
        })
    }

    pub fn is_live(self) -> bool {
        matches!(
            self,
            Status::Activating | Status::Active | Status::Terminating
        )
    }

    pub fn is_ended(self) -> bool {
        matches!(self, Status::Terminated | Status::Error)
    }

    /// Whether the cluster can move a session from `self` to `to` on its own (or it is there).
    pub fn can_become(self, to: Status) -> bool {
        self == to
            || match self {
                Status::Activating => to != Status::Absent,
                Status::Active => {
                    matches!(to, Status::Terminating | Status::Terminated | Status::Error)
                }
                Status::Terminating => to.is_ended(),
                Status::Absent | Status::Terminated | Status::Error => false,
            }
    }

    fn as_str(self) -> &'static str {
        match self {
            Status::Absent => "absent",
            Status::Activating => "ACTIVATING",
            Status::Active => "ACTIVE",
            Status::Terminating => "TERMINATING",
            Status::Terminated => "TERMINATED",
            Status::Error => "ERROR",
        }
    }
}

/// PlayerSessionCreationPolicy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Policy {
    AcceptAll,
    DenyAll,
}

impl Policy {
    pub fn parse(s: &str) -> Option<Policy> {
        match norm(s).as_str() {
            "ACCEPTALL" => Some(Policy::AcceptAll),
            "DENYALL" => Some(Policy::DenyAll),
            _ => None,
        }
    }
}

/// A player session's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Ps {
    Reserved,
    Active,
    Completed,
    /// Never reached in the model (reservation timeouts are assumed off); only observed.
    Timedout,
}

impl Ps {
    pub fn parse(s: &str) -> Option<Ps> {
        Some(match norm(s).as_str() {
            "RESERVED" => Ps::Reserved,
            "ACTIVE" => Ps::Active,
            "COMPLETED" => Ps::Completed,
            "TIMEDOUT" => Ps::Timedout,
            _ => return None,
        })
    }

    pub fn holds_slot(self) -> bool {
        matches!(self, Ps::Reserved | Ps::Active)
    }
}

/// One operation as the model sees it. Player session ids are numbered per game session;
/// `named` means some ok `reserve_player` of this session returned the id (so it exists only
/// once that reservation has taken effect).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Step {
    /// An ok or info create (`max` from its args).
    Create {
        max: Option<i64>,
    },
    /// An ok reserve (`Some(id)`) or an info one that took effect (`None`: id unknown).
    Reserve {
        id: Option<u32>,
    },
    /// Fail GameSessionFull.
    ReserveFull,
    /// Fail InvalidGameSessionStatus of a reserve.
    ReserveRefused,
    /// Fail NotFound of any operation on the session.
    NotFound,
    Accept {
        id: u32,
        named: bool,
    },
    Remove {
        id: u32,
        named: bool,
    },
    Update {
        max: Option<i64>,
        policy: Option<Policy>,
    },
    Terminate {
        force: bool,
    },
    /// Fail InvalidGameSessionStatus of a terminate: the session had ended.
    TerminateRefused,
    Describe {
        status: Status,
        current: Option<i64>,
        max: Option<i64>,
        policy: Option<Policy>,
    },
    DescribePlayer {
        id: u32,
        named: bool,
        status: Ps,
    },
    /// The healed cluster's state, read after everything else.
    Final {
        status: Status,
        max: Option<i64>,
        held: i64,
        players: Vec<(u32, Ps)>,
    },
}

/// One game session.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct Model {
    pub status: Status,
    /// `None` when no create said it (a create without `max_players`).
    pub max: Option<i64>,
    pub policy: Policy,
    /// Slot-holding player sessions made by info reserves (their ids unknown).
    pub anon: u32,
    /// Known player sessions, sorted by id.
    pub players: Vec<(u32, Ps)>,
}

impl Model {
    pub fn absent() -> Model {
        Model {
            status: Status::Absent,
            max: None,
            policy: Policy::AcceptAll,
            anon: 0,
            players: Vec::new(),
        }
    }

    pub fn slots_used(&self) -> i64 {
        let known = self.players.iter().filter(|(_, p)| p.holds_slot()).count();
        i64::try_from(known)
            .unwrap_or(i64::MAX)
            .saturating_add(i64::from(self.anon))
    }

    fn player(&self, id: u32) -> Option<Ps> {
        self.players
            .binary_search_by_key(&id, |(i, _)| *i)
            .ok()
            .and_then(|at| self.players.get(at))
            .map(|(_, p)| *p)
    }

    fn set_player(&mut self, id: u32, ps: Ps) {
        match self.players.binary_search_by_key(&id, |(i, _)| *i) {
            Ok(at) => {
                if let Some(slot) = self.players.get_mut(at) {
                    slot.1 = ps;
                }
            }
            Err(at) => self.players.insert(at, (id, ps)),
        }
    }

    /// Moves to `to` (the caller checked [`Status::can_become`]); ending completes players.
    fn become_(&mut self, to: Status) {
        if to.is_ended() && !self.status.is_ended() {
            for (_, p) in &mut self.players {
                if p.holds_slot() {
                    *p = Ps::Completed;
                }
            }
            self.anon = 0;
        }
        self.status = to;
    }

    fn became(&self, to: Status) -> Option<Model> {
        self.status.can_become(to).then(|| {
            let mut m = self.clone();
            m.become_(to);
            m
        })
    }

    /// The states the session can be in after `step`; empty when `step` is impossible now.
    pub fn apply(&self, step: &Step) -> Vec<Model> {
        let one = |m: Option<Model>| m.into_iter().collect::<Vec<_>>();
        match step {
            Step::Create { max } => {
                if self.status != Status::Absent {
                    // A repeat with the same token returns the session as it is.
                    return vec![self.clone()];
                }
                vec![Model {
                    status: Status::Activating,
                    max: *max,
                    policy: Policy::AcceptAll,
                    anon: 0,
                    players: Vec::new(),
                }]
            }
            Step::Reserve { id } => {
                if let Some(id) = id
                    && self.player(*id).is_some()
                {
                    // The same id again: a replayed reservation.
                    return vec![self.clone()];
                }
                let room = self.max.is_none_or(|max| self.slots_used() < max);
                if self.policy != Policy::AcceptAll || !room {
                    return Vec::new();
                }
                one(self.became(Status::Active).map(|mut m| {
                    match id {
                        Some(id) => m.set_player(*id, Ps::Reserved),
                        None => m.anon = m.anon.saturating_add(1),
                    }
                    m
                }))
            }
            Step::ReserveFull => {
                let full = self.max.is_none_or(|max| self.slots_used() >= max);
                if self.status != Status::Absent && full {
                    vec![self.clone()]
                } else {
                    Vec::new()
                }
            }
            Step::ReserveRefused => match self.status {
                Status::Absent => Vec::new(),
                Status::Active if self.policy == Policy::AcceptAll => {
                    // It must have stopped being ACTIVE; TERMINATING can still become anything
                    // an ended session could.
                    one(self.became(Status::Terminating))
                }
                _ => vec![self.clone()],
            },
            Step::NotFound => {
                if self.status == Status::Absent {
                    vec![self.clone()]
                } else {
                    Vec::new()
                }
            }
            Step::Accept { id, named } => {
                let Some(mut m) = self.became(Status::Active) else {
                    return Vec::new();
                };
                match m.player(*id) {
                    Some(Ps::Reserved) => m.set_player(*id, Ps::Active),
                    None if !named && m.anon > 0 => {
                        m.anon -= 1;
                        m.set_player(*id, Ps::Active);
                    }
                    _ => return Vec::new(),
                }
                vec![m]
            }
            Step::Remove { id, named } => {
                let mut m = self.clone();
                match m.player(*id) {
                    Some(p) if p.holds_slot() => m.set_player(*id, Ps::Completed),
                    None if !named && m.anon > 0 => {
                        m.anon -= 1;
                        m.set_player(*id, Ps::Completed);
                    }
                    _ => return Vec::new(),
                }
                vec![m]
            }
            Step::Update { max, policy } => {
                if !self.status.is_live() {
                    return Vec::new();
                }
                if let Some(n) = max
                    && *n < self.slots_used()
                {
                    return Vec::new();
                }
                let mut m = self.clone();
                if max.is_some() {
                    m.max = *max;
                }
                if let Some(p) = policy {
                    m.policy = *p;
                }
                vec![m]
            }
            Step::Terminate { force } => match (self.status, force) {
                (s, false) if s.is_live() => one(self.became(Status::Terminating)),
                (s, true) if s.is_live() => one(self.became(Status::Terminated)),
                _ => Vec::new(),
            },
            Step::TerminateRefused => {
                if self.status.is_ended() {
                    vec![self.clone()]
                } else {
                    [Status::Terminated, Status::Error]
                        .into_iter()
                        .filter_map(|s| self.became(s))
                        .collect()
                }
            }
            Step::Describe {
                status,
                current,
                max,
                policy,
            } => {
                let Some(mut m) = self.became(*status) else {
                    return Vec::new();
                };
                if *status == Status::Absent {
                    return Vec::new();
                }
                if let Some(n) = max {
                    match m.max {
                        Some(known) if known != *n => return Vec::new(),
                        Some(_) => {}
                        None => m.max = Some(*n),
                    }
                }
                if policy.is_some_and(|p| p != m.policy) {
                    return Vec::new();
                }
                if current.is_some_and(|c| c != m.slots_used()) {
                    return Vec::new();
                }
                vec![m]
            }
            Step::DescribePlayer { id, named, status } => match self.player(*id) {
                Some(p) if p == *status => vec![self.clone()],
                // Its game session may have ended on its own, completing it.
                Some(p) if p.holds_slot() && *status == Ps::Completed => {
                    [Status::Terminated, Status::Error]
                        .into_iter()
                        .filter_map(|s| self.became(s))
                        .collect()
                }
                Some(_) => Vec::new(),
                None if *named => Vec::new(),
                None => vec![self.clone()],
            },
            Step::Final {
                status,
                max,
                held,
                players,
            } => {
                if *status == Status::Absent {
                    return if self.status == Status::Absent {
                        vec![self.clone()]
                    } else {
                        Vec::new()
                    };
                }
                let Some(m) = self.became(*status) else {
                    return Vec::new();
                };
                let max_ok = match (m.max, max) {
                    (Some(a), Some(b)) => a == *b,
                    _ => true,
                };
                let players_ok = players
                    .iter()
                    .all(|(id, ps)| m.player(*id).is_none_or(|p| p == *ps));
                if max_ok && players_ok && m.slots_used() == *held {
                    vec![m]
                } else {
                    Vec::new()
                }
            }
        }
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.status == Status::Absent {
            return f.write_str("{absent}");
        }
        let max = self.max.map_or_else(|| "?".to_string(), |m| m.to_string());
        let policy = match self.policy {
            Policy::AcceptAll => "ACCEPT_ALL",
            Policy::DenyAll => "DENY_ALL",
        };
        write!(
            f,
            "{{status: {}, max: {max}, policy: {policy}, slots_used: {}}}",
            self.status.as_str(),
            self.slots_used()
        )
    }
}
