//! Errors of the desktop service. Each Display is a sentence a person can
//! act on; the window shows it where the user acted.

use std::path::PathBuf;

use crate::agent::AgentError;
use crate::config::ConfigError;
use crate::export::ExportError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    /// A value the user entered is not acceptable; the message names the field.
    #[error("{0}")]
    Invalid(String),
    #[error("no instrument `{0}` is configured")]
    UnknownInstrument(String),
    #[error("no channel with id {0} is stored")]
    UnknownChannel(i64),
    /// The console of an instrument is held by another operator.
    #[error("held by {operator} since {since}")]
    ConsoleHeld { operator: String, since: String },
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Agent(#[from] AgentError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Export(#[from] ExportError),
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
    #[error("cannot start the simulator: {0}")]
    Simulator(String),
    #[error("{0}")]
    Device(String),
    /// A refused rule, calculation or destination: the field and why (the
    /// window shows it beside the field).
    #[error(transparent)]
    Field(#[from] crate::config::SectionError),
    /// Refused by a plan limit: names the plan, the limit, the count and
    /// how to lift it (the window shows it in the form).
    #[error(transparent)]
    Limit(#[from] crate::licence::LimitError),
    /// A refused dashboard edit or board file (the message names what is wrong).
    #[error(transparent)]
    Dashboard(#[from] crate::dashboard::DashboardError),
}

pub type DeskResult<T> = Result<T, DeskError>;
