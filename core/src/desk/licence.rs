//! The licence as the window sees it (the Licence screen, the banner) and
//! the plan limits on the window's forms: a change that would grow past a
//! limit is refused before the configuration file is written.

use serde::Serialize;

use super::Desk;
use super::error::{DeskError, DeskResult};
use crate::agent::STORE_PARTS;
use crate::config::{AgentConfig, STORE_FILE};
use crate::licence::limits::Limit;
use crate::licence::{InForce, LicenceView, Source, Trust};
use crate::model::{Text, now_ms};
use crate::store::{Store, StoreOptions};

use crate::licence::{PINNED_ACCOUNT, PINNED_KEY};
/// The banner shows this many days before the end of the term.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// One limit with what uses it (the Licence screen's bars).
#[derive(Clone, Debug, PartialEq, Serialize, ts_rs::TS)]
pub struct LimitUse {
    /// The field name in `Limits` (`instruments_per_agent`, ...).
    pub limit: String,
    /// The plan that sets it (`Free`, `Remote Basic`, ...).
    pub plan: String,
    pub used: u32,
    pub max: u32,
}

/// Why the window shows the licence banner.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum LicenceBanner {
    /// The paid term ends within [`EXPIRY_WARNING_DAYS`].
    Expiring,
    /// The paid term has ended: Free limits apply.
    Expired,
    /// The kept licence does not verify, or the last one received was refused.
    Unverified,
}

/// The Licence screen: the licence in force, each limit's use, the banner.
#[derive(Clone, Debug, PartialEq, Serialize, ts_rs::TS)]
pub struct LicenceScreen {
    pub licence: LicenceView,
    pub usage: Vec<LimitUse>,
    pub banner: Option<LicenceBanner>,
}

/// The banner for a licence view, if any.
pub fn banner_of(v: &LicenceView) -> Option<LicenceBanner> {
    let refused = v.last_check.as_ref().is_some_and(|c| !c.ok && !c.message.starts_with("cannot reach"));
    if v.problem.is_some() || refused {
        return Some(LicenceBanner::Unverified);
    }
    match (v.licensed_plan, v.days_left) {
        (Some(p), Some(d)) if p != crate::licence::Plan::Free && d < 0 => Some(LicenceBanner::Expired),
        (Some(_), Some(d)) if d < EXPIRY_WARNING_DAYS => Some(LicenceBanner::Expiring),
        _ => None,
    }
}

impl Desk {
    /// The pinned key and account: the configuration's `[cloud]`, else
    /// what the window pinned at its first fetch.
    fn licence_trust(&self) -> Option<Trust> {
        let cfg = self.config();
        let cloud = cfg.cloud.as_ref();
        let reader = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        crate::licence::trust_for(
            &reader,
            cloud.and_then(|c| c.licence_key.as_deref()),
            cloud.and_then(|c| c.account.as_deref()),
        )
    }

    /// Whether a key is pinned (else the window pins the service's at its first fetch).
    pub fn licence_key_pinned(&self) -> bool {
        self.licence_trust().is_some()
    }

    /// Pins the signed-in service's licence key and account (first fetch
    /// only: a pinned key is never replaced from the network).
    pub fn pin_licence_key(&self, key: &str, account: Option<&str>) -> DeskResult<()> {
        if self.licence_key_pinned() {
            return Ok(());
        }
        Trust::from_text(key, account).map_err(DeskError::Invalid)?;
        let mut store = Store::open_with(&self.data_dir.join(STORE_FILE), StoreOptions::default(), STORE_PARTS)?;
        store.set_setting(PINNED_KEY, key)?;
        if let Some(a) = account {
            store.set_setting(PINNED_ACCOUNT, a)?;
        }
        Ok(())
    }

    /// Takes a licence file fetched from the service: kept if it verifies,
    /// else refused with its reason (the last good one stays).
    pub fn licence_accept(&self, text: &str) -> DeskResult<LicenceScreen> {
        let trust = self.licence_trust().ok_or_else(|| DeskError::Invalid(Text::new("err-desk-no-licence-key")))?;
        {
            let mut store = Store::open_with(&self.data_dir.join(STORE_FILE), StoreOptions::default(), STORE_PARTS)?;
            crate::licence::accept(&mut store, text, &trust, now_ms(), Source::Fetched).map_err(|e| match e {
                crate::licence::AcceptError::Refused(r) => DeskError::Invalid(r.text()),
                crate::licence::AcceptError::Store(s) => DeskError::Store(s),
            })?;
        }
        self.licence_screen()
    }

    /// Records a failed fetch as the last check (offline, signed out).
    pub fn licence_fetch_failed(&self, message: &str) -> DeskResult<()> {
        let store = Store::open_with(&self.data_dir.join(STORE_FILE), StoreOptions::default(), STORE_PARTS)?;
        crate::licence::record_check(&store, now_ms(), Source::Fetched, false, message)?;
        Ok(())
    }

    /// The Licence screen: the licence in force, the use of each limit on
    /// this agent, and the banner.
    pub fn licence_screen(&self) -> DeskResult<LicenceScreen> {
        let licence = self.licence()?;
        let cfg = self.config();
        let limits = self.licence_in_force()?.agent_limits(cfg.cloud.as_ref().map(|c| c.agent.as_str()), now_ms());
        let mut counts = cfg.counts();
        counts.panels = self.panel_count()?;
        let usage = Limit::ALL
            .iter()
            .map(|l| {
                let (plan, max) = limits.max(*l);
                LimitUse { limit: l.field().to_string(), plan, used: l.used(&counts), max }
            })
            .collect();
        let banner = banner_of(&licence);
        Ok(LicenceScreen { licence, usage, banner })
    }

    pub(super) fn licence_in_force(&self) -> DeskResult<InForce> {
        let trust = self.licence_trust();
        let reader = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        Ok(crate::licence::in_force(&reader, trust.as_ref(), now_ms())?)
    }

    /// The licence in force, its limits and the last checks.
    pub fn licence(&self) -> DeskResult<LicenceView> {
        let in_force = self.licence_in_force()?;
        let checks = {
            let reader = self.reader.lock().unwrap_or_else(|e| e.into_inner());
            crate::licence::checks(&reader, 20)?
        };
        let cfg = self.config();
        Ok(in_force.view(cfg.cloud.as_ref().map(|c| c.agent.as_str()), now_ms(), checks))
    }

    /// Refuses `next` if it grows past a limit of the licence in force
    /// (what the configuration in effect holds stays allowed).
    pub(super) fn check_limits(&self, next: &AgentConfig) -> DeskResult<()> {
        if !self.agent_opts.enforce_limits {
            return Ok(());
        }
        let reader = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        check_limits_in(&reader, &self.config(), next)
    }
}

/// Refuses `next` if it grows past a limit of the licence in force in
/// `store` (what `cur` holds stays allowed).
pub(super) fn check_limits_in(store: &Store, cur: &AgentConfig, next: &AgentConfig) -> DeskResult<()> {
    let now = now_ms();
    let cloud = cur.cloud.as_ref();
    let trust = crate::licence::trust_for(
        store,
        cloud.and_then(|c| c.licence_key.as_deref()),
        cloud.and_then(|c| c.account.as_deref()),
    );
    let limits =
        crate::licence::in_force(store, trust.as_ref(), now)?.agent_limits(cloud.map(|c| c.agent.as_str()), now);
    limits.check(&next.counts(), Some(&cur.counts()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::licence::{LicenceDoc, Plan, Source};
    use meterdeck_wire::licence::{public_key_text, sign, signing_key};

    fn instrument(id: &str) -> meterdeck_drivers::InstrumentConfig {
        let text = format!(
            "[[instrument]]\nid = \"{id}\"\nfamily = \"scpi\"\nenabled = false\ntransport = {{ kind = \"tcp\", host = \"127.0.0.1\", port = 9 }}\n"
        );
        AgentConfig::parse(&text, "x").unwrap().instruments.remove(0)
    }

    fn rule(id: &str) -> serde_json::Value {
        serde_json::json!({"id": id, "kind": "connection", "severity": "low"})
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_window_refuses_one_more_than_the_plan_allows_until_a_licence_lifts_it() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("agent.toml");
        let key = signing_key(&[9; 32]);
        std::fs::write(
            &cfg,
            format!(
                "[cloud]\nhost = \"127.0.0.1\"\nport = 1\nagent = \"desk-1\"\naccount = \"acme\"\nlicence_key = \"{}\"\n",
                public_key_text(&key.verifying_key())
            ),
        )
        .unwrap();
        let opts = crate::agent::AgentOptions {
            secrets: std::sync::Arc::new(crate::notify::MemorySecrets::new()),
            ..Default::default()
        };
        let desk = Desk::open_with(dir.path(), &cfg, false, opts).await.unwrap();
        assert_eq!(desk.licence().unwrap().plan, Plan::Free);
        for id in ["a", "b", "c"] {
            desk.save_instrument(instrument(id), None).await.unwrap();
        }
        let before = std::fs::read_to_string(&cfg).unwrap();
        let e = desk.save_instrument(instrument("d"), None).await.unwrap_err();
        assert!(
            matches!(&e, super::super::DeskError::Limit(l) if l.limit == "instruments_per_agent" && l.count == 3),
            "{e}"
        );
        let text = e.to_string();
        assert!(text.contains("Free plan allows 3 instruments per agent") && text.contains("licence card"), "{text}");
        assert_eq!(std::fs::read_to_string(&cfg).unwrap(), before, "a refusal changes nothing");
        // Editing an instrument that exists is not creating one.
        let mut a = instrument("a");
        a.name = Some("renamed".into());
        desk.save_instrument(a, Some("a")).await.unwrap();
        for id in ["r1", "r2", "r3"] {
            desk.rule_save(&rule(id)).await.unwrap();
        }
        let e = desk.rule_save(&rule("r4")).await.unwrap_err().to_string();
        assert!(e.contains("Free plan allows 3 alarm rules"), "{e}");
        assert_eq!(desk.rules().len(), 3);
        // Calculation channels and channels per instrument, likewise.
        for id in ["k1", "k2", "k3"] {
            desk.calc_save(&serde_json::json!({"id": id, "expr": "A + 1", "inputs": {"A": "a/v"}})).await.unwrap();
        }
        let e = desk
            .calc_save(&serde_json::json!({"id": "k4", "expr": "A", "inputs": {"A": "a/v"}}))
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("Free plan allows 3 calculation channels"), "{e}");
        assert_eq!(desk.calcs().len(), 3);
        let mut wide = instrument("a");
        wide.channels = (0..31)
            .map(|i| {
                let t = format!("[[instrument]]\nid = \"x\"\nfamily = \"scpi\"\ntransport = {{ kind = \"tcp\", host = \"h\" }}\n[[instrument.channel]]\nid = \"c{i}\"\nquery = \"MEAS{i}?\"\n");
                AgentConfig::parse(&t, "x").unwrap().instruments.remove(0).channels.remove(0)
            })
            .collect();
        let e = desk.save_instrument(wide, Some("a")).await.unwrap_err().to_string();
        assert!(e.contains("30 channels per instrument") && e.contains("instrument `a` has 0"), "{e}");

        // A Standard licence (as fetched) lifts both.
        let now = crate::model::now_ms();
        let doc = LicenceDoc {
            serial: "L-7".into(),
            account: "acme".into(),
            plan: Plan::Standard,
            limits: Plan::Standard.limits(),
            expires: Some(now + 90 * 86_400_000),
            gateways: vec![],
            issued_at: now,
        };
        {
            let mut store = crate::store::Store::open_with(
                &dir.path().join(crate::config::STORE_FILE),
                crate::store::StoreOptions::default(),
                crate::agent::STORE_PARTS,
            )
            .unwrap();
            let trust = Trust::from_text(&public_key_text(&key.verifying_key()), Some("acme")).unwrap();
            crate::licence::accept(&mut store, &sign(&doc, &key), &trust, now, Source::File).unwrap();
        }
        desk.save_instrument(instrument("d"), None).await.unwrap();
        desk.rule_save(&rule("r4")).await.unwrap();
        let view = desk.licence().unwrap();
        assert_eq!((view.plan, view.serial.as_deref(), view.days_left), (Plan::Standard, Some("L-7"), Some(89)));
        assert!(view.last_check.unwrap().ok);
        desk.shutdown().await.unwrap();
    }
}

#[cfg(test)]
mod banner_tests {
    use super::*;
    use crate::licence::{Check, Limits, Plan};

    fn view(
        licensed: Option<Plan>,
        days_left: Option<i64>,
        problem: Option<&str>,
        last: Option<(bool, &str)>,
    ) -> LicenceView {
        let limits: Limits = Plan::Standard.limits();
        LicenceView {
            plan: licensed.unwrap_or(Plan::Free),
            licensed_plan: licensed,
            serial: licensed.map(|_| "L-1".into()),
            account: None,
            issued_at: None,
            expires: days_left.map(|d| d * 86_400_000),
            days_left,
            limits,
            gateway: None,
            problem: problem.map(str::to_string),
            last_check: last.map(|(ok, m)| Check { t: 0, source: "cloud".into(), ok, message: m.into() }),
            checks: vec![],
        }
    }

    #[test]
    fn the_banner_warns_of_expiry_lapse_and_a_licence_that_does_not_verify() {
        assert_eq!(banner_of(&view(None, None, None, None)), None, "Free without a licence: no banner");
        assert_eq!(banner_of(&view(Some(Plan::Pro), Some(90), None, Some((true, "ok")))), None);
        assert_eq!(banner_of(&view(Some(Plan::Pro), Some(29), None, None)), Some(LicenceBanner::Expiring));
        assert_eq!(banner_of(&view(Some(Plan::Pro), Some(-1), None, None)), Some(LicenceBanner::Expired));
        assert_eq!(banner_of(&view(Some(Plan::Pro), Some(90), Some("altered"), None)), Some(LicenceBanner::Unverified));
        let refused = view(Some(Plan::Pro), Some(90), None, Some((false, "licence from the cloud refused: altered")));
        assert_eq!(banner_of(&refused), Some(LicenceBanner::Unverified));
        // Being offline is not a verification failure.
        let offline = view(Some(Plan::Pro), Some(90), None, Some((false, "cannot reach the cloud service at x")));
        assert_eq!(banner_of(&offline), None);
    }
}
