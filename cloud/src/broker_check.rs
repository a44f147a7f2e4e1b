//! The start-up self-test of an external broker (`serve --broker`): with
//! two throwaway agent logins, registered for the test in a probe account
//! and deleted after it, it tries what a hostile agent would:
//!
//! 1. connect with another login's client id, taking over its session
//!    (any agent could keep any other offline);
//! 2. join a shared subscription of the batch topics, under the group name
//!    an agent can know (the documented default), and see whether it takes
//!    batches away from a subscription of the cloud's own group.
//!
//! `serve` refuses to start when the broker allows either, naming what it
//! allowed and the setting that stops it (docs/broker.md). A broker that
//! grants the `$share` subscription but does not let it take batches
//! (Mosquitto with its ACL file: it never refuses a SUBSCRIBE, the cloud's
//! group name is secret) passes, with a note in the log.

use std::sync::Arc;
use std::time::Duration;

use rumqttc::{AsyncClient, ConnectReturnCode, Event, MqttOptions, Packet, QoS, SubscribeReasonCode};
use tokio::sync::mpsc;
use tracing::info;

use crate::admin::{mosquitto_hash, new_agent_id, new_agent_secret};
use crate::state::BrokerAdmin;
use crate::store::{Account, Agent, AgentSync, Role, Storage, TwoFactor, User};

/// Where the test connects.
#[derive(Clone, Debug)]
pub struct CheckTarget {
    /// The agents' listener (`--agent-broker`).
    pub agents_host: String,
    pub agents_port: u16,
    /// TLS to the agents' listener (`--agent-broker-tls`).
    pub agents_tls: Option<Arc<rustls::ClientConfig>>,
    /// The cloud's own listener and login (`--broker`).
    pub cloud_host: String,
    pub cloud_port: u16,
    pub cloud_user: String,
    pub cloud_password: String,
    /// How long a newly registered login may take to reach the broker.
    pub login_wait: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(
        "broker self-test: the agents' broker at {at} did not accept a newly registered agent login within {waited:?}; \
         it must read the logins meterdeck-cloud writes (--broker-files with --broker-pid-file, or its database; \
         see docs/broker.md)"
    )]
    LoginNotAccepted { at: String, waited: Duration },
    #[error(
        "broker self-test: the broker at {at} let agent login {intruder} take over the session of client id \
         {victim} (another agent's) by connecting with it, so any agent could keep any other offline. Bind each \
         session to its login: Mosquitto `use_username_as_clientid true` on the agents' listener, EMQX \
         `mqtt.use_username_as_clientid = true` (docs/broker.md)"
    )]
    Takeover { at: String, intruder: String, victim: String },
    #[error(
        "broker self-test: the broker at {at} let agent login {intruder} subscribe to {filter} and take {taken} of \
         {sent} batches away from the cloud's shared subscription, so any agent could stall every other's sync. \
         Deny `$share/#` to agent logins (docs/broker.md)"
    )]
    ShareHijack { at: String, intruder: String, filter: String, taken: usize, sent: usize },
    #[error("broker self-test: {0}")]
    Setup(String),
}

/// What a probe session saw.
#[derive(Debug)]
enum Seen {
    ConnAck(ConnectReturnCode),
    SubAck(Vec<SubscribeReasonCode>),
    Message,
    Closed,
}

/// One MQTT session whose events arrive on `rx`; it does not reconnect, so
/// a closed session is seen as `Closed`.
struct Probe {
    client: AsyncClient,
    rx: mpsc::UnboundedReceiver<Seen>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Probe {
    fn drop(&mut self) {
        let _ = self.client.try_disconnect();
        self.task.abort();
    }
}

impl Probe {
    fn start(
        host: &str,
        port: u16,
        tls: Option<&Arc<rustls::ClientConfig>>,
        client_id: &str,
        user: &str,
        pass: &str,
    ) -> Probe {
        let mut o = MqttOptions::new(client_id, host, port);
        o.set_credentials(user, pass).set_keep_alive(Duration::from_secs(5)).set_clean_session(true);
        if let Some(config) = tls {
            o.set_transport(rumqttc::Transport::tls_with_config(rumqttc::TlsConfiguration::Rustls(config.clone())));
        }
        let (client, mut events) = AsyncClient::new(o, 32);
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            loop {
                let seen = match events.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(a))) => Seen::ConnAck(a.code),
                    Ok(Event::Incoming(Packet::SubAck(a))) => Seen::SubAck(a.return_codes),
                    Ok(Event::Incoming(Packet::Publish(_))) => Seen::Message,
                    Ok(_) => continue,
                    Err(rumqttc::ConnectionError::ConnectionRefused(code)) => Seen::ConnAck(code),
                    Err(_) => Seen::Closed,
                };
                let end = matches!(seen, Seen::Closed);
                if tx.send(seen).is_err() || end {
                    return;
                }
            }
        });
        Probe { client, rx, task }
    }

    /// The CONNACK: `Some(true)` accepted, `Some(false)` refused, `None`
    /// nothing or a closed connection within `wait`.
    async fn connack(&mut self, wait: Duration) -> Option<bool> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(Seen::ConnAck(code))) => return Some(code == ConnectReturnCode::Success),
                Ok(Some(Seen::Closed)) | Ok(None) | Err(_) => return None,
                Ok(Some(_)) => {}
            }
        }
    }

    /// Subscribes; `Some(granted)` from the SUBACK, `None` when the broker
    /// closed the session instead (a refusal too) or said nothing.
    async fn subscribe(&mut self, filter: &str, wait: Duration) -> Option<bool> {
        self.client.subscribe(filter, QoS::AtLeastOnce).await.ok()?;
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(Seen::SubAck(codes))) => {
                    return Some(codes.iter().all(|c| matches!(c, SubscribeReasonCode::Success(_))));
                }
                Ok(Some(Seen::Closed)) | Ok(None) | Err(_) => return None,
                Ok(Some(_)) => {}
            }
        }
    }

    /// Whether the session was closed within `wait`.
    async fn closed_within(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(Seen::Closed)) | Ok(None) => return true,
                Ok(Some(_)) => {}
                Err(_) => return false,
            }
        }
    }

    /// Messages that arrive within `wait`.
    async fn messages_within(&mut self, wait: Duration) -> usize {
        let deadline = tokio::time::Instant::now() + wait;
        let mut n = 0;
        while let Ok(Some(seen)) = tokio::time::timeout_at(deadline, self.rx.recv()).await {
            if matches!(seen, Seen::Message) {
                n += 1;
            }
        }
        n
    }
}

/// A throwaway agent login.
struct Login {
    id: String,
    secret: String,
}

/// Runs the test; the probe logins are removed afterwards whatever it found.
pub async fn check(store: &dyn Storage, broker: &dyn BrokerAdmin, target: &CheckTarget) -> Result<(), CheckError> {
    let account = format!("md-probe-{}", &new_agent_id()[2..]);
    let logins = register(store, broker, &account).await;
    let result = match &logins {
        Ok(l) => run(target, &l[0], &l[1]).await,
        Err(e) => Err(CheckError::Setup(e.clone())),
    };
    // Gone from storage and, at its next reload, from the broker.
    if let Err(e) = store.delete_account(&account).await {
        tracing::warn!(account, "could not remove the broker self-test's probe account: {e}");
    }
    if let Err(e) = broker.agents_changed().await {
        tracing::warn!("the broker did not reload after the self-test: {e:#}");
    }
    result
}

/// A probe account (no usable user) with two agents; the broker is told.
async fn register(store: &dyn Storage, broker: &dyn BrokerAdmin, account: &str) -> Result<Vec<Login>, String> {
    let now = chrono::Utc::now().timestamp_millis();
    let acc = Account {
        id: account.to_string(),
        name: "broker self-test (removed after it)".into(),
        plan: "free".into(),
        ip_allow: vec![],
        traffic_allowance: 0,
        created_ms: now,
    };
    // "!" is no password hash: nobody can log in as this user.
    let admin = User {
        account: account.to_string(),
        id: "probe".into(),
        name: "probe".into(),
        email: String::new(),
        role: Role::Admin,
        password_hash: "!".into(),
        must_change: true,
        two_factor: TwoFactor::None,
        totp_secret: None,
        created_ms: now,
    };
    store.create_account(&acc, &admin).await.map_err(|e| format!("creating the probe account: {e}"))?;
    let mut out = Vec::new();
    for n in 0..2 {
        let (id, secret) = (new_agent_id(), new_agent_secret());
        let agent = Agent {
            id: id.clone(),
            account: account.to_string(),
            name: format!("probe {n}"),
            secret_hash: "!".into(),
            broker_hash: mosquitto_hash(&secret),
            created_ms: now,
            sync: AgentSync::default(),
        };
        store.insert_agent(&agent).await.map_err(|e| format!("registering a probe login: {e}"))?;
        out.push(Login { id, secret });
    }
    broker.agents_changed().await.map_err(|e| format!("telling the broker of the probe logins: {e:#}"))?;
    Ok(out)
}

async fn run(t: &CheckTarget, victim: &Login, intruder: &Login) -> Result<(), CheckError> {
    let at = format!("{}:{}", t.agents_host, t.agents_port);
    let agent = |client_id: &str, l: &Login| {
        Probe::start(&t.agents_host, t.agents_port, t.agents_tls.as_ref(), client_id, &l.id, &l.secret)
    };
    let step = Duration::from_secs(5);

    // The victim logs in as agents do (client id = agent id), once the
    // broker has learnt the new login.
    let deadline = tokio::time::Instant::now() + t.login_wait;
    let mut v = loop {
        let mut p = agent(&victim.id, victim);
        if p.connack(step).await == Some(true) {
            break p;
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(CheckError::LoginNotAccepted { at, waited: t.login_wait });
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };

    // The cloud's side: its own group, on a filter of the victim's alone
    // (a subscription apart from the running ingests').
    let group = crate::ingest::share_group(&t.cloud_password);
    let cloud_id = format!("md-check-{}", &new_agent_id()[2..]);
    let mut c = Probe::start(&t.cloud_host, t.cloud_port, None, &cloud_id, &t.cloud_user, &t.cloud_password);
    if c.connack(step).await != Some(true) {
        return Err(CheckError::Setup(format!(
            "the cloud's login ({}) was not accepted at {}:{}",
            t.cloud_user, t.cloud_host, t.cloud_port
        )));
    }
    let batches = meterdeck_wire::sync::batch_topic(&victim.id);
    if c.subscribe(&format!("$share/{group}/{batches}"), step).await != Some(true) {
        return Err(CheckError::Setup("the cloud's login may not subscribe to the batch topics".into()));
    }

    // 1. Takeover: the intruder connects with the victim's client id.
    let mut i = agent(&victim.id, intruder);
    let intruder_in = i.connack(step).await == Some(true);
    if v.closed_within(Duration::from_millis(1500)).await {
        return Err(CheckError::Takeover { at, intruder: intruder.id.clone(), victim: victim.id.clone() });
    }
    if !intruder_in {
        // Refused for the foreign client id: log in as itself for step 2.
        i = agent(&intruder.id, intruder);
        if i.connack(step).await != Some(true) {
            return Err(CheckError::LoginNotAccepted { at, waited: step });
        }
    }

    // 2. A shared subscription under the group name an agent can know.
    let filter = meterdeck_wire::sync::CLOUD_SUBSCRIPTION.to_string();
    let granted = i.subscribe(&filter, step).await == Some(true);
    const SENT: usize = 10;
    for n in 0..SENT {
        let payload = format!("meterdeck broker self-test {n}").into_bytes();
        if v.client.publish(batches.clone(), QoS::AtLeastOnce, false, payload).await.is_err() {
            return Err(CheckError::Setup("the probe agent could not publish".into()));
        }
    }
    let got = c.messages_within(Duration::from_secs(3)).await;
    if got < SENT {
        return Err(CheckError::ShareHijack {
            at,
            intruder: intruder.id.clone(),
            filter,
            taken: SENT - got,
            sent: SENT,
        });
    }
    if granted {
        info!(
            "broker self-test: the broker grants $share subscriptions to agent logins (Mosquitto's ACL file cannot \
             refuse a SUBSCRIBE); harmless here, the cloud's shared group has a secret name"
        );
    }
    info!(%at, "broker self-test passed: no session takeover, no shared-subscription hijack");
    Ok(())
}
