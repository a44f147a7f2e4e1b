//! `meterdeck-cloud licence ...`: the authority's admin commands. They
//! work on the database directly (the service may run meanwhile: writes
//! are compare-and-swap), and print what a person needs, one fact a line.

use std::path::PathBuf;

use anyhow::Context as _;
use ed25519_dalek::SigningKey;

use super::{BY_AUTHORITY, terms};
use crate::store::{CardProduct, LicenceState, Storage, TimeMs};

pub enum Command {
    Key,
    IssueCard { account: String, plan: Option<String>, remote: Option<String>, agent: Option<String>, months: u32 },
    Apply { account: String, card: String },
    Plan { account: String, plan: String, agent: Option<String> },
    Show { account: String },
    TimeZone { account: String, tz: String },
    History { account: String },
    Document { account: String, out: Option<PathBuf> },
    Sweep { at: Option<String>, mail: Option<crate::state::MailConfig> },
}

pub async fn run(store: &dyn Storage, key: &SigningKey, cmd: Command, now: TimeMs) -> anyhow::Result<()> {
    match cmd {
        Command::Key => {
            let (text, id) = super::public_key(key);
            println!("{text}");
            println!("key id: {id}");
        }
        Command::IssueCard { account, plan, remote, agent, months } => {
            let product = match (plan, remote, agent) {
                (Some(p), None, _) => CardProduct::Plan {
                    plan: super::parse_plan(&p).with_context(|| format!("--plan {p:?}: expected standard or pro"))?,
                },
                (None, Some(r), Some(agent)) => CardProduct::Remote {
                    plan: super::parse_remote_plan(&r)
                        .with_context(|| format!("--remote {r:?}: expected basic or pro"))?,
                    agent,
                },
                _ => anyhow::bail!("give --plan standard|pro, or --remote basic|pro with --agent ID"),
            };
            let code = super::issue_card(store, &account, product, months, now).await?;
            println!("card for account {account} (shown once; it works once):");
            println!("{code}");
        }
        Command::Apply { account, card } => {
            let st = super::apply_card(store, &account, &card, BY_AUTHORITY, now).await?;
            print_state(&st, now);
        }
        Command::Plan { account, plan, agent } => {
            let st = match agent {
                None => {
                    let to = super::parse_plan(&plan)
                        .with_context(|| format!("--plan {plan:?}: expected standard or pro"))?;
                    super::change_plan(store, &account, to, BY_AUTHORITY, now).await?
                }
                Some(agent) => {
                    let to = super::parse_remote_plan(&plan)
                        .with_context(|| format!("--plan {plan:?}: expected basic or pro for a gateway"))?;
                    super::change_gateway_plan(store, &account, &agent, to, BY_AUTHORITY, now).await?
                }
            };
            print_state(&st, now);
        }
        Command::TimeZone { account, tz } => {
            let st = super::set_time_zone(store, &account, &tz, BY_AUTHORITY, now).await?;
            print_state(&st, now);
        }
        Command::Show { account } => {
            let (st, _) = super::state(store, &account).await?;
            print_state(&st, now);
        }
        Command::History { account } => {
            super::state(store, &account).await?;
            for e in store.licence_history(&account, 10_000).await? {
                println!("{}\t{}\t{}\t{}", terms::utc(e.at), e.what, e.by, e.detail);
            }
        }
        Command::Sweep { at, mail } => {
            let now = match at {
                Some(t) => chrono::DateTime::parse_from_rfc3339(t.trim())
                    .with_context(|| format!("--at {t:?}: expected an RFC 3339 time like 2027-02-01T00:00:00Z"))?
                    .timestamp_millis(),
                None => now,
            };
            // Broker logins change in storage; a running serve picks them up within seconds.
            let s = super::sweep::sweep(store, &crate::broker::NoBroker, mail.as_ref(), now).await?;
            for (account, key) in &s.reminders {
                println!("reminder\t{account}\t{key}");
            }
            for account in &s.notices {
                println!("over-capacity-notice\t{account}");
            }
            for (account, p) in &s.pruned {
                println!("data-deleted\t{account}\t{} bytes\t{} samples", p.bytes, p.samples);
            }
            for agent in &s.gateways_removed {
                println!("gateway-removed\t{agent}");
            }
        }
        Command::Document { account, out } => {
            let text = super::signed_document(store, key, &account, now).await?;
            match out {
                Some(p) => std::fs::write(&p, &text).with_context(|| format!("writing {}", p.display()))?,
                None => println!("{text}"),
            }
        }
    }
    Ok(())
}

fn print_state(st: &LicenceState, now: TimeMs) {
    let (plan, expires) = terms::effective(st, now);
    println!("account: {}", st.account);
    println!("plan: {}", plan.name());
    match expires {
        Some(e) => println!("expires: {} ({} days left)", terms::utc(e), terms::days_left(e, now)),
        None if plan == meterdeck_wire::licence::Plan::Free => println!("expires: never (Free)"),
        None => println!("expires: never (granted without a term)"),
    }
    println!("reminders: 09:00 {}", st.time_zone.as_deref().unwrap_or("UTC"));
    if let Some(t) = st.plan_changed {
        println!("plan changed: {} (next change from {})", terms::utc(t), terms::utc(terms::add_months(t, 1)));
    }
    for g in &st.gateways {
        let state = if now < g.expires { "active" } else { "lapsed" };
        println!("gateway {}: {} until {} ({state})", g.agent, g.plan.name(), terms::utc(g.expires));
    }
}
