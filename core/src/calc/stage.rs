//! The calculation stage, between poll and store: each batch of polled
//! samples goes through the [`CalcEngine`], and the `calc/<id>` outputs it
//! completes are stored in the same transaction as their inputs. It runs in
//! the writer thread, which owns the store.

use std::collections::HashMap;

use tracing::error;

use super::config::{CalcConfig, validate_all};
use super::engine::{CalcEngine, OUTPUT_INSTRUMENT, output_path};
use crate::model::{ChannelId, ConnState, Sample};
use crate::store::{Store, StoreError};

pub struct CalcStage {
    engine: CalcEngine,
    /// Store ids of the `calc/<id>` output channels.
    channels: HashMap<String, ChannelId>,
}

impl CalcStage {
    /// Registers the output instrument and channels in the store.
    pub fn new(store: &mut Store, calcs: &[CalcConfig]) -> Result<CalcStage, StoreError> {
        // The config was validated when loaded; a failure here is a bug.
        let compiled = validate_all(calcs).unwrap_or_else(|e| {
            error!("calculation channels disabled: {e}");
            Vec::new()
        });
        let engine = CalcEngine::new(compiled);
        let mut channels = HashMap::new();
        if !calcs.is_empty() {
            store.upsert_instrument(OUTPUT_INSTRUMENT, "Calculation channels", "calc", "-")?;
            store.set_instrument_state(OUTPUT_INSTRUMENT, ConnState::Connected, None, None)?;
        }
        for (id, unit) in engine.outputs() {
            let ch = store.ensure_channel(OUTPUT_INSTRUMENT, &id, unit.as_deref())?;
            channels.insert(id, ch);
        }
        Ok(CalcStage { engine, channels })
    }

    /// Calculation outputs of a batch about to be stored; `paths` names the
    /// batch's channels (`instrument/channel`).
    pub fn on_batch(
        &mut self,
        paths: &HashMap<ChannelId, String>,
        samples: &[(ChannelId, Sample)],
    ) -> Vec<(ChannelId, Sample)> {
        if self.channels.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::new();
        for (id, s) in samples {
            let Some(path) = paths.get(id) else { continue };
            for (calc_id, sample) in self.engine.on_sample(path, s.t, s.value) {
                if let Some(&ch) = self.channels.get(&calc_id) {
                    out.push((ch, sample));
                }
            }
        }
        out
    }

    /// `calc/<id>` of an output channel.
    pub fn output_path(&self, ch: ChannelId) -> Option<String> {
        self.channels.iter().find(|(_, c)| **c == ch).map(|(id, _)| output_path(id))
    }
}
