//! Store tests against real SQLite files in temp directories.

use std::time::Duration;

use proptest::prelude::*;

use super::*;
use crate::model::{EventKind, SpecialKind, Value};

const DAY: i64 = 24 * 3600 * 1000;

fn open(dir: &tempfile::TempDir, block_samples: usize) -> Store {
    Store::open(&dir.path().join("cache.db"), StoreOptions { durability: Durability::Normal, block_samples }).unwrap()
}

fn with_channels(store: &mut Store, n: usize) -> Vec<ChannelId> {
    store.upsert_instrument("lr1", "Logger", "hioki-logger", "127.0.0.1:8802").unwrap();
    (0..n).map(|i| store.ensure_channel("lr1", &format!("CH1_{}", i + 1), Some("V")).unwrap()).collect()
}

fn count(store: &Store, sql: &str) -> i64 {
    store.conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

fn ramp(n: usize, t0: i64) -> Vec<Sample> {
    (0..n).map(|i| Sample::number(t0 + i as i64 * 1000, (i as f64) / 10.0)).collect()
}

fn tagged(ch: ChannelId, s: &[Sample]) -> Vec<(ChannelId, Sample)> {
    s.iter().map(|&x| (ch, x)).collect()
}

#[test]
fn store_is_send() {
    fn send<T: Send>() {}
    send::<Store>();
}

#[test]
fn corrupt_tail_row_is_an_error_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir, 8);
    let ch = with_channels(&mut store, 1)[0];
    store.append(&tagged(ch, &ramp(3, 0))).unwrap();
    store.conn.execute("UPDATE tail_log SET data = x'02ff'", []).unwrap();
    drop(store);
    let e = Store::open(&dir.path().join("cache.db"), StoreOptions::default()).err().unwrap().to_string();
    assert!(e.contains("corrupt tail row"), "{e}");
    let reader = Store::open_readonly(&dir.path().join("cache.db")).unwrap();
    assert!(reader.latest().is_err());
}

#[test]
fn append_range_latest_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let samples = {
        let mut store = open(&dir, 8);
        let ch = with_channels(&mut store, 2);
        let mut samples = ramp(21, 1_000);
        samples[5] = Sample::special(samples[5].t, SpecialKind::OverRange);
        for part in samples.chunks(4) {
            store.append(&tagged(ch[0], part)).unwrap();
        }
        store.append(&[(ch[1], Sample::special(500, SpecialKind::BurnOut))]).unwrap();
        samples
    };
    let store = open(&dir, 8);
    let chs = store.channels().unwrap();
    assert_eq!(chs.len(), 2);
    assert_eq!(chs[0].path(), "lr1/CH1_1");
    assert_eq!(store.range(chs[0].id, i64::MIN, i64::MAX).unwrap(), samples);
    assert_eq!(store.range(chs[0].id, 3_000, 6_000).unwrap(), samples[2..5].to_vec());
    assert_eq!(store.count_in_range(chs[0].id, 3_000, 6_001).unwrap(), 4);
    let latest = store.latest().unwrap();
    assert_eq!(latest.len(), 2);
    assert_eq!(latest[0].1, samples[20]);
    assert_eq!(latest[1].1, Sample::special(500, SpecialKind::BurnOut));
    assert_eq!(store.find_channel("lr1/CH1_2").unwrap().unwrap().id, chs[1].id);
    assert_eq!(store.find_channel("lr1/nope").unwrap(), None);
    assert!(store.find_channel("no-slash").is_err());
    assert_eq!(store.integrity_check().unwrap(), "ok");
}

/// (blocks, tail rows, pending samples of `ch`) as stored.
fn shape(store: &Store, ch: ChannelId) -> (i64, i64, usize) {
    let pending = store.read("test", |_, live| Ok(live.pending(ch).1.len())).unwrap();
    (count(store, "SELECT count(*) FROM block"), count(store, "SELECT count(*) FROM tail_log"), pending)
}

#[test]
fn tail_flushes_into_blocks_at_block_samples() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir, 4);
    let ch = with_channels(&mut store, 1)[0];
    let s = ramp(40, 0);
    store.append(&tagged(ch, &s[0..1])).unwrap();
    store.append(&tagged(ch, &s[1..3])).unwrap();
    assert_eq!(shape(&store, ch), (0, 2, 3));
    store.append(&tagged(ch, &s[3..4])).unwrap(); // exactly full: flushed, tail rows gone
    assert_eq!(shape(&store, ch), (1, 0, 0));
    assert_eq!(count(&store, "SELECT count FROM block"), 4);
    store.append(&tagged(ch, &s[4..7])).unwrap();
    store.append(&tagged(ch, &s[7..9])).unwrap(); // 3 + 2: split evenly into 3 + 2
    assert_eq!(shape(&store, ch), (3, 0, 0));
    store.append(&tagged(ch, &s[9..10])).unwrap();
    assert_eq!(shape(&store, ch), (3, 1, 1));
    // A bulk append goes straight into blocks, taking the tail along.
    store.append(&tagged(ch, &s[10..40])).unwrap();
    assert_eq!(shape(&store, ch), (11, 0, 0));
    assert_eq!(count(&store, "SELECT max(count) FROM block"), 4);
    assert_eq!(count(&store, "SELECT min(count) FROM block WHERE seq_first >= 9"), 3);
    assert_eq!(store.range(ch, 0, i64::MAX).unwrap(), s);
}

#[test]
fn tail_rows_are_shared_by_channels_and_deleted_when_all_flushed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cache.db");
    let mut store = open(&dir, 3);
    let ch = with_channels(&mut store, 3);
    let poll = |k: i64| -> Vec<(ChannelId, Sample)> {
        ch.iter().map(|&c| (c, Sample::number(k * 1000, (c * 10 + k) as f64))).collect()
    };
    // One tail row per append, holding every channel's sample.
    store.append(&poll(0)).unwrap();
    store.append(&poll(1)).unwrap();
    assert_eq!(count(&store, "SELECT count(*) FROM tail_log"), 2);
    // A bulk append flushes channel 0 only: the rows stay for the others.
    store.append(&tagged(ch[0], &ramp(5, 100_000))).unwrap();
    assert_eq!(count(&store, "SELECT count(*) FROM tail_log"), 2);
    // Reopen: the tail is rebuilt from the rows, skipping what is in blocks.
    drop(store);
    let mut store = Store::open(&path, StoreOptions { durability: Durability::Full, block_samples: 3 }).unwrap();
    assert_eq!(store.count_in_range(ch[0], 0, i64::MAX).unwrap(), 7);
    assert_eq!(store.count_in_range(ch[1], 0, i64::MAX).unwrap(), 2);
    assert_eq!(shape(&store, ch[0]).2, 0);
    store.append(&poll(2)).unwrap(); // channels 1 and 2 fill a block; channel 0 starts a new tail
    assert_eq!(count(&store, "SELECT count(*) FROM tail_log"), 1);
    assert_eq!(shape(&store, ch[0]).2, 1);
    for &c in &ch[1..] {
        let got: Vec<f64> = store.range(c, 0, i64::MAX).unwrap().iter().filter_map(|s| s.value.as_number()).collect();
        assert_eq!(got, vec![(c * 10) as f64, (c * 10 + 1) as f64, (c * 10 + 2) as f64]);
    }
    assert_eq!(store.integrity_check().unwrap(), "ok");
}

#[test]
fn another_writer_is_noticed() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = open(&dir, 4);
    let ch = with_channels(&mut a, 1)[0];
    a.append(&tagged(ch, &ramp(2, 0))).unwrap();
    let mut b = open(&dir, 4);
    b.append(&tagged(ch, &ramp(3, 10_000))).unwrap();
    // `a` reloads its tail index: seqs continue, nothing is lost or doubled.
    a.append(&tagged(ch, &ramp(2, 20_000))).unwrap();
    let all = b.range(ch, 0, i64::MAX).unwrap();
    assert_eq!(all.len(), 7);
    assert_eq!(a.range(ch, 0, i64::MAX).unwrap(), all);
    let batches = a.outbox_next(10).unwrap();
    assert_eq!(batches.iter().map(|b| b.samples.len()).sum::<usize>(), 7);
}

#[test]
fn a_slow_channel_does_not_pin_the_tail_forever() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir, 50);
    let ch = with_channels(&mut store, 11);
    store.append(&[(ch[0], Sample::number(0, 1.0))]).unwrap();
    for k in 0..400i64 {
        let batch: Vec<_> =
            ch[1..].iter().flat_map(|&c| (0..10).map(move |i| (c, Sample::number(k * 10 + i, 2.0)))).collect();
        store.append(&batch).unwrap();
        let bytes = count(&store, "SELECT coalesce(sum(length(data)), 0) FROM tail_log") as u64;
        assert!(bytes <= TAIL_MAX_BYTES + 2048, "append {k}: {bytes} bytes of tail");
    }
    // The slow channel was forced into a (one-sample) block.
    assert_eq!(shape(&store, ch[0]).2, 0);
    assert_eq!(store.range(ch[0], 0, 10).unwrap(), vec![Sample::number(0, 1.0)]);
    assert_eq!(store.count_in_range(ch[5], 0, i64::MAX).unwrap(), 4000);
}

#[test]
fn the_tail_is_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir, 4 << 20);
    let ch = with_channels(&mut store, 2);
    let n = TAIL_MAX_SAMPLES / 2 + 10;
    store.append(&tagged(ch[0], &ramp(n, 0))).unwrap();
    store.append(&tagged(ch[1], &ramp(n, 0))).unwrap();
    // Over the bound: the channel with the oldest tail was written into blocks.
    assert_eq!(shape(&store, ch[0]).2, 0);
    assert_eq!(shape(&store, ch[1]).2, n);
    assert_eq!(store.count_in_range(ch[0], 0, i64::MAX).unwrap(), n as u64);
    assert_eq!(count(&store, "SELECT count(*) FROM tail_log"), 1);
}

#[test]
fn unknown_channel_rolls_back_the_whole_append() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir, 4);
    let ch = with_channels(&mut store, 1)[0];
    let e = store.append(&[(ch, Sample::number(1, 1.0)), (ch + 99, Sample::number(1, 1.0))]).unwrap_err();
    assert!(matches!(e, StoreError::UnknownChannel(id) if id == ch + 99), "{e}");
    assert_eq!(store.range(ch, 0, 10).unwrap(), vec![]);
    assert!(store.ensure_channel("ghost", "CH1", None).is_err());
}

#[test]
fn nan_is_stored_as_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir, 2);
    let ch = with_channels(&mut store, 1)[0];
    store.append(&[(ch, Sample::number(1, f64::NAN)), (ch, Sample::number(2, 1.5))]).unwrap();
    assert_eq!(store.range(ch, 0, 10).unwrap(), vec![Sample::special(1, SpecialKind::Invalid), Sample::number(2, 1.5)]);
}

#[test]
fn out_of_order_and_duplicate_times_are_kept_in_arrival_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir, 3);
    let ch = with_channels(&mut store, 1)[0];
    let s: Vec<Sample> =
        [5, 3, 3, 9, 1, 7, 7, 2].iter().enumerate().map(|(i, &t)| Sample::number(t, i as f64)).collect();
    store.append(&tagged(ch, &s[..5])).unwrap();
    store.append(&tagged(ch, &s[5..])).unwrap();
    assert_eq!(store.range(ch, 0, 100).unwrap(), s);
    let in_3_8: Vec<Sample> = s.iter().copied().filter(|x| (3..8).contains(&x.t)).collect();
    assert_eq!(store.range(ch, 3, 8).unwrap(), in_3_8);
    assert_eq!(store.count_in_range(ch, 3, 8).unwrap(), in_3_8.len() as u64);
    assert_eq!(store.latest().unwrap()[0].1, s[7], "latest = last appended");
}

#[test]
fn corrupt_block_is_an_error_naming_channel_and_block() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir, 4);
    let ch = with_channels(&mut store, 1)[0];
    store.append(&tagged(ch, &ramp(8, 0))).unwrap();
    let id: i64 = count(&store, "SELECT min(id) FROM block");
    store.conn.execute("UPDATE block SET data = x'01000004000000ffff' WHERE id = ?1", [id]).unwrap();
    let e = store.range(ch, 0, i64::MAX).unwrap_err().to_string();
    assert!(e.contains(&format!("channel {ch}")) && e.contains(&format!("block {id}")), "{e}");
    assert!(store.m4(ch, 0, 100_000, 1).is_ok(), "a block inside one bucket is read from its summary");
    assert!(store.m4(ch, 0, 8_000, 3).is_err(), "a block across bucket edges is decoded");
    store.conn.execute("UPDATE block SET data = zeroblob(3000) WHERE id = ?1", [id]).unwrap();
    assert!(store.range(ch, 0, i64::MAX).is_err());
}

#[test]
fn outbox_orders_coalesces_seals_and_acks() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir, 4);
    let ch = with_channels(&mut store, 2);
    let a = ramp(10, 0);
    let b = ramp(3, 100_000);
    store.append(&tagged(ch[0], &a[..4])).unwrap();
    store.append(&tagged(ch[1], &b)).unwrap();
    store.append(&tagged(ch[0], &a[4..7])).unwrap(); // joins channel 0's row
    assert_eq!(store.outbox_stats().unwrap(), OutboxStats { batches: 2, samples: 10, oldest: Some(0) });

    let batches = store.outbox_next(10).unwrap();
    assert_eq!(batches.len(), 2);
    assert!(batches[0].id < batches[1].id);
    assert_eq!((batches[0].channel, batches[0].samples.clone()), (ch[0], a[..7].to_vec()));
    assert_eq!((batches[1].channel, batches[1].samples.clone()), (ch[1], b.clone()));

    // Sealed: new samples start a new batch, so the ack drops only what was sent.
    store.append(&tagged(ch[0], &a[7..])).unwrap();
    store.outbox_ack(batches[0].id).unwrap();
    store.outbox_ack(batches[0].id).unwrap(); // again: harmless
    let rest = store.outbox_next(10).unwrap();
    assert_eq!(rest.len(), 2);
    assert_eq!(rest[0].id, batches[1].id);
    assert_eq!(rest[1].samples, a[7..].to_vec());
    assert!(rest[1].id > batches[1].id);
    store.outbox_ack(rest[0].id).unwrap();
    store.outbox_ack(rest[1].id).unwrap();
    assert_eq!(store.outbox_stats().unwrap(), OutboxStats { batches: 0, samples: 0, oldest: None });
}

#[test]
fn outbox_splits_bulk_appends_at_the_cap() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir, 1024);
    let ch = with_channels(&mut store, 1)[0];
    let n = OUTBOX_BATCH_CAP as usize * 2 + 5;
    let s = ramp(n, 0);
    store.append(&tagged(ch, &s[..5])).unwrap();
    store.append(&tagged(ch, &s[5..])).unwrap();
    let batches = store.outbox_next(100).unwrap();
    assert_eq!(batches.iter().map(|b| b.samples.len()).collect::<Vec<_>>(), vec![10_000, 10_000, 5]);
    let all: Vec<Sample> = batches.into_iter().flat_map(|b| b.samples).collect();
    assert_eq!(all, s);
}

#[test]
fn readonly_store_reads_while_writer_is_open() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = open(&dir, 4);
    let ch = with_channels(&mut writer, 1)[0];
    writer.append(&tagged(ch, &ramp(6, 0))).unwrap();
    let reader = Store::open_readonly(&dir.path().join("cache.db")).unwrap();
    assert_eq!(reader.range(ch, 0, i64::MAX).unwrap().len(), 6);
    writer.append(&tagged(ch, &ramp(3, 10_000))).unwrap();
    assert_eq!(reader.range(ch, 0, i64::MAX).unwrap().len(), 9);
    // Looking at the outbox from a reader does not close the open batch.
    assert_eq!(reader.outbox_next(5).unwrap()[0].samples.len(), 9);
    assert_eq!(count(&writer, "SELECT count(*) FROM outbox WHERE seq_to < 1000"), 0);
    assert_eq!(reader.latest().unwrap()[0].1.t, 12_000);
    writer.append(&tagged(ch, &ramp(1, 20_000))).unwrap();
    assert_eq!(reader.outbox_stats().unwrap().samples, 10);
    assert!(Store::open_readonly(&dir.path().join("missing.db")).is_err());
}

#[test]
fn a_repeated_event_is_one_row_with_its_count_and_first_time() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir, 4);
    for k in 0..40i64 {
        let mut ev =
            Event::new(1000 + k * 1000, Some("dmm".into()), EventKind::Error, format!("poll failed (reply: \"{k}\")"));
        // As the poller stamps a repeat (poll::repeats).
        (ev.count, ev.first_t) = (k as u32 + 1, 1000);
        store.record_event(&ev).unwrap();
        if k == 20 {
            // Another instrument's event in between does not split the count.
            store.record_event(&Event::new(21_500, Some("other".into()), EventKind::Error, "x".into())).unwrap();
        }
    }
    let evs = store.events(None, Some("dmm"), 100).unwrap();
    assert_eq!(evs.len(), 1, "{evs:#?}");
    let ev = &evs[0];
    assert_eq!((ev.count, ev.first_t, ev.first(), ev.t), (40, 1000, 1000, 40_000));
    assert_eq!(ev.message, "poll failed (reply: \"39\")", "the latest message");
    assert_eq!(count(&store, "SELECT count(*) FROM event"), 2);
    // Single events read back with a count of one and their own time.
    let other = &store.events(None, Some("other"), 10).unwrap()[0];
    assert_eq!((other.count, other.first()), (1, 21_500));
}

#[test]
fn an_event_keeps_its_text_to_be_shown_in_any_language() {
    use meterdeck_wire::i18n::Text;
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir, 4);
    let timeout = Text::new("driver.timeout").arg("target", "10.0.0.5:5025").arg("timeout", "2s");
    let said = Event::said(
        5_000,
        Some("dmm".into()),
        EventKind::Error,
        Text::new("evt.pollFailed").text_arg("error", timeout),
    );
    assert_eq!(said.message, "poll failed: 10.0.0.5:5025: no reply within 2s");
    store.record_event(&said).unwrap();
    store.record_event(&Event::new(6_000, None, EventKind::Error, "older words".into())).unwrap();
    // A row whose text was damaged on disk shows its English message.
    store.conn().execute("UPDATE event SET text = '{not json' WHERE t = 6000", []).unwrap();
    let evs = store.events(None, None, 10).unwrap();
    assert_eq!(evs[0].text, None);
    assert_eq!(evs[0].message, "older words");
    let back = evs[1].text.as_ref().expect("the text is kept");
    assert_eq!(back, said.text.as_ref().unwrap());
    assert_eq!(back.render("de"), "Abfrage fehlgeschlagen: 10.0.0.5:5025: keine Antwort innerhalb von 2s");
    assert_eq!(back.render("ja"), "ポーリング失敗: 10.0.0.5:5025: 2s 以内に応答がありません");
}

#[test]
fn events_states_and_settings() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir, 4);
    with_channels(&mut store, 1);
    for (t, inst, kind) in [
        (1, Some("lr1"), EventKind::Connected),
        (2, None, EventKind::AgentStarted),
        (3, Some("lr1"), EventKind::Disconnected),
    ] {
        store.record_event(&Event::new(t, inst.map(String::from), kind, format!("m{t}"))).unwrap();
    }
    let all = store.events(None, None, 10).unwrap();
    assert_eq!(all.iter().map(|e| e.t).collect::<Vec<_>>(), vec![3, 2, 1]);
    assert_eq!(store.events(Some(2), Some("lr1"), 10).unwrap().len(), 1);
    assert_eq!(store.events(None, None, 1).unwrap()[0].kind, EventKind::Disconnected);

    let refused = crate::model::Text::plain("connection refused");
    store.set_instrument_state("lr1", ConnState::Error, Some(&refused), Some(42)).unwrap();
    store.set_instrument_state("lr1", ConnState::Reconnecting, None, None).unwrap();
    let st = &store.instrument_states().unwrap()[0];
    assert_eq!(
        (st.state, st.reason.as_deref(), st.last_poll, st.family.as_str()),
        (ConnState::Reconnecting, None, Some(42), "hioki-logger")
    );
    assert!(store.set_instrument_state("ghost", ConnState::Connected, None, None).is_err());

    assert_eq!(store.setting("k").unwrap(), None);
    store.set_setting("k", "v1").unwrap();
    store.set_setting("k", "v2").unwrap();
    assert_eq!(store.setting("k").unwrap().as_deref(), Some("v2"));
}

const PER_DAY: i64 = 4320;

/// Fills `days` days of one noisy sample per 20 s, in day-sized appends:
/// enough bytes that the fixed pages of the schema do not dominate.
fn fill_days(store: &mut Store, ch: ChannelId, start: i64, days: i64) {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for d in 0..days {
        let s: Vec<Sample> = (0..PER_DAY)
            .map(|m| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                Sample::number(start + d * DAY + m * 20_000, (x % 100_000) as f64 / 1000.0)
            })
            .collect();
        store.append(&tagged(ch, &s)).unwrap();
    }
}

#[test]
fn retention_keeps_unsynced_14_days_and_deletes_synced_first() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir, 256);
    let ch = with_channels(&mut store, 2);
    let now = 100 * DAY;
    fill_days(&mut store, ch[0], now - 30 * DAY, 30); // synced below
    fill_days(&mut store, ch[1], now - 30 * DAY, 30); // never synced
    loop {
        let batches = store.outbox_next(1000).unwrap();
        let mine: Vec<_> = batches.iter().filter(|b| b.channel == ch[0]).collect();
        if mine.is_empty() {
            break;
        }
        mine.iter().for_each(|b| store.outbox_ack(b.id).unwrap());
    }
    let before = store.size_bytes().unwrap();
    // A quota that the synced channel alone can satisfy.
    let policy = RetentionPolicy { quota_bytes: before * 3 / 4, keep_unsynced: Duration::from_secs(1), keep_max: None };
    let r = store.enforce_retention(&policy, now).unwrap();
    assert!(r.deleted_synced_samples > 0 && r.lost_unsynced() == 0, "{r:?}");
    assert_eq!(store.count_in_range(ch[1], 0, i64::MAX).unwrap(), 30 * PER_DAY as u64);

    // A tiny quota: unsynced data beyond 14 days goes, the last 14 days stay
    // ... unless the quota cannot be met: then the report says so.
    let r = store.enforce_retention(&RetentionPolicy { quota_bytes: 1, ..policy.clone() }, now).unwrap();
    assert!(r.deleted_unsynced_samples > 0 && r.deleted_recent_unsynced_samples > 0 && r.over_quota, "{r:?}");
    // The event is kept as a message each reader sees in their language.
    assert!(
        r.summary().starts_with("retention deleted ") && r.summary().ends_with("bytes; still over quota"),
        "{}",
        r.summary()
    );
    assert_eq!(r.text().render("en"), r.summary());
    let de = r.text().render("de");
    assert!(de.starts_with("Aufbewahrung löschte ") && de.ends_with("Kontingent weiterhin überschritten"), "{de}");
    // The outbox no longer references deleted samples.
    let remaining = store.count_in_range(ch[1], 0, i64::MAX).unwrap();
    let stats = store.outbox_stats().unwrap();
    assert!(
        stats.samples >= remaining && stats.samples <= remaining + OUTBOX_BATCH_CAP as u64,
        "{stats:?} {remaining}"
    );
    assert_eq!(store.integrity_check().unwrap(), "ok");
}

#[test]
fn retention_with_room_keeps_14_days_of_unsynced_data() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir, 256);
    let ch = with_channels(&mut store, 1)[0];
    let now = 100 * DAY;
    fill_days(&mut store, ch, now - 20 * DAY, 20);
    let size = store.size_bytes().unwrap();
    // Quota allows ~80%: deleting unsynced data older than 14 days (30%) suffices.
    let policy =
        RetentionPolicy { quota_bytes: size * 8 / 10, keep_unsynced: Duration::from_secs(14 * 86_400), keep_max: None };
    let r = store.enforce_retention(&policy, now).unwrap();
    assert!(r.deleted_unsynced_samples > 0, "{r:?}");
    assert_eq!(r.deleted_recent_unsynced_samples, 0);
    assert_eq!(store.count_in_range(ch, now - 14 * DAY, now).unwrap(), 14 * PER_DAY as u64);
    assert!(store.size_bytes().unwrap() < size, "incremental vacuum shrinks the file");

    // keep_max deletes old synced data regardless of the quota, never recent unsynced data.
    let big = RetentionPolicy {
        quota_bytes: u64::MAX,
        keep_unsynced: MIN_KEEP_UNSYNCED,
        keep_max: Some(Duration::from_secs(86_400)),
    };
    let r = store.enforce_retention(&big, now).unwrap();
    assert_eq!(r.deleted_recent_unsynced_samples, 0);
    assert_eq!(store.count_in_range(ch, now - 14 * DAY, now).unwrap(), 14 * PER_DAY as u64);
}

/// Brute-force M4 over samples in storage order.
/// (count, specials, first, last, min, max) of one bucket.
type Brute = (u64, u64, Option<(i64, f64)>, Option<(i64, f64)>, Option<(i64, f64)>, Option<(i64, f64)>);

fn brute_m4(samples: &[Sample], from: i64, to: i64, n: usize) -> Vec<Brute> {
    let w = to as i128 - from as i128;
    let mut out = vec![(0u64, 0u64, None, None, None, None); n];
    for s in samples.iter().filter(|s| s.t >= from && s.t < to) {
        let b = ((s.t as i128 - from as i128) * n as i128 / w) as usize;
        let o: &mut Brute = &mut out[b];
        o.0 += 1;
        match s.value {
            Value::Special(_) => o.1 += 1,
            Value::Number(v) => {
                if o.2.is_none_or(|(t, _)| s.t < t) {
                    o.2 = Some((s.t, v));
                }
                if o.3.is_none_or(|(t, _)| s.t >= t) {
                    o.3 = Some((s.t, v));
                }
                if o.4.is_none_or(|(_, m)| v < m) {
                    o.4 = Some((s.t, v));
                }
                if o.5.is_none_or(|(_, m)| v > m) {
                    o.5 = Some((s.t, v));
                }
            }
        }
    }
    out
}

fn sample_stream() -> impl Strategy<Value = Vec<Sample>> {
    let step = prop_oneof![8 => 0i64..2_000, 1 => -3_000i64..0];
    let value = prop_oneof![
        6 => (-500i64..500).prop_map(|i| Value::Number(i as f64 / 10.0)),
        1 => prop::sample::select(SpecialKind::ALL.to_vec()).prop_map(Value::Special),
    ];
    prop::collection::vec((step, value), 0..400).prop_map(|v| {
        let mut t = 0;
        v.into_iter()
            .map(|(dt, value)| {
                t += dt;
                Sample { t, value }
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn queries_match_brute_force(
        samples in sample_stream(),
        block_samples in 1usize..40,
        cuts in prop::collection::vec(0usize..400, 0..6),
        a in -10_000i64..500_000,
        w in 1i64..500_000,
        n in 1usize..60,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(&dir, block_samples);
        let ch = with_channels(&mut store, 2);
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(samples.len())).collect();
        cuts.push(0);
        cuts.push(samples.len());
        cuts.sort();
        for pair in cuts.windows(2) {
            // Interleave a second channel so appends hold several channels.
            let mut batch = tagged(ch[0], &samples[pair[0]..pair[1]]);
            batch.push((ch[1], Sample::number(pair[0] as i64, 1.0)));
            store.append(&batch).unwrap();
        }
        let (from, to) = (a, a + w);
        let expect: Vec<Sample> = samples.iter().copied().filter(|s| s.t >= from && s.t < to).collect();
        prop_assert_eq!(store.range(ch[0], i64::MIN, i64::MAX).unwrap(), samples.clone());
        prop_assert_eq!(store.range(ch[0], from, to).unwrap(), expect.clone());
        prop_assert_eq!(store.count_in_range(ch[0], from, to).unwrap(), expect.len() as u64);
        for limit in [0, n as u64, expect.len() as u64, expect.len().saturating_sub(1) as u64] {
            prop_assert_eq!(store.count_exceeds(ch[0], from, to, limit).unwrap(), expect.len() as u64 > limit, "limit {}", limit);
        }
        let got: Vec<_> = store.m4(ch[0], from, to, n).unwrap().into_iter()
            .map(|b| (b.count, b.specials, b.first, b.last, b.min, b.max)).collect();
        let brute = brute_m4(&samples, from, to, n);
        // minmax: the same extreme values (ties may pick another timestamp).
        let mm: Vec<_> = store.minmax(ch[0], from, to, n).unwrap().into_iter()
            .map(|b| (b.min.map(|m| m.1), b.max.map(|m| m.1))).collect();
        let want: Vec<_> = brute.iter().map(|b| (b.4.map(|m| m.1), b.5.map(|m| m.1))).collect();
        prop_assert_eq!(mm, want);
        prop_assert_eq!(got, brute);
        let outboxed: Vec<Sample> = store.outbox_next(1000).unwrap().into_iter()
            .filter(|b| b.channel == ch[0]).flat_map(|b| b.samples).collect();
        prop_assert_eq!(outboxed, samples);
    }
}

#[test]
fn m4_buckets_cover_the_range_and_use_summaries() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir, 16);
    let ch = with_channels(&mut store, 1)[0];
    store.append(&tagged(ch, &ramp(1000, 0))).unwrap();
    let b = store.m4(ch, 0, 1_000_000, 10).unwrap();
    assert_eq!(b.len(), 10);
    assert_eq!((b[0].t_start, b[9].t_end), (0, 1_000_000));
    assert!(b.iter().all(|x| x.count == 100));
    assert_eq!(b[3].min, Some((300_000, 30.0)));
    assert_eq!(b[3].max, Some((399_000, 39.9)));
    assert!(store.m4(ch, 5, 5, 10).unwrap().is_empty());
    assert!(store.m4(ch, 0, 10, 0).unwrap().is_empty());
    assert!(store.m4(ch + 1, 0, 10, 3).is_err());
}

/// The bundled SQLite re-prepares some statements on every new binding
/// unless the query planner stability guarantee is on (see schema.rs).
#[test]
fn hot_statements_are_not_reprepared() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir, 8);
    let ch = with_channels(&mut store, 1)[0];
    store.append(&tagged(ch, &ramp(100, 0))).unwrap();
    for i in 0..10 {
        store.count_in_range(ch, i * 1000, i * 5000 + 7).unwrap();
    }
    let st = store.conn.prepare_cached(query::BLOCK_BOUNDS_IN_RANGE).unwrap();
    assert_eq!(st.get_status(rusqlite::StatementStatus::Run), 10);
    assert_eq!(st.get_status(rusqlite::StatementStatus::RePrepare), 0);
}

/// Issue 17: the demo's week written behind a running agent. The newest
/// samples come first (numbered after room left for the older ones), the
/// agent appends on its own connection, and the older samples are
/// backfilled newest chunk first from another connection.
#[test]
fn backfilled_older_samples_read_in_time_order_and_sync_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut agent = open(&dir, 64);
    let ch = with_channels(&mut agent, 2);
    let all = ramp(5_000, 1_000_000);
    let (older, newer) = all.split_at(3_000);
    agent.start_channel_at(ch[0], 3_000).unwrap();
    // Reserving twice, or below what is numbered, is refused.
    agent.append(&tagged(ch[0], &newer[..500])).unwrap();
    let e = agent.start_channel_at(ch[0], 4_000).unwrap_err().to_string();
    assert!(e.contains("already holds samples"), "{e}");
    assert_eq!(agent.seq_floor(ch[0]).unwrap(), 3_000);
    assert_eq!(agent.seq_floor(ch[1]).unwrap(), 0);

    let mut history =
        Store::open(&dir.path().join("cache.db"), StoreOptions { block_samples: 64, ..Default::default() }).unwrap();
    let mut next = 500;
    for k in (0..3).rev() {
        // The agent keeps appending between the history's chunks.
        agent.append(&tagged(ch[0], &newer[next..next + 500])).unwrap();
        agent.append(&tagged(ch[1], &ramp(7, 0))).unwrap();
        next += 500;
        let (a, b) = (k * 1_000, (k + 1) * 1_000);
        // Overlapping what is there is refused and changes nothing.
        let e = history.backfill(ch[0], a as i64 + 1, &older[a..b]).unwrap_err().to_string();
        assert!(e.contains("do not lie below"), "{e}");
        history.backfill(ch[0], a as i64, &older[a..b]).unwrap();
        assert_eq!(agent.seq_floor(ch[0]).unwrap(), a as i64);
        // Meanwhile every read is the stored part, in time order.
        let got = agent.range(ch[0], 0, i64::MAX).unwrap();
        assert_eq!(got, [&older[a..], &newer[..next]].concat());
    }
    agent.append(&tagged(ch[0], &newer[next..])).unwrap();
    assert!(history.backfill(ch[0], -10, &older[..10]).is_err(), "below seq 0");

    let reader = Store::open_readonly(&dir.path().join("cache.db")).unwrap();
    assert_eq!(reader.range(ch[0], 0, i64::MAX).unwrap(), all);
    assert_eq!(reader.extent(ch[0]).unwrap(), Some((all[0].t, all[4_999].t)));
    assert_eq!(reader.count_in_range(ch[0], 0, i64::MAX).unwrap(), 5_000);
    // Min/max per pixel from the cached summaries (read before and after more blocks came).
    let want = reader.m4(ch[0], all[0].t, all[4_999].t + 1, 37).unwrap();
    let mm = reader.minmax(ch[0], all[0].t, all[4_999].t + 1, 37).unwrap();
    assert_eq!(
        mm.iter().map(|b| (b.min, b.max)).collect::<Vec<_>>(),
        want.iter().map(|b| (b.min, b.max)).collect::<Vec<_>>()
    );

    // The cloud gets every sample exactly once, each batch in seq order.
    let mut synced: Vec<(i64, Sample)> = Vec::new();
    loop {
        let batches = agent.outbox_next(7).unwrap();
        if batches.is_empty() {
            break;
        }
        for b in batches {
            if b.channel == ch[0] {
                assert_eq!(b.samples.len() as i64, b.seq_to - b.seq_from);
                synced.extend((b.seq_from..).zip(b.samples));
            }
            agent.outbox_ack(b.id).unwrap();
        }
    }
    synced.sort_by_key(|x| x.0);
    assert_eq!(synced.iter().map(|x| x.0).collect::<Vec<_>>(), (0..5_000).collect::<Vec<_>>());
    assert_eq!(synced.into_iter().map(|x| x.1).collect::<Vec<_>>(), all);

    // Reopened, the channel continues after its newest sample.
    drop((agent, history));
    let mut agent = open(&dir, 64);
    agent.append(&tagged(ch[0], &ramp(1, 9_000_000))).unwrap();
    assert_eq!(agent.seq_floor(ch[0]).unwrap(), 0);
    assert_eq!(agent.range(ch[0], 0, i64::MAX).unwrap().len(), 5_001);
    assert_eq!(agent.outbox_next(10).unwrap()[0].seq_from, 5_000);
}

/// Dense raw data (issue 17: 1M points over a day, a block or two per
/// pixel): most blocks straddle buckets and are decoded on all cores. The
/// answer is M4's min and max (with ties, another time of the same value
/// may be named, as with one thread).
#[test]
fn minmax_of_dense_blocks_decoded_in_parallel_is_exact() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir, 32);
    let ch = with_channels(&mut store, 1)[0];
    let mut x = 12345u64;
    let samples: Vec<Sample> = (0..40_000i64)
        .map(|i| {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let t = i * 100 + (x >> 60) as i64; // not quite regular
            match (x >> 33) % 97 {
                0 => Sample::special(t, SpecialKind::OverRange),
                k => Sample::number(t, ((x >> 40) % 50) as f64 + (k % 3) as f64), // many ties
            }
        })
        .collect();
    store.append(&tagged(ch, &samples)).unwrap();
    let reader = Store::open_readonly(&dir.path().join("cache.db")).unwrap();
    for (from, to, n) in [(0, 4_000_000, 1_000), (-50_000, 4_100_000, 333), (123_456, 2_345_678, 700)] {
        let want = reader.m4(ch, from, to, n).unwrap();
        let got = reader.minmax(ch, from, to, n).unwrap();
        assert_eq!(got.len(), want.len());
        let value = |m: Option<(i64, f64)>| m.map(|m| m.1);
        for (g, w) in got.iter().zip(&want) {
            let at = format!("{from}..{to}/{n}, bucket {}", g.t_start);
            assert_eq!((g.t_start, g.t_end), (w.t_start, w.t_end), "{at}");
            assert_eq!((value(g.min), value(g.max)), (value(w.min), value(w.max)), "{at}");
            // With ties, the time is one holding that value in the bucket.
            for (t, v) in [g.min, g.max].into_iter().flatten() {
                assert!((g.t_start..g.t_end).contains(&t), "{at}");
                assert!(samples.iter().any(|s| s.t == t && s.value.as_number() == Some(v)), "{at}");
            }
        }
    }
}
