//! SCPI text, without I/O: `*IDN?` replies, headers, NR1/NR2/NR3 numbers,
//! `;`/`,` lists, sentinel values and error-queue replies. Every function is
//! total: malformed input gives an `Err(ReplyError)` naming what could not be
//! read, never a panic.

use chrono::{DateTime, Datelike, Timelike, Utc};

use crate::config::ErrorFormat;
use crate::driver::Identity;
use crate::reading::{SpecialKind, Value};

pub const IDN: &str = "*IDN?";
pub const CLEAR_STATUS: &str = "*CLS";
/// SCPI-99's error queue query (`-113,"Undefined header"`).
pub const ERROR_QUERY: &str = ":SYSTem:ERRor?";
/// Hioki's error query, answered with a bare NR1 code (`0`: no error).
pub const HIOKI_ERROR_QUERY: &str = ":ERRor?";
pub const START: &str = ":STARt";
pub const STOP: &str = ":STOP";
pub const HEADER_OFF: &str = ":HEADer OFF";

/// Relative tolerance when comparing a value with a sentinel: instruments
/// print the same sentinel in different formats (`+9999.9E+99`, `9.9999E+102`).
const SENTINEL_TOLERANCE: f64 = 1e-9;

/// Sentinels every instrument family shares (Hioki and SCPI-99 conventions).
const SENTINELS: &[(f64, SpecialKind)] = &[
    (9999.9e99, SpecialKind::NoData),
    (999.99e9, SpecialKind::OverRange),
    (-999.99e9, SpecialKind::UnderRange),
    (888.88e9, SpecialKind::BurnOut),
    (-888.88e9, SpecialKind::BurnOut),
    (777.77e9, SpecialKind::Invalid),
    (-777.77e9, SpecialKind::Invalid),
    // SCPI-99: 9.91E+37 is "not a number", ±9.9E+37 is ±infinity (overload).
    (9.91e37, SpecialKind::Invalid),
    (9.9e37, SpecialKind::OverRange),
    (-9.9e37, SpecialKind::UnderRange),
];

/// What in an instrument's reply could not be read (the families' parsers
/// use it too); the text names the item and what was expected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    #[error("expected 4 comma-separated fields (maker,model,serial,firmware), got {0}")]
    IdnFields(usize),
    #[error("the {0} field is empty")]
    EmptyIdnField(&'static str),
    #[error("empty value where a number was expected")]
    EmptyNumber,
    #[error("`{0}` is not a number")]
    NotANumber(String),
    #[error("expected {expected} values, got {got}")]
    ValueCount { expected: usize, got: usize },
    #[error("expected one value, got {0} fields")]
    FieldCount(usize),
    /// A header (or echo) naming another item than the one asked for.
    #[error("reply is for `{0}`")]
    OtherItem(String),
    #[error("reply is for channel `{0}`")]
    OtherChannel(String),
    #[error("`{0}` is not an error entry like `-113,\"Undefined header\"`")]
    NotErrorEntry(String),
    #[error("`{0}` is not an error code")]
    NotErrorCode(String),
    #[error("error message `{0}` is not a quoted string")]
    UnquotedMessage(String),
    #[error("`{0}` is not an NR1 error code like `0` or `-113`")]
    NotNr1Code(String),
    /// The problem with one item of a list: `item 2: ...`, `U1: ...`.
    #[error("{item}: {source}")]
    In { item: String, source: Box<ReplyError> },
}

impl ReplyError {
    /// This problem, found in `item`.
    pub fn within(self, item: impl Into<String>) -> ReplyError {
        ReplyError::In { item: item.into(), source: Box::new(self) }
    }
}

/// Parses a `*IDN?` reply `MAKER,MODEL,SERIAL,FIRMWARE` (spaces and quotes
/// around fields tolerated, an echoed `*IDN` header dropped). Extra fields
/// are kept in the firmware field.
pub fn parse_idn(reply: &str) -> Result<Identity, ReplyError> {
    let (header, body) = split_header(reply);
    let body = match header {
        Some(h) if h.eq_ignore_ascii_case("*IDN") => body,
        _ => reply.trim(),
    };
    let fields: Vec<&str> = split_top(body, ',').into_iter().map(unquote).collect();
    let [maker, model, serial, firmware @ ..] = fields.as_slice() else {
        return Err(ReplyError::IdnFields(fields.len()));
    };
    if firmware.is_empty() {
        return Err(ReplyError::IdnFields(3));
    }
    if maker.is_empty() {
        return Err(ReplyError::EmptyIdnField("maker"));
    }
    if model.is_empty() {
        return Err(ReplyError::EmptyIdnField("model"));
    }
    // Shown in events and the window: no raw control bytes, no screenful.
    let text = |s: &str| crate::text::quote_reply(s);
    Ok(Identity { maker: text(maker), model: text(model), serial: text(serial), firmware: text(&firmware.join(",")) })
}

/// Splits a reply item into its header (if the instrument sent one) and the
/// data: `:MEMORY:VREAL CH1_1,+1.2E+00` -> (`:MEMORY:VREAL`, `CH1_1,+1.2E+00`),
/// `U1 +100.02E+0` -> (`U1`, `+100.02E+0`), `+1.0E+00` -> (None, `+1.0E+00`).
pub fn split_header(item: &str) -> (Option<&str>, &str) {
    let item = item.trim();
    match item.split_once(|c: char| c.is_ascii_whitespace()) {
        Some((head, rest)) if looks_like_header(head) => (Some(head), rest.trim()),
        _ => (None, item),
    }
}

/// The data part of a reply item, header or not.
pub fn strip_header(item: &str) -> &str {
    split_header(item).1
}

/// Headers start with `:`, `*` or a letter; data never does (numbers start
/// with a digit, sign or point, strings with a quote).
fn looks_like_header(token: &str) -> bool {
    token.starts_with([':', '*']) || token.starts_with(|c: char| c.is_ascii_alphabetic())
}

/// Parses an NR1 (`-12`), NR2 (`+1.50`) or NR3 (`+1.23450E+00`) number.
/// Words Rust would accept (`inf`, `NaN`) are refused: instruments say those
/// with sentinels.
pub fn parse_number(text: &str) -> Result<f64, ReplyError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(ReplyError::EmptyNumber);
    }
    let not_a_number = || ReplyError::NotANumber(shorten(t));
    if !t.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E')) {
        return Err(not_a_number());
    }
    if !t.bytes().any(|b| b.is_ascii_digit()) {
        return Err(not_a_number());
    }
    t.parse::<f64>().map_err(|_| not_a_number())
}

/// Which special value `v` stands for, if any: the shared sentinels, then
/// `extra` (per-instrument sentinels, all meaning `Invalid`). Non-finite
/// numbers are `Invalid` too.
pub fn sentinel(v: f64, extra: &[f64]) -> Option<SpecialKind> {
    if !v.is_finite() {
        return Some(SpecialKind::Invalid);
    }
    let near = |s: f64| (v - s).abs() <= SENTINEL_TOLERANCE * s.abs().max(f64::MIN_POSITIVE);
    SENTINELS
        .iter()
        .find(|(s, _)| near(*s))
        .map(|(_, kind)| *kind)
        .or_else(|| extra.iter().any(|s| s.is_finite() && near(*s)).then_some(SpecialKind::Invalid))
}

/// A number, or the special value it encodes.
pub fn classify(v: f64, extra: &[f64]) -> Value {
    match sentinel(v, extra) {
        Some(kind) => Value::Special(kind),
        None => Value::Number(v),
    }
}

/// Parses one value item (header optional) into a [`Value`].
pub fn parse_value(item: &str, extra: &[f64]) -> Result<Value, ReplyError> {
    parse_number(strip_header(item)).map(|v| classify(v, extra))
}

/// `value * scale + offset` for numbers; special values pass unchanged.
pub fn scaled(value: Value, scale: f64, offset: f64) -> Value {
    match value {
        Value::Number(v) => Value::Number(v * scale + offset),
        special => special,
    }
}

/// Splits a line on `sep` outside double-quoted strings, trimming each part.
/// An empty line gives no parts.
pub fn split_top(line: &str, sep: char) -> Vec<&str> {
    if line.trim().is_empty() {
        return Vec::new();
    }
    let mut parts = Vec::new();
    let mut in_quotes = false;
    let mut start = 0;
    for (i, c) in line.char_indices() {
        match c {
            '"' => in_quotes = !in_quotes,
            c if c == sep && !in_quotes => {
                parts.push(line[start..i].trim());
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(line[start..].trim());
    parts
}

/// The replies of a compound (`;`-joined) query line.
pub fn split_replies(line: &str) -> Vec<&str> {
    split_top(line, ';')
}

/// A comma-separated list of numbers (e.g. `+1.0E+00,+2.0E+00`).
pub fn parse_number_list(line: &str) -> Result<Vec<f64>, ReplyError> {
    split_top(strip_header(line), ',')
        .into_iter()
        .enumerate()
        .map(|(i, f)| parse_number(f).map_err(|e| e.within(format!("item {}", i + 1))))
        .collect()
}

/// Joins commands into one compound line (`:A;:B?`).
pub fn join_commands<S: AsRef<str>>(commands: &[S]) -> String {
    commands.iter().map(|c| c.as_ref().trim()).filter(|c| !c.is_empty()).collect::<Vec<_>>().join(";")
}

/// True when the instrument will answer `command` (it contains a query).
pub fn is_query(command: &str) -> bool {
    command.contains('?')
}

/// One entry of the instrument's error queue. `message` is empty when the
/// instrument answers with a bare code (NR1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScpiError {
    pub code: i32,
    pub message: String,
}

impl ScpiError {
    /// `0,"No error"` (or `0`): the queue is empty.
    pub fn is_none(&self) -> bool {
        self.code == 0
    }

    /// A bare code: the instrument reports a state, not a queue to drain.
    pub fn is_bare(&self) -> bool {
        self.message.is_empty()
    }
}

impl std::fmt::Display for ScpiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_bare() {
            write!(f, "error code {}", self.code)
        } else {
            write!(f, "{},\"{}\"", self.code, self.message)
        }
    }
}

/// Parses a `:SYSTem:ERRor?` reply: `-113,"Undefined header"`, `+0,"No error"`
/// (header optional). The quoted message is required, so that a late reply
/// to another query (`+1`, `1,2`) is never taken for an error entry.
pub fn parse_error_reply(reply: &str) -> Result<ScpiError, ReplyError> {
    let body = strip_header(reply);
    let (code_text, message) = body.split_once(',').ok_or_else(|| ReplyError::NotErrorEntry(shorten(body)))?;
    let code: i32 = code_text
        .trim()
        .trim_start_matches('+')
        .parse()
        .map_err(|_| ReplyError::NotErrorCode(shorten(code_text.trim())))?;
    let message = message.trim();
    let unquoted = message
        .strip_prefix('"')
        .and_then(|m| m.strip_suffix('"'))
        .ok_or_else(|| ReplyError::UnquotedMessage(shorten(message)))?;
    Ok(ScpiError { code, message: unquoted.replace("\"\"", "\"") })
}

/// Parses a bare NR1 error code (Hioki's `:ERRor?`): `0`, `+0`, `-113`,
/// header optional. Anything else (a decimal point, an exponent, a list) is
/// refused, so a late measurement reply is not read as an error code.
pub fn parse_nr1_error(reply: &str) -> Result<ScpiError, ReplyError> {
    let body = strip_header(reply);
    let digits = body.strip_prefix(['+', '-']).unwrap_or(body);
    if digits.is_empty() || digits.len() > 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ReplyError::NotNr1Code(shorten(body)));
    }
    let code: i32 = body.trim_start_matches('+').parse().map_err(|_| ReplyError::NotNr1Code(shorten(body)))?;
    Ok(ScpiError { code, message: String::new() })
}

/// Parses an error query reply in `format`; `Either` takes a reply with a
/// comma as SCPI-99 and one without as NR1.
pub fn parse_error_reply_as(reply: &str, format: ErrorFormat) -> Result<ScpiError, ReplyError> {
    match format {
        ErrorFormat::Scpi => parse_error_reply(reply),
        ErrorFormat::Nr1 => parse_nr1_error(reply),
        ErrorFormat::Either if strip_header(reply).contains(',') => parse_error_reply(reply),
        ErrorFormat::Either => parse_nr1_error(reply),
    }
}

/// The two commands that set the instrument's clock to `now` (UTC).
pub fn clock_commands(now: DateTime<Utc>) -> [String; 2] {
    [
        format!(":SYSTem:DATE {},{:02},{:02}", now.year(), now.month(), now.day()),
        format!(":SYSTem:TIME {:02},{:02},{:02}", now.hour(), now.minute(), now.second()),
    ]
}

fn unquote(s: &str) -> &str {
    let s = s.trim();
    s.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(s).trim()
}

/// At most 40 characters of `s`, escaped, for error messages.
fn shorten(s: &str) -> String {
    crate::text::quote_reply_max(s, 40)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    #[test]
    fn idn_is_parsed_with_spaces_and_quotes() {
        let id = parse_idn(" HIOKI, LR8450 ,SIM4201, V2.10 ").unwrap();
        assert_eq!(
            id,
            Identity {
                maker: "HIOKI".into(),
                model: "LR8450".into(),
                serial: "SIM4201".into(),
                firmware: "V2.10".into()
            }
        );
        let id = parse_idn("\"Keysight Technologies\",34465A,MY1,A.02.14-02.40").unwrap();
        assert_eq!(id.maker, "Keysight Technologies");
        let id = parse_idn("*IDN HIOKI,PW3390,1,V1.30").unwrap();
        assert_eq!(id.model, "PW3390");
        // Extra fields stay with the firmware.
        assert_eq!(parse_idn("A,B,C,D,E").unwrap().firmware, "D,E");
        assert_eq!(parse_idn("A\u{7},B,C,D").unwrap().maker, "A<07>");
    }

    #[test]
    fn idn_with_missing_fields_is_a_clear_error() {
        let err = parse_idn("HIOKI,LR8450").unwrap_err().to_string();
        assert!(err.contains("got 2"), "{err}");
        assert!(parse_idn("").unwrap_err().to_string().contains("got 0"));
        assert!(parse_idn(",LR8450,1,2").unwrap_err().to_string().contains("maker"));
        assert!(parse_idn("HIOKI, ,1,2").unwrap_err().to_string().contains("model"));
    }

    #[test]
    fn headers_are_split_off() {
        assert_eq!(split_header(":MEMORY:VREAL CH1_1,+1.2E+00"), (Some(":MEMORY:VREAL"), "CH1_1,+1.2E+00"));
        assert_eq!(split_header("U1 +100.02E+0"), (Some("U1"), "+100.02E+0"));
        assert_eq!(split_header("+1.0E+00"), (None, "+1.0E+00"));
        assert_eq!(split_header(" -5 "), (None, "-5"));
        assert_eq!(strip_header(":SYSTEM:ERROR -113,\"Undefined header\""), "-113,\"Undefined header\"");
        assert_eq!(strip_header("RUN"), "RUN");
    }

    #[test]
    fn nr1_nr2_nr3_numbers() {
        assert_eq!(parse_number("42").unwrap(), 42.0);
        assert_eq!(parse_number("-12").unwrap(), -12.0);
        assert_eq!(parse_number("+1.50").unwrap(), 1.5);
        assert_eq!(parse_number("-.5").unwrap(), -0.5);
        assert_eq!(parse_number("+1.23450E+00").unwrap(), 1.2345);
        assert_eq!(parse_number("1e-3").unwrap(), 0.001);
        assert_eq!(parse_number("+100.02E+0").unwrap(), 100.02);
        for bad in ["", " ", "inf", "NaN", "abc", "1.2.3", "+", "E", "1,2", "--1"] {
            assert!(parse_number(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn sentinels_in_any_format() {
        let cases = [
            ("+9999.9E+99", SpecialKind::NoData),
            ("9.9999E+102", SpecialKind::NoData),
            ("+999.99E+9", SpecialKind::OverRange),
            ("+9.9999E+11", SpecialKind::OverRange),
            ("-999.99E+9", SpecialKind::UnderRange),
            ("+888.88E+9", SpecialKind::BurnOut),
            ("-888.88E+9", SpecialKind::BurnOut),
            ("+777.77E+9", SpecialKind::Invalid),
            ("-777.77E+9", SpecialKind::Invalid),
            ("+9.91E+37", SpecialKind::Invalid),
            ("+9.9E+37", SpecialKind::OverRange),
            ("-9.9E+37", SpecialKind::UnderRange),
        ];
        for (text, kind) in cases {
            assert_eq!(parse_value(text, &[]).unwrap(), Value::Special(kind), "{text}");
        }
        assert_eq!(parse_value("+999.98E+9", &[]).unwrap(), Value::Number(999.98e9));
        assert_eq!(parse_value("0", &[]).unwrap(), Value::Number(0.0));
        assert_eq!(parse_value("U1 +999.99E+9", &[]).unwrap(), Value::Special(SpecialKind::OverRange));
    }

    #[test]
    fn extra_sentinels_are_invalid() {
        assert_eq!(parse_value("-9999", &[-9999.0]).unwrap(), Value::Special(SpecialKind::Invalid));
        assert_eq!(parse_value("-9999.5", &[-9999.0]).unwrap(), Value::Number(-9999.5));
        assert_eq!(classify(0.0, &[0.0]), Value::Special(SpecialKind::Invalid));
        assert_eq!(classify(1e-300, &[0.0]), Value::Number(1e-300));
    }

    #[test]
    fn scaling_leaves_specials_alone() {
        assert_eq!(scaled(Value::Number(2.0), 10.0, 1.0), Value::Number(21.0));
        let s = Value::Special(SpecialKind::NoData);
        assert_eq!(scaled(s, 10.0, 1.0), s);
    }

    #[test]
    fn lists_split_outside_quotes() {
        assert_eq!(split_replies("+1.0E+00;-2;U1 3"), vec!["+1.0E+00", "-2", "U1 3"]);
        assert_eq!(split_top("a,\"b,c\",d", ','), vec!["a", "\"b,c\"", "d"]);
        assert_eq!(split_replies(""), Vec::<&str>::new());
        assert_eq!(split_replies("1;;2"), vec!["1", "", "2"]);
        assert_eq!(parse_number_list("+1.0E+00,+2.5").unwrap(), vec![1.0, 2.5]);
        assert!(parse_number_list("1,x").unwrap_err().to_string().contains("item 2"));
    }

    #[test]
    fn error_queue_replies() {
        let e = parse_error_reply("-113,\"Undefined header\"").unwrap();
        assert_eq!(e, ScpiError { code: -113, message: "Undefined header".into() });
        assert_eq!(e.to_string(), "-113,\"Undefined header\"");
        assert!(parse_error_reply("+0,\"No error\"").unwrap().is_none());
        assert!(parse_error_reply("0").is_err());
        assert!(parse_error_reply("+1").is_err());
        assert!(parse_error_reply("1,2").unwrap_err().to_string().contains("quoted"));
        assert_eq!(parse_error_reply("-100,\"say \"\"hi\"\"\"").unwrap().message, "say \"hi\"");
        assert_eq!(parse_error_reply(":SYST:ERR -224,\"Illegal parameter value\"").unwrap().code, -224);
        assert_eq!(parse_error_reply("-100,\"Command error; a,b\"").unwrap().message, "Command error; a,b");
        assert!(parse_error_reply("+1.0E+00").is_err());
        assert!(parse_error_reply("").is_err());
    }

    #[test]
    fn nr1_error_codes() {
        assert_eq!(parse_nr1_error("0").unwrap(), ScpiError { code: 0, message: String::new() });
        assert!(parse_nr1_error("+0").unwrap().is_none());
        assert_eq!(parse_nr1_error(" 12 ").unwrap().code, 12);
        assert_eq!(parse_nr1_error("-113").unwrap().code, -113);
        assert_eq!(parse_nr1_error(":ERROR 3").unwrap().code, 3);
        assert_eq!(parse_nr1_error("3").unwrap().to_string(), "error code 3");
        for bad in ["", "+", "1.0", "+1.0E+00", "0,\"No error\"", "x", "1 2", "99999999999", "--1"] {
            let err = parse_nr1_error(bad).unwrap_err().to_string();
            assert!(err.contains("NR1"), "{bad:?}: {err}");
        }
        let err = parse_nr1_error("\u{6}\u{6}").unwrap_err().to_string();
        assert_eq!(err, "`<06><06>` is not an NR1 error code like `0` or `-113`");
    }

    #[test]
    fn error_replies_in_each_format() {
        use ErrorFormat::*;
        assert!(parse_error_reply_as("0", Nr1).unwrap().is_none());
        assert!(parse_error_reply_as("0", Scpi).is_err());
        assert!(parse_error_reply_as("0,\"No error\"", Nr1).is_err());
        assert!(parse_error_reply_as("0", Either).unwrap().is_none());
        assert!(parse_error_reply_as("+0,\"No error\"", Either).unwrap().is_none());
        assert_eq!(parse_error_reply_as("-113,\"Undefined header\"", Either).unwrap().code, -113);
        assert_eq!(parse_error_reply_as(":SYST:ERR -113,\"x\"", Either).unwrap().message, "x");
        assert_eq!(parse_error_reply_as("-113", Either).unwrap().code, -113);
        assert!(parse_error_reply_as("+1.5E+00", Either).unwrap_err().to_string().contains("NR1"));
        assert!(parse_error_reply_as("1,2", Either).unwrap_err().to_string().contains("quoted"));
    }

    #[test]
    fn commands_join_and_queries_are_recognised() {
        assert_eq!(join_commands(&[":MEM:GETR", " :MEM:VREAL? CH1_1 ", ""]), ":MEM:GETR;:MEM:VREAL? CH1_1");
        assert!(is_query("*IDN?"));
        assert!(!is_query(":STARt"));
    }

    #[test]
    fn clock_commands_are_zero_padded() {
        let t = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        assert_eq!(clock_commands(t), [":SYSTem:DATE 2026,01,02".to_string(), ":SYSTem:TIME 03,04,05".to_string()]);
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(s in ".*") {
            let _ = parse_idn(&s);
            let _ = split_header(&s);
            let _ = parse_number(&s);
            let _ = parse_value(&s, &[1.0, f64::NAN]);
            let _ = parse_number_list(&s);
            let _ = split_replies(&s);
            let _ = parse_error_reply(&s);
            let _ = parse_error_reply_as(&s, ErrorFormat::Either);
            let _ = parse_error_reply_as(&s, ErrorFormat::Nr1);
        }

        #[test]
        fn nr3_round_trips(v in -1e12f64..1e12) {
            let text = format!("{v:+.5E}");
            let back = parse_number(&text).unwrap();
            prop_assert!((back - v).abs() <= v.abs() * 1e-5 + 1e-300);
        }
    }
}
