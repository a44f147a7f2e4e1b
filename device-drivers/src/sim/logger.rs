//! Hioki-style data logger: `:MEMory:GETReal` latches a snapshot of every
//! channel, `:MEMory:VREAL? CHu_c` reads one value from it.

use super::matcher::{Entry, entry};
use super::session::{Cmd, ILLEGAL_PARAMETER, MISSING_PARAMETER, Reply, ScpiError, Style, push_value};
use super::state::{InstrumentState, SimValue};
use crate::reading::SpecialKind;

pub(crate) const ENTRIES: &[Entry<Cmd>] = &[
    entry(&["MEMory", "GETReal"], false, ":MEMORY:GETREAL", Cmd::LoggerGetReal),
    entry(&["MEMory", "VREAL"], true, ":MEMORY:VREAL", Cmd::LoggerVReal),
];

/// Latches one reading of every channel (reusing the snapshot's buffer).
pub(crate) fn latch(state: &InstrumentState, snapshot: &mut Vec<SimValue>, now_ms: i64) {
    snapshot.clear();
    snapshot.extend((0..state.channel_count()).map(|i| state.read(i, now_ms)));
}

/// `:MEMory:VREAL? CH1_1` -> `+2.34E+01`, or with header
/// `:MEMORY:VREAL CH1_1,+2.34E+01`. Before any latch the logger has no data.
pub(crate) fn vreal(
    state: &InstrumentState,
    snapshot: &[SimValue],
    args: &str,
    header: bool,
    reply: &mut Reply,
) -> Result<(), ScpiError> {
    if args.is_empty() {
        return Err(MISSING_PARAMETER);
    }
    let index = state.find_channel(args).ok_or(ILLEGAL_PARAMETER)?;
    let value = snapshot.get(index).copied().unwrap_or(SimValue::Sentinel(SpecialKind::NoData));
    reply.data = true;
    let out = reply.begin();
    if header {
        out.push_str(":MEMORY:VREAL ");
        if let Some(spec) = state.specs.get(index) {
            out.push_str(&spec.id);
        }
        out.push(',');
    }
    push_value(out, value, Style::Nr3);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::session::{Session, run_line};
    use super::*;
    use crate::sim::config::{Personality, SimInstrument};
    use crate::sim::waveform::expected_value;
    use tokio_util::sync::CancellationToken;

    fn state() -> InstrumentState {
        let mut cfg = SimInstrument::new("log", Personality::HiokiLogger);
        cfg.seed = 4;
        InstrumentState::new(&cfg, CancellationToken::new())
    }

    #[test]
    fn compound_poll_returns_one_line() {
        let s = state();
        let mut ses = Session::default();
        let before = crate::sim::state::now_ms();
        let r = run_line(&s, &mut ses, ":MEM:GETR;:MEM:VREAL? CH1_1;:MEM:VREAL? ch2_15");
        let after = crate::sim::state::now_ms();
        let parts: Vec<f64> = r.split(';').map(|p| p.parse().unwrap()).collect();
        assert_eq!(parts.len(), 2, "{r}");
        let ok = |i, v| [before, after].iter().any(|t| expected_value(4, Personality::HiokiLogger, i, *t) == v);
        assert!(ok(0, parts[0]) && ok(29, parts[1]), "{r}");
    }

    #[test]
    fn header_unknown_channel_and_no_snapshot() {
        let s = state();
        let mut ses = Session::default();
        assert_eq!(run_line(&s, &mut ses, ":MEM:VREAL? CH1_1"), "+9999.9E+99");
        let r = run_line(&s, &mut ses, ":HEAD ON;:MEM:GETR;:MEM:VREAL? ch1_3");
        assert!(r.starts_with(":MEMORY:VREAL CH1_3,+"), "{r}");
        assert_eq!(
            run_line(&s, &mut ses, ":HEAD OFF;:MEM:VREAL? CH3_1;:SYST:ERR?"),
            "-224,\"Illegal parameter value\""
        );
        assert_eq!(run_line(&s, &mut ses, ":MEM:VREAL?;:SYST:ERR?"), "-109,\"Missing parameter\"");
    }
}
