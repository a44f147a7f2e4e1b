//! What the service does by itself as time passes (SPEC 7.3-7.4, 2.5):
//! expiry reminders at 09:00 in the account's time zone, each sent once
//! (recorded in storage before it is mailed, so a restart or a second
//! process does not send it again; a mail that fails is forgotten and
//! retried at the next sweep); Free's one-year retention; the notice when
//! data is over the plan's capacity and its deletion 31 days later unless
//! reduced (oldest first, journaled, mailed to the admins); and a gateway
//! lapsed more than 31 days losing its registration (its data stays).
//! `serve` runs it every few minutes; tests call it with their own `now`.

use std::time::Duration;

use chrono::{Datelike, NaiveDate, TimeZone, Weekday};
use chrono_tz::Tz;
use meterdeck_wire::licence::Plan;
use tracing::{info, warn};

use super::{BY_SERVICE, terms};
use crate::mail::{Recipient, tr};
use crate::state::{BrokerAdmin, MailConfig};
use crate::store::alarms::STORAGE_OVER;
use crate::store::{LicenceEvent, Prune, Pruned, Storage, TimeMs};

/// Data over capacity is deleted this long after the notice.
pub const OVER_CAPACITY_GRACE_MS: i64 = 31 * terms::DAY_MS;
/// Free keeps a year of data.
pub const FREE_RETENTION_MS: i64 = 365 * terms::DAY_MS;
/// A reminder missed for longer than this (the service was down) is skipped.
const REMINDER_LATE_MS: i64 = 3 * terms::DAY_MS;
/// Local hour reminders go out at.
const REMINDER_HOUR: u32 = 9;

/// What one sweep did (for logs and tests).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Swept {
    /// (account, reminder key) mailed.
    pub reminders: Vec<(String, String)>,
    pub notices: Vec<String>,
    pub pruned: Vec<(String, Pruned)>,
    pub gateways_removed: Vec<String>,
}

/// The account's reminder time zone (UTC when unset or unknown).
pub fn zone(name: Option<&str>) -> Tz {
    name.and_then(|n| n.parse().ok()).unwrap_or(Tz::UTC)
}

fn local_date(t: TimeMs, tz: Tz) -> NaiveDate {
    tz.timestamp_millis_opt(t).single().map(|d| d.date_naive()).unwrap_or_default()
}

fn at_nine(d: NaiveDate, tz: Tz) -> TimeMs {
    let naive = d.and_hms_opt(REMINDER_HOUR, 0, 0).unwrap_or_default();
    tz.from_local_datetime(&naive).earliest().map_or(0, |x| x.timestamp_millis())
}

fn first_monday(year: i32, month: u32) -> Option<NaiveDate> {
    NaiveDate::from_weekday_of_month_opt(year, month, Weekday::Mon, 1)
}

/// The reminder days of a term ending at `end` (SPEC 7.4), in `tz`:
/// the first Monday of each month from 3 months to 1 month before, each
/// Monday from 1 month to 7 days before, then 7 days before, the day it
/// ends and the day after. Each with its key and when it goes (09:00 local).
pub fn schedule(end: TimeMs, tz: Tz) -> Vec<(String, TimeMs)> {
    let d = local_date(end, tz);
    let months_before = |m: u32| d.checked_sub_months(chrono::Months::new(m)).unwrap_or(d);
    let (m3, m1, w1) = (months_before(3), months_before(1), d - chrono::Days::new(7));
    let mut days: Vec<(NaiveDate, &str)> = Vec::new();
    let mut month = NaiveDate::from_ymd_opt(m3.year(), m3.month(), 1).unwrap_or(m3);
    while month <= m1 {
        if let Some(mon) = first_monday(month.year(), month.month())
            && mon >= m3
            && mon <= m1
        {
            days.push((mon, "monthly"));
        }
        month = month.checked_add_months(chrono::Months::new(1)).unwrap_or(d);
    }
    let mut day = m1 + chrono::Days::new(1);
    while day < w1 {
        if day.weekday() == Weekday::Mon {
            days.push((day, "weekly"));
        }
        day = day + chrono::Days::new(1);
    }
    days.push((w1, "7-days"));
    days.push((d, "on-the-day"));
    days.push((d + chrono::Days::new(1), "day-after"));
    days.dedup_by_key(|(x, _)| *x);
    days.into_iter().map(|(x, what)| (format!("expiry-{end}/{x}/{what}"), at_nine(x, tz))).collect()
}

/// A mail's subject and body for one recipient (their language and zone).
type Words<'a> = &'a (dyn Fn(&Recipient) -> (String, String) + Sync);

/// Mails the account's admins, each in their language and zone; an error
/// when any failed.
async fn mail_admins(
    store: &dyn Storage,
    mail: Option<&MailConfig>,
    account: &str,
    words: Words<'_>,
) -> anyhow::Result<()> {
    let Some(mail) = mail else {
        let (subject, _) = words(&english());
        info!(account, subject, "no mail server configured (--smtp): logged only");
        return Ok(());
    };
    let mut failed = None;
    for admin in crate::mail::admins(store, account).await? {
        let (subject, body) = words(&admin);
        let body = format!("{body}\n\n{}\n", mail.public_url);
        if let Err(e) = crate::mail::send(mail, &admin.email, &subject, &body).await {
            warn!(account, user = %admin.user, "licence mail not sent: {e:#}");
            failed = Some(e);
        }
    }
    failed.map_or(Ok(()), Err)
}

/// How the history and the logs word things: English, UTC.
fn english() -> Recipient {
    Recipient { user: String::new(), email: String::new(), lang: "en", zone: chrono_tz::Tz::UTC }
}

async fn event(store: &dyn Storage, account: &str, now: TimeMs, what: &str, detail: String) {
    let ev = LicenceEvent { account: account.into(), at: now, what: what.into(), by: BY_SERVICE.into(), detail };
    if let Err(e) = store.licence_event(&ev).await {
        warn!(account, "licence history not written: {e}");
    }
}

fn human(b: u64) -> String {
    format!("{:.2} GB", b as f64 / 1e9)
}

fn pruned_text(p: &Pruned) -> String {
    pruned_words(p, &english())
}

/// What a prune deleted, as `r` reads it.
fn pruned_words(p: &Pruned, r: &Recipient) -> String {
    let at = |t: Option<TimeMs>| t.map_or("-".into(), |t| when(t, r));
    tr(
        r.lang,
        "mail-pruned",
        &[
            ("size", &human(p.bytes)),
            ("samples", &p.samples.to_string()),
            ("parts", &p.parts.to_string()),
            ("from", &at(p.t_from)),
            ("to", &at(p.t_to)),
            ("channels", &p.channels.join(", ")),
        ],
    )
}

/// A time as `r` reads it; the history (English) keeps the UTC form.
fn when(t: TimeMs, r: &Recipient) -> String {
    if r.email.is_empty() { terms::utc(t) } else { crate::mail::time_in(t, r.zone) }
}

/// A licence term that ends: what its reminders say.
enum Reminder {
    Account { plan: Plan },
    Gateway { plan: &'static str, agent: String },
}

impl Reminder {
    /// Subject and body for `r`: before the end with the days left, after it
    /// what has changed.
    fn words(&self, account: &str, end: TimeMs, now: TimeMs, r: &Recipient) -> (String, String) {
        let end_s = when(end, r);
        let resume = when(end + terms::GATEWAY_GRACE_DAYS * terms::DAY_MS, r);
        let (prefix, plan, agent) = match self {
            Reminder::Account { plan } => ("mail-licence", plan.name(), ""),
            Reminder::Gateway { plan, agent } => ("mail-gateway", *plan, agent.as_str()),
        };
        let args = [("plan", plan), ("account", account), ("agent", agent), ("end", &end_s), ("resume", &resume)];
        let key = |what: &str| format!("{prefix}-{what}");
        if now < end {
            let left = tr(r.lang, "mail-days-left", &[("n", &terms::days_left(end, now).to_string())]);
            (tr(r.lang, &key("ends-subject"), &args), format!("{}\n\n{left}", tr(r.lang, &key("ends"), &args)))
        } else {
            (tr(r.lang, &key("ended-subject"), &args), tr(r.lang, &key("ended"), &args))
        }
    }
}

/// One pass over every account at `now`.
pub async fn sweep(
    store: &dyn Storage,
    broker: &dyn BrokerAdmin,
    mail: Option<&MailConfig>,
    now: TimeMs,
) -> crate::store::Result<Swept> {
    sweep_with(store, broker, mail, now, &|p: Plan| p.limits().storage_bytes, None).await
}

/// [`sweep`] with the storage capacity per plan given (tests use bytes
/// where the plans have gigabytes).
pub async fn sweep_with(
    store: &dyn Storage,
    broker: &dyn BrokerAdmin,
    mail: Option<&MailConfig>,
    now: TimeMs,
    capacity: &(dyn Fn(Plan) -> u64 + Sync),
    seal: Option<&crate::alarms::SealKey>,
) -> crate::store::Result<Swept> {
    let mut out = Swept::default();
    // The storage alarm goes to the account's destinations (opened with
    // `seal`; without it, to the admins by mail).
    let notifier = crate::alarms::Notifier::new(mail.cloned(), seal.cloned(), None);
    for account in store.account_ids().await? {
        if let Err(e) = sweep_account(store, broker, mail, &notifier, &account, now, capacity, &mut out).await {
            warn!(account, "licence sweep: {e:#}");
        }
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
async fn sweep_account(
    store: &dyn Storage,
    broker: &dyn BrokerAdmin,
    mail: Option<&MailConfig>,
    notifier: &crate::alarms::Notifier,
    account: &str,
    now: TimeMs,
    capacity: &(dyn Fn(Plan) -> u64 + Sync),
    out: &mut Swept,
) -> anyhow::Result<()> {
    let (st, _) = super::state(store, account).await?;
    let (plan, _) = terms::effective(&st, now);

    // Expiry reminders of the paid term and of each gateway's Remote term.
    let tz = zone(st.time_zone.as_deref());
    // (key prefix, end, the words before and after the end for a recipient)
    let mut terms_to_remind: Vec<(String, TimeMs, Reminder)> = Vec::new();
    if let (Some(end), paid) = (st.expires, st.plan)
        && paid != Plan::Free
    {
        terms_to_remind.push((String::new(), end, Reminder::Account { plan: paid }));
    }
    for g in st.gateways.iter().filter(|g| g.removed.is_none()) {
        terms_to_remind.push((
            format!("gateway-{}/", g.agent),
            g.expires,
            Reminder::Gateway { plan: g.plan.name(), agent: g.agent.clone() },
        ));
    }
    for (prefix, end, what) in terms_to_remind {
        for (key, at) in schedule(end, tz) {
            let key = format!("{prefix}{key}");
            if at > now || now >= at + REMINDER_LATE_MS || !store.record_reminder(account, &key, now).await? {
                continue;
            }
            let words = |r: &Recipient| what.words(account, end, now, r);
            match mail_admins(store, mail, account, &words).await {
                Ok(()) => {
                    event(store, account, now, "reminder", words(&english()).0).await;
                    out.reminders.push((account.to_string(), key));
                }
                Err(e) => {
                    warn!(account, key, "reminder not mailed, retried at the next sweep: {e:#}");
                    store.forget_reminder(account, &key).await?;
                }
            }
        }
    }

    // Free keeps one year.
    if let Some(days) = plan.limits().retention_days {
        let p = store.prune(account, Prune::OlderThan(now - i64::from(days) * terms::DAY_MS)).await?;
        if p.parts > 0 {
            let text = format!("older than {days} days (the {} plan's retention): {}", plan.name(), pruned_text(&p));
            event(store, account, now, "data-deleted", text.clone()).await;
            let words = |r: &Recipient| {
                let what = pruned_words(&p, r);
                let args = [("account", account), ("days", &days.to_string()), ("plan", plan.name()), ("what", &what)];
                (tr(r.lang, "mail-old-deleted-subject", &args), tr(r.lang, "mail-old-deleted", &args))
            };
            let _ = mail_admins(store, mail, account, &words).await;
            out.pruned.push((account.to_string(), p));
        }
    }

    // Over capacity: a notice, then deletion 31 days later unless reduced.
    let used: u64 = store.storage_used(account).await?.iter().map(|c| c.bytes).sum();
    let cap = capacity(plan);
    match st.over_capacity_since {
        None if used > cap => 'notice: {
            let deadline = now + OVER_CAPACITY_GRACE_MS;
            let detail = format!(
                "{} stored, the {} plan holds {}: the oldest data over it is deleted from {} unless reduced \
                 (export and delete data, or apply a licence card)",
                human(used),
                plan.name(),
                human(cap),
                terms::utc(deadline)
            );
            if !set_over_capacity(store, account, None, Some(now), now, "over-capacity-notice", &detail).await? {
                break 'notice;
            }
            // A cloud alarm (issue 16): sent now to the account's destinations,
            // in each reader's words; the monitor (`crate::watch`) reminds until
            // someone acknowledges it or the data is reduced.
            let body = serde_json::json!({"used": used, "cap": cap, "plan": plan.name(), "deadline": deadline});
            let a = crate::alarms::episode(account, None, STORAGE_OVER, now.to_string(), now, body);
            crate::alarms::raise(store, notifier, &a, now).await?;
            out.notices.push(account.to_string());
        }
        Some(since) if used > cap && now >= since + OVER_CAPACITY_GRACE_MS => 'delete: {
            // Measured again inside the prune: a sweep of another process
            // that got here first leaves nothing to delete.
            let p = store.prune(account, Prune::DownTo(cap)).await?;
            if p.parts == 0 {
                break 'delete;
            }
            let detail = format!(
                "over the {} plan's {} since {}: deleted {}",
                plan.name(),
                human(cap),
                terms::utc(since),
                pruned_text(&p)
            );
            if !set_over_capacity(store, account, Some(since), None, now, "data-deleted", &detail).await? {
                event(store, account, now, "data-deleted", detail.clone()).await;
            }
            let words = |r: &Recipient| {
                let (cap, since, what) = (human(cap), when(since, r), pruned_words(&p, r));
                let args =
                    [("account", account), ("plan", plan.name()), ("cap", &cap), ("since", &since), ("what", &what)];
                (tr(r.lang, "mail-over-deleted-subject", &args), tr(r.lang, "mail-over-deleted", &args))
            };
            let _ = mail_admins(store, mail, account, &words).await;
            out.pruned.push((account.to_string(), p));
        }
        Some(since) if used <= cap => {
            let detail = format!(
                "{} stored, within the {} plan's {}: nothing will be deleted",
                human(used),
                plan.name(),
                human(cap)
            );
            set_over_capacity(store, account, Some(since), None, now, "over-capacity-resolved", &detail).await?;
            store.alarms().clear(account, None, STORAGE_OVER, None, now).await?;
        }
        _ => {}
    }

    // Gateways lapsed more than 31 days: the registration goes, the data stays.
    let gone: Vec<String> = st
        .gateways
        .iter()
        .filter(|g| g.removed.is_none() && now >= g.expires + terms::GATEWAY_GRACE_DAYS * terms::DAY_MS)
        .map(|g| g.agent.clone())
        .collect();
    for agent in gone {
        match store.set_agent_secret(account, &agent, "!removed", "!removed").await {
            Ok(()) | Err(crate::store::StoreError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
        if let Err(e) = broker.agents_changed().await {
            warn!(account, agent, "broker not told of the removed gateway: {e:#}");
        }
        let a = agent.clone();
        let res = super::update(store, account, None, "gateway-removed", BY_SERVICE, now, move |s| {
            let g = s.gateways.iter_mut().find(|g| g.agent == a).ok_or_else(|| terms::TermError::NoGateway(a.clone()))?;
            if g.removed.is_some() {
                return Err(terms::TermError::AlreadyDone);
            }
            g.removed = Some(now);
            Ok(format!(
                "agent {a}: the {} term ended on {}, more than {} days ago: its registration was removed (its data stays)",
                g.plan.name(),
                terms::utc(g.expires),
                terms::GATEWAY_GRACE_DAYS
            ))
        })
        .await;
        match res {
            Ok(_) => out.gateways_removed.push(agent),
            Err(super::LicenceOpError::Term(terms::TermError::AlreadyDone)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Moves `over_capacity_since` from `was` to `to`; false when another
/// process's sweep moved it first (then it did the rest too).
async fn set_over_capacity(
    store: &dyn Storage,
    account: &str,
    was: Option<TimeMs>,
    to: Option<TimeMs>,
    now: TimeMs,
    what: &str,
    detail: &str,
) -> anyhow::Result<bool> {
    let detail = detail.to_string();
    let res = super::update(store, account, None, what, BY_SERVICE, now, move |s| {
        if s.over_capacity_since != was {
            return Err(terms::TermError::AlreadyDone);
        }
        s.over_capacity_since = to;
        Ok(detail.clone())
    })
    .await;
    match res {
        Ok(_) => Ok(true),
        Err(super::LicenceOpError::Term(terms::TermError::AlreadyDone)) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// `serve`'s loop: a sweep every `every` with the system clock.
pub async fn schedule_sweeps(
    store: std::sync::Arc<dyn Storage>,
    broker: std::sync::Arc<dyn BrokerAdmin>,
    mail: Option<MailConfig>,
    every: Duration,
    seal: Option<crate::alarms::SealKey>,
) {
    let capacity = |p: Plan| p.limits().storage_bytes;
    loop {
        match sweep_with(&*store, &*broker, mail.as_ref(), meterdeck_wire::now_ms(), &capacity, seal.as_ref()).await {
            Ok(s) if s != Swept::default() => info!(?s, "licence sweep"),
            Ok(_) => {}
            Err(e) => warn!("licence sweep failed: {e}"),
        }
        tokio::time::sleep(every).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(t: TimeMs) -> String {
        chrono::DateTime::from_timestamp_millis(t).unwrap().format("%Y-%m-%d %H:%M").to_string()
    }

    #[test]
    fn the_schedule_of_spec_7_4() {
        // A term ending 2027-06-15 00:00 UTC (a Tuesday).
        let end = chrono::Utc.with_ymd_and_hms(2027, 6, 15, 0, 0, 0).unwrap().timestamp_millis();
        let s: Vec<String> = schedule(end, Tz::UTC).iter().map(|(_, t)| date(*t)).collect();
        assert_eq!(
            s,
            [
                "2027-04-05 09:00", // first Mondays, 3 to 1 months before (from 03-15 to 05-15)
                "2027-05-03 09:00",
                "2027-05-17 09:00", // Mondays from 1 month to 7 days before
                "2027-05-24 09:00",
                "2027-05-31 09:00",
                "2027-06-07 09:00",
                "2027-06-08 09:00", // 7 days before
                "2027-06-15 09:00", // on the day
                "2027-06-16 09:00", // the day after
            ]
        );
        // In Tokyo, 09:00 local is 00:00 UTC.
        let tokyo: Vec<String> = schedule(end, zone(Some("Asia/Tokyo"))).iter().map(|(_, t)| date(*t)).collect();
        assert_eq!(tokyo.last().unwrap(), "2027-06-16 00:00");
        assert_eq!(zone(Some("Nowhere/Else")), Tz::UTC);
    }
}
