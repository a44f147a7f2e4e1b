//! Sync protocol v1 on the wire: defined in meterdeck-wire (the cloud
//! decodes what the agent encodes), re-exported at its old path.

pub use meterdeck_wire::sync::*;
