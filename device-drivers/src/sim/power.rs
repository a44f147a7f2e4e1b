//! Hioki-style power meter: `:MEASure? U1,I1,P1` returns the items in one
//! reply, `;`-separated, each with its own header when `:HEADer ON`.

use super::matcher::{Entry, entry};
use super::session::{Cmd, ILLEGAL_PARAMETER, Reply, ScpiError, Style, push_value};
use super::state::{InstrumentState, now_ms};

pub(crate) const ENTRIES: &[Entry<Cmd>] = &[entry(&["MEASure"], true, ":MEASURE", Cmd::PowerMeasure)];

/// Without arguments every item the instrument has is returned. An unknown
/// item makes the whole query fail (no reply, error -224), as on the device.
pub(crate) fn measure(state: &InstrumentState, args: &str, header: bool, reply: &mut Reply) -> Result<(), ScpiError> {
    let items = || args.split(',').map(str::trim).filter(|s| !s.is_empty());
    if items().any(|it| state.find_channel(it).is_none()) {
        return Err(ILLEGAL_PARAMETER);
    }
    let now = now_ms();
    reply.data = true;
    let mut write = |index: usize| {
        let out = reply.begin();
        if header && let Some(spec) = state.specs.get(index) {
            out.push_str(&spec.id);
            out.push(' ');
        }
        push_value(out, state.read(index, now), Style::Engineering);
    };
    if items().next().is_none() {
        (0..state.channel_count()).for_each(&mut write);
    } else {
        items().filter_map(|it| state.find_channel(it)).for_each(write);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::session::{Session, run_line};
    use super::*;
    use crate::sim::config::{Personality, SimInstrument};
    use tokio_util::sync::CancellationToken;

    fn state() -> InstrumentState {
        InstrumentState::new(&SimInstrument::new("pw", Personality::PowerMeter), CancellationToken::new())
    }

    #[test]
    fn measure_items_with_and_without_header() {
        let s = state();
        let mut ses = Session::default();
        let r = run_line(&s, &mut ses, ":MEAS? U1,I1,P1");
        let v: Vec<f64> = r.split(';').map(|p| p.parse().unwrap()).collect();
        assert_eq!(v.len(), 3, "{r}");
        assert!((90.0..110.0).contains(&v[0]) && (1.0..=5.0).contains(&v[1]), "{r}");
        let r = run_line(&s, &mut ses, ":HEAD ON;:MEASURE? u1,FREQ1");
        let parts: Vec<&str> = r.split(';').collect();
        assert!(parts[0].starts_with("U1 +") && parts[1].starts_with("FREQ1 +"), "{r}");
        assert_eq!(run_line(&s, &mut ses, ":HEAD OFF;:MEAS?").split(';').count(), 29);
    }

    #[test]
    fn unknown_item_gives_no_reply_and_error() {
        let s = state();
        let mut ses = Session::default();
        assert_eq!(run_line(&s, &mut ses, ":MEAS? U1,X9"), "");
        assert_eq!(run_line(&s, &mut ses, ":SYST:ERR?"), "-224,\"Illegal parameter value\"");
    }
}
