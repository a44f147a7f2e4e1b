//! Power meter wire text, without I/O: measurement items, the `:MEASure?`
//! query and its reply.

use crate::families::scpi::protocol::{self as scpi, ReplyError, split_header, split_replies};
use crate::reading::Value;

/// Items polled when the configuration lists none.
pub const DEFAULT_ITEMS: [&str; 3] = ["U1", "I1", "P1"];

/// What a settings profile of a power meter covers unless its
/// configuration lists others: voltage and current range, averaging.
pub const SETTINGS: &[&str] = &[":VOLTage:RANGe", ":CURRent:RANGe", ":AVERage:COUNt"];

/// A channel id that names no measurement item, with the items that exist.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a power meter item (U1..U4, I1..I4, P1..P4, S1..S4, Q1..Q4, PF1..PF4, FREQ1..FREQ3, PSUM, EFF1)")]
pub struct UnknownItem(pub String);

/// The canonical (upper case) name of a measurement item, or an error
/// naming it and the items that exist.
pub fn canonical_item(item: &str) -> Result<String, UnknownItem> {
    let upper = item.trim().to_ascii_uppercase();
    let numbered = |prefix: &str, max: u8| {
        upper
            .strip_prefix(prefix)
            .and_then(|n| n.parse::<u8>().ok().filter(|n| (1..=max).contains(n)).map(|_| n.len() == 1))
            .unwrap_or(false)
    };
    let known = ["U", "I", "P", "S", "Q", "PF"].iter().any(|p| numbered(p, 4))
        || numbered("FREQ", 3)
        || upper == "PSUM"
        || upper == "EFF1";
    if known { Ok(upper) } else { Err(UnknownItem(item.to_string())) }
}

/// The unit an item is measured in.
pub fn item_unit(item: &str) -> Option<&'static str> {
    let upper = item.to_ascii_uppercase();
    let prefix = upper.trim_end_matches(|c: char| c.is_ascii_digit());
    match prefix {
        "U" => Some("V"),
        "I" => Some("A"),
        "P" | "PSUM" => Some("W"),
        "S" => Some("VA"),
        "Q" => Some("var"),
        "FREQ" => Some("Hz"),
        "EFF" => Some("%"),
        _ => None,
    }
}

/// `:MEASure? U1,I1,P1`
pub fn measure_command<S: AsRef<str>>(items: &[S]) -> String {
    let list: Vec<&str> = items.iter().map(|s| s.as_ref()).collect();
    format!(":MEASure? {}", list.join(","))
}

/// Parses the `;`-joined reply, header OFF (`+100.02E+0`) or ON
/// (`U1 +100.02E+0`, whose header must name the item asked for).
pub fn parse_measure_reply<S: AsRef<str>>(reply: &str, items: &[S], extra: &[f64]) -> Result<Vec<Value>, ReplyError> {
    let parts = split_replies(reply);
    if parts.len() != items.len() {
        return Err(ReplyError::ValueCount { expected: items.len(), got: parts.len() });
    }
    parts
        .iter()
        .zip(items)
        .map(|(part, item)| {
            let item = item.as_ref();
            let (header, data) = split_header(part);
            if let Some(header) = header {
                let name = header.rsplit(':').next().unwrap_or(header);
                if !name.eq_ignore_ascii_case(item) {
                    return Err(ReplyError::OtherItem(crate::text::quote_reply_max(header, 40)).within(item));
                }
            }
            scpi::parse_number(data).map(|v| scpi::classify(v, extra)).map_err(|e| e.within(item))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reading::SpecialKind;
    use proptest::prelude::*;

    #[test]
    fn items_are_validated() {
        for ok in ["U1", "u4", "I2", "P3", "S4", "Q1", "PF4", "FREQ1", "freq3", "PSUM", "EFF1"] {
            assert!(canonical_item(ok).is_ok(), "{ok}");
        }
        assert_eq!(canonical_item("pf2").unwrap(), "PF2");
        for bad in ["", "U0", "U5", "U01", "FREQ4", "EFF2", "X1", "P", "PSUM1", "U1,I1", "Ü1"] {
            let err = canonical_item(bad).unwrap_err().to_string();
            assert!(err.contains(&format!("`{bad}`")), "{err}");
        }
    }

    #[test]
    fn units() {
        assert_eq!(item_unit("U1"), Some("V"));
        assert_eq!(item_unit("PSUM"), Some("W"));
        assert_eq!(item_unit("FREQ2"), Some("Hz"));
        assert_eq!(item_unit("PF1"), None);
    }

    #[test]
    fn command() {
        assert_eq!(measure_command(&["U1", "I1", "P1"]), ":MEASure? U1,I1,P1");
    }

    #[test]
    fn replies_with_and_without_header() {
        let items = ["U1", "I1", "P1"];
        let off = parse_measure_reply("+100.02E+0;+1.0000E+0;+100.02E+0", &items, &[]).unwrap();
        assert_eq!(off, vec![Value::Number(100.02), Value::Number(1.0), Value::Number(100.02)]);
        let on = parse_measure_reply("U1 +100.02E+0;I1 +1.0000E+0;P1 +777.77E+9", &items, &[]).unwrap();
        assert_eq!(on[2], Value::Special(SpecialKind::Invalid));
        let long = parse_measure_reply(":MEASURE:U1 +1.0E+0", &["U1"], &[]).unwrap();
        assert_eq!(long, vec![Value::Number(1.0)]);
    }

    #[test]
    fn malformed_replies_are_errors() {
        let items = ["U1", "I1"];
        assert!(
            parse_measure_reply("+1.0E+0", &items, &[]).unwrap_err().to_string().contains("expected 2 values, got 1")
        );
        assert!(parse_measure_reply("+1;+2;+3", &items, &[]).unwrap_err().to_string().contains("got 3"));
        assert!(
            parse_measure_reply("I1 +1;U1 +2", &items, &[]).unwrap_err().to_string().contains("U1: reply is for `I1`")
        );
        assert!(parse_measure_reply("+1;garbage", &items, &[]).unwrap_err().to_string().starts_with("I1:"));
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(s in ".*", item in ".*") {
            let _ = parse_measure_reply(&s, &["U1", "I1"], &[]);
            let _ = canonical_item(&item);
            let _ = item_unit(&item);
        }
    }
}
