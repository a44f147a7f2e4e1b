//! One task per instrument: connect, identify, poll on absolute ticks,
//! reconnect with capped backoff. Every driver call has a timeout, so a
//! stuck instrument only ever stalls its own task.

use std::future::Future;
use std::time::Duration;

use meterdeck_drivers::{Driver, DriverError, InstrumentConfig, Reading};
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tracing::{debug, info, warn};

use super::backoff::{Backoff, BackoffPolicy};
use super::channel_status::ChannelStatus;
use super::fast_monitor::FastMonitor;
use super::overrun::{OverrunChange, OverrunWatch};
use super::repeats::Repeats;
use super::schedule::Schedule;
use super::{Connector, LiveValue, PollMsg, PollUpdate, RawError};
use crate::control::{ControlAction, ControlOutcome, run_action};
use crate::model::{ChannelId, ConnState, Event, EventKind, SpecialKind, Text, TimeMs, Value, now_ms};

/// Requests to a running instrument task.
pub(crate) enum Control {
    /// Fast monitor on/off, as requested at time `at`.
    Fast { on: bool, at: TimeMs },
    /// A raw command line for the console.
    Raw { command: String, reply: oneshot::Sender<Result<Option<String>, RawError>> },
    /// A control command (start, stop, clock, settings profile).
    Action { action: ControlAction, reply: ActionReply },
}

/// Where the result of a control command goes.
pub(crate) enum ActionReply {
    /// To the agent's handle (the window).
    Handle(oneshot::Sender<Result<ControlOutcome, RawError>>),
    /// To the writer, which records it under the command line's request id.
    Writer(String),
}

/// One instrument's task. `W` is the writer's message type, `L` the live
/// subscribers' one; the poller sends its own messages converted into them.
pub(crate) struct Poller<W, L> {
    pub cfg: InstrumentConfig,
    pub normal: Duration,
    pub writer: mpsc::Sender<W>,
    pub live: broadcast::Sender<L>,
    pub control: mpsc::Receiver<Control>,
    pub shutdown: watch::Receiver<bool>,
    pub connector: Connector,
    pub backoff: BackoffPolicy,
    pub fast: FastMonitor,
    pub control_open: bool,
    /// Repeated failures collapse into one event with a count.
    pub repeats: std::sync::Mutex<Repeats>,
}

/// Why a connected session ended.
enum SessionEnd {
    Shutdown,
    Lost(Text),
}

/// A channel as polled: id sent to the driver, store id, unit.
struct Polled {
    names: Vec<String>,
    ids: Vec<ChannelId>,
    units: Vec<Option<String>>,
}

impl Polled {
    /// The channels not marked in `skip`, with their values.
    fn without(&self, skip: &[bool], values: Vec<Value>) -> (Polled, Vec<Value>) {
        let mut out = Polled { names: Vec::new(), ids: Vec::new(), units: Vec::new() };
        let mut kept = Vec::new();
        for (k, v) in values.into_iter().enumerate() {
            if !skip.get(k).copied().unwrap_or(false) {
                out.names.push(self.names[k].clone());
                out.ids.push(self.ids[k]);
                out.units.push(self.units[k].clone());
                kept.push(v);
            }
        }
        (out, kept)
    }
}

/// The next pushed reading; pending forever for a driver without pushes
/// or once its pushes ended.
async fn next_push(rx: &mut Option<tokio::sync::broadcast::Receiver<Reading>>, id: &str) -> Option<Reading> {
    use tokio::sync::broadcast::error::RecvError;
    let Some(r) = rx.as_mut() else { return std::future::pending().await };
    loop {
        match r.recv().await {
            Ok(reading) => return Some(reading),
            Err(RecvError::Lagged(n)) => warn!("{id}: {n} pushed readings dropped: the store fell behind"),
            Err(RecvError::Closed) => break,
        }
    }
    *rx = None;
    None
}

impl<W, L> Poller<W, L>
where
    W: From<PollMsg> + Send + 'static,
    L: From<PollUpdate> + Clone + Send + 'static,
{
    fn id(&self) -> &str {
        &self.cfg.id
    }

    /// Upper bound for any single driver call. Drivers have their own
    /// per-reply timeouts; this one guards against anything that hangs.
    fn guard(&self) -> Duration {
        self.cfg.transport.timeout() * 3 + Duration::from_secs(2) + channel_timeouts(&self.cfg)
    }

    fn stopping(&self) -> bool {
        *self.shutdown.borrow()
    }

    pub(crate) async fn run(mut self) {
        let seed =
            self.cfg.id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3));
        let mut backoff = Backoff::new(self.backoff, seed ^ now_ms() as u64);
        // Reason of the current outage; its Disconnected event is recorded once.
        let mut outage: Option<Text> = None;
        self.set_state(ConnState::Connecting, None).await;
        while !self.stopping() {
            let guard = self.guard();
            let connect = (self.connector)(self.cfg.clone());
            let attempt = tokio::select! {
                _ = self.shutdown.changed() => break,
                r = tokio::time::timeout(guard, connect) => r,
            };
            let end = match attempt {
                Ok(Ok(driver)) => self.session(driver, &mut backoff, &mut outage).await,
                Ok(Err(e)) => SessionEnd::Lost(e.text()),
                Err(_) => SessionEnd::Lost(
                    Text::new("evt.noAnswer").arg("target", self.cfg.target()).arg("timeout", format!("{guard:?}")),
                ),
            };
            let reason = match end {
                SessionEnd::Shutdown => break,
                SessionEnd::Lost(reason) => reason,
            };
            let english = reason.render("en");
            if outage.is_none() {
                warn!("{}: disconnected: {english}", self.id());
                self.event(EventKind::Disconnected, reason.clone()).await;
            } else {
                debug!("{}: still unreachable: {english}", self.id());
            }
            outage = Some(reason.clone());
            self.set_state(ConnState::Reconnecting, Some(reason)).await;
            let delay = backoff.next_delay();
            if !self.idle(delay).await {
                break;
            }
        }
        self.set_state(ConnState::Stopped, Some(Text::new("evt.stopped"))).await;
    }

    /// Waits `delay` while disconnected, still answering control requests.
    /// Returns false on shutdown.
    async fn idle(&mut self, delay: Duration) -> bool {
        let until = tokio::time::Instant::now() + delay;
        loop {
            tokio::select! {
                _ = self.shutdown.changed() => return false,
                _ = tokio::time::sleep_until(until) => return true,
                c = self.control.recv(), if self.control_open => match c {
                    Some(c) => { let _ = self.control(c, None).await; }
                    None => self.control_open = false,
                },
            }
        }
    }

    async fn session(
        &mut self,
        mut driver: Box<dyn Driver>,
        backoff: &mut Backoff,
        outage: &mut Option<Text>,
    ) -> SessionEnd {
        let id = self.cfg.id.clone();
        if self.cfg.set_clock_on_connect {
            let now = chrono::Utc::now();
            match self.call(driver.set_clock(now)).await {
                Ok(()) => info!("{id}: clock set to {now}"),
                Err(e) if e.is_link_failure() => return SessionEnd::Lost(e.text()),
                Err(e) => self.event(EventKind::Error, Text::new("evt.clockNotSet").text_arg("error", e.text())).await,
            }
        }
        if self.cfg.start_on_connect {
            match self.call(driver.start()).await {
                Ok(()) => info!("{id}: measurement started"),
                Err(e) if e.is_link_failure() => return SessionEnd::Lost(e.text()),
                Err(e) => self.event(EventKind::Error, Text::new("evt.notStarted").text_arg("error", e.text())).await,
            }
        }
        let identity = match self.call(driver.identify()).await {
            Ok(identity) => Some(identity),
            Err(e) if e.is_link_failure() => return SessionEnd::Lost(e.text()),
            Err(e) => {
                self.event(EventKind::Error, Text::new("evt.identFailed").text_arg("error", e.text())).await;
                None
            }
        };
        let offered = driver.channels();
        let polled = match self.register(offered).await {
            Ok(p) => p,
            Err(e) => return SessionEnd::Lost(Text::plain(e.to_string())),
        };
        let mut message = Text::new("evt.connected").arg("target", self.cfg.target());
        if let Some(ident) = &identity {
            message = Text::new("evt.connectedAs").arg("target", self.cfg.target()).arg("identity", ident.to_string());
            if let Ok(json) = serde_json::to_string(ident) {
                self.send(PollMsg::Identity { instrument: id.clone(), json }).await;
            }
        }
        if let Some(reason) = outage.take() {
            message = Text::new("evt.after").text_arg("message", message).text_arg("reason", reason);
        }
        info!("{id}: {}", message.render("en"));
        self.event(EventKind::Connected, message).await;
        if let Some(warning) = identity.as_ref().and_then(meterdeck_drivers::families::compat::check_compat) {
            warn!("{id}: {warning}");
            self.event(EventKind::Error, Text::plain(warning)).await;
        }
        self.set_state(ConnState::Connected, None).await;

        let mut channel_status = ChannelStatus::default();
        let mut schedule = Schedule::new(self.fast.interval(self.normal, now_ms()), now_ms());
        let mut overrun = OverrunWatch::default();
        let mut why = ConnectedWhy::default();
        // Pushed readings (BLE notifications) are stored as they arrive; a
        // channel once pushed is left out of the polls' samples, so each of
        // its values is stored once and its times only move forward.
        let mut pushes = driver.pushed();
        let mut pushed = vec![false; polled.names.len()];
        loop {
            let now = now_ms();
            let want = self.fast.interval(self.normal, now);
            if want != schedule.interval() {
                info!("{id}: polling every {}", humantime::format_duration(want));
                schedule.set_interval(want, now);
                self.live(PollUpdate::FastMonitor { instrument: id.clone(), until: self.fast.until(now) });
            }
            let wait = schedule.wait(now);
            tokio::select! {
                biased;
                _ = self.shutdown.changed() => return SessionEnd::Shutdown,
                c = self.control.recv(), if self.control_open => {
                    match c {
                        Some(c) => if let Err(LinkLost(reason)) = self.control(c, Some(&mut driver)).await {
                            return SessionEnd::Lost(reason);
                        },
                        None => self.control_open = false,
                    }
                    continue;
                }
                note = next_push(&mut pushes, &id) => {
                    if let Some(reading) = note {
                        self.store_pushed(&polled, &mut pushed, reading).await;
                    }
                    continue;
                }
                _ = tokio::time::sleep(wait) => {}
            }
            let tick = schedule.next_tick();
            let started = std::time::Instant::now();
            match self.call(driver.read(&polled.names)).await {
                Ok(readings) => {
                    self.note_channel_problems(&mut channel_status, &mut why, &readings).await;
                    let values = match_readings(&polled.names, readings);
                    if pushed.contains(&true) {
                        let (some, values) = polled.without(&pushed, values);
                        self.store_poll(&some, tick, values).await;
                    } else {
                        self.store_poll(&polled, tick, values).await;
                    }
                    backoff.reset();
                }
                Err(e) if e.is_link_failure() => return SessionEnd::Lost(e.text()),
                Err(e) => {
                    let count = self
                        .event_counted(EventKind::Error, Text::new("evt.pollFailed").text_arg("error", e.text()))
                        .await;
                    log_repeated(&id, &format!("poll failed: {e}"), count);
                    let values = vec![Value::Special(SpecialKind::NoData); polled.names.len()];
                    self.store_poll(&polled, tick, values).await;
                }
            }
            self.note_overrun(&mut overrun, &mut why, started.elapsed(), schedule.interval()).await;
            let skipped = schedule.advance(now_ms());
            if skipped > 0 {
                debug!("{id}: the poll overran; skipped {skipped} tick(s)");
            }
        }
    }

    /// Channels that fail on their own (a reading with a `problem`): the
    /// status names them while they fail; an event when one starts failing.
    async fn note_channel_problems(
        &mut self,
        status: &mut ChannelStatus,
        why: &mut ConnectedWhy,
        readings: &[Reading],
    ) {
        let change = status.update(readings);
        for message in change.started {
            warn!("{}: {}", self.id(), message.render("en"));
            self.event(EventKind::Error, message).await;
        }
        for channel in change.recovered {
            info!("{}: channel `{channel}` answers again", self.id());
        }
        if let Some(reason) = change.reason {
            why.channels = reason;
            self.set_state(ConnState::Connected, why.text()).await;
        }
    }

    /// Says once that polls overrun their interval (an event, and the
    /// reason in the connected status) and once that they keep up again.
    async fn note_overrun(
        &mut self,
        watch: &mut OverrunWatch,
        why: &mut ConnectedWhy,
        took: Duration,
        interval: Duration,
    ) {
        match watch.observe(took, interval) {
            None => {}
            Some(OverrunChange::Started(reason)) => {
                let message = Text::new("evt.overrun").text_arg("reason", reason.clone());
                warn!("{}: {}", self.id(), message.render("en"));
                self.event(EventKind::Overrun, message).await;
                why.overrun = Some(reason);
                self.set_state(ConnState::Connected, why.text()).await;
            }
            Some(OverrunChange::Ended(message)) => {
                info!("{}: {}", self.id(), message.render("en"));
                self.event(EventKind::Overrun, message).await;
                why.overrun = None;
                self.set_state(ConnState::Connected, why.text()).await;
            }
        }
    }

    /// Channels to poll: the configured selection, else what the driver offers.
    async fn register(&mut self, offered: Vec<meterdeck_drivers::ChannelInfo>) -> Result<Polled, Unregistered> {
        let channels: Vec<(String, Option<String>)> = if self.cfg.channels.is_empty() {
            offered.into_iter().map(|c| (c.id, c.unit)).collect()
        } else {
            self.cfg.channels.iter().map(|c| (c.id.clone(), c.unit.clone())).collect()
        };
        let (reply, rx) = oneshot::channel();
        self.send(PollMsg::RegisterChannels { instrument: self.cfg.id.clone(), channels: channels.clone(), reply })
            .await;
        let ids = rx.await.map_err(|_| Unregistered::WriterStopped)??;
        let (names, units) = channels.into_iter().unzip();
        Ok(Polled { names, ids, units })
    }

    /// One pushed reading, stored now (a channel not polled is ignored).
    async fn store_pushed(&mut self, polled: &Polled, pushed: &mut [bool], reading: Reading) {
        let Some(k) = polled.names.iter().position(|n| *n == reading.channel) else { return };
        pushed[k] = true;
        let one = Polled {
            names: vec![polled.names[k].clone()],
            ids: vec![polled.ids[k]],
            units: vec![polled.units[k].clone()],
        };
        let values = match_readings(&one.names, vec![reading]);
        self.store_poll(&one, now_ms(), values).await;
    }

    async fn store_poll(&mut self, polled: &Polled, t: TimeMs, values: Vec<Value>) {
        if self.live.receiver_count() > 0 {
            let live = polled
                .names
                .iter()
                .zip(&polled.units)
                .zip(&values)
                .map(|((channel, unit), value)| LiveValue {
                    channel: channel.clone(),
                    unit: unit.clone(),
                    value: *value,
                })
                .collect();
            self.live(PollUpdate::Readings { instrument: self.cfg.id.clone(), t, values: live });
        }
        let values = polled.ids.iter().copied().zip(values).collect();
        self.send(PollMsg::Samples { instrument: self.cfg.id.clone(), t, values }).await;
    }

    /// Handles a control request; `Err` when the link broke doing it.
    async fn control(&mut self, c: Control, driver: Option<&mut Box<dyn Driver>>) -> Result<(), LinkLost> {
        match c {
            Control::Fast { on, at } => {
                self.fast.apply(on, at);
                self.live(PollUpdate::FastMonitor {
                    instrument: self.cfg.id.clone(),
                    until: self.fast.until(now_ms()),
                });
                Ok(())
            }
            Control::Action { action, reply } => {
                let result = match driver {
                    None => Err(RawError::NotConnected { id: self.cfg.id.clone() }),
                    Some(driver) => {
                        let id = self.cfg.id.clone();
                        // A profile push is several exchanges per setting.
                        let guard = self.guard() * 4;
                        match tokio::time::timeout(guard, run_action(&id, driver.as_mut(), &action)).await {
                            Ok(Ok(outcome)) => Ok(outcome),
                            Ok(Err(source)) => Err(RawError::Driver { id, source }),
                            Err(_) => Err(RawError::Driver {
                                id,
                                source: DriverError::Timeout { target: self.cfg.target(), timeout: guard },
                            }),
                        }
                    }
                };
                let link = match &result {
                    Err(RawError::Driver { source, .. }) if source.is_link_failure() => Some(source.text()),
                    _ => None,
                };
                if action.changes_instrument() {
                    let text = match &result {
                        Ok(o) => Text::new("evt.control").arg("action", action.label()).arg("result", &o.message),
                        Err(RawError::Driver { source, .. }) => Text::new("evt.controlFailed")
                            .arg("action", action.label())
                            .text_arg("error", source.text()),
                        Err(e) => Text::new("evt.controlFailed")
                            .arg("action", action.label())
                            .text_arg("error", Text::plain(e.to_string())),
                    };
                    self.event(EventKind::Control, text).await;
                }
                match reply {
                    ActionReply::Handle(tx) => {
                        let _ = tx.send(result);
                    }
                    ActionReply::Writer(request) => {
                        let result = result.map_err(|e| e.to_string());
                        self.send(PollMsg::ControlDone { request, result }).await;
                    }
                }
                match link {
                    Some(reason) => Err(LinkLost(reason)),
                    None => Ok(()),
                }
            }
            Control::Raw { command, reply } => {
                let Some(driver) = driver else {
                    let _ = reply.send(Err(RawError::NotConnected { id: self.cfg.id.clone() }));
                    return Ok(());
                };
                match self.call(driver.raw(&command)).await {
                    Ok(answer) => {
                        let _ = reply.send(Ok(answer));
                        Ok(())
                    }
                    Err(e) => {
                        let link = e.is_link_failure();
                        let reason = e.text();
                        let _ = reply.send(Err(RawError::Driver { id: self.cfg.id.clone(), source: e }));
                        if link { Err(LinkLost(reason)) } else { Ok(()) }
                    }
                }
            }
        }
    }

    async fn call<T>(&self, fut: impl Future<Output = Result<T, DriverError>>) -> Result<T, DriverError> {
        let guard = self.guard();
        match tokio::time::timeout(guard, fut).await {
            Ok(r) => r,
            Err(_) => Err(DriverError::Timeout { target: self.cfg.target(), timeout: guard }),
        }
    }

    async fn send(&self, msg: PollMsg) {
        // Fails only when the writer is gone (shutdown); nothing to do then.
        let _ = self.writer.send(msg.into()).await;
    }

    fn live(&self, update: PollUpdate) {
        let _ = self.live.send(update.into());
    }

    async fn event(&self, kind: EventKind, text: Text) {
        self.event_counted(kind, text).await;
    }

    /// Records an event; returns how many times in a row it has happened
    /// (a repeated failure is one event with a count, see `repeats`).
    async fn event_counted(&self, kind: EventKind, text: Text) -> u32 {
        let mut ev = Event::said(now_ms(), Some(self.cfg.id.clone()), kind, text);
        self.repeats.lock().unwrap_or_else(|p| p.into_inner()).stamp(&mut ev);
        let count = ev.count;
        self.live(PollUpdate::Event(ev.clone()));
        self.send(PollMsg::Event(ev)).await;
        count
    }

    async fn set_state(&self, state: ConnState, reason: Option<Text>) {
        self.live(PollUpdate::State { instrument: self.cfg.id.clone(), state, reason: reason.clone() });
        self.send(PollMsg::State { instrument: self.cfg.id.clone(), state, reason }).await;
    }
}

/// What the channels' own reply timeouts (SCPI) add to a poll at most.
fn channel_timeouts(cfg: &InstrumentConfig) -> Duration {
    cfg.channels.iter().filter_map(|c| c.timeout).sum()
}

/// Why a connected instrument is not simply fine: failing channels and
/// overrunning polls, each kept apart and shown together in the status.
#[derive(Default)]
struct ConnectedWhy {
    channels: Option<Text>,
    overrun: Option<Text>,
}

impl ConnectedWhy {
    fn text(&self) -> Option<Text> {
        match (&self.overrun, &self.channels) {
            (Some(a), Some(b)) => Some(Text::new("evt.both").text_arg("a", a.clone()).text_arg("b", b.clone())),
            (a, b) => a.clone().or_else(|| b.clone()),
        }
    }
}

/// Logs a failure that may repeat on every poll: the first time and then
/// at counts 2, 4, 8 ... as a warning with its count, the others as debug,
/// so the agent's output stays readable while the count is kept.
fn log_repeated(id: &str, message: &str, count: u32) {
    match count {
        0 | 1 => warn!("{id}: {message}"),
        n if n.is_power_of_two() => warn!("{id}: {message} (x{n} in a row)"),
        n => debug!("{id}: {message} (x{n} in a row)"),
    }
}

/// The link broke while carrying out a control request (the reason).
struct LinkLost(Text);

/// Why a connected instrument's channels could not be set up.
#[derive(Debug, thiserror::Error)]
enum Unregistered {
    #[error("the writer has stopped")]
    WriterStopped,
    #[error(transparent)]
    Refused(#[from] super::RegisterError),
}

/// One value per requested channel, in order. Drivers return exactly that;
/// if one does not, match by channel id and fill the gaps with NoData.
fn match_readings(names: &[String], readings: Vec<Reading>) -> Vec<Value> {
    if readings.len() == names.len() && readings.iter().zip(names).all(|(r, n)| &r.channel == n) {
        return readings.into_iter().map(|r| r.value).collect();
    }
    let by_name: std::collections::HashMap<&str, Value> =
        readings.iter().map(|r| (r.channel.as_str(), r.value)).collect();
    names.iter().map(|n| by_name.get(n.as_str()).copied().unwrap_or(Value::Special(SpecialKind::NoData))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(ch: &str, v: f64) -> Reading {
        Reading::new(ch, Value::Number(v))
    }

    #[test]
    fn pushed_channels_are_left_out_of_a_poll() {
        let polled = Polled {
            names: vec!["a".into(), "b".into(), "c".into()],
            ids: vec![1, 2, 3],
            units: vec![None, Some("V".into()), None],
        };
        let values = vec![Value::Number(1.0), Value::Number(2.0), Value::Number(3.0)];
        let (some, kept) = polled.without(&[false, true, false], values);
        assert_eq!(some.names, ["a", "c"]);
        assert_eq!(some.ids, [1, 3]);
        assert_eq!(kept, [Value::Number(1.0), Value::Number(3.0)]);
    }

    #[test]
    fn readings_are_matched_to_channels() {
        let names = vec!["a".to_string(), "b".to_string(), "c".to_string()];
        let v = match_readings(&names, vec![r("a", 1.0), r("b", 2.0), r("c", 3.0)]);
        assert_eq!(v, vec![Value::Number(1.0), Value::Number(2.0), Value::Number(3.0)]);
        let v = match_readings(&names, vec![r("c", 3.0), r("a", 1.0)]);
        assert_eq!(v, vec![Value::Number(1.0), Value::Special(SpecialKind::NoData), Value::Number(3.0)]);
    }
}
