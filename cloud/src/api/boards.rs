//! Dashboard boards of the web portal (issue 15): an account's boards of
//! panels, the same JSON as the desktop's board files (`meterdeck_dashboard`,
//! `name`, `panels`: the document is meterdeck-wire's `boards`, shared with
//! the desktop), so a board exported from the desktop imports here. A panel's channels name their
//! site: `<agent id>/<instrument>/<channel>` (a desktop file's
//! `instrument/channel` paths are given the agent the import names).
//!
//! Admins create, change, reorder and delete boards; every signed-in user
//! reads them, and sees the data of a panel's channels only through the
//! channel endpoints, which answer what their measurement groups grant
//! (`no_access` lists the channels of a board the caller may not see).
//!
//! The portal shows graph, value and graph+value panels. Image panels
//! (their pictures are files of the desktop's data directory) and alarm
//! lists (the desktop agent's alarms) stay on the desktop: a board holding
//! one is refused with a message saying so.

use std::collections::{HashMap, HashSet};

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::caller::{Caller, Full};
use super::error::{ErrorBody, Json, Path, Query, t};
use super::{ApiError, ApiResult, Ctx};
use crate::store::{BoardRow, StoreError};

// The board document and its shape checks (grid, sizes, channel counts,
// names) are the desktop's, shared through wire; here are the portal's own.
pub use meterdeck_wire::boards::{BoardFile, FORMAT_KEY, FORMAT_VERSION, Panel, PanelKind};

/// Panels one board holds at most (the grid has room for 576 cells).
pub const MAX_PANELS: usize = 200;
/// Boards one account keeps at most.
pub const MAX_BOARDS: usize = 100;

/// A board as the API answers it.
#[derive(Serialize, ToSchema)]
pub struct BoardView {
    id: i64,
    name: String,
    /// 1 for the first board.
    position: i64,
    panels: Vec<Panel>,
    updated_ms: i64,
    /// The caller may change it (admins).
    editable: bool,
    /// Channels of its panels the caller's measurement groups do not
    /// grant: their panels show "no access", never the data.
    no_access: Vec<String>,
}

/// A new board, or a board's new name and panels.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BoardBody {
    name: String,
    #[serde(default)]
    panels: Vec<Panel>,
}

/// Every board once, in the new order.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BoardOrder {
    ids: Vec<i64>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// The agent (site) whose channels a desktop file's `instrument/channel` paths name.
    agent: Option<String>,
}

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError::bad_request(msg.into())
}

/// `body` as `T`, a mismatch answered 400 naming the field (`panels[1].kind: ...`).
fn parse<T: DeserializeOwned>(body: serde_json::Value, what: &str) -> ApiResult<T> {
    serde_path_to_error::deserialize(body).map_err(|e| {
        let path = e.path().to_string();
        if path == "." {
            bad(format!("{what}: {}", e.inner()))
        } else {
            bad(format!("{what}: `{path}`: {}", e.inner()))
        }
    })
}

fn panel_name(p: &Panel, i: usize) -> String {
    p.describe(&format!("panels[{i}]"))
}

fn check_name(name: &str) -> ApiResult<String> {
    meterdeck_wire::boards::check_name(name).map_err(|e| bad(format!("name: {e}")))
}

/// `agent/instrument/channel` split as (agent, `instrument/channel`).
fn split_channel(c: &str) -> Option<(&str, &str)> {
    let (agent, path) = c.split_once('/')?;
    let (i, ch) = path.split_once('/')?;
    (meterdeck_wire::sync::valid_agent_id(agent) && !i.is_empty() && !ch.is_empty() && !ch.contains('/'))
        .then_some((agent, path))
}

/// The channels of the account, by agent: what panels may name.
struct Known {
    account: String,
    agents: HashMap<String, Option<HashSet<String>>>,
}

impl Known {
    fn new(account: &str) -> Known {
        Known { account: account.to_string(), agents: HashMap::new() }
    }

    /// Why `agent` + `path` names no channel of the account, if it does not.
    async fn missing(&mut self, ctx: &Ctx, agent: &str, path: &str) -> ApiResult<Option<String>> {
        if !self.agents.contains_key(agent) {
            let paths = match ctx.store().agent(agent).await? {
                Some(a) if a.account == self.account => {
                    Some(ctx.store().channels(agent).await?.into_iter().map(|c| c.path).collect())
                }
                _ => None,
            };
            self.agents.insert(agent.to_string(), paths);
        }
        Ok(match &self.agents[agent] {
            None => Some(format!("account {} has no agent {agent}", self.account)),
            Some(paths) if !paths.contains(path) => Some(format!("agent {agent} has no channel {path}")),
            Some(_) => None,
        })
    }
}

/// Checks a board's panels as the desktop does (grid, overlap, channels,
/// kinds) plus the portal's own rules; gives repeated or missing ids fresh ones.
async fn check_panels(ctx: &Ctx, account: &str, panels: &mut [Panel]) -> ApiResult<()> {
    if panels.len() > MAX_PANELS {
        return Err(ApiError::bad_request(t("cloud-board-max-panels").arg("max", MAX_PANELS.to_string())));
    }
    let mut known = Known::new(account);
    for i in 0..panels.len() {
        let p = &panels[i];
        let what = panel_name(p, i);
        match p.kind {
            PanelKind::Image | PanelKind::ImageValues => {
                return Err(bad(format!(
                    "{what}: image panels stay on the desktop (their pictures are files of its data directory); \
                     the portal shows graph, value and graph-value panels: remove the panel or keep the board on the desktop"
                )));
            }
            PanelKind::AlarmList => {
                return Err(bad(format!(
                    "{what}: alarm lists show the desktop agent's alarms, which the cloud does not keep; \
                     the portal shows graph, value and graph-value panels: remove the panel or keep the board on the desktop"
                )));
            }
            _ => {}
        }
        p.check_cells(&what).map_err(|e| bad(e.to_string()))?;
        // Only graph and value kinds are left: 1 to 8 channels.
        p.check_channel_count(&what).map_err(|e| bad(e.to_string()))?;
        for (k, c) in p.channels.iter().enumerate() {
            let Some((agent, path)) = split_channel(c) else {
                return Err(bad(format!(
                    "{what}: channel `{c}` is not of the form agent/instrument/channel (e.g. a-0123456789abcdef/logger1/CH1)"
                )));
            };
            if p.channels[..k].contains(c) {
                return Err(bad(format!("{what}: channel `{c}` is listed twice")));
            }
            if let Some(why) = known.missing(ctx, agent, path).await? {
                return Err(bad(format!("{what}: channel `{c}`: {why}")));
            }
        }
        if p.image.is_some() || !p.placements.is_empty() || !p.rules.is_empty() {
            return Err(bad(format!("{what}: only image panels have an image or placements, only alarm lists rules")));
        }
        if let Some((j, q)) = meterdeck_wire::boards::first_overlap(panels, i) {
            return Err(bad(format!("{what} overlaps {}", panel_name(q, j))));
        }
    }
    // Ids: kept when unique and set, else the next free ones.
    let mut used = HashSet::new();
    let mut next = panels.iter().map(|p| p.id).max().unwrap_or(0);
    for p in panels.iter_mut() {
        if p.id == 0 || !used.insert(p.id) {
            next += 1;
            p.id = next;
            used.insert(p.id);
        }
    }
    Ok(())
}

/// Panels per agent whose channels they show.
fn per_agent(panels: &[Panel]) -> HashMap<String, u64> {
    let mut out = HashMap::new();
    for p in panels {
        let agents: HashSet<&str> = p.channels.iter().filter_map(|c| split_channel(c).map(|x| x.0)).collect();
        for a in agents {
            *out.entry(a.to_string()).or_insert(0) += 1;
        }
    }
    out
}

fn stored_panels(row: &BoardRow) -> ApiResult<Vec<Panel>> {
    serde_json::from_str(&row.panels)
        .map_err(|e| ApiError::from(StoreError::Corrupt(format!("board {} of account {}: {e}", row.id, row.account))))
}

/// Refuses the account's boards growing past the plan's panels per agent
/// when board `replacing` (None: a new board) gets `panels`.
async fn check_limit(ctx: &Ctx, account: &str, replacing: Option<i64>, panels: &[Panel]) -> ApiResult<()> {
    let mut before: HashMap<String, u64> = HashMap::new();
    let mut after: HashMap<String, u64> = per_agent(panels);
    for row in ctx.store().boards().boards(account).await? {
        for (a, n) in per_agent(&stored_panels(&row)?) {
            *before.entry(a.clone()).or_insert(0) += n;
            if Some(row.id) != replacing {
                *after.entry(a).or_insert(0) += n;
            }
        }
    }
    let (plan, limits) = super::licence::in_force(ctx, account).await?;
    let mut agents: Vec<_> = after.into_iter().collect();
    agents.sort();
    for (agent, n) in agents {
        let was = before.get(&agent).copied().unwrap_or(0);
        crate::licence::limits::check_panels(account, plan, &limits, &agent, was, n)?;
    }
    Ok(())
}

fn view(c: &Caller, row: BoardRow, visible: &Option<HashSet<String>>) -> ApiResult<BoardView> {
    let panels = stored_panels(&row)?;
    let mut no_access = Vec::new();
    if let Some(v) = visible {
        for ch in panels.iter().flat_map(|p| &p.channels) {
            let seen = split_channel(ch).is_some_and(|(a, _)| v.contains(a));
            if !seen && !no_access.contains(ch) {
                no_access.push(ch.clone());
            }
        }
    }
    Ok(BoardView {
        id: row.id,
        name: row.name,
        position: row.position,
        panels,
        updated_ms: row.updated_ms,
        editable: c.is_admin(),
        no_access,
    })
}

fn missing(id: i64) -> ApiError {
    ApiError::not_found(t("cloud-board-not-found").arg("id", id.to_string()))
}

async fn board_of(ctx: &Ctx, c: &Caller, id: i64) -> ApiResult<BoardRow> {
    ctx.store().boards().board(&c.account.id, id).await?.ok_or_else(|| missing(id))
}

fn store_err(id: i64) -> impl FnOnce(StoreError) -> ApiError {
    move |e| match e {
        StoreError::NotFound(_) => missing(id),
        e => e.into(),
    }
}

/// The account's dashboard boards in order
#[utoipa::path(get, path = "/api/v1/boards", tag = "boards", security(("bearer" = [])), responses(
    (status = 200, description = "The boards", body = Vec<BoardView>),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn list_boards(State(ctx): State<Ctx>, Full(c): Full) -> ApiResult<Json<Vec<BoardView>>> {
    let visible = c.visible_agents(&ctx).await?;
    let mut out = Vec::new();
    for row in ctx.store().boards().boards(&c.account.id).await? {
        out.push(view(&c, row, &visible)?);
    }
    Ok(Json(out))
}

/// One board
#[utoipa::path(get, path = "/api/v1/boards/{id}", tag = "boards", params(("id" = i64, Path, description = "board id")), security(("bearer" = [])), responses(
    (status = 200, description = "The board", body = BoardView),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn get_board(State(ctx): State<Ctx>, Full(c): Full, Path(id): Path<i64>) -> ApiResult<Json<BoardView>> {
    let row = board_of(&ctx, &c, id).await?;
    let visible = c.visible_agents(&ctx).await?;
    Ok(Json(view(&c, row, &visible)?))
}

async fn create(ctx: &Ctx, c: &Caller, name: &str, mut panels: Vec<Panel>) -> ApiResult<BoardView> {
    let name = check_name(name)?;
    check_panels(ctx, &c.account.id, &mut panels).await?;
    if ctx.store().boards().boards(&c.account.id).await?.len() >= MAX_BOARDS {
        return Err(bad(format!(
            "account {} has {MAX_BOARDS} boards, the most it keeps: delete one first",
            c.account.id
        )));
    }
    check_limit(ctx, &c.account.id, None, &panels).await?;
    let text = serde_json::to_string(&panels).map_err(|e| ApiError::internal(format!("board: {e}")))?;
    let row = ctx.store().boards().board_insert(&c.account.id, &name, &text, ctx.now()).await?;
    view(c, row, &None)
}

/// Create a board (admins)
#[utoipa::path(post, path = "/api/v1/boards", tag = "boards", request_body = BoardBody, security(("bearer" = [])), responses(
    (status = 201, description = "Created", body = BoardView),
    (status = "4XX", description = "Refused; the message says why (the field at fault)", body = ErrorBody),
))]
pub async fn create_board(
    State(ctx): State<Ctx>,
    Full(c): Full,
    Json(body): Json<serde_json::Value>,
) -> ApiResult<(StatusCode, Json<BoardView>)> {
    c.require_admin("create dashboard boards")?;
    let b: BoardBody = parse(body, "board")?;
    Ok((StatusCode::CREATED, Json(create(&ctx, &c, &b.name, b.panels).await?)))
}

/// Import a board file exported by the desktop app or the portal (admins)
#[utoipa::path(post, path = "/api/v1/boards/import", tag = "boards", request_body = BoardFile, params(ImportQuery), security(("bearer" = [])), responses(
    (status = 201, description = "Imported as a new board", body = BoardView),
    (status = "4XX", description = "Refused; the message says why (the field at fault)", body = ErrorBody),
))]
pub async fn import_board(
    State(ctx): State<Ctx>,
    Full(c): Full,
    Query(q): Query<ImportQuery>,
    Json(body): Json<serde_json::Value>,
) -> ApiResult<(StatusCode, Json<BoardView>)> {
    c.require_admin("import dashboard boards")?;
    let Some(obj) = body.as_object() else { return Err(bad("dashboard file: not a JSON object")) };
    match obj.get(FORMAT_KEY) {
        None => return Err(bad(format!("dashboard file: not a Meterdeck dashboard (no `{FORMAT_KEY}` key)"))),
        Some(v) if v.as_u64() == Some(FORMAT_VERSION) => {}
        Some(v) => {
            return Err(bad(format!(
                "dashboard file: version {v} is not one this cloud reads (it reads version {FORMAT_VERSION})"
            )));
        }
    }
    let mut file: BoardFile = parse(body, "dashboard file")?;
    let agent = q.agent.as_deref().map(str::trim).filter(|a| !a.is_empty());
    if let Some(a) = agent {
        // Only an agent of this account (else as if it did not exist).
        match ctx.store().agent(a).await? {
            Some(x) if x.account == c.account.id => {}
            _ => return Err(ApiError::not_found(t("cloud-agent-not-found").arg("id", a))),
        }
    }
    for (i, p) in file.panels.iter_mut().enumerate() {
        for ch in p.channels.iter_mut() {
            // A desktop file's `instrument/channel`: on the agent named.
            if ch.matches('/').count() == 1 {
                let Some(a) = agent else {
                    return Err(bad(format!(
                        "dashboard file: panels[{i}]: channel `{ch}` names no agent (a desktop board): \
                         import it with ?agent=<agent id> to show that agent's channels"
                    )));
                };
                *ch = format!("{a}/{ch}");
            }
        }
    }
    let view = create(&ctx, &c, &file.name, file.panels).await.map_err(|mut e| {
        if e.status == StatusCode::BAD_REQUEST {
            e.message = format!("dashboard file: {}", e.message);
        }
        e
    })?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Replace a board's name and panels (admins)
#[utoipa::path(put, path = "/api/v1/boards/{id}", tag = "boards", params(("id" = i64, Path, description = "board id")), request_body = BoardBody, security(("bearer" = [])), responses(
    (status = 200, description = "The board as kept", body = BoardView),
    (status = "4XX", description = "Refused; the message says why (the field at fault)", body = ErrorBody),
))]
pub async fn put_board(
    State(ctx): State<Ctx>,
    Full(c): Full,
    Path(id): Path<i64>,
    Json(body): Json<serde_json::Value>,
) -> ApiResult<Json<BoardView>> {
    c.require_admin("change dashboard boards")?;
    board_of(&ctx, &c, id).await?;
    let b: BoardBody = parse(body, "board")?;
    let name = check_name(&b.name)?;
    let mut panels = b.panels;
    check_panels(&ctx, &c.account.id, &mut panels).await?;
    check_limit(&ctx, &c.account.id, Some(id), &panels).await?;
    let text = serde_json::to_string(&panels).map_err(|e| ApiError::internal(format!("board: {e}")))?;
    ctx.store().boards().board_update(&c.account.id, id, &name, &text, ctx.now()).await.map_err(store_err(id))?;
    let row = board_of(&ctx, &c, id).await?;
    Ok(Json(view(&c, row, &None)?))
}

/// Put the boards in a new order (admins)
#[utoipa::path(put, path = "/api/v1/boards/order", tag = "boards", request_body = BoardOrder, security(("bearer" = [])), responses(
    (status = 200, description = "The boards in their new order", body = Vec<BoardView>),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn reorder_boards(
    State(ctx): State<Ctx>,
    Full(c): Full,
    Json(body): Json<serde_json::Value>,
) -> ApiResult<Json<Vec<BoardView>>> {
    c.require_admin("reorder dashboard boards")?;
    let b: BoardOrder = parse(body, "order")?;
    ctx.store().boards().board_reorder(&c.account.id, &b.ids).await?;
    let mut out = Vec::new();
    for row in ctx.store().boards().boards(&c.account.id).await? {
        out.push(view(&c, row, &None)?);
    }
    Ok(Json(out))
}

/// Delete a board (admins)
#[utoipa::path(delete, path = "/api/v1/boards/{id}", tag = "boards", params(("id" = i64, Path, description = "board id")), security(("bearer" = [])), responses(
    (status = 204, description = "Deleted"),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn delete_board(State(ctx): State<Ctx>, Full(c): Full, Path(id): Path<i64>) -> ApiResult<StatusCode> {
    c.require_admin("delete dashboard boards")?;
    ctx.store().boards().board_delete(&c.account.id, id).await.map_err(store_err(id))?;
    Ok(StatusCode::NO_CONTENT)
}

/// A board as a file (the desktop's format; channels name their agents)
#[utoipa::path(get, path = "/api/v1/boards/{id}/export", tag = "boards", params(("id" = i64, Path, description = "board id")), security(("bearer" = [])), responses(
    (status = 200, description = "The board file", body = BoardFile),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn export_board(State(ctx): State<Ctx>, Full(c): Full, Path(id): Path<i64>) -> ApiResult<Response> {
    let row = board_of(&ctx, &c, id).await?;
    let file = BoardFile {
        meterdeck_dashboard: FORMAT_VERSION,
        panels: stored_panels(&row)?,
        name: row.name,
        images: Default::default(),
    };
    let safe: String = file
        .name
        .chars()
        .map(|ch| if ch.is_ascii_alphanumeric() || ch == '-' || ch == '_' { ch } else { '_' })
        .collect();
    let disposition = format!("attachment; filename=\"board-{safe}.json\"");
    let mut resp = axum::Json(file).into_response();
    if let Ok(v) = header::HeaderValue::from_str(&disposition) {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}
