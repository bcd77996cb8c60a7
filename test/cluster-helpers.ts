import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Job, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { cli, root } from './cli-helpers.js';

/** The cluster fixtures: workers' DAG file, the `work` agent, and a diamond of it. */
export const fixtures = join(root, 'test/fixtures/cluster');
export const dagFile = join(fixtures, 'dag.yaml');
export const work = join(fixtures, 'agents/work.js');
/** A `--host` module: its `note` service counts host calls in a marker file. */
export const hostModule = join(fixtures, 'host.js');
export const dag = {
  a: { agent: 'work', prompt: 'a' },
  b: { agent: 'work', prompt: 'b', depends_on: ['a'] },
  c: { agent: 'work', prompt: 'c', depends_on: ['a'] },
  d: { agent: 'work', prompt: 'd', depends_on: ['b', 'c'] },
};

/** A real `agentpool worker` child process. */
export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  /** Resolves once it has exited (code or signal). */
  exited: Promise<void>;
  stderr: () => string;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
}

/**
 * Spawns `agentpool worker <file> --redis <url>` and resolves once it has
 * printed its ready line (it takes jobs and has announced itself).
 */
export function startWorker(
  file: string,
  url: string,
  options: {
    threads?: number;
    lockMs?: number;
    stalledMs?: number;
    prefix?: string;
    host?: string;
    /** Added to this process's environment. */
    env?: Record<string, string>;
  } = {},
): Promise<WorkerProcess> {
  const args = [cli, 'worker', file, '--redis', url, '--threads', String(options.threads ?? 1)];
  if (options.lockMs !== undefined) args.push('--lock-ms', String(options.lockMs));
  if (options.stalledMs !== undefined) args.push('--stalled-ms', String(options.stalledMs));
  if (options.prefix !== undefined) args.push('--prefix', options.prefix);
  if (options.host !== undefined) args.push('--host', options.host);
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let out = '';
    const onExit = () => reject(new Error(`worker exited before it was ready: ${err}`));
    child.once('exit', onExit);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (!out.includes(' ready: ')) return;
      child.off('exit', onExit);
      resolve({
        child,
        pid: child.pid as number,
        exited,
        stderr: () => err,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    });
  });
}

/** A real `agentpool run <file> …args` planner child process, and its exit with its output. */
export function spawnPlanner(args: string[], file = dagFile, env: Record<string, string> = {}) {
  return spawnNode([cli, 'run', file, ...args], env);
}

/** A Node child process (`args` after the executable, from the repo root), and its exit with its output. */
export function spawnNode(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once('exit', (code) => resolve({ code, stdout, stderr })),
  );
  return { child, exited };
}

/** Resolves once run `runId`'s planner lease is gone from Redis (lapsed, 5 s after its planner stopped renewing it, or released): polled. */
export async function leaseGone(client: Redis, runId: string): Promise<void> {
  while ((await client.exists(`agentpool:lease:${runId}`)) === 1)
    await new Promise((resolve) => setTimeout(resolve, 100));
}

/** Lines of a marker file (one per execution), [] while it does not exist. */
export async function markerLines(path: string): Promise<string[]> {
  try {
    return (await readFile(path, 'utf8')).trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

/** Resolves once `path` has at least `count` lines (polled: the file is written by another process). */
export async function waitForLines(path: string, count: number): Promise<string[]> {
  for (;;) {
    const lines = await markerLines(path);
    if (lines.length >= count) return lines;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Resolves with a job's end once BullMQ has recorded it: its state is read
 * (polled), not heard from QueueEvents, which can miss an event that fires
 * while it starts listening (seen here: a 30 s hang, 1 run in 20).
 */
export async function jobEnd(
  queue: Queue,
  id: string,
): Promise<
  { state: 'completed'; returnvalue: unknown } | { state: 'failed'; failedReason: string }
> {
  for (;;) {
    // State first, then the job: read the other way, a job read just
    // before it completed shows the new state but no return value yet.
    const state = await queue.getJobState(id);
    const job =
      state === 'completed' || state === 'failed' ? await Job.fromId(queue, id) : undefined;
    if (job !== undefined && state === 'completed') return { state, returnvalue: job.returnvalue };
    if (job !== undefined && state === 'failed') return { state, failedReason: job.failedReason };
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * `promise`, or a rejection after `ms` naming the step it was and what
 * `state()` reads at that moment: a remote step that never ends fails with
 * where it stopped, not as a bare test timeout.
 */
export async function within<T>(
  ms: number,
  step: string,
  promise: Promise<T>,
  state: () => Promise<string>,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        void state().then(
          (seen) => reject(new Error(`${step}: not done after ${ms} ms (${seen})`)),
          (error: unknown) => reject(new Error(`${step}: not done after ${ms} ms (${error})`)),
        ),
      ms,
    );
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
