//! Tests for the search expressions: a table of filter expressions run
//! against six sample sessions, sort tests, and proptests for print/parse
//! round trips and for never panicking on arbitrary input.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;

/// A sample session for the tests.
#[derive(Debug, Clone)]
struct Session {
    id: &'static str,
    name: &'static str,
    props: BTreeMap<&'static str, &'static str>,
    max: i64,
    created: i64,
    players: i64,
    available: bool,
}

impl Searchable for Session {
    fn game_session_name(&self) -> &str {
        self.name
    }
    fn game_session_id(&self) -> &str {
        self.id
    }
    fn game_property(&self, key: &str) -> Option<&str> {
        self.props.get(key).copied()
    }
    fn maximum_sessions(&self) -> i64 {
        self.max
    }
    fn creation_time_millis(&self) -> i64 {
        self.created
    }
    fn player_session_count(&self) -> i64 {
        self.players
    }
    fn has_available_player_sessions(&self) -> bool {
        self.available
    }
}

const S1_ID: &str = "arn:aws:gamelift:us-west-2::gamesession/fleet-1/gsess-1";

/// The six sample sessions; tests refer to them by number, 1 to 6.
fn sessions() -> Vec<Session> {
    let s = |id, name, props: &[(&'static str, &'static str)], max, created, players, available| {
        Session {
            id,
            name,
            props: props.iter().copied().collect(),
            max,
            created,
            players,
            available,
        }
    };
    vec![
        s(
            S1_ID,
            "Matt's Awesome Game 1",
            &[("difficulty", "novice"), ("gameMode", "brawl")],
            10,
            1000,
            2,
            true,
        ),
        s(
            "gsess-2",
            "Casual Fun",
            &[("difficulty", "expert"), ("my_key-2", "x")],
            20,
            2000,
            20,
            false,
        ),
        // No name, no properties.
        s("gsess-3", "", &[], 8, 3000, 0, true),
        s(
            "gsess-4",
            "Brawl Night",
            &[("gameMode", "brawl"), ("map", "O'Hare \"Airport\" \\ 東京")],
            16,
            1500,
            16,
            false,
        ),
        s(
            "gsess-5",
            "Quote\"Game",
            &[("difficulty", "novice"), ("gameMode", "ctf")],
            4,
            -5,
            1,
            true,
        ),
        s(
            "gsess-6",
            "matt's awesome game 1",
            &[("difficulty", "Novice")],
            100,
            2500,
            50,
            true,
        ),
    ]
}

/// What a table row expects.
enum Expect {
    /// Parses, and exactly these sessions (numbered 1-6) match.
    Match(&'static [usize]),
    /// Fails with a `filter_expression` error whose message contains this.
    Error(&'static str),
}
use Expect::{Error, Match};

const ALL: &[usize] = &[1, 2, 3, 4, 5, 6];

fn filter_table() -> Vec<(String, Expect)> {
    let rows: Vec<(&str, Expect)> = vec![
        // The verbatim AWS examples of GAMELIFT.md §2 (1, 2, 4, 5; 3 is
        // instantiated below; 6 is a sort and lives in the sort tests).
        ("gameSessionName = 'Matt\\'s Awesome Game 1'", Match(&[1])),
        (
            "maximumSessions>=10 AND hasAvailablePlayerSessions=true",
            Match(&[1, 6]),
        ),
        (
            "gameSessionProperties.difficulty = \"novice\"",
            Match(&[1, 5]),
        ),
        ("gameSessionProperties.gameMode = \"brawl\"", Match(&[1, 4])),
        // Example 3, `x AND y AND NOT z`: session 3 lacks difficulty (null
        // condition is false, so NOT is true); session 6 has "Novice".
        (
            "hasAvailablePlayerSessions = true AND maximumSessions > 5 AND NOT gameSessionProperties.difficulty = 'novice'",
            Match(&[3, 6]),
        ),
        // Example 3, `NOT (x OR y)`.
        (
            "NOT (gameSessionProperties.gameMode = 'brawl' OR playerSessionCount = 0)",
            Match(&[2, 5, 6]),
        ),
        // gameSessionName, gameSessionId: = and <>, both quote styles.
        ("gameSessionName <> 'Casual Fun'", Match(&[1, 3, 4, 5, 6])),
        ("gameSessionName = ''", Match(&[3])),
        ("gameSessionName = \"Quote\\\"Game\"", Match(&[5])),
        ("gameSessionName = 'Quote\"Game'", Match(&[5])),
        ("gameSessionName = 'matt\\'s awesome game 1'", Match(&[6])),
        ("gameSessionId = 'gsess-2'", Match(&[2])),
        ("gameSessionId <> 'gsess-2'", Match(&[1, 3, 4, 5, 6])),
        (
            "gameSessionId = 'arn:aws:gamelift:us-west-2::gamesession/fleet-1/gsess-1'",
            Match(&[1]),
        ),
        // gameSessionProperties: null never matches, not even with <>.
        (
            "gameSessionProperties.difficulty <> 'novice'",
            Match(&[2, 6]),
        ),
        (
            "gameSessionProperties.gameMode <> 'brawl' OR gameSessionProperties.gameMode = 'brawl'",
            Match(&[1, 4, 5]),
        ),
        (
            "NOT gameSessionProperties.gameMode = 'brawl'",
            Match(&[2, 3, 5, 6]),
        ),
        (
            "gameSessionProperties.map = 'O\\'Hare \"Airport\" \\\\ 東京'",
            Match(&[4]),
        ),
        (
            "gameSessionProperties.map = \"O'Hare \\\"Airport\\\" \\\\ 東京\"",
            Match(&[4]),
        ),
        ("gameSessionProperties.my_key-2 = 'x'", Match(&[2])),
        // Numbers: every comparator, negatives, extremes.
        ("maximumSessions = 16", Match(&[4])),
        ("maximumSessions <> 16", Match(&[1, 2, 3, 5, 6])),
        ("maximumSessions < 10", Match(&[3, 5])),
        ("maximumSessions <= 10", Match(&[1, 3, 5])),
        ("maximumSessions > 16", Match(&[2, 6])),
        ("creationTimeMillis >= 2000", Match(&[2, 3, 6])),
        ("creationTimeMillis < 0", Match(&[5])),
        ("creationTimeMillis>-10", Match(ALL)),
        ("creationTimeMillis >= -9223372036854775808", Match(ALL)),
        ("creationTimeMillis <= 9223372036854775807", Match(ALL)),
        ("playerSessionCount = 0", Match(&[3])),
        ("playerSessionCount >= 16", Match(&[2, 4, 6])),
        // Booleans, any case.
        ("hasAvailablePlayerSessions = false", Match(&[2, 4])),
        ("hasAvailablePlayerSessions <> true", Match(&[2, 4])),
        ("hasAvailablePlayerSessions = TRUE", Match(&[1, 3, 5, 6])),
        // Precedence: AND binds tighter than OR, NOT tighter than AND.
        (
            "hasAvailablePlayerSessions = false OR maximumSessions = 8 AND playerSessionCount < 17",
            Match(&[2, 3, 4]),
        ),
        (
            "(hasAvailablePlayerSessions = false OR maximumSessions = 8) AND playerSessionCount < 17",
            Match(&[3, 4]),
        ),
        (
            "playerSessionCount < 17 AND maximumSessions = 8 OR hasAvailablePlayerSessions = false",
            Match(&[2, 3, 4]),
        ),
        (
            "NOT hasAvailablePlayerSessions = true AND maximumSessions > 16",
            Match(&[2]),
        ),
        (
            "NOT (hasAvailablePlayerSessions = true AND maximumSessions > 16)",
            Match(&[1, 2, 3, 4, 5]),
        ),
        (
            "NOT playerSessionCount = 0 OR playerSessionCount = 0",
            Match(ALL),
        ),
        (
            "maximumSessions > 5 AND maximumSessions < 20 OR gameSessionId = 'gsess-5'",
            Match(&[1, 3, 4, 5]),
        ),
        // Keywords in any case.
        (
            "maximumSessions > 5 and maximumSessions < 20 oR not gameSessionId <> 'gsess-5'",
            Match(&[1, 3, 4, 5]),
        ),
        ("NOT NOT playerSessionCount = 0", Match(&[3])),
        ("((((playerSessionCount = 0))))", Match(&[3])),
        // Whitespace is optional around comparators and parentheses.
        ("  playerSessionCount=1  ", Match(&[5])),
        (
            "(playerSessionCount=1)OR(playerSessionCount=2)",
            Match(&[1, 5]),
        ),
        ("\tplayerSessionCount\n<>\r\n0", Match(&[1, 2, 4, 5, 6])),
        // Errors: length.
        ("", Error("empty expression")),
        ("   ", Error("only whitespace")),
        // Errors: types.
        ("gameSessionName = 5", Error("type mismatch")),
        (
            "maximumSessions = '10'",
            Error("type mismatch: maximumSessions"),
        ),
        (
            "hasAvailablePlayerSessions = 1",
            Error("must be compared with true or false"),
        ),
        (
            "maximumSessions = true",
            Error("must be compared with a number"),
        ),
        (
            "gameSessionName < 'a'",
            Error("'<' is not allowed on gameSessionName"),
        ),
        (
            "gameSessionId >= 'a'",
            Error("booleans and strings work only with = and <>"),
        ),
        (
            "hasAvailablePlayerSessions > false",
            Error("booleans and strings work only"),
        ),
        (
            "gameSessionProperties.level <= '3'",
            Error("not allowed on gameSessionProperties.level"),
        ),
        // Errors: operands.
        ("playerCount = 1", Error("unknown operand 'playerCount'")),
        (
            "MaximumSessions = 1",
            Error("did you mean 'maximumSessions'"),
        ),
        (
            "'x' = gameSessionName",
            Error("expected an operand, found a string"),
        ),
        (
            "gameSessionProperties.a.b = 'x'",
            Error("'a.b' contains '.', which is not searchable"),
        ),
        ("gameSessionProperties = 'x'", Error("missing property key")),
        (
            "gameSessionProperties. = 'x'",
            Error("missing property key"),
        ),
        (
            "gameSessionProperties.abcdefghijklmnopqrstuvwxyz0123456 = 'x'",
            Error("longer than 32 characters"),
        ),
        // Errors: dangling operators and stray tokens.
        ("maximumSessions = 1 AND", Error("dangling operator: AND")),
        ("maximumSessions = 1 or", Error("dangling operator: OR")),
        (
            "OR maximumSessions = 1",
            Error("OR needs a condition before it"),
        ),
        (
            "maximumSessions = 1 AND OR maximumSessions = 2",
            Error("dangling operator: AND"),
        ),
        ("NOT", Error("dangling operator: NOT")),
        (
            "maximumSessions = 1 maximumSessions = 2",
            Error("expected AND, OR or end"),
        ),
        ("maximumSessions 1", Error("expected a comparator")),
        ("maximumSessions", Error("expected a comparator")),
        ("maximumSessions =", Error("expected a value")),
        ("maximumSessions == 1", Error("expected a value")),
        ("maximumSessions != 1", Error("use '<>'")),
        (
            "maximumSessions = 1 && maximumSessions = 2",
            Error("use AND / OR"),
        ),
        (
            "gameSessionProperties.gameMode = brawl",
            Error("string values must be quoted"),
        ),
        (
            "gameSessionName = 'é' AND ü",
            Error("unexpected character 'ü'"),
        ),
        // Errors: parentheses.
        ("(maximumSessions = 1", Error("this '(' is never closed")),
        ("maximumSessions = 1)", Error("unexpected ')'")),
        ("()", Error("expected a condition, found ')'")),
        ("(maximumSessions = 1 AND)", Error("dangling operator: AND")),
        (
            "(maximumSessions = 1 maximumSessions = 2)",
            Error("expected AND, OR or ')'"),
        ),
        // Errors: literals.
        ("gameSessionName = 'abc", Error("unterminated string")),
        ("gameSessionName = \"abc'", Error("unterminated string")),
        ("gameSessionName = 'abc\\", Error("unterminated string")),
        ("gameSessionName = 'a\\nb'", Error("unknown escape '\\n'")),
        (
            "maximumSessions = 99999999999999999999",
            Error("out of range"),
        ),
        ("maximumSessions = 1.5", Error("invalid number")),
        ("maximumSessions = 10AND", Error("invalid number")),
        (
            "maximumSessions = - 1",
            Error("'-' must be followed by digits"),
        ),
    ];
    let mut rows: Vec<(String, Expect)> =
        rows.into_iter().map(|(s, e)| (s.to_owned(), e)).collect();
    // Too long, too deep.
    let long = format!("gameSessionName = '{}'", "x".repeat(1024));
    rows.push((long, Error("more than the 1024 allowed")));
    let deep = format!("{}playerSessionCount = 0{}", "(".repeat(33), ")".repeat(33));
    rows.push((deep, Error("nested too deeply")));
    let deep_not = format!("{}playerSessionCount = 0", "NOT ".repeat(33));
    rows.push((deep_not, Error("nested too deeply")));
    let mixed = format!(
        "{}playerSessionCount = 0){}",
        "NOT (".repeat(17),
        ")".repeat(16)
    );
    rows.push((mixed, Error("nested too deeply")));
    // The limits themselves are fine.
    let at_limit = format!("{}playerSessionCount = 0{}", "(".repeat(32), ")".repeat(32));
    rows.push((at_limit, Match(&[3])));
    let not_limit = format!("{}playerSessionCount = 0", "NOT ".repeat(32));
    rows.push((not_limit, Match(&[3])));
    let max_len = format!("gameSessionName = '{}'", "x".repeat(1024 - 20));
    assert_eq!(max_len.chars().count(), 1024);
    rows.push((max_len, Match(&[])));
    rows
}

#[test]
fn filter_table_matches_and_errors() {
    let sessions = sessions();
    let table = filter_table();
    let (mut valid, mut invalid) = (0, 0);
    let mut failures = Vec::new();
    for (expr, expect) in &table {
        match (parse_filter(expr), expect) {
            (Ok(filter), Match(want)) => {
                valid += 1;
                let got: Vec<usize> = sessions
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| filter.matches(*s))
                    .map(|(i, _)| i + 1)
                    .collect();
                if got != *want {
                    failures.push(format!(
                        "{expr:?}: matched {got:?}, want {want:?} (parsed {filter})"
                    ));
                }
                // Printing gives text that parses back to the same tree.
                let printed = filter.to_string();
                if parse_filter(&printed) != Ok(filter.clone()) {
                    failures.push(format!("{expr:?}: printed {printed:?} does not parse back"));
                }
            }
            (Err(e), Error(want)) => {
                invalid += 1;
                if e.field != "filter_expression" || !e.message.contains(want) {
                    failures.push(format!(
                        "{expr:?}: error {e}, want message containing {want:?}"
                    ));
                }
            }
            (Ok(f), Error(want)) => {
                failures.push(format!("{expr:?}: parsed as {f}, want error {want:?}"))
            }
            (Err(e), Match(want)) => {
                failures.push(format!("{expr:?}: error {e}, want matches {want:?}"))
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        valid >= 45 && invalid >= 45,
        "valid {valid}, invalid {invalid}"
    );
}

fn cond(operand: Operand, cmp: Comparator, value: Value) -> Filter {
    Filter::Cond {
        operand,
        cmp,
        value,
    }
}

fn count(n: i64) -> Filter {
    cond(
        Operand::PlayerSessionCount,
        Comparator::Eq,
        Value::Number(n),
    )
}

#[test]
fn precedence_builds_the_expected_trees() {
    let b = Box::new;
    let p = |s: &str| parse_filter(s).unwrap();
    assert_eq!(
        p("playerSessionCount = 1 OR playerSessionCount = 2 AND playerSessionCount = 3"),
        Filter::Or(b(count(1)), b(Filter::And(b(count(2)), b(count(3)))))
    );
    assert_eq!(
        p("NOT playerSessionCount = 1 AND playerSessionCount = 2"),
        Filter::And(b(Filter::Not(b(count(1)))), b(count(2)))
    );
    // Left to right.
    assert_eq!(
        p("playerSessionCount = 1 AND playerSessionCount = 2 AND playerSessionCount = 3"),
        Filter::And(b(Filter::And(b(count(1)), b(count(2)))), b(count(3)))
    );
    assert_eq!(
        p("playerSessionCount = 1 OR playerSessionCount = 2 OR playerSessionCount = 3"),
        Filter::Or(b(Filter::Or(b(count(1)), b(count(2)))), b(count(3)))
    );
}

#[test]
fn display_is_canonical() {
    let f = parse_filter(
        "not (playerSessionCount=1 or playerSessionCount=2) and gameSessionName = \"it's\" \
         AND (playerSessionCount=3 AND hasAvailablePlayerSessions=TRUE)",
    )
    .unwrap();
    assert_eq!(
        f.to_string(),
        "NOT (playerSessionCount = 1 OR playerSessionCount = 2) AND gameSessionName = 'it\\'s' \
         AND (playerSessionCount = 3 AND hasAvailablePlayerSessions = true)"
    );
    assert_eq!(Value::Str("a\\'\"".to_owned()).to_string(), "'a\\\\\\'\"'");
    assert_eq!(
        Operand::GameSessionProperty("gameMode".to_owned()).to_string(),
        "gameSessionProperties.gameMode"
    );
    assert_eq!(
        parse_sort("creationTimeMillis asc").unwrap().to_string(),
        "creationTimeMillis ASC"
    );
}

#[test]
fn errors_carry_field_and_char_position() {
    // Position counts characters, not bytes: "東京" is 2 chars, 6 bytes.
    let e = parse_filter("gameSessionName = '東京' AND maximumSessions = x").unwrap_err();
    assert_eq!(e.field, "filter_expression");
    assert_eq!(e.position, 45);
    assert_eq!(
        e.to_string(),
        format!("filter_expression: {} at position 45", e.message)
    );
    let e = parse_filter("maximumSessions = 1 AND").unwrap_err();
    assert_eq!(e.position, 20);
    let e = parse_filter("(maximumSessions = 1").unwrap_err();
    assert_eq!(e.position, 0);
    let e = parse_filter("gameSessionProperties.a.b = 'x'").unwrap_err();
    assert_eq!(e.position, 22);
    let e = parse_filter(&"x".repeat(2000)).unwrap_err();
    assert_eq!((e.position, e.field), (1024, "filter_expression"));
    let e = parse_sort("maximumSessions UP").unwrap_err();
    assert_eq!((e.position, e.field), (16, "sort_expression"));
    assert_eq!(
        e.to_string(),
        "sort_expression: expected ASC or DESC, found 'UP' at position 16"
    );
}

#[test]
fn hand_built_ill_typed_conditions_never_match() {
    let sessions = sessions();
    let bad = [
        cond(
            Operand::GameSessionName,
            Comparator::Lt,
            Value::Str("zzz".to_owned()),
        ),
        cond(Operand::GameSessionName, Comparator::Ne, Value::Number(1)),
        cond(Operand::MaximumSessions, Comparator::Ne, Value::Bool(true)),
        cond(
            Operand::HasAvailablePlayerSessions,
            Comparator::Ge,
            Value::Bool(false),
        ),
    ];
    for f in &bad {
        assert!(sessions.iter().all(|s| !f.matches(s)), "{f:?}");
    }
}

// Sort tests.

/// Session numbers (1-6) in the order `sort` puts them; a stable sort keeps
/// ties in session order.
fn sorted(sort: &str) -> Vec<usize> {
    let sort = parse_sort(sort).unwrap();
    let mut v: Vec<(usize, Session)> = sessions()
        .into_iter()
        .enumerate()
        .map(|(i, s)| (i + 1, s))
        .collect();
    v.sort_by(|a, b| sort.compare(&a.1, &b.1));
    v.into_iter().map(|(i, _)| i).collect()
}

#[test]
fn sort_every_operand_both_directions() {
    // AWS example 6: "returns the oldest active sessions first".
    assert_eq!(sorted("creationTimeMillis ASC"), [5, 1, 4, 2, 6, 3]);
    assert_eq!(sorted("creationTimeMillis DESC"), [3, 6, 2, 4, 1, 5]);
    assert_eq!(sorted("maximumSessions ASC"), [5, 3, 1, 4, 2, 6]);
    assert_eq!(sorted("maximumSessions DESC"), [6, 2, 4, 1, 3, 5]);
    assert_eq!(sorted("playerSessionCount asc"), [3, 5, 1, 4, 2, 6]);
    assert_eq!(sorted("playerSessionCount Desc"), [6, 2, 4, 1, 5, 3]);
    // Byte order: "" < "Brawl" < "Casual" < "Matt" < "Quote" < "matt".
    assert_eq!(sorted("gameSessionName ASC"), [3, 4, 2, 1, 5, 6]);
    assert_eq!(sorted("gameSessionName DESC"), [6, 5, 1, 2, 4, 3]);
    assert_eq!(sorted("gameSessionId ASC"), [1, 2, 3, 4, 5, 6]);
    assert_eq!(sorted("gameSessionId DESC"), [6, 5, 4, 3, 2, 1]);
    // false < true; ties keep session order.
    assert_eq!(sorted("hasAvailablePlayerSessions ASC"), [2, 4, 1, 3, 5, 6]);
    assert_eq!(
        sorted("hasAvailablePlayerSessions DESC"),
        [1, 3, 5, 6, 2, 4]
    );
}

#[test]
fn sort_missing_property_goes_last() {
    // difficulty: 1 novice, 2 expert, 5 novice, 6 Novice; 3 and 4 have none.
    assert_eq!(
        sorted("gameSessionProperties.difficulty ASC"),
        [6, 2, 1, 5, 3, 4]
    );
    assert_eq!(
        sorted("gameSessionProperties.difficulty DESC"),
        [1, 5, 2, 6, 3, 4]
    );
    assert_eq!(sorted("gameSessionProperties.nope ASC"), [1, 2, 3, 4, 5, 6]);
    let s = sessions();
    let sort = parse_sort("gameSessionProperties.map DESC").unwrap();
    assert_eq!(sort.compare(&s[0], &s[3]), Ordering::Greater);
    assert_eq!(sort.compare(&s[3], &s[0]), Ordering::Less);
    assert_eq!(sort.compare(&s[0], &s[1]), Ordering::Equal);
}

#[test]
fn sort_parses_and_rejects() {
    assert_eq!(
        parse_sort("  gameSessionProperties.gameMode   desc ").unwrap(),
        Sort {
            operand: Operand::GameSessionProperty("gameMode".to_owned()),
            direction: Direction::Desc,
        }
    );
    let cases = [
        ("", "empty expression"),
        (" ", "only whitespace"),
        (
            "creationTimeMillis",
            "expected ASC or DESC after the operand",
        ),
        ("creationTimeMillis UP", "expected ASC or DESC, found 'UP'"),
        ("creationTimeMillis ASC DESC", "one operand only"),
        (
            "creationTimeMillis ASC, maximumSessions DESC",
            "unexpected character ','",
        ),
        (
            "creationTimeMillis ASC maximumSessions DESC",
            "one operand only",
        ),
        ("ASC", "unknown operand 'ASC'"),
        (
            "creationtimemillis ASC",
            "did you mean 'creationTimeMillis'",
        ),
        ("gameSessionProperties.a.b ASC", "not searchable"),
        ("gameSessionProperties ASC", "missing property key"),
        ("(creationTimeMillis) ASC", "expected an operand, found '('"),
        ("creationTimeMillis = 1", "expected ASC or DESC, found '='"),
    ];
    for (expr, want) in cases {
        let e = parse_sort(expr).unwrap_err();
        assert_eq!(e.field, "sort_expression", "{expr:?}");
        assert!(e.message.contains(want), "{expr:?}: {e}, want {want:?}");
    }
    let long = format!("gameSessionProperties.{} ASC", "k".repeat(1100));
    assert!(
        parse_sort(&long)
            .unwrap_err()
            .message
            .contains("more than the 1024 allowed")
    );
}

// Property tests.

fn arb_key() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_-]{1,32}"
}

fn arb_operand() -> impl Strategy<Value = Operand> {
    prop_oneof![
        Just(Operand::GameSessionName),
        Just(Operand::GameSessionId),
        arb_key().prop_map(Operand::GameSessionProperty),
        Just(Operand::MaximumSessions),
        Just(Operand::CreationTimeMillis),
        Just(Operand::PlayerSessionCount),
        Just(Operand::HasAvailablePlayerSessions),
    ]
}

fn arb_string() -> impl Strategy<Value = String> {
    let c = prop_oneof![
        Just('\''),
        Just('"'),
        Just('\\'),
        Just(' '),
        proptest::char::range('a', 'z'),
        any::<char>(),
    ];
    prop::collection::vec(c, 0..10).prop_map(|v| v.into_iter().collect())
}

fn arb_comparator() -> impl Strategy<Value = Comparator> {
    prop_oneof![
        Just(Comparator::Eq),
        Just(Comparator::Ne),
        Just(Comparator::Lt),
        Just(Comparator::Gt),
        Just(Comparator::Le),
        Just(Comparator::Ge),
    ]
}

fn arb_equality() -> impl Strategy<Value = Comparator> {
    prop_oneof![Just(Comparator::Eq), Just(Comparator::Ne)]
}

/// A well-typed condition.
fn arb_cond() -> impl Strategy<Value = Filter> {
    arb_operand().prop_flat_map(|operand| {
        let cmp_value = match operand.kind() {
            Kind::Number => (arb_comparator(), any::<i64>().prop_map(Value::Number)).boxed(),
            Kind::Bool => (arb_equality(), any::<bool>().prop_map(Value::Bool)).boxed(),
            Kind::Str => (arb_equality(), arb_string().prop_map(Value::Str)).boxed(),
        };
        cmp_value.prop_map(move |(cmp, value)| Filter::Cond {
            operand: operand.clone(),
            cmp,
            value,
        })
    })
}

fn arb_filter() -> impl Strategy<Value = Filter> {
    arb_cond()
        .prop_recursive(6, 24, 2, |inner| {
            prop_oneof![
                inner.clone().prop_map(|f| Filter::Not(Box::new(f))),
                (inner.clone(), inner.clone())
                    .prop_map(|(l, r)| Filter::And(Box::new(l), Box::new(r))),
                (inner.clone(), inner).prop_map(|(l, r)| Filter::Or(Box::new(l), Box::new(r))),
            ]
        })
        .prop_filter("printed form must fit the 1024-char limit", |f| {
            f.to_string().chars().count() <= MAX_EXPRESSION_CHARS
        })
}

fn arb_sort() -> impl Strategy<Value = Sort> {
    (
        arb_operand(),
        prop_oneof![Just(Direction::Asc), Just(Direction::Desc)],
    )
        .prop_map(|(operand, direction)| Sort { operand, direction })
}

/// Text built from grammar fragments, so random input reaches deep into
/// the parser instead of failing on the first character.
fn arb_fragments() -> impl Strategy<Value = String> {
    let frag = prop_oneof![
        // Whole conditions and keywords, so that a fair share of the soup
        // parses and reaches evaluation and printing.
        6 => prop_oneof![
            Just("maximumSessions>=3"),
            Just("playerSessionCount < -2"),
            Just("gameSessionName = 'a\\'b'"),
            Just("gameSessionProperties.k <> \"x\\\\\""),
            Just("hasAvailablePlayerSessions = TRUE"),
            Just("creationTimeMillis DESC"),
            Just("gameSessionId asc"),
        ],
        4 => prop_oneof![Just("AND"), Just("or"), Just("NOT")],
        3 => prop_oneof![Just("("), Just(")")],
        // Loose pieces.
        1 => prop_oneof![
            Just("maximumSessions"),
            Just("gameSessionProperties.k"),
            Just("gameSessionProperties."),
            Just("="),
            Just("<>"),
            Just(">="),
            Just("'"),
            Just("\\"),
            Just("-"),
            Just("12"),
            Just("true"),
            Just("é"),
        ],
    ];
    let sep = prop_oneof![4 => Just(" "), 1 => Just("")];
    prop::collection::vec((frag, sep), 0..24)
        .prop_map(|v| v.into_iter().flat_map(|(f, s)| [f, s]).collect::<String>())
}

/// A valid expression's canonical text with one random edit: none, a
/// deleted character, or a grammar fragment inserted or substituted at a
/// random place. Reaches error paths deep inside otherwise valid input.
fn arb_mutated() -> impl Strategy<Value = (Filter, String)> {
    let fragment = prop_oneof![
        Just("AND "),
        Just(" OR"),
        Just("NOT "),
        Just("("),
        Just(")"),
        Just("'"),
        Just("\"\""),
        Just("\\"),
        Just("-"),
        Just("="),
        Just("<"),
        Just(" "),
        Just(""),
        Just("."),
        Just("true"),
        Just("9"),
    ];
    (arb_filter(), any::<prop::sample::Index>(), 0..3u8, fragment).prop_map(
        |(f, at, edit, fragment)| {
            let mut chars: Vec<char> = f.to_string().chars().collect();
            let i = at.index(chars.len() + 1);
            match edit {
                0 if i < chars.len() => {
                    chars.remove(i);
                }
                1 => {
                    chars.splice(i..i, fragment.chars());
                }
                _ => {
                    let end = (i + 1).min(chars.len());
                    chars.splice(i..end, fragment.chars());
                }
            }
            (f, chars.into_iter().collect())
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn filter_print_parse_round_trip(f in arb_filter()) {
        let printed = f.to_string();
        prop_assert_eq!(parse_filter(&printed), Ok(f), "printed: {}", printed);
    }

    #[test]
    fn sort_print_parse_round_trip(s in arb_sort()) {
        prop_assert_eq!(parse_sort(&s.to_string()), Ok(s));
    }

    #[test]
    fn arbitrary_strings_never_panic(s in any::<String>()) {
        let _ = parse_filter(&s);
        let _ = parse_sort(&s);
    }

    #[test]
    fn mutated_filters_never_panic_and_round_trip((_, s) in arb_mutated()) {
        let sessions = sessions();
        if let Ok(f) = parse_filter(&s) {
            for session in &sessions {
                let _ = f.matches(session);
            }
            prop_assert_eq!(parse_filter(&f.to_string()), Ok(f));
        }
    }

    #[test]
    fn grammar_soup_never_panics_and_round_trips(s in arb_fragments()) {
        let sessions = sessions();
        if let Ok(f) = parse_filter(&s) {
            for session in &sessions {
                let _ = f.matches(session);
            }
            prop_assert_eq!(parse_filter(&f.to_string()), Ok(f));
        }
        if let Ok(sort) = parse_sort(&s) {
            prop_assert_eq!(parse_sort(&sort.to_string()), Ok(sort));
        }
    }
}
