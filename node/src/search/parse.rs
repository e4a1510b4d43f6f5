//! Recursive-descent parser for filter and sort expressions, including the
//! length, nesting and type rules. Recursion depth is bounded by
//! [`MAX_NESTING`], so no input can overflow the stack.

use super::lex::{Token, TokenKind, tokenize};
use super::{
    Direction, FILTER_FIELD, Filter, Kind, MAX_EXPRESSION_CHARS, MAX_NESTING,
    MAX_PROPERTY_KEY_CHARS, Operand, SORT_FIELD, SearchError, Sort, Value,
};

const PROPERTY_PREFIX: &str = "gameSessionProperties";

/// Parses a SearchGameSessions `FilterExpression`.
pub fn parse_filter(s: &str) -> Result<Filter, SearchError> {
    let mut p = Parser::new(s, FILTER_FIELD)?;
    let filter = p.or_expr()?;
    match p.peek() {
        None => Ok(filter),
        Some(Token {
            kind: TokenKind::RParen,
            pos,
        }) => Err(p.err(*pos, "unbalanced parentheses: unexpected ')'")),
        Some(t) => Err(p.err(
            t.pos,
            format!(
                "expected AND, OR or end of expression, found {}",
                t.kind.describe()
            ),
        )),
    }
}

/// Parses a SearchGameSessions `SortExpression`: `<operand> ASC|DESC`.
pub fn parse_sort(s: &str) -> Result<Sort, SearchError> {
    let mut p = Parser::new(s, SORT_FIELD)?;
    let operand = p.operand()?;
    let direction = match p.next() {
        Some(Token {
            kind: TokenKind::Word(w),
            ..
        }) if w.eq_ignore_ascii_case("ASC") => Direction::Asc,
        Some(Token {
            kind: TokenKind::Word(w),
            ..
        }) if w.eq_ignore_ascii_case("DESC") => Direction::Desc,
        Some(t) => {
            return Err(p.err(
                t.pos,
                format!("expected ASC or DESC, found {}", t.kind.describe()),
            ));
        }
        None => return Err(p.err(p.end, "expected ASC or DESC after the operand")),
    };
    match p.peek() {
        None => Ok(Sort { operand, direction }),
        Some(t) => Err(p.err(
            t.pos,
            format!(
                "expected end of sort expression (one operand only), found {}",
                t.kind.describe()
            ),
        )),
    }
}

struct Parser {
    field: &'static str,
    tokens: Vec<Token>,
    /// Index of the next token.
    next: usize,
    /// Character offset of the end of input, for errors at the end.
    end: usize,
    /// Parentheses and `NOT`s currently open.
    depth: usize,
}

impl Parser {
    fn new(s: &str, field: &'static str) -> Result<Self, SearchError> {
        let chars: Vec<char> = s.chars().collect();
        let err = |position, message: String| SearchError {
            field,
            position,
            message,
        };
        if chars.is_empty() {
            return Err(err(0, "empty expression".to_owned()));
        }
        if chars.len() > MAX_EXPRESSION_CHARS {
            return Err(err(
                MAX_EXPRESSION_CHARS,
                format!(
                    "expression is {} characters long, more than the {MAX_EXPRESSION_CHARS} allowed",
                    chars.len()
                ),
            ));
        }
        let tokens = tokenize(&chars).map_err(|(pos, msg)| err(pos, msg))?;
        if tokens.is_empty() {
            return Err(err(0, "empty expression (only whitespace)".to_owned()));
        }
        Ok(Parser {
            field,
            tokens,
            next: 0,
            end: chars.len(),
            depth: 0,
        })
    }

    fn err(&self, position: usize, message: impl Into<String>) -> SearchError {
        SearchError {
            field: self.field,
            position,
            message: message.into(),
        }
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.next).cloned();
        if t.is_some() {
            self.next += 1;
        }
        t
    }

    /// Consumes the next token if it is the keyword `kw` (any case).
    fn eat_keyword(&mut self, kw: &str) -> Option<usize> {
        match self.peek() {
            Some(Token {
                kind: TokenKind::Word(w),
                pos,
            }) if w.eq_ignore_ascii_case(kw) => {
                let pos = *pos;
                self.next += 1;
                Some(pos)
            }
            _ => None,
        }
    }

    /// `or_expr = and_expr { "OR" and_expr }`, grouping left to right.
    fn or_expr(&mut self) -> Result<Filter, SearchError> {
        let mut left = self.and_expr(None)?;
        while let Some(pos) = self.eat_keyword("OR") {
            let right = self.and_expr(Some(("OR", pos)))?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    /// `and_expr = not_expr { "AND" not_expr }`, grouping left to right.
    fn and_expr(&mut self, after: Option<(&str, usize)>) -> Result<Filter, SearchError> {
        let mut left = self.not_expr(after)?;
        while let Some(pos) = self.eat_keyword("AND") {
            let right = self.not_expr(Some(("AND", pos)))?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    /// `not_expr = "NOT" not_expr | "(" or_expr ")" | condition`.
    ///
    /// `after` names the keyword just consumed, so a missing operand reads as
    /// a dangling operator.
    fn not_expr(&mut self, after: Option<(&str, usize)>) -> Result<Filter, SearchError> {
        let Some(tok) = self.peek().cloned() else {
            return Err(match after {
                Some((kw, pos)) => self.err(
                    pos,
                    format!("dangling operator: {kw} needs a condition after it"),
                ),
                None => self.err(self.end, "expected a condition"),
            });
        };
        match &tok.kind {
            TokenKind::Word(w) if w.eq_ignore_ascii_case("NOT") => {
                self.next += 1;
                self.enter(tok.pos)?;
                let inner = self.not_expr(Some(("NOT", tok.pos)))?;
                self.depth -= 1;
                Ok(Filter::Not(Box::new(inner)))
            }
            TokenKind::LParen => {
                self.next += 1;
                self.enter(tok.pos)?;
                let inner = self.or_expr()?;
                match self.next() {
                    Some(Token {
                        kind: TokenKind::RParen,
                        ..
                    }) => {}
                    Some(t) => {
                        return Err(self.err(
                            t.pos,
                            format!("expected AND, OR or ')', found {}", t.kind.describe()),
                        ));
                    }
                    None => {
                        return Err(
                            self.err(tok.pos, "unbalanced parentheses: this '(' is never closed")
                        );
                    }
                }
                self.depth -= 1;
                Ok(inner)
            }
            TokenKind::Word(w) if w.eq_ignore_ascii_case("AND") || w.eq_ignore_ascii_case("OR") => {
                Err(match after {
                    Some((kw, pos)) => self.err(
                        pos,
                        format!("dangling operator: {kw} needs a condition after it"),
                    ),
                    None => self.err(
                        tok.pos,
                        format!(
                            "dangling operator: {} needs a condition before it",
                            w.to_ascii_uppercase()
                        ),
                    ),
                })
            }
            TokenKind::RParen => Err(match after {
                Some((kw, pos)) => self.err(
                    pos,
                    format!("dangling operator: {kw} needs a condition after it"),
                ),
                None => self.err(tok.pos, "expected a condition, found ')'"),
            }),
            _ => self.condition(),
        }
    }

    /// Opens one level of nesting at `pos`, failing past [`MAX_NESTING`].
    fn enter(&mut self, pos: usize) -> Result<(), SearchError> {
        if self.depth >= MAX_NESTING {
            return Err(self.err(
                pos,
                format!("expression nested too deeply (more than {MAX_NESTING} levels of parentheses and NOT)"),
            ));
        }
        self.depth += 1;
        Ok(())
    }

    /// `condition = operand comparator value`, type-checked.
    fn condition(&mut self) -> Result<Filter, SearchError> {
        let operand = self.operand()?;
        let (cmp, cmp_pos) = match self.next() {
            Some(Token {
                kind: TokenKind::Cmp(c),
                pos,
            }) => (c, pos),
            Some(t) => {
                return Err(self.err(
                    t.pos,
                    format!(
                        "expected a comparator (=, <>, <, >, <=, >=) after {operand}, found {}",
                        t.kind.describe()
                    ),
                ));
            }
            None => {
                return Err(self.err(
                    self.end,
                    format!("expected a comparator (=, <>, <, >, <=, >=) after {operand}"),
                ));
            }
        };
        let (value, value_pos) = match self.next() {
            Some(Token {
                kind: TokenKind::Number(n),
                pos,
            }) => (Value::Number(n), pos),
            Some(Token {
                kind: TokenKind::Str(s),
                pos,
            }) => (Value::Str(s), pos),
            Some(Token {
                kind: TokenKind::Word(w),
                pos,
            }) if w.eq_ignore_ascii_case("true") => (Value::Bool(true), pos),
            Some(Token {
                kind: TokenKind::Word(w),
                pos,
            }) if w.eq_ignore_ascii_case("false") => (Value::Bool(false), pos),
            Some(t) => {
                let hint = if matches!(t.kind, TokenKind::Word(_)) {
                    " (string values must be quoted)"
                } else {
                    ""
                };
                return Err(self.err(
                    t.pos,
                    format!(
                        "expected a value (number, true, false or quoted string) after {operand} {cmp}, found {}{hint}",
                        t.kind.describe()
                    ),
                ));
            }
            None => {
                return Err(self.err(self.end, format!("expected a value after {operand} {cmp}")));
            }
        };
        let kind = operand.kind();
        if value.kind() != kind {
            let wanted = match kind {
                Kind::Number => "a number",
                Kind::Bool => "true or false",
                Kind::Str => "a quoted string",
            };
            return Err(self.err(
                value_pos,
                format!("type mismatch: {operand} must be compared with {wanted}, found {value}"),
            ));
        }
        if kind != Kind::Number && !cmp.is_equality() {
            return Err(self.err(
                cmp_pos,
                format!(
                    "comparator '{cmp}' is not allowed on {operand}: booleans and strings work only with = and <>"
                ),
            ));
        }
        Ok(Filter::Cond {
            operand,
            cmp,
            value,
        })
    }

    /// Reads one operand name.
    fn operand(&mut self) -> Result<Operand, SearchError> {
        let Some(tok) = self.next() else {
            return Err(self.err(self.end, "expected an operand"));
        };
        let TokenKind::Word(word) = &tok.kind else {
            return Err(self.err(
                tok.pos,
                format!("expected an operand, found {}", tok.kind.describe()),
            ));
        };
        let operand = match word.as_str() {
            "gameSessionName" => Operand::GameSessionName,
            "gameSessionId" => Operand::GameSessionId,
            "maximumSessions" => Operand::MaximumSessions,
            "creationTimeMillis" => Operand::CreationTimeMillis,
            "playerSessionCount" => Operand::PlayerSessionCount,
            "hasAvailablePlayerSessions" => Operand::HasAvailablePlayerSessions,
            _ => match word.strip_prefix(PROPERTY_PREFIX) {
                Some(rest) if rest.starts_with('.') || rest.is_empty() => {
                    let key = rest.strip_prefix('.').unwrap_or(rest);
                    // The key starts right after "gameSessionProperties.".
                    let key_pos = tok.pos + PROPERTY_PREFIX.len() + 1;
                    Operand::GameSessionProperty(self.property_key(key, key_pos)?)
                }
                _ => return Err(self.unknown_operand(word, tok.pos)),
            },
        };
        Ok(operand)
    }

    fn property_key(&self, key: &str, pos: usize) -> Result<String, SearchError> {
        if key.is_empty() {
            return Err(self.err(
                pos,
                "missing property key: write gameSessionProperties.<key>",
            ));
        }
        if key.contains('.') {
            return Err(self.err(
                pos,
                format!("property key '{key}' contains '.', which is not searchable"),
            ));
        }
        // The tokenizer only lets ASCII letters, digits, '_', '-' and '.'
        // into a word, so counting bytes counts characters here.
        if key.len() > MAX_PROPERTY_KEY_CHARS {
            return Err(self.err(
                pos,
                format!("property key '{key}' is longer than {MAX_PROPERTY_KEY_CHARS} characters"),
            ));
        }
        Ok(key.to_owned())
    }

    fn unknown_operand(&self, word: &str, pos: usize) -> SearchError {
        const NAMES: [&str; 7] = [
            "gameSessionName",
            "gameSessionId",
            "gameSessionProperties",
            "maximumSessions",
            "creationTimeMillis",
            "playerSessionCount",
            "hasAvailablePlayerSessions",
        ];
        let base = word.split('.').next().unwrap_or(word);
        let hint = NAMES
            .iter()
            .find(|n| n.eq_ignore_ascii_case(base))
            .map(|n| format!(" (operand names are case-sensitive: did you mean '{n}'?)"))
            .unwrap_or_default();
        self.err(pos, format!("unknown operand '{word}'{hint}"))
    }
}
