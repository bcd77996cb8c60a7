import { sha256 } from './hash.js';

/**
 * Bumped whenever what goes into a key, or how, changes: entries written
 * under another format can never be hit.
 */
export const KEY_FORMAT = 1;

/**
 * Everything that determines a task's output, as the cache key sees it.
 * Not in it: the task's id (two tasks with the same inputs share an entry),
 * its retries, timeout, cost, priority, memory and CPU caps, output size
 * cap (none changes what a task that succeeds returns), the run's token
 * budget and id, the attempt number, the clock, the files and services an
 * agent reads, and the modules its module imports (declare a `version` for
 * those).
 */
export interface KeyInput {
  /** The agent's registered name. */
  agent: string;
  /** Hash of the agent module's own source bytes (see `sourceHash`). */
  source: string;
  /** The `version` the module declares with `defineAgent(handler, { version })`, if any. */
  version: string | undefined;
  /** The `version` of the agent's registration (`agents: { name: { module, version } }`), if any. */
  registered: string | undefined;
  prompt: string;
  /** `stableHash` of the merged context (the run's overlaid with the task's). */
  context: string;
  /** Each direct dependency that succeeded: its id and its output's `stableHash`. */
  deps: readonly (readonly [id: string, outputHash: string])[];
  /** Each direct dependency's final status (what `ctx.depStatus` shows and the trigger judged). */
  depStatus: readonly (readonly [id: string, status: string])[];
  /** The tokenizer encoding (token counts an agent sees depend on it). */
  encoding: string;
  /** The attempt's token limit (`ctx.tokens.limit`), if any. */
  tokenLimit: number | undefined;
}

/** The content address of a task: a hash of its `KeyInput`, order of dependencies aside. */
export function cacheKey(input: KeyInput): string {
  // Copies, sorted: the caller's arrays stay as given.
  const deps = input.deps.slice().sort(byId);
  const depStatus = input.depStatus.slice().sort(byId);
  // JSON of a fixed-shape array: unambiguous (strings are quoted and escaped), and no key order to go wrong.
  const canonical = JSON.stringify([
    KEY_FORMAT,
    input.agent,
    input.source,
    input.version ?? null,
    input.registered ?? null,
    input.prompt,
    input.context,
    deps,
    depStatus,
    input.encoding,
    input.tokenLimit ?? null,
  ]);
  return sha256(canonical);
}

function byId(a: readonly [string, string], b: readonly [string, string]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

/** Hash of an agent module's source bytes. */
export function sourceHash(bytes: Uint8Array): string {
  return sha256(bytes);
}
