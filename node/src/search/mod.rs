//! SearchGameSessions filter and sort expressions: the syntax tree, parsing,
//! canonical printing and evaluation against a session.
//!
//! Invariant: nothing in this module does IO, reads a clock or draws random
//! numbers, and no input string can make it panic. It knows nothing about
//! the FSM or the wire: a caller hands sessions in through [`Searchable`].
//!
//! Grammar (GAMELIFT.md §2; tightest binding first: comparison, parentheses,
//! `NOT`, `AND`, `OR`; `AND` and `OR` group left to right):
//!
//! ```text
//! filter     = or_expr ;
//! or_expr    = and_expr , { "OR" , and_expr } ;
//! and_expr   = not_expr , { "AND" , not_expr } ;
//! not_expr   = "NOT" , not_expr | "(" , or_expr , ")" | condition ;
//! condition  = operand , comparator , value ;
//! sort       = operand , ( "ASC" | "DESC" ) ;
//! ```
//!
//! - Keywords (`AND`, `OR`, `NOT`, `ASC`, `DESC`, `true`, `false`) are
//!   case-insensitive. Operand names are case-sensitive, as AWS spells them.
//! - Strings take single or double quotes; `\'`, `\"` and `\\` are the only
//!   escapes. Numbers are `i64` with an optional leading `-`.
//! - Type rules: numeric operands take numbers and any comparator;
//!   `hasAvailablePlayerSessions` takes `true`/`false`, and the string
//!   operands take strings, both only with `=` and `<>`.
//! - Limits: 1 to [`MAX_EXPRESSION_CHARS`] characters, at most
//!   [`MAX_NESTING`] nested parentheses and `NOT`s.
//!
//! Null semantics: a condition on a game property the session does not have
//! is false whatever the comparator (`<>` too), so `NOT` of it is true. A sort
//! puts such sessions last in both directions.

mod eval;
mod lex;
mod parse;

#[cfg(test)]
mod tests;

use std::fmt;

pub use eval::Searchable;
pub use parse::{parse_filter, parse_sort};

/// The longest filter or sort expression accepted, in characters (AWS limit).
pub const MAX_EXPRESSION_CHARS: usize = 1024;

/// How many parentheses and `NOT`s may enclose one another. Bounds the
/// parser's recursion so a hostile expression cannot overflow the stack.
pub const MAX_NESTING: usize = 32;

/// The longest game property key that can be searched.
pub const MAX_PROPERTY_KEY_CHARS: usize = 32;

/// What a condition or sort looks at.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Operand {
    GameSessionName,
    GameSessionId,
    /// `gameSessionProperties.<key>`. Invariant when parsed: the key is 1-32
    /// ASCII letters, digits, `_` or `-`.
    GameSessionProperty(String),
    MaximumSessions,
    CreationTimeMillis,
    PlayerSessionCount,
    HasAvailablePlayerSessions,
}

/// The kind of value an operand holds, which fixes the values and
/// comparators it may be used with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Number,
    Bool,
    Str,
}

impl Operand {
    pub(crate) fn kind(&self) -> Kind {
        match self {
            Operand::GameSessionName | Operand::GameSessionId | Operand::GameSessionProperty(_) => {
                Kind::Str
            }
            Operand::MaximumSessions
            | Operand::CreationTimeMillis
            | Operand::PlayerSessionCount => Kind::Number,
            Operand::HasAvailablePlayerSessions => Kind::Bool,
        }
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Comparator {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
}

impl Comparator {
    /// Whether this comparator only needs equality (allowed on every type).
    pub(crate) fn is_equality(self) -> bool {
        matches!(self, Comparator::Eq | Comparator::Ne)
    }

    /// The operator as written in an expression.
    pub fn as_str(self) -> &'static str {
        match self {
            Comparator::Eq => "=",
            Comparator::Ne => "<>",
            Comparator::Lt => "<",
            Comparator::Gt => ">",
            Comparator::Le => "<=",
            Comparator::Ge => ">=",
        }
    }
}

/// A literal on the right of a comparator.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    Number(i64),
    Bool(bool),
    Str(String),
}

impl Value {
    pub(crate) fn kind(&self) -> Kind {
        match self {
            Value::Number(_) => Kind::Number,
            Value::Bool(_) => Kind::Bool,
            Value::Str(_) => Kind::Str,
        }
    }
}

/// A parsed filter expression.
///
/// Invariant when produced by [`parse_filter`]: every `Cond` is well typed
/// (see the module docs). A hand-built ill-typed `Cond` never matches and
/// prints as text that does not parse back; so does a hand-built tree whose
/// printed form breaks the length or nesting limits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Filter {
    Cond {
        operand: Operand,
        cmp: Comparator,
        value: Value,
    },
    Not(Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    Asc,
    Desc,
}

/// A parsed sort expression: `<operand> ASC|DESC`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Sort {
    pub operand: Operand,
    pub direction: Direction,
}

/// Why an expression was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message} at position {position}")]
pub struct SearchError {
    /// `"filter_expression"` or `"sort_expression"`: the request field at fault.
    pub field: &'static str,
    /// Offset of the offending token, in characters (not bytes) from the start.
    pub position: usize,
    pub message: String,
}

/// The `field` of errors from [`parse_filter`].
pub const FILTER_FIELD: &str = "filter_expression";
/// The `field` of errors from [`parse_sort`].
pub const SORT_FIELD: &str = "sort_expression";

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operand::GameSessionName => f.write_str("gameSessionName"),
            Operand::GameSessionId => f.write_str("gameSessionId"),
            Operand::GameSessionProperty(key) => write!(f, "gameSessionProperties.{key}"),
            Operand::MaximumSessions => f.write_str("maximumSessions"),
            Operand::CreationTimeMillis => f.write_str("creationTimeMillis"),
            Operand::PlayerSessionCount => f.write_str("playerSessionCount"),
            Operand::HasAvailablePlayerSessions => f.write_str("hasAvailablePlayerSessions"),
        }
    }
}

impl fmt::Display for Comparator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Value {
    /// Strings print in single quotes with `'` and `\` escaped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Number(n) => write!(f, "{n}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Str(s) => {
                f.write_str("'")?;
                for c in s.chars() {
                    if c == '\'' || c == '\\' {
                        f.write_str("\\")?;
                    }
                    write!(f, "{c}")?;
                }
                f.write_str("'")
            }
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Asc => "ASC",
            Direction::Desc => "DESC",
        })
    }
}

impl fmt::Display for Sort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.operand, self.direction)
    }
}

impl fmt::Display for Filter {
    /// Prints the canonical expression: one space around comparators and
    /// keywords, upper-case keywords, and only the parentheses needed for
    /// [`parse_filter`] to rebuild exactly this tree (`AND`/`OR` group left to
    /// right, so a right operand of the same operator is parenthesized).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Filter::Cond {
                operand,
                cmp,
                value,
            } => write!(f, "{operand} {cmp} {value}"),
            Filter::Not(inner) => {
                f.write_str("NOT ")?;
                write_grouped(
                    f,
                    inner,
                    matches!(**inner, Filter::And(..) | Filter::Or(..)),
                )
            }
            Filter::And(l, r) => {
                write_grouped(f, l, matches!(**l, Filter::Or(..)))?;
                f.write_str(" AND ")?;
                write_grouped(f, r, matches!(**r, Filter::And(..) | Filter::Or(..)))
            }
            Filter::Or(l, r) => {
                write_grouped(f, l, false)?;
                f.write_str(" OR ")?;
                write_grouped(f, r, matches!(**r, Filter::Or(..)))
            }
        }
    }
}

fn write_grouped(f: &mut fmt::Formatter<'_>, filter: &Filter, parens: bool) -> fmt::Result {
    if parens {
        write!(f, "({filter})")
    } else {
        write!(f, "{filter}")
    }
}
