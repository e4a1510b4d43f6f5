//! Evaluating a parsed [`Filter`] or [`Sort`] against sessions the caller
//! exposes through [`Searchable`].
//!
//! Null rule: a game property the session lacks is null. A condition on null
//! is false for every comparator (so `NOT` of it is true), and a sort puts
//! null sessions after all others in both directions.

use std::cmp::Ordering;

use super::{Comparator, Direction, Filter, Operand, Sort, Value};

/// What a session exposes to a search (implemented by the caller's game
/// session type).
pub trait Searchable {
    /// The session's name; a session without one returns `""`.
    fn game_session_name(&self) -> &str;
    /// The full game session id (an ARN in GameLift).
    fn game_session_id(&self) -> &str;
    /// The value of game property `key`, or `None` if the session has none.
    fn game_property(&self, key: &str) -> Option<&str>;
    fn maximum_sessions(&self) -> i64;
    /// Creation time, Unix milliseconds.
    fn creation_time_millis(&self) -> i64;
    fn player_session_count(&self) -> i64;
    fn has_available_player_sessions(&self) -> bool;
}

/// An operand's value in one session; `None` is null.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Field<'a> {
    Number(i64),
    Bool(bool),
    Str(&'a str),
}

fn field<'a, S: Searchable>(s: &'a S, operand: &Operand) -> Option<Field<'a>> {
    Some(match operand {
        Operand::GameSessionName => Field::Str(s.game_session_name()),
        Operand::GameSessionId => Field::Str(s.game_session_id()),
        Operand::GameSessionProperty(key) => Field::Str(s.game_property(key)?),
        Operand::MaximumSessions => Field::Number(s.maximum_sessions()),
        Operand::CreationTimeMillis => Field::Number(s.creation_time_millis()),
        Operand::PlayerSessionCount => Field::Number(s.player_session_count()),
        Operand::HasAvailablePlayerSessions => Field::Bool(s.has_available_player_sessions()),
    })
}

fn condition<S: Searchable>(s: &S, operand: &Operand, cmp: Comparator, value: &Value) -> bool {
    let ordering = match (field(s, operand), value) {
        (Some(Field::Number(a)), Value::Number(b)) => a.cmp(b),
        (Some(Field::Bool(a)), Value::Bool(b)) if cmp.is_equality() => a.cmp(b),
        (Some(Field::Str(a)), Value::Str(b)) if cmp.is_equality() => a.cmp(b.as_str()),
        // Null, a type mismatch, or an ordering on a bool or string (only
        // reachable through a hand-built Filter): never matches.
        _ => return false,
    };
    match cmp {
        Comparator::Eq => ordering == Ordering::Equal,
        Comparator::Ne => ordering != Ordering::Equal,
        Comparator::Lt => ordering == Ordering::Less,
        Comparator::Gt => ordering == Ordering::Greater,
        Comparator::Le => ordering != Ordering::Greater,
        Comparator::Ge => ordering != Ordering::Less,
    }
}

impl Filter {
    /// Whether session `s` satisfies this filter.
    ///
    /// NB: recursive in the tree's depth, which [`super::parse_filter`]
    /// bounds; a hand-built tree must be kept shallow by its builder.
    pub fn matches(&self, s: &impl Searchable) -> bool {
        match self {
            Filter::Cond {
                operand,
                cmp,
                value,
            } => condition(s, operand, *cmp, value),
            Filter::Not(inner) => !inner.matches(s),
            Filter::And(l, r) => l.matches(s) && r.matches(s),
            Filter::Or(l, r) => l.matches(s) || r.matches(s),
        }
    }
}

impl Sort {
    /// Orders `a` and `b` by the sort operand in the sort direction. Sessions
    /// whose operand is null (a missing game property) go last in both
    /// directions. Ties are `Equal`; the caller breaks them. Strings compare
    /// by Unicode scalar value (case-sensitive), booleans as `false < true`.
    pub fn compare<S: Searchable>(&self, a: &S, b: &S) -> Ordering {
        match (field(a, &self.operand), field(b, &self.operand)) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(x), Some(y)) => match self.direction {
                Direction::Asc => x.cmp(&y),
                Direction::Desc => y.cmp(&x),
            },
        }
    }
}
