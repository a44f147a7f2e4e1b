//! Block summaries kept in memory between reads (issue 17: the Viewer
//! redraw). A year of 1 s data is ~30k blocks; reading their summary
//! columns from the index costs ~25 ms a query, about all of core's share of
//! a zoom or pan, while the summaries in memory are scanned in well under a
//! millisecond. Blocks are only ever inserted or deleted (never changed), so
//! a channel's cached list is checked against the block table's count, and
//! its highest and summed ids, in the reader's snapshot: new blocks are read
//! alone; anything else (retention deleted some) reloads the channel.

use std::collections::{HashMap, VecDeque};

use rusqlite::{Connection, params};

use super::error::Result;
use crate::model::ChannelId;

/// Channels kept (the Viewer shows at most 32 at once).
const KEEP_CHANNELS: usize = 32;

/// What min/max per pixel needs of a block.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct BlockBounds {
    pub id: i64,
    pub seq_first: i64,
    pub count: u64,
    pub t_min: i64,
    pub t_max: i64,
    pub min: Option<(i64, f64)>,
    pub max: Option<(i64, f64)>,
}

/// The block table's state for one channel: count, max id, sum of ids.
type Check = (i64, i64, i64);

struct Cached {
    check: Check,
    /// By (t_max, seq_first), as `BLOCK_SUMMARIES_IN_RANGE` reads them.
    blocks: Vec<BlockBounds>,
}

#[derive(Default)]
pub(crate) struct SummaryCache {
    channels: HashMap<ChannelId, Cached>,
    /// Least recently used first.
    order: VecDeque<ChannelId>,
}

const CHECK: &str = "SELECT count(*), coalesce(max(id), 0), coalesce(sum(id), 0) FROM block WHERE channel = ?1";
const BOUNDS: &str = "SELECT id, seq_first, count, t_min, t_max, min_t, min_v, max_t, max_v
     FROM block WHERE channel = ?1 AND id > ?2";

fn read_bounds(conn: &Connection, channel: ChannelId, after_id: i64, out: &mut Vec<BlockBounds>) -> Result<()> {
    let mut stmt = conn.prepare_cached(BOUNDS)?;
    let mut rows = stmt.query(params![channel, after_id])?;
    let pair = |t: Option<i64>, v: Option<f64>| t.zip(v);
    while let Some(r) = rows.next()? {
        out.push(BlockBounds {
            id: r.get(0)?,
            seq_first: r.get(1)?,
            count: r.get::<_, i64>(2)?.max(0) as u64,
            t_min: r.get(3)?,
            t_max: r.get(4)?,
            min: pair(r.get(5)?, r.get(6)?),
            max: pair(r.get(7)?, r.get(8)?),
        });
    }
    Ok(())
}

impl SummaryCache {
    /// The channel's blocks as of `conn`'s snapshot, by (t_max, seq_first).
    pub(crate) fn blocks(&mut self, conn: &Connection, channel: ChannelId) -> Result<&[BlockBounds]> {
        let check: Check =
            conn.prepare_cached(CHECK)?.query_row([channel], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        self.order.retain(|&c| c != channel);
        self.order.push_back(channel);
        if self.order.len() > KEEP_CHANNELS
            && let Some(old) = self.order.pop_front()
        {
            self.channels.remove(&old);
        }
        let stale = match self.channels.get(&channel) {
            Some(c) => c.check != check,
            None => true,
        };
        if stale {
            let mut cached = self.channels.remove(&channel);
            // Only inserts since: read the new blocks alone.
            if let Some(c) = cached.as_mut()
                && check.0 > c.check.0
                && check.1 > c.check.1
            {
                let had = c.blocks.len();
                read_bounds(conn, channel, c.check.1, &mut c.blocks)?;
                let added: i64 = c.blocks[had..].iter().map(|b| b.id).sum();
                if c.check.0 + (c.blocks.len() - had) as i64 == check.0 && c.check.2 + added == check.2 {
                    c.blocks.sort_by_key(|b| (b.t_max, b.seq_first));
                    c.check = check;
                } else {
                    cached = None;
                }
            } else {
                cached = None;
            }
            let c = match cached {
                Some(c) => c,
                None => {
                    let mut blocks = Vec::with_capacity(check.0.max(0) as usize);
                    read_bounds(conn, channel, i64::MIN, &mut blocks)?;
                    blocks.sort_by_key(|b| (b.t_max, b.seq_first));
                    Cached { check, blocks }
                }
            };
            self.channels.insert(channel, c);
        }
        Ok(self.channels.get(&channel).map_or(&[][..], |c| &c.blocks))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Sample;
    use crate::store::{Store, StoreOptions};

    fn direct(store: &Store, ch: ChannelId) -> Vec<BlockBounds> {
        let mut v = Vec::new();
        read_bounds(store.conn(), ch, i64::MIN, &mut v).unwrap();
        v.sort_by_key(|b| (b.t_max, b.seq_first));
        v
    }

    #[test]
    fn follows_inserts_and_deletes() {
        let dir = tempfile::tempdir().unwrap();
        let mut store =
            Store::open(&dir.path().join("s.db"), StoreOptions { block_samples: 4, ..Default::default() }).unwrap();
        store.upsert_instrument("i", "I", "scpi", "t").unwrap();
        let a = store.ensure_channel("i", "a", None).unwrap();
        let b = store.ensure_channel("i", "b", None).unwrap();
        let put = |store: &mut Store, ch, t0: i64, n: i64| {
            let s: Vec<_> = (t0..t0 + n).map(|t| (ch, Sample::number(t * 1000, (t % 7) as f64))).collect();
            store.append(&s).unwrap();
        };
        put(&mut store, a, 0, 40);
        put(&mut store, b, 0, 12);
        let mut cache = SummaryCache::default();
        assert_eq!(cache.blocks(store.conn(), a).unwrap(), &direct(&store, a)[..]);
        // Out of time order: sorted in, not appended.
        put(&mut store, a, -100, 8);
        put(&mut store, b, 12, 8);
        assert_eq!(cache.blocks(store.conn(), a).unwrap(), &direct(&store, a)[..]);
        assert_eq!(cache.blocks(store.conn(), b).unwrap(), &direct(&store, b)[..]);
        // A deleted block (retention) and a new one: reloaded.
        store
            .conn()
            .execute("DELETE FROM block WHERE id = (SELECT min(id) FROM block WHERE channel = ?1)", [a])
            .unwrap();
        put(&mut store, a, 200, 4);
        let got = cache.blocks(store.conn(), a).unwrap().to_vec();
        assert_eq!(got, direct(&store, a));
        assert!(got.iter().all(|x| x.count > 0));
    }
}
