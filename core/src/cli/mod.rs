//! Pieces of the `meterdeck-agent` command line that are worth testing on
//! their own: time arguments, data-dir resolution, the status report and
//! the demo's live table. The binary itself only wires them to clap.

pub mod alarms;
pub mod cloud;
pub mod live_table;
pub mod paths;
pub mod status;
pub mod time;
