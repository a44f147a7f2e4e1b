//! Measurement files (docs/api.md, "Files"). Agents upload them with their
//! own credentials (HTTP Basic `agent_id:agent_secret`): announced with
//! size and SHA-256, sent in chunks at the offset the cloud holds (a cut
//! upload resumes: announcing it again answers that offset), completed
//! when the cloud has checked the SHA-256 (a mismatch discards the bytes).
//! Signed-in users list and download them with the grants of the
//! measurement data. The bytes live in `<files_dir>/<account>/<id>`; the
//! files count towards the account's storage.

use std::path::PathBuf;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use meterdeck_wire::files::{self as wire, CloudFile, MAX_CHUNK, UploadAnnounce, UploadState};
use rand::RngCore;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use utoipa::{IntoParams, ToSchema};

use super::caller::{Caller, Full};
use super::error::{ErrorBody, Json, Path, Query, t};
use super::{ApiError, ApiResult, Ctx};
use crate::store::{Agent, FileQuery, FileRow};

/// Files listed at once unless `limit` says otherwise, and at most.
const DEFAULT_LIMIT: u64 = 100;
const MAX_LIMIT: u64 = 1000;

/// Documents a raw byte body (a `Vec<u8>` would read as a list of numbers).
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct BinaryBody(#[allow(dead_code)] Vec<u8>);

/// Whether the request is an upload step with HTTP Basic (an agent); the
/// handler checks the credentials.
pub(crate) fn is_agent_upload(path: &str, auth: &HeaderValue) -> bool {
    path.starts_with("/files/uploads")
        && auth.to_str().is_ok_and(|a| a.len() > 6 && a[..6].eq_ignore_ascii_case("basic "))
}

/// The uploading agent, or why not. A user's token finds only uploads of
/// its own account (404 otherwise, as for every id) and is then refused.
async fn uploader(ctx: &Ctx, caller: Option<&Caller>, headers: &HeaderMap, id: Option<&str>) -> ApiResult<Agent> {
    if let Some(auth) = super::caller::basic_header(headers) {
        return super::caller::basic_agent(ctx, auth).await;
    }
    let Some(c) = caller else {
        return Err(ApiError::unauthorized(t("cloud-files-agents-only-basic")));
    };
    if let Some(id) = id {
        own_upload(ctx, &c.account.id, None, id).await?;
    }
    Err(ApiError::forbidden(t("cloud-files-agents-only-token")))
}

/// The upload `id` of `account` (and `agent`), else 404.
async fn own_upload(ctx: &Ctx, account: &str, agent: Option<&str>, id: &str) -> ApiResult<FileRow> {
    let missing = || ApiError::not_found(t("cloud-upload-not-found").arg("id", id.to_string()));
    let row = ctx.store().files().file(id).await?.ok_or_else(missing)?;
    if row.account != account || agent.is_some_and(|a| a != row.agent) {
        return Err(missing());
    }
    Ok(row)
}

fn state_of(r: &FileRow) -> UploadState {
    UploadState { id: r.id.clone(), offset: r.received, size: r.size, complete: r.completed_ms.is_some() }
}

fn view(r: FileRow) -> CloudFile {
    CloudFile {
        id: r.id,
        agent: r.agent,
        instrument: r.instrument,
        name: r.name,
        size: r.size,
        sha256: r.sha256,
        uploaded_ms: r.completed_ms.unwrap_or(r.created_ms),
    }
}

/// Where an upload's bytes are kept.
fn bytes_path(ctx: &Ctx, r: &FileRow) -> PathBuf {
    ctx.app.files_dir.join(&r.account).join(&r.id)
}

fn disk_error(what: &str, e: std::io::Error) -> ApiError {
    tracing::error!(error = %e, "files: {what}");
    ApiError::internal(t("cloud-files-disk"))
}

/// Refuses a file that would take the account over its plan's storage.
async fn check_storage(ctx: &Ctx, account: &str, size: u64) -> ApiResult<()> {
    let (plan, limits) = super::licence::in_force(ctx, account).await?;
    let series: u64 = ctx.store().storage_used(account).await?.iter().map(|c| c.bytes).sum();
    let used = series + ctx.store().files().file_bytes(account).await?;
    if used.saturating_add(size) <= limits.storage_bytes {
        return Ok(());
    }
    let text = t("cloud-limit-storage")
        .arg("plan", plan.name())
        .arg("max", limits.storage_bytes.to_string())
        .arg("account", account)
        .arg("used", used.to_string())
        .arg("size", size.to_string());
    Err(ApiError::plan_limit(crate::licence::limits::PlanLimit::new(
        "storage_bytes",
        plan,
        limits.storage_bytes,
        used,
        text,
    )))
}

/// Announce a file to upload (agents)
///
/// HTTP Basic `agent_id:agent_secret`. Answers where the upload stands: a
/// new one at offset 0, a cut one at the bytes the cloud holds, a file
/// already kept (same instrument, name and SHA-256) as complete. A file
/// over the plan's storage is refused (`plan_limit`).
#[utoipa::path(post, path = "/api/v1/files/uploads", tag = "files", request_body = UploadAnnounce, security(("basic" = [])), responses(
    (status = 200, description = "Where the upload stands", body = UploadState),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn announce(
    State(ctx): State<Ctx>,
    caller: Option<axum::Extension<Caller>>,
    headers: HeaderMap,
    body: Result<Json<UploadAnnounce>, ApiError>,
) -> ApiResult<Json<UploadState>> {
    // Who calls is answered before what they sent.
    let agent = uploader(&ctx, caller.as_ref().map(|c| &c.0), &headers, None).await?;
    let Json(a) = body?;
    a.check().map_err(ApiError::bad_request)?;
    let mut id = [0u8; 12];
    rand::rng().fill_bytes(&mut id);
    let row = FileRow {
        id: format!("f{}", hex::encode(id)),
        account: agent.account.clone(),
        agent: agent.id.clone(),
        instrument: a.instrument,
        name: a.name,
        size: a.size,
        sha256: a.sha256,
        received: 0,
        created_ms: ctx.now(),
        completed_ms: None,
    };
    // A known upload answers where it stands; only a new one needs room.
    let known = ctx.store().files().file_by_key(&row).await?;
    let row = match known {
        Some(r) => r,
        None => {
            check_storage(&ctx, &agent.account, row.size).await?;
            let r = ctx.store().files().file_announce(&row).await?;
            let path = bytes_path(&ctx, &r);
            if let Some(dir) = path.parent() {
                tokio::fs::create_dir_all(dir).await.map_err(|e| disk_error("creating the account's folder", e))?;
            }
            r
        }
    };
    Ok(Json(state_of(&row)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChunkQuery {
    /// Where this chunk starts: the offset the cloud answered.
    offset: u64,
}

/// Send a chunk of an upload (agents)
///
/// HTTP Basic `agent_id:agent_secret`. The body (at most 4 MiB) is written at
/// `offset`, which must be the offset the cloud holds; answers the new state.
#[utoipa::path(put, path = "/api/v1/files/uploads/{id}", tag = "files",
    params(("id" = String, Path, description = "upload id"), ChunkQuery),
    request_body(content = BinaryBody, content_type = "application/octet-stream"),
    security(("basic" = [])), responses(
    (status = 200, description = "Where the upload stands now", body = UploadState),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn chunk(
    State(ctx): State<Ctx>,
    caller: Option<axum::Extension<Caller>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    query: Result<Query<ChunkQuery>, ApiError>,
    body: Body,
) -> ApiResult<Json<UploadState>> {
    let agent = uploader(&ctx, caller.as_ref().map(|c| &c.0), &headers, Some(&id)).await?;
    let row = own_upload(&ctx, &agent.account, Some(&agent.id), &id).await?;
    let Query(q) = query?;
    if row.completed_ms.is_some() {
        return Err(ApiError::conflict(format!("upload {id} is complete already; nothing more is taken")));
    }
    if q.offset != row.received {
        return Err(ApiError::conflict(format!(
            "upload {id}: the cloud holds {} bytes, so the next chunk starts at offset={} (not {})",
            row.received, row.received, q.offset
        ))
        .with_code("upload_offset"));
    }
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("a chunk may carry at most {MAX_CHUNK} bytes (4 MiB); send the file in smaller chunks"),
        )
    };
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_CHUNK as u64) {
        return Err(too_large());
    }
    let bytes = axum::body::to_bytes(body, MAX_CHUNK).await.map_err(|_| too_large())?;
    if bytes.is_empty() {
        return Err(ApiError::bad_request(format!(
            "upload {id}: the chunk is empty; send the bytes from offset={}",
            q.offset
        )));
    }
    let end = q.offset + bytes.len() as u64;
    if end > row.size {
        return Err(ApiError::bad_request(format!(
            "upload {id}: this chunk of {} bytes at offset {} runs past the announced size of {} bytes; nothing was written",
            bytes.len(),
            q.offset,
            row.size
        )));
    }
    let path = bytes_path(&ctx, &row);
    let mut f = tokio::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(false)
        .open(&path)
        .await
        .map_err(|e| disk_error("opening an upload", e))?;
    // Bytes past the recorded offset are from a chunk cut before it was
    // recorded: they are written again now.
    f.set_len(q.offset).await.map_err(|e| disk_error("cutting an upload", e))?;
    f.seek(std::io::SeekFrom::Start(q.offset)).await.map_err(|e| disk_error("seeking in an upload", e))?;
    f.write_all(&bytes).await.map_err(|e| disk_error("writing an upload", e))?;
    // Durable before the offset moves: an answered offset is never lost.
    f.sync_data().await.map_err(|e| disk_error("syncing an upload", e))?;
    ctx.store().files().file_received(&id, q.offset, end).await?;
    Ok(Json(UploadState { id, offset: end, size: row.size, complete: false }))
}

/// Finish an upload (agents)
///
/// HTTP Basic `agent_id:agent_secret`. The cloud computes the SHA-256 of the
/// bytes it holds: equal to the announced one, the file is kept (complete);
/// different, the upload is discarded (422) and must be sent again whole.
#[utoipa::path(post, path = "/api/v1/files/uploads/{id}/complete", tag = "files",
    params(("id" = String, Path, description = "upload id")), security(("basic" = [])), responses(
    (status = 200, description = "The file is kept", body = UploadState),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn complete(
    State(ctx): State<Ctx>,
    caller: Option<axum::Extension<Caller>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<UploadState>> {
    let agent = uploader(&ctx, caller.as_ref().map(|c| &c.0), &headers, Some(&id)).await?;
    let row = own_upload(&ctx, &agent.account, Some(&agent.id), &id).await?;
    if row.completed_ms.is_some() {
        return Ok(Json(state_of(&row)));
    }
    if row.received < row.size {
        return Err(ApiError::conflict(format!(
            "upload {id}: only {} of {} bytes were received; send the rest from offset={}",
            row.received, row.size, row.received
        ))
        .with_code("upload_offset"));
    }
    let path = bytes_path(&ctx, &row);
    let sha = sha256_of(&path, row.size).await.map_err(|e| disk_error("reading an upload", e))?;
    if sha != row.sha256 {
        ctx.store().files().file_delete(&id).await?;
        let _ = tokio::fs::remove_file(&path).await;
        return Err(ApiError::unprocessable(format!(
            "upload {id} ({}): the SHA-256 of the {} bytes received is {sha}, not the announced {}; \
             the upload was discarded: announce the file again and send it whole",
            row.name, row.size, row.sha256
        ))
        .with_code("checksum_mismatch"));
    }
    ctx.store().files().file_completed(&id, ctx.now()).await?;
    Ok(Json(UploadState { id, offset: row.size, size: row.size, complete: true }))
}

/// SHA-256 of the first `len` bytes of `path`, streamed.
async fn sha256_of(path: &std::path::Path, len: u64) -> std::io::Result<String> {
    let mut f = tokio::fs::File::open(path).await?.take(len);
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = f.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FileListQuery {
    /// Only this agent's files.
    agent: Option<String>,
    /// Only this instrument's files.
    instrument: Option<String>,
    /// At most this many (default 100, at most 1000).
    limit: Option<u64>,
    /// Skip this many (paging).
    offset: Option<u64>,
}

/// Kept files of the agents the caller sees, newest first
#[utoipa::path(get, path = "/api/v1/files", tag = "files", params(FileListQuery), security(("bearer" = [])), responses(
    (status = 200, description = "The files", body = Vec<CloudFile>),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn list(
    State(ctx): State<Ctx>,
    Full(c): Full,
    Query(q): Query<FileListQuery>,
) -> ApiResult<Json<Vec<CloudFile>>> {
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ApiError::bad_request(t("cloud-files-limit").arg("max", MAX_LIMIT.to_string())));
    }
    if let Some(a) = &q.agent {
        c.agent(&ctx, a).await?;
    }
    let agents = c.visible_agents(&ctx).await?.map(|v| v.into_iter().collect());
    let rows = ctx
        .store()
        .files()
        .files(&FileQuery {
            account: c.account.id.clone(),
            agents,
            agent: q.agent,
            instrument: q.instrument,
            limit,
            offset: q.offset.unwrap_or(0),
        })
        .await?;
    Ok(Json(rows.into_iter().map(view).collect()))
}

/// A kept file of a visible agent, else 404.
async fn visible_file(ctx: &Ctx, c: &Caller, id: &str) -> ApiResult<FileRow> {
    let missing = || ApiError::not_found(t("cloud-file-not-found").arg("id", id.to_string()));
    let row = ctx.store().files().file(id).await?.ok_or_else(missing)?;
    if row.account != c.account.id || row.completed_ms.is_none() {
        return Err(missing());
    }
    c.agent(ctx, &row.agent).await.map_err(|e| if e.status == StatusCode::NOT_FOUND { missing() } else { e })?;
    Ok(row)
}

/// One kept file's metadata
#[utoipa::path(get, path = "/api/v1/files/{id}", tag = "files", params(("id" = String, Path, description = "file id")), security(("bearer" = [])), responses(
    (status = 200, description = "The file", body = CloudFile),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn get_file(State(ctx): State<Ctx>, Full(c): Full, Path(id): Path<String>) -> ApiResult<Json<CloudFile>> {
    Ok(Json(view(visible_file(&ctx, &c, &id).await?)))
}

/// A kept file's bytes, streamed
#[utoipa::path(get, path = "/api/v1/files/{id}/content", tag = "files", params(("id" = String, Path, description = "file id")), security(("bearer" = [])), responses(
    (status = 200, description = "The file's bytes", content_type = "application/octet-stream", body = BinaryBody),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn content(State(ctx): State<Ctx>, Full(c): Full, Path(id): Path<String>) -> ApiResult<Response> {
    let row = visible_file(&ctx, &c, &id).await?;
    let f = tokio::fs::File::open(bytes_path(&ctx, &row)).await.map_err(|e| disk_error("opening a kept file", e))?;
    let stream = futures::stream::unfold((f, vec![0u8; 256 * 1024]), |(mut f, mut buf)| async move {
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => Some((Ok::<_, std::io::Error>(bytes::Bytes::copy_from_slice(&buf[..n])), (f, buf))),
            Err(e) => Some((Err(e), (f, buf))),
        }
    });
    let name: String = wire::base_name(&row.name)
        .chars()
        .map(|ch| if ch.is_ascii_alphanumeric() || "._-".contains(ch) { ch } else { '_' })
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (header::CONTENT_LENGTH, row.size.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
            (header::HeaderName::from_static("x-sha256"), row.sha256.clone()),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

/// Removes the bytes of uploads whose rows are gone (agent or account deleted).
pub(crate) async fn remove_bytes(ctx: &Ctx, account: &str, ids: &[String]) {
    for id in ids {
        let _ = tokio::fs::remove_file(ctx.app.files_dir.join(account).join(id)).await;
    }
}
