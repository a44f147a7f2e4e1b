//! meterdeck-cloud: the cloud service. MQTT ingest of the agents' batches
//! (docs/protocol.md), the Web API (accounts, agents, data), storage behind
//! a trait (SQLite by default, PostgreSQL at scale).

pub mod acks;
pub mod admin;
pub mod alarms;
pub mod api;
pub mod auth;
pub mod backup;
pub mod broker;
pub mod broker_check;
pub mod ingest;
pub mod keyfile;
pub mod licence;
pub mod mail;
pub mod remote;
pub mod serve;
pub mod state;
pub mod store;
pub mod tls;
pub mod traffic_notice;
pub mod viewlink;
pub mod watch;
pub mod web;
