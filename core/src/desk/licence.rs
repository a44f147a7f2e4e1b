//! The licence as the window sees it (the Licence screen, the banner) and
//! the plan limits on the window's forms: a change that would grow past a
//! limit is refused before the configuration file is written.

use super::Desk;
use super::error::DeskResult;
use crate::config::AgentConfig;
use crate::licence::{InForce, LicenceView, Trust};
use crate::model::now_ms;

impl Desk {
    /// The pinned key and account of the configuration's `[cloud]`.
    fn licence_trust(&self) -> Option<Trust> {
        let cfg = self.config();
        let c = cfg.cloud.as_ref()?;
        Trust::from_text(c.licence_key.as_deref()?, c.account.as_deref()).ok()
    }

    fn licence_in_force(&self) -> DeskResult<InForce> {
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
        let now = now_ms();
        let cur = self.config();
        let limits = self.licence_in_force()?.agent_limits(cur.cloud.as_ref().map(|c| c.agent.as_str()), now);
        limits.check(&next.counts(), Some(&cur.counts()))?;
        Ok(())
    }
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
