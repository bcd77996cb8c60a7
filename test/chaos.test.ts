import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  createRuntime,
  type DagInput,
  type RunResult,
  type Runtime,
  type TaskInput,
} from 'agentpool';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain JS fixture without types
import { expectedOutput } from './fixtures/chaos.js';
import { Gates } from './gates.js';
import { fixture } from './helpers.js';

// CHAOS_TASKS and CHAOS_SEEDS scale the suite up; the defaults keep it well under a minute.
const TASKS = Number(process.env.CHAOS_TASKS ?? 500);
const SEEDS = Number(process.env.CHAOS_SEEDS ?? 2);
// A run must end within this (generous: a 500-task run takes a few seconds); the test, a little later.
const BOUND_MS = Math.max(60_000, TASKS * 120);

/** Each way an agent misbehaves, the limits that provoke it, and the code its task must fail with. */
const MODES: Record<string, { code: string; task?: Partial<TaskInput> }> = {
  throw: { code: 'E_CHAOS' },
  reject: { code: 'E_CHAOS' },
  oom: { code: 'ERR_MEMORY_LIMIT', task: { limits: { memoryMb: 32 } } },
  spin: { code: 'ERR_TASK_TIMEOUT', task: { timeoutMs: 100 } },
  exit: { code: 'ERR_WORKER_CRASHED' },
  tokens: { code: 'ERR_TOKEN_BUDGET', task: { limits: { tokens: 100 } } },
  uncloneable: { code: 'ERR_OUTPUT_NOT_CLONEABLE' },
  oversized: { code: 'ERR_OUTPUT_TOO_LARGE', task: { limits: { outputBytes: 1_000 } } },
  'chunks-then-fail': { code: 'E_CHAOS' },
};

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random DAG where about one task in ten misbehaves; dependencies reach up to 20 tasks back. */
function chaosDag(seed: number, size: number): { dag: DagInput; modes: Map<string, string> } {
  const random = mulberry32(seed);
  const names = Object.keys(MODES);
  const dag: DagInput = {};
  const modes = new Map<string, string>();
  for (let i = 0; i < size; i++) {
    const id = `t${i}`;
    const mode = random() < 0.1 ? (names[Math.floor(random() * names.length)] as string) : 'ok';
    const deps = new Set<string>();
    const count = i === 0 ? 0 : Math.floor(random() * 3);
    for (let k = 0; k < count; k++) deps.add(`t${Math.max(0, i - 1 - Math.floor(random() * 20))}`);
    modes.set(id, mode);
    dag[id] = { agent: 'chaos', depends_on: [...deps], context: { mode }, ...MODES[mode]?.task };
  }
  return { dag, modes };
}

/** What every task must end as: misbehaving ones failed, their dependents skipped, the rest done. */
function expectedStatuses(dag: DagInput, modes: Map<string, string>): Map<string, string> {
  const status = new Map<string, string>();
  for (const [id, task] of Object.entries(dag)) {
    const deps = (task.depends_on ?? []) as string[];
    if (deps.some((d) => status.get(d) !== 'done')) status.set(id, 'skipped');
    else status.set(id, modes.get(id) === 'ok' ? 'done' : 'failed');
  }
  return status;
}

const gc = (() => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

describe('chaos', () => {
  let runtime: Runtime;
  const ends = new Map<string, number>();
  beforeAll(() => {
    runtime = createRuntime({
      threads: 2,
      retries: 0,
      timeoutGraceMs: 50,
      agents: {
        chaos: fixture('chaos'),
        echo: fixture('echo'),
        ...Object.fromEntries(
          Array.from({ length: SEEDS }, (_, k) => [`gate-${k + 1}`, fixture('gate')]),
        ),
      },
    });
    runtime.on('task', (event) => {
      if ('result' in event)
        ends.set(`${event.runId}/${event.id}`, (ends.get(`${event.runId}/${event.id}`) ?? 0) + 1);
    });
  });
  afterAll(() => runtime.close());

  async function chaosRun(
    seed: number,
  ): Promise<{ run: RunResult; dag: DagInput; modes: Map<string, string> }> {
    const { dag, modes } = chaosDag(seed, TASKS);
    const run = await runtime.execute(dag, { runId: `chaos-${seed}-${Math.random()}` });
    return { run, dag, modes };
  }

  for (let seed = 1; seed <= SEEDS; seed++) {
    it(
      `isolates every failure (seed ${seed}, ${TASKS} tasks)`,
      async () => {
        const started = Date.now();
        const { run, dag, modes } = await chaosRun(seed);
        expect(Date.now() - started).toBeLessThan(BOUND_MS);
        const expected = expectedStatuses(dag, modes);
        expect(run.total).toBe(TASKS);
        for (const [id, status] of expected) {
          const result = run.tasks[id];
          // Each task ended exactly once, with the one status it had to.
          expect(ends.get(`${run.runId}/${id}`), id).toBe(1);
          // A wrong status names what the task ended with (its error, if any).
          const got = result?.status === 'done' ? 'done' : JSON.stringify(result?.error);
          expect(result?.status, `${id} (${modes.get(id)}): ${got}`).toBe(status);
          if (result?.status === 'failed')
            expect(result.error.code, `${id} (${modes.get(id)})`).toBe(
              MODES[modes.get(id) as string]?.code,
            );
          if (result?.status === 'skipped') expect(result.error.code).toBe('ERR_UPSTREAM_FAILED');
          if (result?.status === 'done') {
            const deps = (dag[id]?.depends_on ?? []) as string[];
            expect(result.output).toEqual(expectedOutput(id, deps));
          }
        }
        const failures = [...modes.values()].filter((m) => m !== 'ok').length;
        expect(failures).toBeGreaterThan(TASKS / 20);
        expect(run.failed).toBeGreaterThan(0);
        expect(run.skipped).toBeGreaterThan(0);

        // The same runtime then runs clean tasks, and on two healthy threads
        // at once: each of x and y waits for the other to have begun. (Counting
        // the threads a fan-out of 20 echoes used was a race: from the second
        // seed on, echo is a known short agent, its 20 attempts travel in
        // three messages, and all three fit one thread's window while the
        // other is still being replaced after the chaos run.) Each seed's pair
        // uses an agent never run before, so neither attempt is short: a short
        // one may queue behind a busy thread, here behind the other of the pair.
        const clean = await runtime.fanOut('echo', Array.from({ length: 20 }, String));
        expect(clean.every((r) => r.status === 'done')).toBe(true);
        const { cells } = new Gates();
        const pair = await runtime.execute({
          x: { agent: `gate-${seed}`, prompt: 'arrive 0; wait 1', context: { cells } },
          y: { agent: `gate-${seed}`, prompt: 'arrive 1; wait 0', context: { cells } },
        });
        expect(pair.done).toBe(2);
        expect(new Set([pair.tasks.x?.threadId, pair.tasks.y?.threadId]).size).toBe(2);
      },
      BOUND_MS + 30_000,
    );
  }

  it(
    'does not grow the main-thread heap across repeated chaos runs',
    async () => {
      await chaosRun(101);
      gc();
      const before = process.memoryUsage().heapUsed;
      for (let k = 0; k < 5; k++) await chaosRun(102 + k);
      gc();
      const grown = process.memoryUsage().heapUsed - before;
      expect(grown).toBeLessThan(8 * 1024 * 1024);
    },
    6 * BOUND_MS,
  );
});
