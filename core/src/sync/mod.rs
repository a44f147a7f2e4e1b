//! Store-and-forward to the Meterdeck cloud (docs/protocol.md): the outbox
//! drains in order over MQTT and a batch leaves the outbox only when the
//! cloud's acknowledgement says it is stored.

pub mod status;
pub mod wire;
