//! Result rows to models, once for both backends. Each backend reads its
//! row through [`Cols`] (its own column types: lists are JSON text in
//! SQLite, `TEXT[]` in PostgreSQL); the mapping and its checks live here.
//! Column orders: the `*_COLS` lists of the backends, which agree.

use super::series::{self, PartSummary};
use super::*;

/// One result row, read by column index.
pub(super) trait Cols {
    fn int(&self, i: usize) -> Result<i64>;
    fn opt_int(&self, i: usize) -> Result<Option<i64>>;
    fn opt_real(&self, i: usize) -> Result<Option<f64>>;
    fn text(&self, i: usize) -> Result<String>;
    fn opt_text(&self, i: usize) -> Result<Option<String>>;
    fn flag(&self, i: usize) -> Result<bool>;
    /// A list of ids; `what` names the row when it is corrupt.
    fn list(&self, i: usize, what: &str) -> Result<Vec<String>>;
}

fn count(v: i64) -> u64 {
    v.max(0) as u64
}

/// id, name, plan, ip_allow, traffic_allowance, created_ms
pub(super) fn account(r: &impl Cols) -> Result<Account> {
    let id = r.text(0)?;
    Ok(Account {
        name: r.text(1)?,
        plan: r.text(2)?,
        ip_allow: r.list(3, &format!("account {id}"))?,
        traffic_allowance: count(r.int(4)?),
        created_ms: r.int(5)?,
        id,
    })
}

/// account, id, name, email, role, password_hash, must_change, two_factor, totp_secret, created_ms
pub(super) fn user(r: &impl Cols) -> Result<User> {
    let id = r.text(1)?;
    let (role, tf) = (r.text(4)?, r.text(7)?);
    Ok(User {
        account: r.text(0)?,
        name: r.text(2)?,
        email: r.text(3)?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("user {id}: role {role:?}")))?,
        password_hash: r.text(5)?,
        must_change: r.flag(6)?,
        two_factor: TwoFactor::parse(&tf)
            .ok_or_else(|| StoreError::Corrupt(format!("user {id}: two-factor {tf:?}")))?,
        totp_secret: r.opt_text(8)?,
        created_ms: r.int(9)?,
        id,
    })
}

/// account, id, name, members
pub(super) fn team(r: &impl Cols) -> Result<Team> {
    let id = r.text(1)?;
    Ok(Team { account: r.text(0)?, name: r.text(2)?, members: r.list(3, &format!("team {id}"))?, id })
}

/// account, id, name, agents, users, teams
pub(super) fn group(r: &impl Cols) -> Result<Group> {
    let id = r.text(1)?;
    let what = format!("group {id}");
    Ok(Group {
        account: r.text(0)?,
        name: r.text(2)?,
        agents: r.list(3, &what)?,
        users: r.list(4, &what)?,
        teams: r.list(5, &what)?,
        id,
    })
}

/// token_hash, account, user, created_ms, last_seen_ms, pending
pub(super) fn session(r: &impl Cols) -> Result<Session> {
    Ok(Session {
        token_hash: r.text(0)?,
        account: r.text(1)?,
        user: r.text(2)?,
        created_ms: r.int(3)?,
        last_seen_ms: r.int(4)?,
        pending: r.opt_text(5)?,
    })
}

/// id, token_hash, account, user, name, created_ms, last_used_ms
pub(super) fn token(r: &impl Cols) -> Result<ApiToken> {
    Ok(ApiToken {
        id: r.text(0)?,
        token_hash: r.text(1)?,
        account: r.text(2)?,
        user: r.text(3)?,
        name: r.text(4)?,
        created_ms: r.int(5)?,
        last_used_ms: r.opt_int(6)?,
    })
}

/// account, user, purpose, code_hash, expires_ms
pub(super) fn code(r: &impl Cols) -> Result<OneTimeCode> {
    Ok(OneTimeCode {
        account: r.text(0)?,
        user: r.text(1)?,
        purpose: r.text(2)?,
        code_hash: r.text(3)?,
        expires_ms: r.int(4)?,
    })
}

/// id, account, name, secret_hash, broker_hash, created_ms, last_batch_ms,
/// backlog, samples, batches, rejected, last_error
pub(super) fn agent(r: &impl Cols) -> Result<Agent> {
    Ok(Agent {
        id: r.text(0)?,
        account: r.text(1)?,
        name: r.text(2)?,
        secret_hash: r.text(3)?,
        broker_hash: r.text(4)?,
        created_ms: r.int(5)?,
        sync: AgentSync {
            last_batch_ms: r.opt_int(6)?,
            backlog: count(r.int(7)?),
            samples: count(r.int(8)?),
            batches: count(r.int(9)?),
            rejected: count(r.int(10)?),
            last_error: r.opt_text(11)?,
        },
    })
}

/// id, agent, path, unit, samples, t_first, t_last
pub(super) fn channel(r: &impl Cols) -> Result<CloudChannel> {
    Ok(CloudChannel {
        id: r.int(0)?,
        agent: r.text(1)?,
        path: r.text(2)?,
        unit: r.opt_text(3)?,
        samples: count(r.int(4)?),
        t_first: r.opt_int(5)?,
        t_last: r.opt_int(6)?,
    })
}

/// id, count, specials, t_min, t_max, first_t, first_v, last_t, last_v,
/// min_t, min_v, max_t, max_v
pub(super) fn summary(r: &impl Cols) -> Result<PartSummary> {
    let pair = |t: usize| -> Result<(Option<i64>, Option<f64>)> { Ok((r.opt_int(t)?, r.opt_real(t + 1)?)) };
    Ok(PartSummary {
        id: r.int(0)?,
        summary: series::summary_from_columns(
            r.int(1)?,
            r.int(2)?,
            r.int(3)?,
            r.int(4)?,
            pair(5)?,
            pair(7)?,
            pair(9)?,
            pair(11)?,
        ),
    })
}
