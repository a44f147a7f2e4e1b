//! Starting the file collectors (one per enabled `[[files]]` source whose
//! instrument is enabled) and passing what they report to the writer.

use std::path::Path;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::runtime::AgentOptions;
use super::writer::WriterMsg;
use crate::alarm::AlarmMsg;
use crate::config::AgentConfig;
use crate::files::{Collector, FileNote, Uploader};
use crate::poll::PollMsg;

pub(super) fn spawn(
    rt: &tokio::runtime::Handle,
    cfg: &AgentConfig,
    data_dir: &Path,
    store_path: &Path,
    opts: &AgentOptions,
    writer: mpsc::Sender<WriterMsg>,
    shutdown: &watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    let sources: Vec<_> =
        cfg.files.iter().filter(|f| cfg.instruments.iter().any(|i| i.id == f.instrument && i.enabled)).collect();
    if sources.is_empty() {
        return Vec::new();
    }
    let (tx, rx) = mpsc::channel(256);
    let mut tasks = vec![rt.spawn(forward(rx, writer))];
    for src in sources {
        let upload = if src.upload { uploader(cfg, opts) } else { None };
        let c = Collector {
            source: src.clone(),
            instruments: cfg.instruments.clone(),
            secrets: opts.secrets.clone(),
            data_dir: data_dir.to_path_buf(),
            store_path: store_path.to_path_buf(),
            notes: tx.clone(),
            shutdown: shutdown.clone(),
            upload,
        };
        tasks.push(rt.spawn(c.run()));
    }
    tasks
}

/// The cloud's Web API as this agent (`[cloud] api`, secret from the keychain).
fn uploader(cfg: &AgentConfig, opts: &AgentOptions) -> Option<Uploader> {
    Uploader::for_agent(cfg.cloud.as_ref()?, opts.secrets.as_ref())
        .inspect_err(|e| tracing::warn!("files are not uploaded: {e}"))
        .ok()
}

async fn forward(mut rx: mpsc::Receiver<FileNote>, writer: mpsc::Sender<WriterMsg>) {
    while let Some(note) = rx.recv().await {
        let msg = match note {
            FileNote::Event(ev) => WriterMsg::Poll(PollMsg::Event(ev)),
            // New-file alarm rules (SPEC 5.2).
            FileNote::NewFile { instrument, remote_path, size } => {
                WriterMsg::Alarm(AlarmMsg::NewFile { instrument, remote_path, size })
            }
        };
        if writer.send(msg).await.is_err() {
            return;
        }
    }
}
