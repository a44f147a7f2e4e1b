//! ZIP export (issue 15): several channels, of one site or many, over one
//! time range, as one ZIP of CSV files (each equal to the channel's
//! `/channels/{id}/csv` over the same range). Every channel is checked
//! against the caller's grants and the whole export against its bounds
//! before the first byte goes out; then the ZIP is streamed: the zip crate
//! writes on a blocking thread (its stream writer needs no seek) fed page
//! by page from storage, and its output goes to the response through a
//! bounded channel, so memory stays small whatever the export's size.

use std::collections::HashSet;
use std::io::Write;

use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Deserialize;
use tokio::sync::mpsc;
use utoipa::IntoParams;
use zip::write::SimpleFileOptions;

use super::agents::{channel_id, csv_file_name, csv_head, csv_row, parse_time};
use super::caller::Full;
use super::error::{ErrorBody, Path, Query, t};
use super::{ApiError, ApiResult, Ctx};
use crate::store::{CloudChannel, TimeMs};

/// Channels one export may hold (the Viewer draws at most 32 + 16).
pub const MAX_EXPORT_CHANNELS: usize = 64;
/// Samples one export may hold, all channels together.
pub const MAX_EXPORT_ROWS: u64 = 5_000_000;
/// Samples read from storage per page.
const PAGE: usize = 20_000;
/// Bytes of ZIP output per chunk sent to the client.
const CHUNK: usize = 64 * 1024;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// Start (inclusive): ms since 1970 or ISO-8601; default the channels' first sample.
    from: Option<String>,
    /// End (exclusive): ms since 1970 or ISO-8601; default after the channels' last sample.
    to: Option<String>,
}

/// The channel ids of `3,7,9`: numbers, no repeats, within the cap.
fn channel_ids(list: &str) -> ApiResult<Vec<i64>> {
    let mut ids = Vec::new();
    let mut seen = HashSet::new();
    for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let id = channel_id(part)?;
        if seen.insert(id) {
            ids.push(id);
        }
    }
    if ids.is_empty() {
        return Err(ApiError::bad_request(t("cloud-export-channel-ids-give")));
    }
    if ids.len() > MAX_EXPORT_CHANNELS {
        return Err(ApiError::bad_request(
            t("cloud-export-channels").arg("count", ids.len().to_string()).arg("max", MAX_EXPORT_CHANNELS.to_string()),
        ));
    }
    Ok(ids)
}

/// Each file's name in the ZIP, unique even where two paths sanitise alike.
fn entry_names(files: &[(String, CloudChannel)]) -> Vec<String> {
    let mut used = HashSet::new();
    files
        .iter()
        .map(|(agent, ch)| {
            let base = csv_file_name(agent, ch);
            let name =
                if used.contains(&base) { format!("{}-{}.csv", base.trim_end_matches(".csv"), ch.id) } else { base };
            used.insert(name.clone());
            name
        })
        .collect()
}

/// What the storage side hands the ZIP writer.
enum Piece {
    /// A new file in the ZIP.
    File(String),
    /// More of the current file.
    Text(String),
    /// Reading failed: the ZIP must not end as if complete.
    Failed(String),
}

/// Channels (of one or several sites) over [from, to) as one ZIP of CSV files
///
/// Each file equals `GET /channels/{id}/csv` over the same range. The
/// channels may be of different agents (sites); each must be visible to
/// the caller. At most 64 channels and 5,000,000 samples per export.
#[utoipa::path(get, path = "/api/v1/channels/{id}/zip", tag = "channels", params(
    ("id" = String, Path, description = "channel ids, separated by commas (1 to 64)"), ExportQuery),
    security(("bearer" = [])), responses(
    (status = 200, description = "The ZIP, streamed", content_type = "application/zip", body = String),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn export_zip(
    State(ctx): State<Ctx>,
    Full(c): Full,
    Path(ids): Path<String>,
    Query(q): Query<ExportQuery>,
) -> ApiResult<Response> {
    let ids = channel_ids(&ids)?;
    // Grants first: one channel not visible refuses the whole export.
    let mut files = Vec::with_capacity(ids.len());
    for id in ids {
        let (ch, agent) = c.channel(&ctx, id).await?;
        files.push((agent.id, ch));
    }
    let from = match &q.from {
        Some(s) => parse_time("from", s)?,
        None => files.iter().filter_map(|(_, ch)| ch.t_first).min().unwrap_or(0),
    };
    let to = match &q.to {
        Some(s) => parse_time("to", s)?,
        None => {
            files.iter().filter_map(|(_, ch)| ch.t_last).max().map_or(from.saturating_add(1), |t| t.saturating_add(1))
        }
    };
    if from >= to {
        return Err(ApiError::bad_request(
            t("cloud-from-before-to").arg("from", from.to_string()).arg("to", to.to_string()),
        ));
    }
    // The bound before streaming: an error after the first byte could not
    // be told to the client as one.
    let mut rows = 0u64;
    for (_, ch) in &files {
        rows += ctx.store().minmax(ch.id, from, to, 1).await?.iter().map(|b| b.count).sum::<u64>();
    }
    if rows > MAX_EXPORT_ROWS {
        return Err(ApiError::bad_request(
            t("cloud-export-rows").arg("rows", rows.to_string()).arg("max", MAX_EXPORT_ROWS.to_string()),
        ));
    }
    let names = entry_names(&files);
    let (piece_tx, piece_rx) = mpsc::channel::<Piece>(4);
    let (out_tx, out_rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::spawn(read_pieces(
        ctx.clone(),
        files.into_iter().map(|(_, ch)| ch).zip(names).collect(),
        from,
        to,
        piece_tx,
    ));
    tokio::task::spawn_blocking(move || write_zip(piece_rx, out_tx));
    let body =
        Body::from_stream(futures::stream::unfold(out_rx, |mut rx| async move { rx.recv().await.map(|x| (x, rx)) }));
    let file = format!("meterdeck-{}-{}.zip", c.account.id, chrono_stamp(from));
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}\"")),
        ],
        body,
    )
        .into_response())
}

/// `20260131T120000Z` of a time, for the file name.
fn chrono_stamp(t: TimeMs) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(t)
        .map(|d| d.format("%Y%m%dT%H%M%SZ").to_string())
        .unwrap_or_else(|| t.to_string())
}

/// Reads each channel page by page (time order, as the CSV route) and
/// hands the text on; stops when the writer is gone (client left).
async fn read_pieces(ctx: Ctx, files: Vec<(CloudChannel, String)>, from: TimeMs, to: TimeMs, tx: mpsc::Sender<Piece>) {
    for (ch, name) in files {
        if tx.send(Piece::File(name)).await.is_err() {
            return;
        }
        let mut text = csv_head(&ch);
        let mut after = None;
        loop {
            let page = match ctx.store().raw_page(ch.id, from, to, after, PAGE).await {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(error = %e, channel = ch.id, "ZIP export: reading failed");
                    let _ = tx.send(Piece::Failed(format!("channel {}: {e}", ch.id))).await;
                    return;
                }
            };
            for (_, p) in &page {
                csv_row(&mut text, p);
            }
            if tx.send(Piece::Text(std::mem::take(&mut text))).await.is_err() {
                return;
            }
            after = page.last().map(|(k, _)| *k);
            if page.len() < PAGE {
                break;
            }
        }
    }
}

/// Writes the ZIP from the pieces (blocking thread); its bytes go out in
/// chunks. A failed read ends the body with an error, never a ZIP that
/// looks complete.
fn write_zip(mut pieces: mpsc::Receiver<Piece>, out: mpsc::Sender<Result<Bytes, std::io::Error>>) {
    let sink = ChunkSink { out: out.clone(), buf: Vec::with_capacity(CHUNK) };
    let mut zip = zip::ZipWriter::new_stream(sink);
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let result = (|| -> Result<(), String> {
        while let Some(piece) = pieces.blocking_recv() {
            match piece {
                Piece::File(name) => zip.start_file(name, options).map_err(|e| e.to_string())?,
                Piece::Text(t) => zip.write_all(t.as_bytes()).map_err(|e| e.to_string())?,
                Piece::Failed(e) => return Err(e),
            }
        }
        let mut sink = zip.finish().map_err(|e| e.to_string())?.into_inner();
        sink.flush().map_err(|e| e.to_string())
    })();
    if let Err(e) = result {
        let _ = out.blocking_send(Err(std::io::Error::other(format!("the ZIP export stopped: {e}"))));
    }
}

/// The ZIP writer's output, sent on in chunks of `CHUNK` bytes.
struct ChunkSink {
    out: mpsc::Sender<Result<Bytes, std::io::Error>>,
    buf: Vec<u8>,
}

impl ChunkSink {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.out
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client left"))
    }
}

impl Write for ChunkSink {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_lists_are_numbers_without_repeats_within_the_cap() {
        assert_eq!(channel_ids("3, 7,3,,9").unwrap(), [3, 7, 9]);
        assert!(channel_ids("").unwrap_err().message.contains("no channel ids"));
        assert!(channel_ids("3,x").unwrap_err().message.contains("\"x\""));
        let many = (0..65).map(|i| i.to_string()).collect::<Vec<_>>().join(",");
        assert!(channel_ids(&many).unwrap_err().message.contains("at most 64"));
    }

    #[test]
    fn entry_names_stay_unique() {
        let ch = |id, path: &str| CloudChannel {
            id,
            agent: "ag".into(),
            path: path.into(),
            unit: None,
            samples: 0,
            t_first: None,
            t_last: None,
        };
        let files = vec![("ag".to_string(), ch(1, "dev/a b")), ("ag".to_string(), ch(2, "dev/a_b"))];
        assert_eq!(entry_names(&files), ["ag-dev_a_b.csv", "ag-dev_a_b-2.csv"]);
    }
}
