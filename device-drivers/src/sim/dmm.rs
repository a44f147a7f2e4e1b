//! Generic SCPI multimeter: one `MEASure:...?` query per quantity.

use super::channels::DMM_CHANNELS;
use super::matcher::{Entry, entry};
use super::session::{Cmd, Reply, ScpiError, Style, UNDEFINED_HEADER, push_value};
use super::state::{InstrumentState, now_ms};

/// Queries of the configured channels only (a 3-channel DMM has no `MEAS:RES?`).
pub(crate) fn entries(channels: usize) -> impl Iterator<Item = Entry<Cmd>> {
    DMM_CHANNELS.iter().take(channels).enumerate().map(|(i, d)| entry(d.path, true, d.header, Cmd::DmmMeasure(i)))
}

pub(crate) fn measure(state: &InstrumentState, index: usize, header: bool, reply: &mut Reply) -> Result<(), ScpiError> {
    let d = DMM_CHANNELS.get(index).ok_or(UNDEFINED_HEADER)?;
    reply.data = true;
    let out = reply.begin();
    if header {
        out.push_str(d.header);
        out.push(' ');
    }
    push_value(out, state.read(index, now_ms()), Style::Nr3);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::session::{Session, run_line};
    use super::*;
    use crate::sim::config::{Personality, SimInstrument};
    use tokio_util::sync::CancellationToken;

    #[test]
    fn every_query_answers_in_range() {
        let s = InstrumentState::new(&SimInstrument::new("dmm", Personality::Scpi), CancellationToken::new());
        let mut ses = Session::default();
        for d in DMM_CHANNELS {
            let v: f64 = run_line(&s, &mut ses, d.query).parse().unwrap();
            // Temperatures add a daily swing of one amplitude to half of one
            // (waveform::dmm_value): the reach depends on the time of day.
            let reach = if d.unit == "degC" { 1.5 } else { 1.0 };
            assert!((v - d.base).abs() <= d.amplitude * reach * 1.01, "{} {v}", d.id);
        }
        let long = run_line(&s, &mut ses, "measure:voltage:dc?;:MEASure:TEMPerature?");
        assert_eq!(long.split(';').count(), 2, "{long}");
        let h = run_line(&s, &mut ses, ":HEAD ON;MEAS:FREQ?");
        assert!(h.starts_with(":MEASURE:FREQUENCY +"), "{h}");
    }

    #[test]
    fn fewer_channels_fewer_queries() {
        let mut cfg = SimInstrument::new("dmm", Personality::Scpi);
        cfg.channels = Some(2);
        let s = InstrumentState::new(&cfg, CancellationToken::new());
        let mut ses = Session::default();
        assert_eq!(run_line(&s, &mut ses, "MEAS:RES?;:SYST:ERR?"), "-113,\"Undefined header\"");
    }
}
