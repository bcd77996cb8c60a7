import type { DagInput, Limits } from '../dag/schema.js';
import type { RunAgent } from '../planner/run-settings.js';
import type { TaskResult } from '../results.js';
import type { RetryPolicy } from '../retry.js';
import { decodeValue, encodeValue } from '../shared/clone.js';
import { AgentpoolError } from '../shared/errors.js';
import type { Encoding } from '../shared/protocol.js';

/**
 * What a run's journal holds about the run itself, written once when it
 * starts (before any task is dispatched): the DAG as `execute` got it (it
 * passed validation), the options a resume needs to run it the same way,
 * and the agents it uses (module and settings, and the hash of each module's
 * source when the run started). V8-serialized: a context's Map or Date and a
 * timeout of `Infinity` survive.
 */
export interface RunRecord {
  v: 1;
  runId: string;
  /** Epoch ms when this record was written (each planner that takes the run over writes it again). */
  startedAt: number;
  /** The DAG, or null for a batched `fanOut` (which cannot be resumed). */
  dag: DagInput | null;
  /** The run's agents: module (a file URL) and per-agent settings. */
  agents: Record<string, RunAgent>;
  /** `agentHash` of each agent's module, as the planner computed it. */
  hashes: Record<string, string>;
  /** The execute options (not the signal): context, and failFast and runTokens as the run applied them. */
  options: {
    context: Record<string, unknown>;
    failFast: boolean;
    runTokens: number | undefined;
    cache: boolean | { rerun: string[] } | undefined;
  };
  /** The runtime options each of its tasks ran under. */
  runtime: {
    retries: RetryPolicy;
    timeoutMs: number;
    timeoutGraceMs: number;
    limits: Limits;
    encoding: Encoding;
    countTokens: boolean;
    /** The task cache's directory, `false` for none, `'store'` for a store of the caller's own. */
    cache: false | { dir: string } | 'store';
  };
  /** The host services the planner registered (workers must offer them). */
  services: string[];
}

/**
 * A task's one terminal entry: its result, written before the task's end is
 * reported. The output is inline, unless the task's last attempt ran here
 * (`outputIn`: that attempt's number): then it is that attempt's journaled
 * reply, not copied.
 */
export type TaskEnd = Omit<TaskResult, 'output'> & { output?: unknown; outputIn?: number };

/** A task's result as its terminal entry. */
export function taskEnd(result: TaskResult): TaskEnd {
  if (result.status === 'done' && result.cached !== true && result.attempts > 0) {
    const { output: _output, ...rest } = result;
    return { ...rest, outputIn: result.attempts };
  }
  return result;
}

/** A value as base64 V8 bytes, or a coded error naming `what`. */
export function encodeEntry(value: unknown, what: string): string {
  try {
    return encodeValue(value).toString('base64');
  } catch (cause) {
    throw new AgentpoolError(
      'ERR_CLUSTER_JOURNAL_WRITE',
      `${what} cannot be serialized for the run's journal: ${(cause as Error).message}`,
      { cause },
    );
  }
}

/** What `encodeEntry` wrote. */
export function decodeEntry(text: string): unknown {
  return decodeValue(Buffer.from(text, 'base64'));
}
