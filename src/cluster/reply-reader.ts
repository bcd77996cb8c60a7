import type { Redis } from 'ioredis';
import type { ReplyEntry } from './outcome-wire.js';

/** How long one XREAD blocks before the loop checks whether it was closed. */
const BLOCK_MS = 1_000;
/** Entries read per call. */
const COUNT = 512;

/**
 * Reads a planner's replies stream in order, on a connection of its own
 * (XREAD BLOCK holds it), handing each entry over and deleting what it
 * read, so the stream holds only what is unread.
 */
export class ReplyReader {
  readonly #redis: Redis;
  readonly #key: string;
  readonly #onEntry: (entry: ReplyEntry) => void;
  #closed = false;
  readonly #loop: Promise<void>;

  constructor(redis: Redis, key: string, onEntry: (entry: ReplyEntry) => void) {
    this.#redis = redis;
    this.#key = key;
    this.#onEntry = onEntry;
    this.#loop = this.#read();
  }

  async #read(): Promise<void> {
    let last = '0-0';
    while (!this.#closed) {
      let reply: [string, [string, string[]][]][] | null;
      try {
        reply = (await this.#redis.xread(
          'COUNT',
          COUNT,
          'BLOCK',
          BLOCK_MS,
          'STREAMS',
          this.#key,
          last,
        )) as [string, [string, string[]][]][] | null;
      } catch {
        // Closed under it, or Redis away: ioredis reconnects; read again.
        if (this.#closed) return;
        continue;
      }
      const entries = reply?.[0]?.[1] ?? [];
      for (const [id, fields] of entries) {
        last = id;
        if (fields[0] === 'k' && fields[1] === 'm') this.#bundle(fields);
        else {
          const entry: Record<string, string> = {};
          for (let i = 0; i + 1 < fields.length; i += 2)
            entry[fields[i] as string] = fields[i + 1] as string;
          this.#onEntry(entry as unknown as ReplyEntry);
        }
      }
      if (entries.length > 0) void this.#redis.xtrim(this.#key, 'MINID', last).catch(() => {});
    }
  }

  /** A worker's gathered starts and replies (see `ReplyWriter`), handed over one by one, in order. */
  #bundle(fields: string[]): void {
    for (let i = 2; i + 1 < fields.length; i += 2) {
      const field = fields[i] as string;
      const j = field.slice(2);
      if (field.startsWith('s:')) this.#onEntry({ k: 's', j });
      else if (field.startsWith('d:')) this.#onEntry({ k: 'd', j, b: fields[i + 1] as string });
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#redis.disconnect();
    await this.#loop;
  }
}
