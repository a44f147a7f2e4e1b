//! Instrument replies as they may be quoted in messages (events, status,
//! errors): non-printable bytes shown as `<06>`, long replies cut with their
//! length, so a reason never carries raw control bytes or a screen of junk.

use std::fmt::Write;

/// Characters of a reply quoted at most.
pub const QUOTE_CHARS: usize = 80;

/// `reply` escaped and cut at [`QUOTE_CHARS`] characters.
pub fn quote_reply(reply: &str) -> String {
    quote_reply_max(reply, QUOTE_CHARS)
}

/// `reply` with control characters as `<XX>` (hex) and the replacement
/// character of undecodable bytes as `<?>`, cut after `max` characters of
/// that with `…(N bytes)` (N: the whole reply's length).
pub fn quote_reply_max(reply: &str, max: usize) -> String {
    let mut out = String::new();
    let mut shown = 0;
    for c in reply.chars() {
        let piece = match c {
            '\u{FFFD}' => "<?>".to_string(),
            c if c.is_control() => format!("<{:02X}>", c as u32),
            c => c.to_string(),
        };
        if shown + piece.chars().count() > max {
            let _ = write!(out, "…({} bytes)", reply.len());
            return out;
        }
        shown += piece.chars().count();
        out.push_str(&piece);
    }
    out
}

/// Decodes a received line: valid UTF-8 as is, each byte that is not as
/// `<XX>`, so the message can later say which bytes came (no `�`).
pub fn decode_line(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            let _ = write!(out, "<{b:02X}>");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn control_bytes_are_escaped() {
        assert_eq!(quote_reply("+1.0E+00"), "+1.0E+00");
        assert_eq!(quote_reply("\u{6}\u{15}ok\t"), "<06><15>ok<09>");
        assert_eq!(quote_reply("a\u{FFFD}b"), "a<?>b");
        assert_eq!(quote_reply("温度"), "温度");
    }

    #[test]
    fn long_replies_are_cut_with_their_length() {
        let long = "x".repeat(500);
        let q = quote_reply(&long);
        assert_eq!(q, format!("{}…(500 bytes)", "x".repeat(80)));
        assert_eq!(quote_reply_max("abcdef", 3), "abc…(6 bytes)");
        assert_eq!(quote_reply_max("abc", 3), "abc");
        // An escape is never cut in half.
        assert_eq!(quote_reply_max("ab\u{1}", 4), "ab…(3 bytes)");
    }

    #[test]
    fn undecodable_bytes_are_named() {
        assert_eq!(decode_line(&[0xff, 0xfe, b'1']), "<FF><FE>1");
        assert_eq!(decode_line("µV".as_bytes()), "µV");
    }

    proptest! {
        #[test]
        fn quotes_are_printable_and_bounded(s in ".*") {
            let q = quote_reply(&s);
            let printable = !q.chars().any(|c| c.is_control() || c == char::REPLACEMENT_CHARACTER);
            prop_assert!(printable);
            prop_assert!(q.chars().count() <= QUOTE_CHARS + 20);
        }
    }
}
