import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type NewEntry, SqliteStore } from 'agentpool';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';

const index = fileURLToPath(new URL('../dist/src/index.js', import.meta.url));
const made: string[] = [];

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'agentpool-store-'));
  made.push(dir);
  return dir;
}

afterAll(async () => {
  for (const dir of made) await rm(dir, { recursive: true, force: true });
});

function entry(key: string, bytes: number, createdAt: number): NewEntry {
  return {
    key,
    taskId: `task-${key}`,
    agent: 'a',
    output: Buffer.alloc(bytes, 7),
    outputHash: `h-${key}`,
    tokens: 10,
    durationMs: 5,
    createdAt,
    runId: 'r1',
  };
}

// Writes entries k0, k1, ... in a loop, one transaction each, printing each key once it is committed.
const WRITER = `
import { SqliteStore } from ${JSON.stringify(index)};
const [dir, prefix, count] = process.argv.slice(2);
const store = new SqliteStore(dir);
const output = Buffer.alloc(20_000, 1);
for (let k = 0; k < Number(count); k++) {
  const key = prefix + k;
  store.put({ key, taskId: key, agent: 'w', output, outputHash: key, tokens: k, durationMs: 1, createdAt: Date.now(), runId: prefix });
  // Read back what the other writer wrote so far, as a second run would.
  store.get(prefix === 'p' ? 'q' + k : 'p' + k);
  process.stdout.write(key + '\\n');
}
store.close();
`;

function writer(
  script: string,
  args: string[],
  killAfter?: number,
): Promise<{ code: number | null; signal: string | null; committed: string[] }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args]);
    let text = '';
    child.stdout.on('data', (data: Buffer) => {
      text += data;
      if (killAfter !== undefined && text.split('\n').length > killAfter) child.kill('SIGKILL');
    });
    child.on('exit', (code, signal) =>
      resolve({ code, signal, committed: text.split('\n').filter(Boolean) }),
    );
  });
}

function integrity(dir: string): string {
  const db = new Database(join(dir, 'cache.sqlite'), { readonly: true });
  try {
    return db.pragma('integrity_check', { simple: true }) as string;
  } finally {
    db.close();
  }
}

describe('SqliteStore', { timeout: 120_000 }, () => {
  it('keeps every committed entry, whole, when its process is killed -9 while writing', async () => {
    const dir = await tempDir();
    const script = join(dir, 'writer.mjs');
    await writeFile(script, WRITER);
    for (const [round, killAfter] of [20, 55, 130].entries()) {
      const { signal, committed } = await writer(script, [dir, `r${round}-`, '100000'], killAfter);
      expect(signal).toBe('SIGKILL');
      expect(committed.length).toBeGreaterThanOrEqual(killAfter);
      expect(integrity(dir)).toBe('ok');
      const store = new SqliteStore(dir);
      for (const key of committed) {
        const found = store.get(key);
        expect(found?.output.byteLength).toBe(20_000);
      }
      store.close();
    }
  });

  it('serves two processes writing and reading at once', async () => {
    const dir = await tempDir();
    const script = join(dir, 'writer.mjs');
    await writeFile(script, WRITER);
    const [p, q] = await Promise.all([
      writer(script, [dir, 'p', '300']),
      writer(script, [dir, 'q', '300']),
    ]);
    expect([p.code, q.code]).toEqual([0, 0]);
    expect(integrity(dir)).toBe('ok');
    const store = new SqliteStore(dir);
    expect(store.stats().entries).toBe(600);
    expect(store.get('q299')?.runId).toBe('q');
    store.close();
  });

  it('prunes by last use, then by size (least recently used first), and clears', async () => {
    const dir = await tempDir();
    const store = new SqliteStore(dir);
    const day = 86_400_000;
    const now = Date.now();
    store.put(entry('old', 100, now - 10 * day));
    store.put(entry('older', 100, now - 20 * day));
    store.put(entry('mid', 300, now - 3 * day));
    store.put(entry('new', 400, now - 1 * day));
    store.put(entry('newest', 500, now));
    // Used yesterday: no longer "old" for prune.
    store.touch(['old'], now - day / 2);
    expect(store.stats()).toMatchObject({ entries: 5, bytes: 1400 });
    expect(store.prune({ olderThan: now - 7 * day })).toEqual({ removed: 1, bytes: 100 });
    expect(store.get('older')).toBeUndefined();
    expect(store.get('old')).toBeDefined();
    // 1300 bytes left; at most 1000: mid (used 3 days ago) goes first.
    expect(store.prune({ maxBytes: 1000 })).toEqual({ removed: 1, bytes: 300 });
    expect(store.get('mid')).toBeUndefined();
    expect(store.stats()).toMatchObject({ entries: 3, bytes: 1000 });
    // new (used a day ago) before old (touched half a day ago).
    expect(store.prune({ maxBytes: 600 })).toEqual({ removed: 1, bytes: 400 });
    expect(store.get('old')).toBeDefined();
    expect(store.get('newest')).toBeDefined();
    store.recordRun({
      runId: 'r',
      startedAt: now,
      lookups: 4,
      hits: 3,
      savedTokens: 30,
      savedMs: 15,
    });
    expect(store.stats().runs).toEqual([
      { runId: 'r', startedAt: now, lookups: 4, hits: 3, savedTokens: 30, savedMs: 15 },
    ]);
    expect(store.clear()).toEqual({ removed: 2, bytes: 600 });
    expect(store.stats()).toMatchObject({ entries: 0, bytes: 0, runs: [] });
    store.close();
  });

  it('gives the file space back after a prune', async () => {
    const dir = await tempDir();
    const store = new SqliteStore(dir);
    for (let k = 0; k < 200; k++) store.put(entry(`k${k}`, 50_000, Date.now()));
    store.prune({ maxBytes: 0 });
    const { fileBytes, entries } = store.stats();
    expect(entries).toBe(0);
    expect(fileBytes).toBeLessThan(1_000_000);
    store.close();
  });
  // Lookups in one tick share a read transaction (ReadBatch); a write in that
  // tick must still commit at once, or another process would not see it.
  it('commits a write at once even in a tick that has been reading, and reads what others committed since', async () => {
    const dir = await tempDir();
    const store = new SqliteStore(dir);
    const other = new SqliteStore(dir);
    store.put(entry('a', 10, Date.now()));
    expect(store.get('a')?.taskId).toBe('task-a'); // the tick's read transaction is open now
    store.put(entry('b', 10, Date.now()));
    expect(other.get('b')?.taskId).toBe('task-b'); // same tick: committed, not held by the batch
    other.put(entry('c', 10, Date.now()));
    await new Promise((resolve) => setImmediate(resolve));
    expect(store.get('c')?.taskId).toBe('task-c'); // a new tick reads a new snapshot
    store.close();
    other.close();
  });
});
