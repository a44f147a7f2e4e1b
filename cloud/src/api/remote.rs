//! Remote commands to an agent (issue 16): the signed-in user's session and
//! role authorise a command; the cloud signs it, publishes it on the
//! agent's `down/cmd` topic and answers with the agent's reply. Every
//! command that names a visible agent (allowed or refused) is journaled as
//! a `remote_command` site record.

use axum::extract::State;
use axum::http::StatusCode;
use meterdeck_wire::remote::{self, Action, Command, ReplyStatus};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::caller::{Caller, Full};
use super::error::{ErrorBody, Json, Path, t};
use super::{ApiError, ApiResult, Ctx};
use crate::remote::{BusError, REPLY_TIMEOUT};
use crate::store::Agent;

/// A command for the agent.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommandRequest {
    /// What to do, by `kind`: `console` (instrument, line), `start` /
    /// `stop` (instrument), `fast_monitor` (instrument, on),
    /// `poll_interval` (instrument, seconds), `add_instrument` (config),
    /// `edit_instrument` (instrument, config), `remove_instrument`
    /// (instrument). Console needs the member role, the others admin.
    #[schema(value_type = Object)]
    action: serde_json::Value,
}

/// The agent's answer.
#[derive(Serialize, ToSchema)]
pub struct CommandReply {
    /// The command's id (in both journals).
    id: String,
    agent: String,
    /// done | refused | failed
    status: String,
    /// ok, no_consent, console_held, unknown_instrument, instrument_error, ...
    code: String,
    /// What happened, in a sentence.
    message: String,
    /// The instrument's answer to a console query.
    output: Option<String>,
}

fn status_text(s: ReplyStatus) -> &'static str {
    match s {
        ReplyStatus::Done => "done",
        ReplyStatus::Refused => "refused",
        ReplyStatus::Failed => "failed",
    }
}

/// Send a command to an agent (remote console, settings, start/stop) and wait for its reply
#[utoipa::path(post, path = "/api/v1/agents/{id}/commands", tag = "agents", params(("id" = String, Path, description = "agent id")), request_body = CommandRequest, security(("bearer" = [])), responses(
    (status = 200, description = "The agent's reply (status done, refused or failed)", body = CommandReply),
    (status = 409, description = "The agent is offline (code agent_offline)", body = ErrorBody),
    (status = 504, description = "No reply in time (code agent_timeout)", body = ErrorBody),
    (status = "4XX", description = "Refused; the message says why", body = ErrorBody),
))]
pub async fn send_command(
    State(ctx): State<Ctx>,
    Full(c): Full,
    Path(id): Path<String>,
    Json(req): Json<CommandRequest>,
) -> ApiResult<Json<CommandReply>> {
    c.require_member("send commands to an agent")?;
    let agent = c.agent(&ctx, &id).await?;
    let action: Action = serde_json::from_value(req.action).map_err(|e| {
        ApiError::bad_request(format!(
            "action: {e}; send {{\"kind\": \"console\", \"instrument\": \"...\", \"line\": \"*IDN?\"}} or another kind"
        ))
    })?;
    action.check().map_err(|e| ApiError::bad_request(format!("action: {e}")))?;
    let cmd_id = {
        use rand::RngCore;
        format!("{:032x}", (u128::from(rand::rng().next_u64()) << 64) | u128::from(rand::rng().next_u64()))
    };
    let journal = Journal { ctx: &ctx, agent: &agent, caller: &c, id: &cmd_id, action: &action };
    if action.needs_admin() && !c.is_admin() {
        let what = action.name().replace('_', " ");
        let e = ApiError::forbidden(
            t("cloud-role-admin-only")
                .text_arg("what", super::caller::action(&format!("{what} remotely")))
                .arg("role", c.role().as_str()),
        );
        journal.write("refused", "forbidden", &e.message).await;
        return Err(e);
    }
    if c.session_hash().is_none() {
        let e = ApiError::forbidden(t("cloud-remote-session-only"));
        journal.write("refused", "forbidden", &e.message).await;
        return Err(e);
    }
    if known_offline(&ctx, &agent.id).await? {
        let e =
            ApiError::conflict(t("cloud-remote-offline").arg("name", agent.name.as_str()).arg("id", agent.id.as_str()))
                .with_code("agent_offline");
        journal.write("refused", "agent_offline", &e.message).await;
        return Err(e);
    }
    let Some(bus) = ctx.app.broker.remote() else {
        return Err(ApiError::unavailable(t("cloud-remote-no-broker")));
    };
    let now = ctx.now();
    let cmd = Command {
        v: remote::REMOTE_VERSION,
        id: cmd_id.clone(),
        agent: agent.id.clone(),
        user: if c.user.email.is_empty() { c.user.id.clone() } else { c.user.email.clone() },
        role: c.role().as_str().to_string(),
        issued_ms: now,
        expires_ms: now + REPLY_TIMEOUT.as_millis() as i64 + 5_000,
        action: action.clone(),
    };
    let payload = remote::seal(&cmd, &ctx.app.licence_key);
    match bus.send(&agent.id, &cmd_id, payload, REPLY_TIMEOUT).await {
        Ok(reply) => {
            let status = status_text(reply.status);
            journal.write(status, &reply.code, &reply.message).await;
            Ok(Json(CommandReply {
                id: cmd_id,
                agent: agent.id,
                status: status.into(),
                code: reply.code,
                message: reply.message,
                output: reply.output,
            }))
        }
        Err(e @ BusError::Timeout { .. }) => {
            let e = ApiError::new(StatusCode::GATEWAY_TIMEOUT, t("cloud-remote-timeout").arg("error", e.to_string()))
                .with_code("agent_timeout");
            journal.write("failed", "agent_timeout", &e.message).await;
            Err(e)
        }
        Err(e) => {
            journal.write("failed", "broker", &e.to_string()).await;
            Err(ApiError::unavailable(e.to_string()))
        }
    }
}

/// Commands go only to an agent whose last presence says it is connected
/// (and whose offline alarm does not stand): one gone, or never connected,
/// is answered at once rather than after the timeout.
async fn known_offline(ctx: &Ctx, agent: &str) -> ApiResult<bool> {
    let all = ctx.store().records().presences().await?;
    Ok(!all.iter().find(|p| p.agent == agent).is_some_and(|p| p.online == Some(true) && !p.offline_alarm))
}

struct Journal<'a> {
    ctx: &'a Ctx,
    agent: &'a Agent,
    caller: &'a Caller,
    id: &'a str,
    action: &'a Action,
}

impl Journal<'_> {
    /// Best effort: a journal failure is logged, the answer stands.
    async fn write(&self, status: &str, code: &str, message: &str) {
        let mut body = json!({
            "command": self.id,
            "action": self.action.name(),
            "instrument": self.action.instrument(),
            "user": self.caller.user.id,
            "role": self.caller.role().as_str(),
            "status": status,
            "code": code,
            "message": message,
        });
        if let Action::Console { line, .. } = self.action {
            body["line"] = json!(line);
        }
        if let Err(e) = self.ctx.store().records().add_remote_record(&self.agent.id, self.ctx.now(), &body).await {
            tracing::warn!(agent = %self.agent.id, "remote command not journaled: {e}");
        }
    }
}
