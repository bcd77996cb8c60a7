import { AgentpoolError, createRuntime, ERROR_CODES, type Runtime } from 'agentpool';
import { afterAll, describe, expect, it } from 'vitest';
import { fixture } from './helpers.js';

/**
 * Bad-input fuzzer: every option and DAG field, given values of every type,
 * seeded. The oracle: a value is either refused with a coded AgentpoolError
 * (an uncoded or foreign error fails), or accepted, and then a run with it
 * ends and `close()` resolves, each within a deadline (a hang fails).
 * FUZZ_INPUTS sets how many cases (default 120), FUZZ_SEED the seed.
 */
const CASES = Number(process.env.FUZZ_INPUTS ?? 120);
const SEED = Number(process.env.FUZZ_SEED ?? 11);
const DEADLINE_MS = 30_000;

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

/** Values of every type, the edges of each included. */
const VALUES: (() => unknown)[] = [
  () => undefined,
  () => null,
  () => true,
  () => false,
  () => 0,
  () => -1,
  () => 1,
  () => 1.5,
  () => 7,
  () => Number.NaN,
  () => Number.POSITIVE_INFINITY,
  () => Number.NEGATIVE_INFINITY,
  () => 2 ** 31,
  () => 2 ** 31 - 1,
  () => 1e12,
  () => Number.MAX_SAFE_INTEGER,
  () => 1e308,
  () => 10n,
  () => '',
  () => 'x',
  () => 'auto',
  () => '__proto__',
  () => 'all_done',
  () => 'o200k_base',
  () => Symbol('s'),
  () => () => 1,
  () => [],
  () => ['a', 1],
  () => ({}),
  () => JSON.parse('{"__proto__": {"polluted": 1}}'),
  () => Object.create(null),
  () => new Map([['a', 1]]),
  () => new Date(0),
  () => new URL('file:///nowhere.js'),
  () => new AbortController().signal,
  () =>
    Object.defineProperty({}, 'max', {
      enumerable: true,
      get() {
        throw new Error('getter threw');
      },
    }),
  () =>
    new Proxy(
      {},
      {
        ownKeys() {
          throw new Error('trap threw');
        },
        get() {
          throw new Error('trap threw');
        },
      },
    ),
];

const RUNTIME_FIELDS = [
  'threads',
  'agents',
  'retries',
  'timeoutMs',
  'timeoutGraceMs',
  'failFast',
  'balance',
  'inFlightPerThread',
  'limits',
  'runTokens',
  'encoding',
  'countTokens',
  'host',
  'idleTimeoutMs',
  'cache',
  'retries.max',
  'retries.backoffMs',
  'retries.factor',
  'retries.maxBackoffMs',
  'retries.jitter',
  'retries.on',
  'limits.memoryMb',
  'limits.tokens',
  'limits.outputBytes',
  'limits.cpuMs',
  'agents.echo',
  'agents.echo.concurrency',
  'agents.echo.timeoutMs',
  'agents.echo.retries',
  'agents.echo.limits',
  'agents.echo.version',
  'agents.echo.cache',
];
const TASK_FIELDS = [
  '',
  'agent',
  'prompt',
  'depends_on',
  'dependsOn',
  'context',
  'retries',
  'timeoutMs',
  'trigger',
  'cost',
  'priority',
  'limits',
  'limits.tokens',
  'limits.cpuMs',
  'limits.outputBytes',
  'cache',
  'unknownField',
];
const EXECUTE_FIELDS = ['', 'context', 'signal', 'failFast', 'runId', 'runTokens', 'cache'];

/** `base` with `value` at the dotted `path` ('' replaces it whole). */
function setAt(base: Record<string, unknown>, path: string, value: unknown): unknown {
  if (path === '') return value;
  const keys = path.split('.');
  const root = structuredClone(base);
  let node: Record<string, unknown> = root;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    node[key] = typeof next === 'object' && next !== null ? next : {};
    if (typeof next === 'string') node[key] = { module: next };
    node = node[key] as Record<string, unknown>;
  }
  node[keys.at(-1) as string] = value;
  return root;
}

function within<T>(what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hung: ${what}`)), DEADLINE_MS);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

const CODES = new Set<string>(ERROR_CODES);
function expectCoded(what: string, error: unknown): void {
  const ok = error instanceof AgentpoolError && CODES.has(error.code);
  if (!ok) throw new Error(`${what}: uncoded error ${String((error as Error)?.stack ?? error)}`);
}

function describeValue(value: unknown): string {
  try {
    return typeof value === 'bigint' || typeof value === 'symbol'
      ? String(value)
      : (JSON.stringify(value) ?? String(value));
  } catch {
    return 'an object that throws when read';
  }
}

const agents = { echo: fixture('echo').href };
const shared: Runtime = createRuntime({ threads: 1, agents });
afterAll(() => shared.close());

describe(`bad inputs (${CASES} cases, seed ${SEED})`, () => {
  it('are refused with a code, or work; never an uncoded error, never a hang', async () => {
    const random = rng(SEED);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
    const tally = { refused: 0, accepted: 0 };
    for (let c = 0; c < CASES; c++) {
      const value = pick(VALUES)();
      const where = pick(['runtime', 'task', 'execute'] as const);
      if (where === 'runtime') {
        const field = pick(RUNTIME_FIELDS);
        const what = `runtime ${field} = ${describeValue(value)}`;
        let runtime: Runtime;
        try {
          // Threads stay few whatever else is fuzzed (threads itself: at most its cap).
          const options = setAt({ threads: 1, agents }, field, value) as Record<string, unknown>;
          runtime = createRuntime(options);
        } catch (error) {
          expectCoded(what, error);
          tally.refused++;
          continue;
        }
        tally.accepted++;
        try {
          const run = await within(what, runtime.execute({ a: { agent: 'echo', prompt: 'x' } }));
          for (const result of Object.values(run.tasks))
            if (result.error)
              expect(CODES.has(result.error.code) || result.error.code.length > 0).toBe(true);
        } catch (error) {
          expectCoded(what, error);
        } finally {
          await within(`${what}: close()`, runtime.close({ cancel: true }));
        }
      } else {
        const field = pick(where === 'task' ? TASK_FIELDS : EXECUTE_FIELDS);
        const what = `${where} ${field || '(whole)'} = ${describeValue(value)}`;
        try {
          const dag =
            where === 'task'
              ? { a: setAt({ agent: 'echo', prompt: 'x' }, field, value) }
              : { a: { agent: 'echo', prompt: 'x' } };
          const options = where === 'execute' ? setAt({}, field, value) : undefined;
          const run = await within(what, shared.execute(dag as never, options as never));
          expect(Object.keys(run.tasks)).toEqual(['a']);
          tally.accepted++;
        } catch (error) {
          if ((error as Error).message.startsWith('hung:')) throw error;
          expectCoded(what, error);
          tally.refused++;
        }
      }
    }
    expect(tally.refused + tally.accepted).toBe(CASES);
  }, 600_000);
});
