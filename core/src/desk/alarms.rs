//! What the window needs for alarms: the alarm list and operator actions
//! (through the running agent, which owns the journal), rule, calculation
//! channel and destination edits (validated together, written to the
//! config file, agent restarted), the journal and the notification centre
//! (read from the store).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::error::{DeskError, DeskResult};
use super::{Desk, config_file, write_atomic};
use crate::alarm::{Action, AlarmCommand, AlarmReply, AlarmRule, AlarmView, JournalEntry, JournalFilter, journal};
use crate::calc::CalcConfig;
use crate::config::{AgentConfig, SectionError};
use crate::model::{Text, TimeMs};
use crate::notify::secrets::{smtp_entry, webhook_entry};
use crate::notify::{DestinationConfig, DestinationKind, Note, centre};

/// A destination as listed: its config and whether its secret is stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct DestinationView {
    #[serde(flatten)]
    pub config: DestinationConfig,
    pub has_secret: bool,
}

/// Longest shelve: a week (longer is "out of service").
const MAX_SHELVE_MINUTES: u32 = 7 * 24 * 60;

/// A refused field; what serde or the keychain said is quoted as it came.
fn field(field: &str, message: Text) -> DeskError {
    DeskError::Field(SectionError::keyed(field, message, None))
}

/// The config's lists with one section replaced, checked together.
struct Lists {
    calcs: Vec<CalcConfig>,
    alarms: Vec<AlarmRule>,
    destinations: Vec<DestinationConfig>,
}

impl Lists {
    fn of(cfg: &AgentConfig) -> Lists {
        Lists { calcs: cfg.calcs.clone(), alarms: cfg.alarms.clone(), destinations: cfg.destinations.clone() }
    }

    fn check(&self, cfg: &AgentConfig) -> Result<(), SectionError> {
        let next = AgentConfig {
            calcs: self.calcs.clone(),
            alarms: self.alarms.clone(),
            destinations: self.destinations.clone(),
            ..cfg.clone()
        };
        next.check_sections()
    }
}

fn replace_by_id<T: Clone>(list: &mut Vec<T>, item: T, id_of: impl Fn(&T) -> &str) {
    let id = id_of(&item).to_string();
    match list.iter().position(|x| id_of(x) == id) {
        Some(k) => list[k] = item,
        None => list.push(item),
    }
}

fn secret_entry(d: &DestinationConfig) -> Option<String> {
    match d.kind {
        DestinationKind::Email => Some(smtp_entry(&d.id)),
        DestinationKind::Webhook => Some(webhook_entry(&d.id)),
        DestinationKind::Desktop => None,
    }
}

impl Desk {
    async fn alarm_cmd(&self, cmd: AlarmCommand) -> DeskResult<AlarmReply> {
        let agent = self.agent.read().await;
        let agent = agent.as_ref().ok_or(DeskError::Agent(crate::agent::AgentError::Stopped))?;
        Ok(agent.alarm(cmd).await?)
    }

    async fn alarm_done(&self, cmd: AlarmCommand) -> DeskResult<()> {
        self.alarm_cmd(cmd).await.map(|_| ())
    }

    /// Every alarm: unacknowledged first, then active, severity, newest.
    pub async fn alarms(&self) -> DeskResult<Vec<AlarmView>> {
        match self.alarm_cmd(AlarmCommand::Views).await? {
            AlarmReply::Views(v) => Ok(v),
            other => Err(DeskError::Invalid(Text::new("err-desk-unexpected-reply").arg("reply", format!("{other:?}")))),
        }
    }

    pub async fn alarm_ack(&self, alarm_id: &str, user: &str, comment: &str) -> DeskResult<()> {
        let user = check_user(user)?;
        let comment = Some(comment.trim().to_string()).filter(|c| !c.is_empty());
        self.alarm_done(AlarmCommand::Ack { alarm_id: alarm_id.to_string(), user, comment }).await
    }

    pub async fn alarm_shelve(&self, alarm_id: &str, minutes: u32, user: &str, comment: &str) -> DeskResult<()> {
        let user = check_user(user)?;
        if minutes == 0 || minutes > MAX_SHELVE_MINUTES {
            return Err(field(
                "minutes",
                Text::new("err-desk-shelve-minutes")
                    .arg("max", MAX_SHELVE_MINUTES.to_string())
                    .arg("minutes", minutes.to_string()),
            ));
        }
        let until = crate::model::now_ms() + i64::from(minutes) * 60_000;
        let comment = Some(comment.trim().to_string()).filter(|c| !c.is_empty());
        self.alarm_done(AlarmCommand::Shelve { alarm_id: alarm_id.to_string(), until, user, comment }).await
    }

    pub async fn alarm_unshelve(&self, alarm_id: &str, user: &str) -> DeskResult<()> {
        let user = check_user(user)?;
        self.alarm_done(AlarmCommand::Unshelve { alarm_id: alarm_id.to_string(), user }).await
    }

    pub async fn alarm_out_of_service(&self, alarm_id: &str, on: bool, user: &str, comment: &str) -> DeskResult<()> {
        let user = check_user(user)?;
        let comment = Some(comment.trim().to_string()).filter(|c| !c.is_empty());
        self.alarm_done(AlarmCommand::OutOfService { alarm_id: alarm_id.to_string(), on, user, comment }).await
    }

    pub fn rules(&self) -> Vec<AlarmRule> {
        self.config().alarms.clone()
    }

    /// `None` when `rule` (JSON from the form) could be saved as it is.
    pub fn rule_check(&self, rule: &serde_json::Value) -> Option<SectionError> {
        self.rule_lists(rule).err()
    }

    fn rule_lists(&self, rule: &serde_json::Value) -> Result<Lists, SectionError> {
        let to_section = SectionError::from;
        let rule = AlarmRule::from_json(rule).map_err(to_section)?;
        rule.validate().map_err(to_section)?;
        let cfg = self.config();
        let mut lists = Lists::of(&cfg);
        replace_by_id(&mut lists.alarms, rule, |r| &r.id);
        lists.check(&cfg)?;
        Ok(lists)
    }

    pub async fn rule_save(&self, rule: &serde_json::Value) -> DeskResult<()> {
        let _edit = self.edit.lock().await;
        let lists = self.rule_lists(rule).map_err(DeskError::Field)?;
        self.apply_lists(lists).await
    }

    pub async fn rule_delete(&self, id: &str) -> DeskResult<()> {
        let _edit = self.edit.lock().await;
        let cfg = self.config();
        let mut lists = Lists::of(&cfg);
        let before = lists.alarms.len();
        lists.alarms.retain(|r| r.id != id);
        if lists.alarms.len() == before {
            return Err(DeskError::Invalid(Text::new("err-desk-no-alarm-rule").arg("id", id)));
        }
        self.apply_lists(lists).await
    }

    pub async fn rule_set_enabled(&self, id: &str, enabled: bool) -> DeskResult<()> {
        let _edit = self.edit.lock().await;
        let cfg = self.config();
        let mut lists = Lists::of(&cfg);
        let rule = lists
            .alarms
            .iter_mut()
            .find(|r| r.id == id)
            .ok_or_else(|| DeskError::Invalid(Text::new("err-desk-no-alarm-rule").arg("id", id)))?;
        rule.enabled = enabled;
        self.apply_lists(lists).await
    }

    pub fn calcs(&self) -> Vec<CalcConfig> {
        self.config().calcs.clone()
    }

    pub fn calc_check(&self, calc: &serde_json::Value) -> Option<SectionError> {
        self.calc_lists(calc).err()
    }

    fn calc_lists(&self, calc: &serde_json::Value) -> Result<Lists, SectionError> {
        let calc: CalcConfig =
            serde_json::from_value(calc.clone()).map_err(|e| SectionError::new("calc", e.to_string()))?;
        calc.validate().map_err(SectionError::from)?;
        let cfg = self.config();
        let mut lists = Lists::of(&cfg);
        replace_by_id(&mut lists.calcs, calc, |c| &c.id);
        lists.check(&cfg)?;
        Ok(lists)
    }

    pub async fn calc_save(&self, calc: &serde_json::Value) -> DeskResult<()> {
        let _edit = self.edit.lock().await;
        let lists = self.calc_lists(calc).map_err(DeskError::Field)?;
        self.apply_lists(lists).await
    }

    pub async fn calc_delete(&self, id: &str) -> DeskResult<()> {
        let _edit = self.edit.lock().await;
        let cfg = self.config();
        let mut lists = Lists::of(&cfg);
        let before = lists.calcs.len();
        lists.calcs.retain(|c| c.id != id);
        if lists.calcs.len() == before {
            return Err(DeskError::Invalid(Text::new("err-desk-no-calc").arg("id", id)));
        }
        lists.check(&cfg).map_err(DeskError::Field)?;
        self.apply_lists(lists).await
    }

    pub fn destinations(&self) -> Vec<DestinationView> {
        let secrets = self.agent_opts.secrets.clone();
        self.config()
            .destinations
            .iter()
            .map(|d| DestinationView {
                has_secret: secret_entry(d).is_some_and(|e| matches!(secrets.get(&e), Ok(Some(_)))),
                config: d.clone(),
            })
            .collect()
    }

    /// Saves a destination; `secret` (SMTP password or webhook URL) goes to
    /// the OS keychain, never to the config file.
    pub async fn destination_save(&self, dest: &serde_json::Value, secret: Option<&str>) -> DeskResult<()> {
        let _edit = self.edit.lock().await;
        let d: DestinationConfig =
            serde_json::from_value(dest.clone()).map_err(|e| field("destination", Text::plain(e.to_string())))?;
        d.validate().map_err(|e| DeskError::Field(e.into()))?;
        let cfg = self.config();
        let mut lists = Lists::of(&cfg);
        replace_by_id(&mut lists.destinations, d.clone(), |x| &x.id);
        lists.check(&cfg).map_err(DeskError::Field)?;
        if let Some(secret) = secret.filter(|s| !s.is_empty()) {
            let entry = secret_entry(&d).ok_or_else(|| field("secret", Text::new("err-desk-no-secret")))?;
            self.agent_opts.secrets.set(&entry, secret).map_err(|e| field("secret", Text::plain(e.to_string())))?;
        }
        self.apply_lists(lists).await
    }

    pub async fn destination_delete(&self, id: &str) -> DeskResult<()> {
        let _edit = self.edit.lock().await;
        let cfg = self.config();
        let mut lists = Lists::of(&cfg);
        let Some(d) = lists.destinations.iter().find(|d| d.id == id).cloned() else {
            return Err(DeskError::Invalid(Text::new("err-desk-no-destination").arg("id", id)));
        };
        lists.destinations.retain(|d| d.id != id);
        lists.check(&cfg).map_err(DeskError::Field)?;
        self.apply_lists(lists).await?;
        if let Some(entry) = secret_entry(&d) {
            let _ = self.agent_opts.secrets.delete(&entry);
        }
        Ok(())
    }

    pub async fn destination_test(&self, id: &str) -> DeskResult<()> {
        let agent = self.agent.read().await;
        let agent = agent.as_ref().ok_or(DeskError::Agent(crate::agent::AgentError::Stopped))?;
        Ok(agent.test_destination(id).await?)
    }

    pub fn journal(
        &self,
        from: Option<TimeMs>,
        to: Option<TimeMs>,
        alarm_id: Option<String>,
        action: Option<&str>,
        limit: Option<usize>,
    ) -> DeskResult<Vec<JournalEntry>> {
        let action = match action.filter(|a| !a.is_empty()) {
            Some(a) => Some(
                Action::ALL
                    .into_iter()
                    .find(|x| x.as_str() == a)
                    .ok_or_else(|| field("action", Text::new("err-desk-journal-action").arg("action", a)))?,
            ),
            None => None,
        };
        let filter = JournalFilter { from, to, alarm_id, action, limit: Some(limit.unwrap_or(500).min(10_000)) };
        let reader = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        Ok(journal::query(reader.conn(), &filter).map_err(crate::store::StoreError::from)?)
    }

    pub fn notifications(&self, unread_only: bool, limit: Option<usize>) -> DeskResult<Vec<Note>> {
        let reader = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        let limit = Some(limit.unwrap_or(500).min(10_000));
        Ok(centre::list(reader.conn(), unread_only, limit).map_err(crate::store::StoreError::from)?)
    }

    pub fn unread_count(&self) -> DeskResult<u64> {
        let reader = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        Ok(centre::unread_count(reader.conn()).map_err(crate::store::StoreError::from)?)
    }

    pub async fn mark_read(&self, id: &str) -> DeskResult<()> {
        self.alarm_done(AlarmCommand::MarkRead { id: id.to_string() }).await
    }

    pub async fn mark_all_read(&self) -> DeskResult<()> {
        self.alarm_done(AlarmCommand::MarkAllRead).await
    }

    /// Checks, writes and applies new calc/alarm/destination lists (caller
    /// holds `edit`); instruments and `[agent]` stay as they are.
    async fn apply_lists(&self, lists: Lists) -> DeskResult<()> {
        let table = self.agent_toml.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let cur = self.config();
        let next = AgentConfig {
            calcs: lists.calcs,
            alarms: lists.alarms,
            destinations: lists.destinations,
            ..(*cur).clone()
        };
        let text = config_file::render(&table, &next)?;
        let cfg = config_file::check(&text, &self.config_path)?;
        self.check_limits(&cfg)?;
        write_atomic(&self.config_path, &text)?;
        *self.config.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(cfg.clone());
        self.restart_agent(cfg).await
    }
}

fn check_user(user: &str) -> DeskResult<String> {
    let user = user.trim();
    if user.is_empty() || user.len() > 100 {
        return Err(field("user", Text::new("err-desk-enter-user")));
    }
    Ok(user.to_string())
}
