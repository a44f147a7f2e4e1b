//! Alarm persistence: the state of every alarm (so alarms come back after a
//! restart as they were, shelve times and out of service included) and the
//! journal of every transition and notification attempt.

use rusqlite::types::Type;
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use super::engine::Transition;
use super::lifecycle::{AckInfo, Action, AlarmState, Phase};
use super::rule::Severity;
use crate::model::{TimeMs, Value};
use crate::store::SchemaPart;

/// The journal's and the alarm states' tables in the store's file.
pub const SCHEMA_PART: SchemaPart = SchemaPart { name: "alarm_journal", ddl: SCHEMA, migrations: &[] };

pub const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS alarm_state (
    alarm_id       TEXT PRIMARY KEY NOT NULL,
    rule_id        TEXT NOT NULL,
    fingerprint    INTEGER NOT NULL,
    phase          TEXT NOT NULL,
    since          INTEGER NOT NULL,
    raised_at      INTEGER,
    raised_values  TEXT,
    raised_text    TEXT,
    ack_user       TEXT,
    ack_comment    TEXT,
    ack_t          INTEGER,
    shelved_until  INTEGER,
    out_of_service INTEGER NOT NULL DEFAULT 0,
    last_notified  INTEGER
);
CREATE TABLE IF NOT EXISTS alarm_journal (
    id          INTEGER PRIMARY KEY,
    t           INTEGER NOT NULL,
    alarm_id    TEXT NOT NULL,
    rule_id     TEXT NOT NULL,
    name        TEXT NOT NULL,
    severity    TEXT NOT NULL,
    action      TEXT NOT NULL,
    from_state  TEXT NOT NULL,
    to_state    TEXT NOT NULL,
    user        TEXT,
    comment     TEXT,
    vals        TEXT,
    destination TEXT
);
CREATE INDEX IF NOT EXISTS alarm_journal_by_time ON alarm_journal (t);
CREATE INDEX IF NOT EXISTS alarm_journal_by_alarm ON alarm_journal (alarm_id, t);
"#;

pub const DEFAULT_QUERY_LIMIT: usize = 500;
pub const MAX_QUERY_LIMIT: usize = 10_000;

/// The contract's `JournalEntry`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct JournalEntry {
    pub id: i64,
    pub t: TimeMs,
    pub alarm_id: String,
    pub rule_id: String,
    pub name: String,
    pub action: Action,
    pub from_state: String,
    pub to_state: String,
    pub user: Option<String>,
    pub comment: Option<String>,
    pub values: Option<String>,
    pub severity: Severity,
}

/// `from`/`to` inclusive; newest first; `limit` defaults to 500, at most 10,000.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct JournalFilter {
    pub from: Option<TimeMs>,
    pub to: Option<TimeMs>,
    pub alarm_id: Option<String>,
    pub action: Option<Action>,
    pub limit: Option<usize>,
}

fn bad(col: usize, what: &str, value: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(col, Type::Text, format!("unexpected {what} {value:?}").into())
}

pub fn save_state(conn: &Connection, s: &AlarmState) -> rusqlite::Result<()> {
    let values = (!s.raised_values.is_empty()).then(|| serde_json::to_string(&s.raised_values).unwrap_or_default());
    conn.prepare_cached(
        "INSERT OR REPLACE INTO alarm_state (alarm_id, rule_id, fingerprint, phase, since, raised_at, raised_values,
         raised_text, ack_user, ack_comment, ack_t, shelved_until, out_of_service, last_notified)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?
    .execute(params![
        s.alarm_id,
        s.rule_id,
        s.fingerprint as i64,
        s.phase.as_str(),
        s.since,
        s.raised_at,
        values,
        s.raised_text,
        s.ack.as_ref().map(|a| &a.user),
        s.ack.as_ref().and_then(|a| a.comment.as_ref()),
        s.ack.as_ref().map(|a| a.t),
        s.shelved_until,
        s.out_of_service,
        s.last_notified,
    ])?;
    Ok(())
}

pub fn delete_state(conn: &Connection, alarm_id: &str) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM alarm_state WHERE alarm_id = ?1")?.execute([alarm_id])?;
    Ok(())
}

/// Makes the table hold exactly `states` (after `AlarmEngine::set_rules`), in one savepoint.
pub fn save_states<'a>(conn: &Connection, states: impl IntoIterator<Item = &'a AlarmState>) -> rusqlite::Result<()> {
    conn.execute_batch("SAVEPOINT alarm_states; DELETE FROM alarm_state;")?;
    let res = states.into_iter().try_for_each(|s| save_state(conn, s));
    match res {
        Ok(()) => conn.execute_batch("RELEASE alarm_states"),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK TO alarm_states; RELEASE alarm_states");
            Err(e)
        }
    }
}

fn state_row(r: &Row) -> rusqlite::Result<AlarmState> {
    let phase: String = r.get(3)?;
    let values: Option<String> = r.get(6)?;
    let ack_user: Option<String> = r.get(8)?;
    Ok(AlarmState {
        alarm_id: r.get(0)?,
        rule_id: r.get(1)?,
        fingerprint: r.get::<_, i64>(2)? as u64,
        phase: Phase::parse(&phase).ok_or_else(|| bad(3, "alarm phase", &phase))?,
        since: r.get(4)?,
        raised_at: r.get(5)?,
        // Non-finite numbers do not survive JSON; the values are only for display.
        raised_values: values.and_then(|v| serde_json::from_str::<Vec<(String, Value)>>(&v).ok()).unwrap_or_default(),
        raised_text: r.get(7)?,
        ack: match ack_user {
            Some(user) => Some(AckInfo { user, comment: r.get(9)?, t: r.get::<_, Option<i64>>(10)?.unwrap_or(0) }),
            None => None,
        },
        shelved_until: r.get(11)?,
        out_of_service: r.get(12)?,
        last_notified: r.get(13)?,
    })
}

/// Every stored state; rows this build cannot read are skipped with a warning.
pub fn load_states(conn: &Connection) -> rusqlite::Result<Vec<AlarmState>> {
    let mut stmt = conn.prepare_cached(
        "SELECT alarm_id, rule_id, fingerprint, phase, since, raised_at, raised_values, raised_text, ack_user,
         ack_comment, ack_t, shelved_until, out_of_service, last_notified FROM alarm_state ORDER BY alarm_id",
    )?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        match state_row(r) {
            Ok(s) => out.push(s),
            Err(e) => tracing::warn!("skipping unreadable alarm state row: {e}"),
        }
    }
    Ok(out)
}

pub fn append(conn: &Connection, t: &Transition) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "INSERT INTO alarm_journal (t, alarm_id, rule_id, name, severity, action, from_state, to_state, user,
         comment, vals) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        t.t,
        t.alarm_id,
        t.rule_id,
        t.name,
        t.severity.as_str(),
        t.action.as_str(),
        t.from,
        t.to,
        t.user,
        t.comment,
        t.values,
    ])?;
    Ok(conn.last_insert_rowid())
}

/// A notification attempt (`notify_ok`, `notify_failed`, `notify_retry`) for
/// `destination`; rule, name, severity and state are taken from the alarm's
/// latest journal entry. `comment` reads `<destination>: <detail>`.
pub fn append_delivery(
    conn: &Connection,
    alarm_id: &str,
    action: Action,
    destination: &str,
    detail: &str,
    t: TimeMs,
) -> rusqlite::Result<i64> {
    if !matches!(action, Action::NotifyOk | Action::NotifyFailed | Action::NotifyRetry) {
        return Err(rusqlite::Error::ToSqlConversionFailure(
            format!("append_delivery takes notify_ok, notify_failed or notify_retry, not {}", action.as_str()).into(),
        ));
    }
    let last: Option<(String, String, String, String)> = conn
        .prepare_cached(
            "SELECT rule_id, name, severity, to_state FROM alarm_journal WHERE alarm_id = ?1 ORDER BY id DESC LIMIT 1",
        )?
        .query_row([alarm_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()?;
    let (rule_id, name, severity, state) = last.unwrap_or_else(|| {
        let rule = alarm_id.split(':').next().unwrap_or(alarm_id).to_string();
        (rule, alarm_id.to_string(), Severity::Medium.as_str().to_string(), Phase::Normal.as_str().to_string())
    });
    let comment = if detail.trim().is_empty() { destination.to_string() } else { format!("{destination}: {detail}") };
    conn.prepare_cached(
        "INSERT INTO alarm_journal (t, alarm_id, rule_id, name, severity, action, from_state, to_state, comment,
         destination) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8, ?9)",
    )?
    .execute(params![t, alarm_id, rule_id, name, severity, action.as_str(), state, comment, destination])?;
    Ok(conn.last_insert_rowid())
}

pub fn query(conn: &Connection, f: &JournalFilter) -> rusqlite::Result<Vec<JournalEntry>> {
    // Only the conditions given, so SQLite can use the indexes.
    let mut sql = String::from(
        "SELECT id, t, alarm_id, rule_id, name, action, from_state, to_state, user, comment, vals, severity
         FROM alarm_journal WHERE 1",
    );
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    let mut cond = |clause: &str, v: rusqlite::types::Value| {
        args.push(v);
        sql.push_str(&format!(" AND {clause} ?{}", args.len()));
    };
    if let Some(from) = f.from {
        cond("t >=", from.into());
    }
    if let Some(to) = f.to {
        cond("t <=", to.into());
    }
    if let Some(id) = &f.alarm_id {
        cond("alarm_id =", id.clone().into());
    }
    if let Some(a) = f.action {
        cond("action =", a.as_str().to_string().into());
    }
    let limit = f.limit.unwrap_or(DEFAULT_QUERY_LIMIT).min(MAX_QUERY_LIMIT);
    sql.push_str(&format!(" ORDER BY t DESC, id DESC LIMIT {limit}"));
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let action: String = r.get(5)?;
        let severity: String = r.get(11)?;
        out.push(JournalEntry {
            id: r.get(0)?,
            t: r.get(1)?,
            alarm_id: r.get(2)?,
            rule_id: r.get(3)?,
            name: r.get(4)?,
            action: Action::parse(&action).ok_or_else(|| bad(5, "journal action", &action))?,
            from_state: r.get(6)?,
            to_state: r.get(7)?,
            user: r.get(8)?,
            comment: r.get(9)?,
            values: r.get(10)?,
            severity: Severity::parse(&severity).ok_or_else(|| bad(11, "severity", &severity))?,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alarm::{AlarmEngine, AlarmRule};
    use crate::model::SpecialKind;

    fn db() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join("alarm.db")).unwrap();
        conn.execute_batch(SCHEMA).unwrap();
        conn.execute_batch(SCHEMA).unwrap(); // idempotent
        (dir, conn)
    }

    fn rules() -> Vec<AlarmRule> {
        let json = serde_json::json!([
            {"id": "hot", "kind": "threshold", "channel": "l/t", "op": ">", "value": 80.0, "severity": "critical"},
            {"id": "link", "kind": "connection"},
            {"id": "odd", "kind": "special", "channel": "l/p"}
        ]);
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn states_round_trip() {
        let (_d, conn) = db();
        let mut s = AlarmState::new("a:x/y".into(), "a".into(), u64::MAX - 3, 5);
        s.raise(
            10,
            vec![("x/y".into(), Value::Number(1.5)), ("x/z".into(), Value::Special(SpecialKind::NoData))],
            None,
        );
        s.ack("ann", "on it", 20).unwrap();
        s.shelve(1_000, "ann", "", 30).unwrap();
        save_state(&conn, &s).unwrap();
        let mut t = AlarmState::new("b".into(), "b".into(), 1, 0);
        t.raise(1, vec![("x/y".into(), Value::Number(f64::INFINITY))], Some("why".into()));
        t.set_out_of_service(true, "bob", "", 2).unwrap();
        save_state(&conn, &t).unwrap();
        let loaded = load_states(&conn).unwrap();
        assert_eq!(loaded[0], s);
        assert_eq!(loaded[1].raised_values, vec![]); // infinity does not survive JSON
        assert_eq!((loaded[1].out_of_service, loaded[1].raised_text.as_deref()), (true, Some("why")));
        delete_state(&conn, "b").unwrap();
        assert_eq!(load_states(&conn).unwrap().len(), 1);
        save_states(&conn, [&t]).unwrap();
        assert_eq!(load_states(&conn).unwrap()[0].alarm_id, "b");
        conn.execute("UPDATE alarm_state SET phase = 'WEIRD'", []).unwrap();
        assert!(load_states(&conn).unwrap().is_empty());
    }

    #[test]
    fn restart_keeps_alarm_states() {
        let (_d, conn) = db();
        let tz = chrono_tz::Europe::Berlin;
        let mut e = AlarmEngine::new(rules(), tz, Vec::new());
        let mut all = e.on_sample("l/t", 1_000, Value::Number(90.0));
        all.extend(e.ack("hot", "ann", "checking", 2_000).unwrap());
        all.extend(e.on_connection("dev1", false, Some("timeout"), 3_000));
        all.extend(e.shelve("link:dev1", 100_000, "ann", "known", 4_000).unwrap());
        all.extend(e.on_sample("l/p", 5_000, Value::Special(SpecialKind::OverRange)));
        all.extend(e.set_out_of_service("odd", true, "bob", "sensor swap", 6_000).unwrap());
        for t in &all {
            append(&conn, t).unwrap();
        }
        save_states(&conn, e.states()).unwrap();
        let before: Vec<AlarmState> = e.states().cloned().collect();

        let mut e2 = AlarmEngine::new(rules(), tz, load_states(&conn).unwrap());
        let mut after: Vec<AlarmState> = e2.states().cloned().collect();
        let mut before = before;
        before.sort_by(|a, b| a.alarm_id.cmp(&b.alarm_id));
        after.sort_by(|a, b| a.alarm_id.cmp(&b.alarm_id));
        assert_eq!(after, before);
        assert_eq!(e2.state("hot").unwrap().phase, Phase::Acked);
        assert_eq!(e2.state("link:dev1").unwrap().shelved_until, Some(100_000));
        assert!(e2.state("odd").unwrap().out_of_service);
        // Still active: an ordinary value clears it, the deadband-free way.
        let tr = e2.on_sample("l/t", 10_000, Value::Number(70.0));
        assert_eq!((tr[0].action, tr[0].to.as_str()), (Action::Return, "NORM"));
        // Shelve ends on time after the restart.
        assert!(e2.tick(99_999).is_empty());
        let tr = e2.tick(100_000);
        assert_eq!((tr[0].action, tr[0].t, tr[0].user.as_deref()), (Action::Unshelve, 100_000, None));

        // A rule changed while the app was closed: reset, journalled on the first tick.
        let mut changed = rules();
        changed[0].value = Some(85.0);
        let mut e3 = AlarmEngine::new(changed, tz, load_states(&conn).unwrap());
        assert_eq!(e3.state("hot").unwrap().phase, Phase::Normal);
        let tr = e3.tick(7_000);
        assert!(tr.iter().any(|t| t.alarm_id == "hot" && t.action == Action::Return && t.from == "ACKED"));
    }

    #[test]
    fn journal_query_and_deliveries() {
        let (_d, conn) = db();
        let mut e = AlarmEngine::new(rules(), chrono_tz::UTC, Vec::new());
        let mut all = e.on_sample("l/t", 1_000, Value::Number(90.0));
        all.extend(e.ack("hot", "ann", "", 2_000).unwrap());
        all.extend(e.on_sample("l/t", 3_000, Value::Number(10.0)));
        for t in &all {
            append(&conn, t).unwrap();
        }
        append_delivery(&conn, "hot", Action::NotifyFailed, "ops-mail", "550 mailbox full", 1_500).unwrap();
        append_delivery(&conn, "ghost:x", Action::NotifyOk, "desk", "", 1_600).unwrap();
        assert!(append_delivery(&conn, "hot", Action::Ack, "desk", "", 1).is_err());

        let everything = query(&conn, &JournalFilter::default()).unwrap();
        assert_eq!(everything.len(), 5);
        assert_eq!(everything[0].action, Action::Return);
        assert_eq!(everything.last().unwrap().action, Action::Raise);
        let raise = everything.last().unwrap();
        assert_eq!(
            (raise.from_state.as_str(), raise.to_state.as_str(), raise.severity, raise.values.as_deref()),
            ("NORM", "UNACK", Severity::Critical, Some("l/t = 90"))
        );
        let hot = query(&conn, &JournalFilter { alarm_id: Some("hot".into()), ..Default::default() }).unwrap();
        assert_eq!(hot.len(), 4);
        let fails = query(&conn, &JournalFilter { action: Some(Action::NotifyFailed), ..Default::default() }).unwrap();
        assert_eq!(fails[0].comment.as_deref(), Some("ops-mail: 550 mailbox full"));
        assert_eq!(fails[0].rule_id, "hot");
        let window = query(&conn, &JournalFilter { from: Some(1_500), to: Some(2_000), ..Default::default() }).unwrap();
        assert_eq!(window.iter().map(|e| e.t).collect::<Vec<_>>(), [2_000, 1_600, 1_500]);
        let one = query(&conn, &JournalFilter { limit: Some(1), ..Default::default() }).unwrap();
        assert_eq!(one.len(), 1);
        let j = serde_json::to_value(&everything[0]).unwrap();
        let keys: Vec<&str> = j.as_object().unwrap().keys().map(String::as_str).collect();
        for k in [
            "id",
            "t",
            "alarm_id",
            "rule_id",
            "name",
            "action",
            "from_state",
            "to_state",
            "user",
            "comment",
            "values",
            "severity",
        ] {
            assert!(keys.contains(&k), "{k}");
        }
    }
}
