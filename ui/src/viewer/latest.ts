// Zoom and pan requests coalesced (issue 17): one fetch runs at a time;
// requests made meanwhile replace each other (only the newest waits), and
// an answer for anything but the newest request is dropped, never painted.
// A storm of 20 zooms costs one or two fetches and paints the last range.

export interface Answer<Q, A> {
  q: Q;
  a: A;
  /** The request's number: increasing, the newest is `LatestOnly.newest`. */
  gen: number;
}

export class LatestOnly<Q, A> {
  private gen = 0;
  private waiting: { q: Q; gen: number } | null = null;
  private running = false;
  /** Answers fetched but not painted because a newer request was made. */
  dropped = 0;

  constructor(
    private fetch: (q: Q, gen: number) => Promise<A>,
    private apply: (r: Answer<Q, A>) => void,
    private fail: (e: unknown, gen: number) => void,
  ) {}

  get newest(): number {
    return this.gen;
  }

  get busy(): boolean {
    return this.running;
  }

  /** Queues `q` in place of any request still waiting; returns its number. */
  request(q: Q): number {
    const gen = ++this.gen;
    this.waiting = { q, gen };
    if (!this.running) void this.pump();
    return gen;
  }

  /** Drops whatever is waiting or running (the answer will not be painted). */
  cancel(): void {
    this.gen++;
    this.waiting = null;
  }

  private async pump(): Promise<void> {
    this.running = true;
    try {
      while (this.waiting) {
        const { q, gen } = this.waiting;
        this.waiting = null;
        try {
          const a = await this.fetch(q, gen);
          if (gen === this.gen) this.apply({ q, a, gen });
          else this.dropped++;
        } catch (e) {
          if (gen === this.gen) this.fail(e, gen);
        }
      }
    } finally {
      this.running = false;
    }
  }
}

/** A bounded cache of fetches by key (the neighbouring ranges fetched ahead
 * for a pan): the oldest entry goes first; an entry is good for `ttl(key)`
 * ms; a failed fetch is forgotten. */
export class FetchCache<A> {
  private map = new Map<string, { at: number; p: Promise<A> }>();
  hits = 0;

  constructor(
    private max: number,
    private ttl: (key: string, fetchedAt: number) => number,
    private now: () => number = () => Date.now(),
  ) {}

  get size(): number {
    return this.map.size;
  }

  has(key: string): boolean {
    return this.fresh(key) !== undefined;
  }

  private fresh(key: string): Promise<A> | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    if (this.now() - e.at > this.ttl(key, e.at)) {
      this.map.delete(key);
      return undefined;
    }
    return e.p;
  }

  /** The cached fetch of `key`, else `fetch()` kept under it. */
  get(key: string, fetch: () => Promise<A>): Promise<A> {
    const hit = this.fresh(key);
    if (hit) {
      this.hits++;
      // Most recently used last: the first in the map is the one to evict.
      const e = this.map.get(key)!;
      this.map.delete(key);
      this.map.set(key, e);
      return hit;
    }
    const p = fetch();
    this.map.set(key, { at: this.now(), p });
    p.catch(() => {
      if (this.map.get(key)?.p === p) this.map.delete(key);
    });
    while (this.map.size > this.max) this.map.delete(this.map.keys().next().value as string);
    return p;
  }

  clear(): void {
    this.map.clear();
  }
}
