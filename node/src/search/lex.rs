//! Tokenizer for filter and sort expressions: turns the text into words,
//! numbers, quoted strings, comparators and parentheses, each tagged with its
//! character offset. It gives words no meaning; the parser does.

use super::Comparator;

/// One token and where it starts, in characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: TokenKind,
    pub pos: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// An operand name or keyword: an ASCII letter or `_`, then ASCII letters,
    /// digits, `_`, `-` or `.`.
    Word(String),
    Number(i64),
    Str(String),
    Cmp(Comparator),
    LParen,
    RParen,
}

impl TokenKind {
    /// How the token reads in an error message.
    pub fn describe(&self) -> String {
        match self {
            TokenKind::Word(w) => format!("'{w}'"),
            TokenKind::Number(n) => format!("number {n}"),
            TokenKind::Str(_) => "a string".to_owned(),
            TokenKind::Cmp(c) => format!("'{c}'"),
            TokenKind::LParen => "'('".to_owned(),
            TokenKind::RParen => "')'".to_owned(),
        }
    }
}

/// A tokenizer failure: character offset and message.
pub(crate) type LexError = (usize, String);

fn is_word_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
}

/// Splits `chars` into tokens.
pub(crate) fn tokenize(chars: &[char]) -> Result<Vec<Token>, LexError> {
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let start = i;
        let kind = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '(' => {
                i += 1;
                TokenKind::LParen
            }
            ')' => {
                i += 1;
                TokenKind::RParen
            }
            '=' => {
                i += 1;
                TokenKind::Cmp(Comparator::Eq)
            }
            '<' => match chars.get(i + 1) {
                Some('>') => {
                    i += 2;
                    TokenKind::Cmp(Comparator::Ne)
                }
                Some('=') => {
                    i += 2;
                    TokenKind::Cmp(Comparator::Le)
                }
                _ => {
                    i += 1;
                    TokenKind::Cmp(Comparator::Lt)
                }
            },
            '>' => {
                if chars.get(i + 1) == Some(&'=') {
                    i += 2;
                    TokenKind::Cmp(Comparator::Ge)
                } else {
                    i += 1;
                    TokenKind::Cmp(Comparator::Gt)
                }
            }
            '\'' | '"' => {
                let (s, next) = string(chars, i, c)?;
                i = next;
                TokenKind::Str(s)
            }
            '-' | '0'..='9' => {
                let (n, next) = number(chars, i)?;
                i = next;
                TokenKind::Number(n)
            }
            c if is_word_start(c) => {
                let mut word = String::new();
                while let Some(&c) = chars.get(i).filter(|c| is_word_char(**c)) {
                    word.push(c);
                    i += 1;
                }
                TokenKind::Word(word)
            }
            '!' if chars.get(i + 1) == Some(&'=') => {
                return Err((i, "unknown comparator '!=': use '<>'".to_owned()));
            }
            '&' | '|' => {
                return Err((i, format!("unexpected character '{c}': use AND / OR")));
            }
            c => return Err((i, format!("unexpected character {c:?}"))),
        };
        tokens.push(Token { kind, pos: start });
    }
    Ok(tokens)
}

/// Reads a quoted string opened by `quote` at `start`; returns the unescaped
/// text and the offset just past the closing quote.
fn string(chars: &[char], start: usize, quote: char) -> Result<(String, usize), LexError> {
    let mut out = String::new();
    let mut i = start + 1;
    loop {
        match chars.get(i) {
            None => return Err((start, "unterminated string".to_owned())),
            Some(&c) if c == quote => return Ok((out, i + 1)),
            Some('\\') => match chars.get(i + 1) {
                Some(&e @ ('\'' | '"' | '\\')) => {
                    out.push(e);
                    i += 2;
                }
                Some(e) => {
                    return Err((
                        i,
                        format!("unknown escape '\\{e}' (only \\', \\\" and \\\\ are allowed)"),
                    ));
                }
                None => return Err((start, "unterminated string".to_owned())),
            },
            Some(&c) => {
                out.push(c);
                i += 1;
            }
        }
    }
}

/// Reads an integer with an optional leading `-` at `start`; returns it and
/// the offset just past it.
fn number(chars: &[char], start: usize) -> Result<(i64, usize), LexError> {
    let mut text = String::new();
    let mut i = start;
    if chars.get(i) == Some(&'-') {
        text.push('-');
        i += 1;
    }
    while let Some(&d) = chars.get(i).filter(|c| c.is_ascii_digit()) {
        text.push(d);
        i += 1;
    }
    if text == "-" {
        return Err((start, "'-' must be followed by digits".to_owned()));
    }
    if let Some(&c) = chars.get(i).filter(|c| is_word_char(**c)) {
        return Err((i, format!("invalid number: unexpected {c:?} after digits")));
    }
    match text.parse::<i64>() {
        Ok(n) => Ok((n, i)),
        Err(_) => Err((
            start,
            format!("number {text} is out of range (64-bit integers only)"),
        )),
    }
}
