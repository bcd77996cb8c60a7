import type { TaskStatus } from '../src/shared/task-status.js';
import { AGENT } from './agent-mark.js';
import type { Tokens } from './tokens.js';

export type { Tokens };

/**
 * The host services of every agent (`createRuntime({ host })`, a DAG file's
 * `host:` module), for TypeScript: empty until a project declares them, as
 * libraries' augmentable registers are. Declared, every `ctx.host` is typed;
 * an agent can also name its own (`defineAgent<Output, Host>`). What is not
 * declared cannot be called from TypeScript (JavaScript agents call anything).
 *
 * @example
 * ```ts
 * // host.ts: the functions, run on the main thread
 * export const host = { search: async (query: string): Promise<string[]> => [] };
 * declare module 'agentpool/agent' {
 *   interface HostServices extends Readonly<typeof host> {}
 * }
 * ```
 */
// biome-ignore lint/suspicious/noEmptyInterface: declared empty so that projects can augment it
export interface HostServices {}

/** A host as a worker sees it: every call crosses to the main thread, so every result is a promise. */
export type Remote<Host> = {
  readonly [K in keyof Host]: Host[K] extends (...args: infer A) => infer R
    ? (...args: A) => Promise<Awaited<R>>
    : never;
};

/**
 * What an agent's handler receives besides its prompt. `Host` types
 * `ctx.host` (default: the project's `HostServices`), `Context` the run's
 * `ctx.context`.
 */
export interface AgentContext<
  Host extends object = HostServices,
  Context extends Record<string, unknown> = Record<string, unknown>,
> {
  /** Id of the task being run. */
  readonly taskId: string;
  /** Name the agent is registered under. */
  readonly agent: string;
  /** Id of the run this task belongs to. */
  readonly runId: string;
  /** 1-based attempt number: 2 and up are retries. */
  readonly attempt: number;
  /** The run's context overlaid with the task's own `context`. */
  readonly context: Readonly<Context>;
  /** Outputs of the task's direct dependencies that succeeded, by task id. */
  readonly deps: Readonly<Record<string, unknown>>;
  /** Final status of each direct dependency (useful with `trigger: all_done | one_failed`). */
  readonly depStatus: Readonly<Record<string, TaskStatus>>;
  /**
   * Aborted when the attempt passes its timeout. Stop promptly when it fires:
   * an attempt still running `timeoutGraceMs` later has its thread terminated.
   */
  readonly signal: AbortSignal;
  /**
   * This attempt's token account: `used`, `limit`, `remaining`, `count(text)`,
   * `consume(n)` and `charge(text)`. Over budget, `consume` throws
   * `ERR_TOKEN_BUDGET` (or `ERR_RUN_TOKEN_BUDGET`) right there.
   */
  readonly tokens: Tokens;
  /** Reports progress (0 to 1) to `runtime.on('progress')` and `stream(…, { events: true })`. */
  progress(fraction: number, message?: string): void;
  /** Sends a piece of partial output; chunks reach listeners in order, before the task's result. */
  emit(chunk: unknown): void;
  /**
   * The runtime's host services (`createRuntime({ host })`), called from
   * this thread on the main thread: `await ctx.host.search(query)`.
   */
  readonly host: Remote<Host>;
}

/** An agent's work: sync or async, returning a structured-clonable value. */
export type AgentHandler<
  Output = unknown,
  Host extends object = HostServices,
  Context extends Record<string, unknown> = Record<string, unknown>,
> = (prompt: string, ctx: AgentContext<Host, Context>) => Output | Promise<Output>;

/** An agent module's default export, made by `defineAgent`. */
export interface AgentDefinition<
  Output = unknown,
  Host extends object = HostServices,
  Context extends Record<string, unknown> = Record<string, unknown>,
> {
  readonly [AGENT]: true;
  readonly handler: AgentHandler<Output, Host, Context>;
  /** The `version` given to `defineAgent`, part of its tasks' cache keys. */
  readonly version?: string;
}

/** Options of `defineAgent`. */
export interface AgentOptions {
  /**
   * Part of the cache key of every task of this agent (see "Caching" in the
   * README): bump it when the output changes for a reason the module's own
   * source bytes do not show (a model, a data file, a helper module it
   * imports). Read once per distinct module source and remembered, so it
   * must be a constant of the module, not computed from the environment.
   */
  version?: string;
}

/**
 * Makes an agent. An agent module's default export is one of these; the
 * worker loads each module once per thread and calls `handler` per task.
 *
 * @example
 * ```ts
 * // agents/summarizer.js
 * import { defineAgent } from 'agentpool/agent';
 * export default defineAgent(async (prompt, ctx) => {
 *   const research = ctx.deps.research; // output of the `research` task
 *   return { summary: `${prompt}: ${String(research).slice(0, 100)}` };
 * }, { version: '2' }); // optional: bump to invalidate cached results
 * ```
 *
 * @example
 * ```ts
 * // Typed: the output, the host services it calls, the run context it reads.
 * import type { host } from '../host.js';
 * export default defineAgent<{ hits: string[] }, typeof host, { topic: string }>(
 *   async (prompt, ctx) => ({ hits: await ctx.host.search(`${ctx.context.topic}: ${prompt}`) }),
 * );
 * ```
 */
export function defineAgent<
  Output,
  Host extends object = HostServices,
  Context extends Record<string, unknown> = Record<string, unknown>,
>(
  handler: AgentHandler<Output, Host, Context>,
  options: AgentOptions = {},
): AgentDefinition<Output, Host, Context> {
  if (typeof handler !== 'function') {
    throw new TypeError(
      `defineAgent expects a handler function, got ${handler === null ? 'null' : typeof handler}`,
    );
  }
  const { version } = options;
  if (version !== undefined && (typeof version !== 'string' || version === '')) {
    throw new TypeError(
      `defineAgent: \`version\` must be a non-empty string, got ${version === '' ? 'an empty string' : typeof version}`,
    );
  }
  return Object.freeze({
    [AGENT]: true as const,
    handler,
    ...(version !== undefined && { version }),
  });
}
