use super::*;
use crate::notify::destination::WebhookFormat;
#[cfg(feature = "email")]
use crate::notify::secrets::MemorySecrets;

/// Records deliveries; per destination it can fail the first N attempts,
/// fail always (permanently or not), or take a while.
#[derive(Default)]
struct Mock {
    log: Mutex<Vec<(String, Message, Instant)>>,
    attempts: Mutex<HashMap<String, u32>>,
    fail_first: HashMap<String, u32>,
    permanent: HashMap<String, bool>,
    slow: HashMap<String, Duration>,
}

#[async_trait::async_trait]
impl Deliver for Mock {
    async fn deliver(&self, dest: &DestinationConfig, msg: &Message) -> Result<(), DeliveryError> {
        let n = {
            let mut a = self.attempts.lock().unwrap();
            let n = a.entry(dest.id.clone()).or_default();
            *n += 1;
            *n
        };
        if let Some(d) = self.slow.get(&dest.id) {
            tokio::time::sleep(*d).await;
        }
        if let Some(p) = self.permanent.get(&dest.id) {
            return Err(DeliveryError { message: format!("{} is down", dest.id), permanent: *p });
        }
        if n <= self.fail_first.get(&dest.id).copied().unwrap_or(0) {
            return Err(DeliveryError::transient(format!("{} is down", dest.id)));
        }
        self.log.lock().unwrap().push((dest.id.clone(), msg.clone(), Instant::now()));
        Ok(())
    }
}

impl Mock {
    fn delivered(&self, dest: &str) -> Vec<(Message, Instant)> {
        self.log.lock().unwrap().iter().filter(|(d, _, _)| d == dest).map(|(_, m, t)| (m.clone(), *t)).collect()
    }
}

fn hook(id: &str) -> DestinationConfig {
    let mut d = DestinationConfig::desktop(id);
    d.kind = DestinationKind::Webhook;
    d.format = Some(WebhookFormat::Json);
    d
}

fn alarm(i: usize) -> Message {
    Message {
        id: format!("m{i}"),
        t: i as i64,
        kind: MessageKind::Alarm,
        severity: Some(if i == 7 { "critical" } else { "low" }.into()),
        title: format!("alarm {i}"),
        body: format!("body {i}"),
        alarm_id: Some(format!("a{i}")),
        locale: Default::default(),
        link: None,
    }
}

fn spawn(mock: &Arc<Mock>, dests: &[&str], opts: DispatchOptions) -> DispatcherHandle {
    let dests = dests.iter().map(|d| if *d == "desk" { DestinationConfig::desktop(d) } else { hook(d) }).collect();
    Dispatcher::spawn_with(dests, Arc::clone(mock) as Arc<dyn Deliver>, opts)
}

/// Outcomes until `n` final ones (Ok or Failed) arrived.
async fn finals(rx: &mut broadcast::Receiver<DeliveryOutcome>, n: usize) -> Vec<DeliveryOutcome> {
    let mut all = Vec::new();
    let mut done = 0;
    while done < n {
        let o = rx.recv().await.unwrap();
        if !matches!(o.result, DeliveryResult::Retrying { .. }) {
            done += 1;
        }
        all.push(o);
    }
    all
}

#[test]
fn retry_delays_double_from_2s_to_5min() {
    let r = RetryPolicy::default();
    let d: Vec<u64> = (1..=10).map(|a| r.delay(a).as_secs()).collect();
    assert_eq!(d, [2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
    assert_eq!(r.delay(u32::MAX), Duration::from_secs(300));
}

#[tokio::test(start_paused = true)]
async fn a_burst_of_200_in_one_second_is_one_message_and_one_summary_per_destination() {
    let mock = Arc::new(Mock::default());
    let h = spawn(&mock, &["desk", "hook"], DispatchOptions::default());
    let mut rx = h.outcomes();
    let t0 = Instant::now();
    for i in 0..200 {
        h.send(alarm(i), ["desk", "hook"]);
        tokio::time::sleep(Duration::from_millis(4)).await; // 200 in 0.8 s
    }
    let outcomes = finals(&mut rx, 4).await;
    assert!(outcomes.iter().all(|o| o.result == DeliveryResult::Ok), "{outcomes:?}");
    tokio::time::sleep(Duration::from_secs(5)).await;
    for dest in ["desk", "hook"] {
        let got = mock.delivered(dest);
        assert_eq!(got.len(), 2, "{dest}: {:?}", got.iter().map(|g| &g.0.title).collect::<Vec<_>>());
        assert_eq!(got[0].0, alarm(0));
        assert!(got[0].1 - t0 < Duration::from_millis(10), "the first goes out at once");
        let (s, at) = &got[1];
        assert_eq!(s.title, "199 more alarms");
        assert!(s.body.starts_with("alarm 1\nalarm 2\nalarm 3\nalarm 4\nalarm 5\n…and 194 more"), "{}", s.body);
        assert_eq!(s.severity.as_deref(), Some("critical"));
        assert_eq!(s.kind, MessageKind::Alarm);
        assert_eq!(s.alarm_id, None);
        let after = *at - t0;
        assert!(after >= Duration::from_secs(1) && after < Duration::from_millis(1100), "summary at {after:?}");
    }
    let summary = outcomes.iter().find(|o| o.message_id.starts_with("summary-hook")).unwrap();
    assert_eq!(summary.covers.len(), 199);
    assert_eq!(summary.covers[0], "m1");

    // Quiet again: the next one goes out at once.
    let t1 = Instant::now();
    h.send(alarm(500), ["hook"]);
    finals(&mut rx, 1).await;
    let got = mock.delivered("hook");
    assert_eq!(got.len(), 3);
    assert_eq!(got[2].0.id, "m500");
    assert!(got[2].1 - t1 < Duration::from_millis(10));
}

#[tokio::test(start_paused = true)]
async fn a_steady_flood_gives_one_summary_per_window() {
    let mock = Arc::new(Mock::default());
    let h = spawn(&mock, &["hook"], DispatchOptions::default());
    for i in 0..300 {
        h.send(alarm(i), ["hook"]);
        tokio::time::sleep(Duration::from_millis(10)).await; // 3 s
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let titles: Vec<String> = mock.delivered("hook").into_iter().map(|(m, _)| m.title).collect();
    assert_eq!(titles.len(), 4, "{titles:?}");
    assert_eq!(titles[0], "alarm 0");
    let total: usize = titles[1..].iter().map(|t| t.split(' ').next().unwrap().parse::<usize>().unwrap()).sum();
    assert_eq!(total, 299, "{titles:?}");
}

#[tokio::test(start_paused = true)]
async fn a_full_queue_folds_into_the_summary_and_never_blocks() {
    let mock = Arc::new(Mock::default());
    let opts = DispatchOptions { queue_capacity: 8, ..DispatchOptions::default() };
    let h = spawn(&mock, &["hook"], opts);
    let mut rx = h.outcomes();
    let t0 = Instant::now();
    for i in 0..200 {
        h.send(alarm(i), ["hook"]); // no await in between: the queue overflows
    }
    finals(&mut rx, 2).await;
    let got = mock.delivered("hook");
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].0.id, "m0");
    assert_eq!(got[1].0.title, "199 more alarms");
    assert_eq!(got[1].0.severity.as_deref(), Some("critical"));
    assert!(got[1].0.body.starts_with("alarm 1\n"), "{}", got[1].0.body);
    assert!(got[1].1 - t0 <= Duration::from_millis(1001));
}

#[tokio::test(start_paused = true)]
async fn threshold_lets_the_first_n_through() {
    let mock = Arc::new(Mock::default());
    let opts = DispatchOptions { burst_threshold: 3, ..DispatchOptions::default() };
    let h = spawn(&mock, &["hook"], opts);
    for i in 0..10 {
        h.send(alarm(i), ["hook"]);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let titles: Vec<String> = mock.delivered("hook").into_iter().map(|(m, _)| m.title).collect();
    assert_eq!(titles, ["alarm 0", "alarm 1", "alarm 2", "7 more alarms"]);
}

#[tokio::test(start_paused = true)]
async fn failed_deliveries_retry_with_doubling_backoff() {
    let mut mock = Mock::default();
    mock.fail_first.insert("hook".into(), 3);
    let mock = Arc::new(mock);
    let h = spawn(&mock, &["hook"], DispatchOptions::default());
    let mut rx = h.outcomes();
    let t0 = Instant::now();
    h.send(alarm(1), ["hook"]);
    let o = finals(&mut rx, 1).await;
    let got: Vec<(u32, DeliveryResult)> = o.into_iter().map(|o| (o.attempt, o.result)).collect();
    let retrying = |s, e: &str| DeliveryResult::Retrying { next_in: Duration::from_secs(s), error: e.to_string() };
    assert_eq!(
        got,
        [
            (1, retrying(2, "hook is down")),
            (2, retrying(4, "hook is down")),
            (3, retrying(8, "hook is down")),
            (4, DeliveryResult::Ok)
        ]
    );
    let at = mock.delivered("hook")[0].1 - t0;
    assert!(at >= Duration::from_secs(14) && at < Duration::from_millis(14_100), "{at:?}");
}

#[tokio::test(start_paused = true)]
async fn retries_stop_at_max_attempts_or_max_age_and_permanent_errors_at_once() {
    let mut mock = Mock::default();
    mock.permanent.insert("dead".into(), false);
    mock.permanent.insert("gone".into(), true);
    let mock = Arc::new(mock);
    let retry = RetryPolicy { max_attempts: Some(4), max_age: None, ..RetryPolicy::default() };
    let h = spawn(&mock, &["dead", "gone"], DispatchOptions { retry, ..DispatchOptions::default() });
    let mut rx = h.outcomes();
    h.send(alarm(1), ["dead", "gone"]);
    let o = finals(&mut rx, 2).await;
    let last = |d: &str| o.iter().rfind(|o| o.destination == d).unwrap().clone();
    assert_eq!(last("dead").attempt, 4);
    assert_eq!(last("dead").result, DeliveryResult::Failed { error: "dead is down".into() });
    assert_eq!(last("gone").attempt, 1);
    assert!(matches!(last("gone").result, DeliveryResult::Failed { .. }));

    // By age: 2+4+8+16 = 30 s of waiting fits in 40 s, the next 32 s does not.
    let retry = RetryPolicy { max_attempts: None, max_age: Some(Duration::from_secs(40)), ..RetryPolicy::default() };
    let h = spawn(&mock, &["dead"], DispatchOptions { retry, ..DispatchOptions::default() });
    let mut rx = h.outcomes();
    let t0 = Instant::now();
    h.send(alarm(2), ["dead"]);
    let o = finals(&mut rx, 1).await;
    assert_eq!(o.last().unwrap().attempt, 5);
    assert!(Instant::now() - t0 < Duration::from_secs(40));
}

#[tokio::test(start_paused = true)]
async fn a_slow_destination_does_not_delay_another() {
    let mut mock = Mock::default();
    mock.slow.insert("slow".into(), Duration::from_secs(20));
    let mock = Arc::new(mock);
    let h = spawn(&mock, &["slow", "fast"], DispatchOptions::default());
    let mut rx = h.outcomes();
    let t0 = Instant::now();
    h.send(alarm(1), ["slow", "fast"]);
    let first = rx.recv().await.unwrap();
    assert_eq!((first.destination.as_str(), &first.result), ("fast", &DeliveryResult::Ok));
    assert!(Instant::now() - t0 < Duration::from_millis(10));
    // Later messages to the fast one are not held up either.
    tokio::time::sleep(Duration::from_secs(2)).await;
    h.send(alarm(2), ["fast"]);
    let second = rx.recv().await.unwrap();
    assert_eq!((second.destination.as_str(), second.message_id.as_str()), ("fast", "m2"));
    assert!(Instant::now() - t0 < Duration::from_millis(2010));
    let slow = rx.recv().await.unwrap();
    assert_eq!((slow.destination.as_str(), slow.result), ("slow", DeliveryResult::Ok));
    assert!(Instant::now() - t0 >= Duration::from_secs(20));
}

#[tokio::test(start_paused = true)]
async fn a_hung_attempt_times_out_and_is_retried() {
    let mut mock = Mock::default();
    mock.slow.insert("hook".into(), Duration::from_secs(3600));
    let mock = Arc::new(mock);
    let opts = DispatchOptions { send_timeout: Duration::from_secs(10), ..DispatchOptions::default() };
    let h = spawn(&mock, &["hook"], opts);
    let mut rx = h.outcomes();
    h.send(alarm(1), ["hook"]);
    let o = rx.recv().await.unwrap();
    assert_eq!(
        o.result,
        DeliveryResult::Retrying { next_in: Duration::from_secs(2), error: "webhook: timed out after 10s".into() }
    );
}

#[tokio::test(start_paused = true)]
async fn unknown_destinations_fail_without_attempts() {
    let mock = Arc::new(Mock::default());
    let h = spawn(&mock, &["hook"], DispatchOptions::default());
    let mut rx = h.outcomes();
    h.send(alarm(1), ["nope"]);
    let o = rx.recv().await.unwrap();
    assert_eq!(o.attempt, 0);
    assert_eq!(o.result, DeliveryResult::Failed { error: "no destination \"nope\"".into() });
}

#[tokio::test(start_paused = true)]
async fn test_send_and_destination_edits() {
    let mut mock = Mock::default();
    mock.permanent.insert("dead".into(), true);
    let mock = Arc::new(mock);
    let h = spawn(&mock, &["hook", "dead"], DispatchOptions::default());
    h.test_send("hook").await.unwrap();
    assert_eq!(mock.delivered("hook")[0].0.title, "Meterdeck test notification");
    assert_eq!(h.test_send("dead").await.unwrap_err().message, "dead is down");
    assert_eq!(h.test_send("nope").await.unwrap_err().message, "no destination \"nope\"");

    let e = h.set_destinations(vec![hook("a"), hook("a")]).unwrap_err();
    assert_eq!(e.field, "destination[1].id");
    assert_eq!(h.destinations().len(), 2, "a refused edit changes nothing");
    h.set_destinations(vec![hook("new")]).unwrap();
    assert_eq!(h.destinations().iter().map(|d| d.id.as_str()).collect::<Vec<_>>(), ["new"]);
    h.test_send("new").await.unwrap();
    assert!(h.test_send("hook").await.is_err());
}

#[tokio::test(start_paused = true)]
async fn dropping_every_handle_flushes_collected_messages() {
    let mock = Arc::new(Mock::default());
    let h = spawn(&mock, &["hook"], DispatchOptions::default());
    let mut rx = h.outcomes();
    for i in 0..5 {
        h.send(alarm(i), ["hook"]);
    }
    tokio::task::yield_now().await;
    drop(h);
    finals(&mut rx, 2).await;
    let titles: Vec<String> = mock.delivered("hook").into_iter().map(|(m, _)| m.title).collect();
    assert_eq!(titles, ["alarm 0", "4 more alarms"]);
}

#[cfg(feature = "email")]
#[tokio::test]
async fn real_deliverer_reports_missing_secrets_by_entry_name() {
    let secrets: Arc<dyn SecretStore> = Arc::new(MemorySecrets::new());
    let mut mail = DestinationConfig::desktop("ops-mail");
    mail.kind = DestinationKind::Email;
    mail.host = Some("127.0.0.1".into());
    mail.username = Some("u".into());
    mail.from = Some("a@example.com".into());
    mail.to = vec!["b@example.com".into()];
    let h = Dispatcher::spawn(vec![hook("ops-hook"), mail], Arc::clone(&secrets), DispatchOptions::default());
    let e = h.test_send("ops-hook").await.unwrap_err();
    assert_eq!(e.message, "webhook: no URL in the keychain (entry webhook:ops-hook)");
    assert!(e.permanent);
    let e = h.test_send("ops-mail").await.unwrap_err();
    assert_eq!(e.message, "SMTP 127.0.0.1:587: no password in the keychain (entry smtp:ops-mail)");

    secrets.set("webhook:ops-hook", "http://127.0.0.1:1/hook").unwrap();
    let e = h.test_send("ops-hook").await.unwrap_err();
    assert_eq!(e.message, "webhook: connection refused");
}

/// Gives a link after `delay`, counting the asks.
struct Links {
    delay: Duration,
    asks: AtomicU64,
    refuse: bool,
}

#[async_trait::async_trait]
impl ViewLinks for Links {
    async fn link(&self, ask: &crate::notify::LinkAsk) -> Result<String, String> {
        self.asks.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        if self.refuse { Err("refused".into()) } else { Ok(format!("https://c.test/v/{}", ask.alarm_id)) }
    }
}

fn linked(i: usize) -> Message {
    let mut m = alarm(i);
    m.link = Some(crate::notify::LinkAsk {
        alarm_id: format!("a{i}"),
        alarm_name: format!("alarm {i}"),
        at: i as i64,
        channels: vec!["dev/temp".into()],
    });
    m
}

/// An alarm message carries its view link, asked for once for all its
/// destinations; a cloud slower than the link timeout, or refusing, costs
/// at most that timeout and the message goes without.
#[tokio::test(start_paused = true)]
async fn alarm_messages_carry_a_view_link_or_go_without_it_soon() {
    let mock = Arc::new(Mock::default());
    let h = spawn(&mock, &["desk", "hook"], DispatchOptions::default());
    let links = Arc::new(Links { delay: Duration::from_millis(50), asks: AtomicU64::new(0), refuse: false });
    h.set_view_links(Some(Arc::clone(&links) as Arc<dyn ViewLinks>));
    let mut rx = h.outcomes();
    h.send(linked(1), ["desk", "hook"]);
    finals(&mut rx, 2).await;
    for dest in ["desk", "hook"] {
        let got = mock.delivered(dest);
        assert!(got[0].0.body.ends_with("\n\nView (valid 30 min): https://c.test/v/a1"), "{}", got[0].0.body);
    }
    assert_eq!(links.asks.load(Ordering::SeqCst), 1, "one link per message");
    // Without a link ask (system messages), nothing is asked (after the burst window).
    tokio::time::sleep(Duration::from_secs(3)).await;
    h.send(alarm(2), ["hook"]);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(mock.delivered("hook")[1].0, alarm(2));
    assert_eq!(links.asks.load(Ordering::SeqCst), 1);

    for (delay, refuse) in [(Duration::from_secs(60), false), (Duration::ZERO, true)] {
        let mock = Arc::new(Mock::default());
        let h = spawn(&mock, &["hook"], DispatchOptions::default());
        h.set_view_links(Some(Arc::new(Links { delay, asks: AtomicU64::new(0), refuse }) as Arc<dyn ViewLinks>));
        let mut rx = h.outcomes();
        let t0 = Instant::now();
        h.send(linked(3), ["hook"]);
        finals(&mut rx, 1).await;
        let got = mock.delivered("hook");
        assert_eq!(got[0].0.body, "body 3", "sent without a link");
        assert!(got[0].1 - t0 <= Duration::from_millis(3100), "waited {:?}", got[0].1 - t0);
    }
}
