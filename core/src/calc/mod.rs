//! Calculation channels (SPEC 4.4): `[[calc]]` tables whose expression over
//! 1 to 10 input channels is evaluated as data arrives and stored like any
//! channel under `calc/<id>`.
//!
//! `config` checks a `[[calc]]` table into a [`CompiledCalc`], `parse` turns
//! its expression into postfix code, `eval` runs that code over [`Value`]s,
//! `engine` decides when the inputs of a calculation form one cycle, and
//! `stage` is the pipeline's step between poll and store that runs them.
//!
//! [`Value`]: crate::model::Value

pub mod config;
pub mod engine;
pub mod eval;
pub mod parse;
#[cfg(test)]
mod proptests;
pub mod stage;

pub use config::{CalcConfig, CalcError, CompiledCalc, validate_all};
pub use engine::{CalcEngine, OUTPUT_INSTRUMENT, output_path};
pub use eval::eval;
pub use parse::{Expr, ParseError, parse};
pub use stage::CalcStage;
