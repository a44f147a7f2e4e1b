//! Measurement files from the instruments' FTP servers (SPEC 1.9): the
//! `[[files]]` sources, the collector task per source (beside the poller),
//! fetches on request (the window, `meterdeck-agent files fetch`), the
//! files' metadata in the store and their upload to the cloud. The FTP
//! client itself is `meterdeck_drivers::files`.

pub mod collect;
pub mod records;
pub mod request;
pub mod source;
pub mod upload;

pub use collect::{Collector, FetchError, FileNote, files_dir, local_path};
pub use records::{FileRecord, FileState, SCHEMA_PART};
pub use source::{FileSource, secret_entry, validate_all};
pub use upload::{UploadError, Uploader};
