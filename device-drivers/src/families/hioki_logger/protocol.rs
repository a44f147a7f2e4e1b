//! Logger wire text, without I/O: channel ids, the poll lines and their
//! replies.

use crate::families::scpi::protocol::{self as scpi, ReplyError, split_header, split_replies, split_top};
use crate::reading::Value;

/// Latches a snapshot of every channel (no reply).
pub const SNAPSHOT: &str = ":MEM:GETR";

/// What a settings profile of a logger covers unless its configuration
/// lists others: sampling interval, trigger mode, beeper.
pub const SETTINGS: &[&str] = &[":SAMPle:RATE", ":TRIGger:MODE", ":SYSTem:BEEPer"];

/// Value queries per line at most, so a poll line stays short enough for
/// the instrument's input buffer.
pub const MAX_QUERIES_PER_LINE: usize = 64;

/// Units and channels per unit a channel id may name.
const UNITS: std::ops::RangeInclusive<u32> = 1..=9;
const CHANNELS_PER_UNIT: std::ops::RangeInclusive<u32> = 1..=30;

/// A channel id the logger does not have.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChannelIdError {
    #[error("channel `{0}` is not a logger channel id like `CH1_1` (CH<unit>_<channel>)")]
    Shape(String),
    #[error("channel `{id}`: unit {unit} is outside 1..9")]
    Unit { id: String, unit: u32 },
    #[error("channel `{id}`: channel {channel} is outside 1..30")]
    Channel { id: String, channel: u32 },
}

/// Checks a channel id `CH<u>_<c>` (case-insensitive); returns (unit, channel).
pub fn parse_channel_id(id: &str) -> Result<(u32, u32), ChannelIdError> {
    let bad = || ChannelIdError::Shape(id.to_string());
    let rest = id.get(..2).filter(|p| p.eq_ignore_ascii_case("CH")).and_then(|_| id.get(2..)).ok_or_else(bad)?;
    let (u, c) = rest.split_once('_').ok_or_else(bad)?;
    let digits = |s: &str| !s.is_empty() && s.len() <= 3 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(u) || !digits(c) {
        return Err(bad());
    }
    let (unit, channel) = (u.parse::<u32>().map_err(|_| bad())?, c.parse::<u32>().map_err(|_| bad())?);
    if !UNITS.contains(&unit) {
        return Err(ChannelIdError::Unit { id: id.to_string(), unit });
    }
    if !CHANNELS_PER_UNIT.contains(&channel) {
        return Err(ChannelIdError::Channel { id: id.to_string(), channel });
    }
    Ok((unit, channel))
}

/// The channels polled when the configuration lists none.
pub fn default_channels() -> Vec<String> {
    (1..=15).map(|c| format!("CH1_{c}")).collect()
}

/// The poll lines for `channels`: the first latches the snapshot, the
/// others only read it, so every value comes from the same instant.
pub fn poll_lines<S: AsRef<str>>(channels: &[S]) -> Vec<String> {
    channels
        .chunks(MAX_QUERIES_PER_LINE)
        .enumerate()
        .map(|(i, chunk)| {
            let mut commands: Vec<String> = Vec::with_capacity(chunk.len() + 1);
            if i == 0 {
                commands.push(SNAPSHOT.to_string());
            }
            commands.extend(chunk.iter().map(|c| format!(":MEM:VREAL? {}", c.as_ref())));
            scpi::join_commands(&commands)
        })
        .collect()
}

/// Parses the reply to one poll line: one value per channel, `;`-joined,
/// each either bare (`+1.234E+00`) or with header (`:MEMORY:VREAL CH1_1,+1.234E+00`).
pub fn parse_poll_reply<S: AsRef<str>>(reply: &str, channels: &[S], extra: &[f64]) -> Result<Vec<Value>, ReplyError> {
    let items = split_replies(reply);
    if items.len() != channels.len() {
        return Err(ReplyError::ValueCount { expected: channels.len(), got: items.len() });
    }
    items
        .iter()
        .zip(channels)
        .map(|(item, channel)| parse_item(item, channel.as_ref(), extra).map_err(|e| e.within(channel.as_ref())))
        .collect()
}

fn parse_item(item: &str, channel: &str, extra: &[f64]) -> Result<Value, ReplyError> {
    let (_, data) = split_header(item);
    let mut fields = split_top(data, ',');
    // Some firmware echoes the channel with a space: `CH1_1 +1.234E+00`.
    if let [only] = fields.as_slice()
        && let Some((echo, value)) = only.split_once(|c: char| c.is_ascii_whitespace())
    {
        fields = vec![echo.trim(), value.trim()];
    }
    let value = match fields.as_slice() {
        [value] => value,
        // Header ON echoes the channel before the value.
        [echo, value] => {
            if !echo.eq_ignore_ascii_case(channel) {
                return Err(ReplyError::OtherChannel(crate::text::quote_reply_max(echo, 40)));
            }
            value
        }
        _ => return Err(ReplyError::FieldCount(fields.len())),
    };
    scpi::parse_number(value).map(|v| scpi::classify(v, extra))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reading::SpecialKind;
    use proptest::prelude::*;

    #[test]
    fn channel_ids() {
        assert_eq!(parse_channel_id("CH1_1"), Ok((1, 1)));
        assert_eq!(parse_channel_id("ch2_15"), Ok((2, 15)));
        for bad in ["", "CH", "CH1", "CH1_", "CH_1", "CH1-1", "X1_1", "CH1_1x", "CH+1_1", "CH１_1", "CH1_1_1"] {
            assert!(parse_channel_id(bad).is_err(), "{bad:?}");
        }
        assert!(parse_channel_id("CH0_1").unwrap_err().to_string().contains("unit 0"));
        assert!(parse_channel_id("CH1_31").unwrap_err().to_string().contains("channel 31"));
        assert_eq!(default_channels().len(), 15);
        assert_eq!(default_channels()[14], "CH1_15");
    }

    #[test]
    fn poll_line_latches_then_reads() {
        assert_eq!(poll_lines(&["CH1_1", "CH1_2"]), vec![":MEM:GETR;:MEM:VREAL? CH1_1;:MEM:VREAL? CH1_2"]);
        let many: Vec<String> = (1..=9).flat_map(|u| (1..=15).map(move |c| format!("CH{u}_{c}"))).collect();
        let lines = poll_lines(&many);
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with(":MEM:GETR;"));
        assert!(lines[1].starts_with(":MEM:VREAL? "));
        assert_eq!(lines.iter().map(|l| l.matches("VREAL?").count()).sum::<usize>(), many.len());
        assert!(poll_lines::<&str>(&[]).is_empty());
    }

    #[test]
    fn replies_with_and_without_header() {
        let off = parse_poll_reply("+1.234E+00;-0.500E+00", &["CH1_1", "CH1_2"], &[]).unwrap();
        assert_eq!(off, vec![Value::Number(1.234), Value::Number(-0.5)]);
        let on = parse_poll_reply(
            ":MEMORY:VREAL CH1_1,+1.23450E+00;:MEMORY:VREAL CH1_2,+9999.9E+99",
            &["CH1_1", "CH1_2"],
            &[],
        )
        .unwrap();
        assert_eq!(on, vec![Value::Number(1.2345), Value::Special(SpecialKind::NoData)]);
        let spaced =
            parse_poll_reply(":MEMORY:VREAL CH1_1 +1.234E+00;:MEMORY:VREAL CH1_2 +999.99E+9", &["CH1_1", "CH1_2"], &[])
                .unwrap();
        assert_eq!(spaced, vec![Value::Number(1.234), Value::Special(SpecialKind::OverRange)]);
        let err = parse_poll_reply(":MEMORY:VREAL CH1_2 +1.0", &["CH1_1"], &[]).unwrap_err().to_string();
        assert_eq!(err, "CH1_1: reply is for channel `CH1_2`");
        let err = parse_poll_reply(":MEMORY:VREAL CH1_1 x\u{6}", &["CH1_1"], &[]).unwrap_err().to_string();
        assert_eq!(err, "CH1_1: `x<06>` is not a number");
    }

    #[test]
    fn malformed_replies_are_errors() {
        assert!(
            parse_poll_reply("+1.0E+00", &["CH1_1", "CH1_2"], &[])
                .unwrap_err()
                .to_string()
                .contains("expected 2 values, got 1")
        );
        assert!(parse_poll_reply("", &["CH1_1"], &[]).unwrap_err().to_string().contains("got 0"));
        assert!(parse_poll_reply("abc", &["CH1_1"], &[]).unwrap_err().to_string().starts_with("CH1_1:"));
        assert!(
            parse_poll_reply(":MEMORY:VREAL CH1_2,+1.0", &["CH1_1"], &[]).unwrap_err().to_string().contains("CH1_2")
        );
        assert!(parse_poll_reply("1,2,3", &["CH1_1"], &[]).unwrap_err().to_string().contains("3 fields"));
    }

    #[test]
    fn extra_sentinels_apply() {
        let v = parse_poll_reply("-9999", &["CH1_1"], &[-9999.0]).unwrap();
        assert_eq!(v, vec![Value::Special(SpecialKind::Invalid)]);
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(s in ".*", id in ".*") {
            let _ = parse_poll_reply(&s, &["CH1_1", "CH1_2"], &[]);
            let _ = parse_channel_id(&id);
        }
    }
}
