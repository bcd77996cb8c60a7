import { availableParallelism } from 'node:os';
import { z } from 'zod';
import {
  intDelaySchema,
  MAX_IN_FLIGHT_PER_THREAD,
  MAX_THREADS,
  timeLimitSchema,
} from './bounds.js';
import { cacheOptionsSchema, executeCacheSchema } from './cache/options.js';
import { redisOptionSchema } from './cluster/settings.js';
import { contextSchema } from './dag/context.js';
import { limitsSchema } from './dag/schema.js';
import { retryOverrideSchema, retryPolicySchema } from './retry.js';
import { describe, OptionsError } from './shared/errors.js';
import { ENCODINGS } from './shared/protocol.js';
import { formatPath, issueText, narrowUnions } from './zod-text.js';

const moduleSchema = z.union([z.instanceof(URL), z.string().min(1)], {
  error: 'expected a module path, file URL string or URL',
});

/**
 * An agent: where its module is, plus optional settings for all its tasks.
 * A bare path or URL is shorthand for `{ module }`.
 */
export const agentSpecSchema = z.union([
  moduleSchema,
  z.strictObject({
    /** Path (relative to the working directory), file URL string, or URL of the agent module. */
    module: moduleSchema,
    /** Most tasks of this agent running at once (for agents behind a rate-limited service). Default: no cap beyond `threads`. */
    concurrency: z.int().positive().optional(),
    /** Retry override for this agent's tasks. */
    retries: retryOverrideSchema.optional(),
    /** Time limit of each of this agent's attempts, in ms; `0` or `Infinity`: none. */
    timeoutMs: timeLimitSchema.optional(),
    /** Limits for this agent's tasks (over the runtime's, under each task's). */
    limits: limitsSchema.optional(),
    /**
     * Part of the cache key of this agent's tasks: change it when their
     * outputs change for a reason no source file shows (a model, a data
     * file, a service). See "Caching" in the README.
     */
    version: z.string().min(1).optional(),
    /** `false`: this agent's tasks are never cached (an agent whose side effects must happen every time). @default true */
    cache: z.boolean().optional(),
  }),
]);
export type AgentSpec = z.input<typeof agentSpecSchema>;

/** `createRuntime` options; every field has a default. */
export const runtimeOptionsSchema = z.strictObject({
  /**
   * Worker threads: a number, or 'auto' for `os.availableParallelism()`.
   * 0 runs every task inline on the main thread, one at a time (debugging, tests).
   * At most 1024.
   * @default 'auto'
   */
  threads: z.union([z.int().min(0).max(MAX_THREADS), z.literal('auto')]).default('auto'),
  /** Agents by name. @default {} */
  agents: z.record(z.string().min(1), agentSpecSchema).default({}),
  /** Retry policy for every task, unless an agent or task overrides it. @default { max: 1, backoffMs: 500, factor: 2, maxBackoffMs: 30000, jitter: true } */
  retries: retryOverrideSchema.optional(),
  /**
   * Time limit of one attempt, counted from its start, in ms: at most
   * 2147483647 (Node's longest timer, about 24.8 days); `0` or `Infinity`
   * (YAML `.inf`) for no time limit. @default 300000
   */
  timeoutMs: timeLimitSchema.default(300_000),
  /**
   * How long an attempt past its timeout may take to stop after its
   * `ctx.signal` aborts before its thread is terminated, in ms (at most
   * 2147483647). @default 250
   */
  timeoutGraceMs: intDelaySchema.default(250),
  /** Cancel every queued task at the first failure. @default false */
  failFast: z.boolean().default(false),
  /** How a free thread is chosen for a task (piscina's loadBalancer). @default 'least-busy' */
  balance: z.enum(['least-busy', 'round-robin']).default('least-busy'),
  /**
   * Most attempts posted to one thread at once, so the next is at hand the
   * moment one ends and the thread does not wait for the main thread in
   * between. Short tasks (agents averaging under a millisecond) queue up to
   * this many deep behind each other; a longer task waits on deck (one per
   * thread) behind a running one only where the planner's priority order
   * holds (see "The DAG format" in the README). A thread still runs one
   * attempt at a time. Short attempts of one agent handed out together
   * travel in one message of up to half this many (none below 4; see
   * docs/internals.md). 1 turns both off; at most 1024.
   * @default 16
   */
  inFlightPerThread: z.int().min(1).max(MAX_IN_FLIGHT_PER_THREAD).default(16),
  /** Default limits of every task (see the DAG's `limits`). @default {} */
  limits: limitsSchema.default({}),
  /** Token budget shared by a whole run across all threads; `execute(dag, { runTokens })` overrides it. @default none */
  runTokens: z.int().min(0).optional(),
  /** Tokenizer encoding for token budgets. @default 'o200k_base' */
  encoding: z.enum(ENCODINGS).default('o200k_base'),
  /** Count prompt and output tokens of every task, even without a budget (loads the tokenizer in every thread). @default false */
  countTokens: z.boolean().default(false),
  /** Functions agents call on the main thread as `await ctx.host.name(...args)`. @default {} */
  host: z
    .record(
      z.string().min(1),
      z.custom<(...args: never[]) => unknown>(
        (v) => typeof v === 'function',
        'expected a function',
      ),
    )
    .default({}),
  /** Idle threads above `threads` are not kept; kept threads exit after this long idle, in ms (at most 2147483647). @default 30000 */
  idleTimeoutMs: intDelaySchema.default(30_000),
  /** The task cache: `{ dir }` for a store in that directory (see "Caching" in the README). @default off */
  cache: cacheOptionsSchema.default(false),
  /**
   * Run attempts on `agentpool worker` processes through this Redis (a URL,
   * or `{ url, prefix }`) instead of local threads; `threads` is then
   * unused. See "Running on many machines" in the README. @default local threads
   */
  redis: redisOptionSchema.optional(),
});
export type RuntimeOptions = z.input<typeof runtimeOptionsSchema>;
export type ResolvedOptions = Omit<z.output<typeof runtimeOptionsSchema>, 'threads' | 'retries'> & {
  threads: number;
  retries: z.output<typeof retryPolicySchema>;
};

/** Options of one `execute` / `stream` call. */
export const executeOptionsSchema = z.strictObject({
  /** Global context every task sees (under its own `context`); every key is data (`__proto__` too). @default {} */
  context: contextSchema.default({}),
  /** Aborting cancels the run: queued tasks end `cancelled`, running ones are stopped. */
  signal: z.instanceof(AbortSignal).optional(),
  /** Overrides the runtime's `failFast` for this run. */
  failFast: z.boolean().optional(),
  /** Id reported in results and events. @default a random id */
  runId: z.string().min(1).optional(),
  /** Token budget of this run, overriding the runtime's `runTokens`. */
  runTokens: z.int().min(0).optional(),
  /** `false`: this run neither reads nor writes the runtime's cache; `{ rerun: [ids or globs] }`: those tasks and their dependents ignore it. @default true when the runtime has a cache */
  cache: executeCacheSchema.optional(),
});
export type ExecuteOptions = z.input<typeof executeOptionsSchema>;

/** Parses options with a schema, or throws `OptionsError` naming each bad field and the value received. */
export function parseOptions<S extends z.ZodType>(
  schema: S,
  input: unknown,
  where: string,
): z.output<S> {
  let parsed: z.ZodSafeParseResult<z.output<S>>;
  try {
    parsed = schema.safeParse(input ?? {});
  } catch (cause) {
    // A getter or proxy trap in the caller's own object threw while it was read.
    const reason = cause instanceof Error ? cause.message : describe(cause);
    throw new OptionsError(`Invalid ${where}: reading them threw: ${reason}`, { cause });
  }
  if (parsed.success) return parsed.data;
  // The same wording as the DAG's fields: `limits.tokens: expected an integer, got 1.5`.
  const lines = narrowUnions(parsed.error.issues).map((issue) => {
    const field = formatPath('', issue.path);
    const text = issueText(issue, input, schema);
    // At the top level these are the caller's options: `thread` is an unknown option.
    if (issue.code === 'unrecognized_keys' && field === '')
      return `${where}: ${text.replaceAll('unknown field', 'unknown option')}`;
    return `${field || where}: ${text}`;
  });
  throw new OptionsError(`Invalid ${where}:\n  ${lines.join('\n  ')}`, { cause: parsed.error });
}

/** Validates `createRuntime` options and resolves `threads` and `retries`. */
export function resolveOptions(input: unknown): ResolvedOptions {
  const options = parseOptions(runtimeOptionsSchema, input, 'runtime options');
  const threads = options.threads === 'auto' ? availableParallelism() : options.threads;
  const base = retryPolicySchema.parse({});
  const retries =
    options.retries === undefined
      ? base
      : retryPolicySchema.parse(
          typeof options.retries === 'number' ? { max: options.retries } : options.retries,
        );
  return { ...options, threads, retries };
}
