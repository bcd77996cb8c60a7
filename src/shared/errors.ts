/**
 * Every error agentpool produces carries one of these stable codes. Match on
 * `error.code`, never on the message: messages may be reworded, codes never.
 */
export const ERROR_CODES = [
  // Bad input, raised before any task starts.
  'ERR_DAG_INVALID',
  'ERR_DAG_CYCLE',
  'ERR_DAG_UNKNOWN_DEPENDENCY',
  'ERR_UNKNOWN_AGENT',
  'ERR_INVALID_OPTIONS',
  'ERR_RUNTIME_CLOSED',
  'ERR_DAG_FILE',
  'ERR_CONFIG_FILE',
  'ERR_HOST_MODULE',
  // Task outcomes, found in `TaskResult.error.code`.
  'ERR_TASK_FAILED',
  'ERR_TASK_TIMEOUT',
  'ERR_UPSTREAM_FAILED',
  'ERR_TRIGGER_NOT_MET',
  'ERR_CANCELLED',
  'ERR_AGENT_LOAD',
  'ERR_OUTPUT_NOT_CLONEABLE',
  'ERR_WORKER_CRASHED',
  // Limit breaches: not retried by default.
  'ERR_MEMORY_LIMIT',
  'ERR_TOKEN_BUDGET',
  'ERR_RUN_TOKEN_BUDGET',
  'ERR_OUTPUT_TOO_LARGE',
  'ERR_CPU_LIMIT',
  // Running on many machines (see src/cluster/).
  'ERR_CLUSTER_AGENT_MISSING',
  'ERR_CLUSTER_AGENT_HASH',
  'ERR_CLUSTER_JOB_INVALID',
  'ERR_CLUSTER_PAYLOAD_LIMIT',
  'ERR_CLUSTER_UNREACHABLE',
  'ERR_CLUSTER_RUN_LEASED',
  'ERR_CLUSTER_SERVICE_MISSING',
  'ERR_CLUSTER_JOURNAL_WRITE',
  'ERR_HOST_CALL_LATE',
  // `agentpool resume`.
  'ERR_RESUME_UNKNOWN_RUN',
  'ERR_RESUME_AGENT_CHANGED',
  'ERR_RESUME_NOT_RESUMABLE',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Base class of every error agentpool throws. */
export class AgentpoolError extends Error {
  override name = 'AgentpoolError';
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** One problem found while validating a DAG; a DAG may have several. */
export interface DagIssue {
  code: Extract<
    ErrorCode,
    'ERR_DAG_INVALID' | 'ERR_DAG_CYCLE' | 'ERR_DAG_UNKNOWN_DEPENDENCY' | 'ERR_UNKNOWN_AGENT'
  >;
  message: string;
  /** The task ids the problem is about (the cycle's path, in order, for a cycle). */
  taskIds: string[];
  /** Where in the input the problem is, e.g. `['tasks', 'draft', 'depends_on', 0]`. */
  path: (string | number)[];
}

/**
 * Thrown by `execute`, `stream`, `fanOut` and `validateDag` when a DAG is
 * rejected. `code` is the first issue's code; `issues` lists every problem.
 */
export class DagValidationError extends AgentpoolError {
  override name = 'DagValidationError';
  readonly issues: DagIssue[];
  /** Every task id named by any issue, deduplicated. */
  readonly taskIds: string[];

  constructor(issues: [DagIssue, ...DagIssue[]]) {
    const lines = issues.map((issue) => `  ${issue.code}: ${issue.message}`);
    const head = issues.length === 1 ? 'Invalid DAG:' : `Invalid DAG (${issues.length} problems):`;
    super(issues[0].code, `${head}\n${lines.join('\n')}`);
    this.issues = issues;
    this.taskIds = [...new Set(issues.flatMap((issue) => issue.taskIds))];
  }
}

/**
 * A DAG file that cannot be read or parsed, or whose document fields are
 * wrong. The message has one line per problem, each led by the file.
 */
export class DagFileError extends AgentpoolError {
  override name = 'DagFileError';
  readonly file: string;
  /** Each problem, without the file. */
  readonly problems: string[];
  constructor(file: string, problems: string | string[], options?: { cause?: unknown }) {
    const list = typeof problems === 'string' ? [problems] : problems;
    super('ERR_DAG_FILE', list.map((problem) => `${file}: ${problem}`).join('\n'), options);
    this.file = file;
    this.problems = list;
  }
}

/** Thrown by `createRuntime` and the run methods for bad options. */
export class OptionsError extends AgentpoolError {
  override name = 'OptionsError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_INVALID_OPTIONS', message, options);
  }
}

/**
 * A task's error as plain data, so results serialize to JSON and cross
 * threads. `code` is agentpool's code, or the agent's own string `code` when
 * the error it threw had one. (A plain interface, not a zod schema: worker
 * threads import this file, and zod would add ~350 ms to each thread's start
 * on a loaded 2-core machine; `results.ts` holds the schema.)
 */
export interface TaskError {
  code: string;
  name: string;
  message: string;
  stack?: string | undefined;
  /** Ids of the upstream tasks that caused a skip. */
  upstream?: string[] | undefined;
}

/** Formats a count for limit messages: 1204 -> "1,204". */
export function formatCount(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** The message of a CPU limit breach, the same whether the worker or the main thread caught it. */
export function cpuLimitError(taskId: string, usedMs: number, limitMs: number): AgentpoolError {
  return new AgentpoolError(
    'ERR_CPU_LIMIT',
    `task "${taskId}" was active on its thread for ${formatCount(usedMs)} ms, over its ${formatCount(limitMs)} ms CPU limit`,
  );
}

/** Builds a `TaskError` for an outcome agentpool itself decided. */
export function taskError(
  code: ErrorCode,
  message: string,
  extra?: { upstream?: string[]; name?: string },
): TaskError {
  return {
    code,
    name: extra?.name ?? 'AgentpoolError',
    message,
    ...(extra?.upstream && { upstream: extra.upstream }),
  };
}

/** Reads one property of something thrown, which may be a hostile object: a throwing getter or proxy trap reads as undefined. */
function read(thrown: object, key: string): unknown {
  try {
    return (thrown as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

function isError(value: unknown): value is Error {
  try {
    return value instanceof Error;
  } catch {
    return false; // a revoked proxy
  }
}

/**
 * Turns anything thrown into a `TaskError`, keeping the thrower's own code.
 * Total: whatever was thrown (a name that is a function, a Symbol or object
 * message, a throwing getter, a proxy), the result is plain strings, so it
 * always crosses threads and never throws itself.
 */
export function toTaskError(
  thrown: unknown,
  fallbackCode: ErrorCode = 'ERR_TASK_FAILED',
): TaskError {
  if (isError(thrown)) {
    const own = read(thrown, 'code');
    const name = read(thrown, 'name');
    const message = read(thrown, 'message');
    const stack = read(thrown, 'stack');
    return {
      code: typeof own === 'string' && own.length > 0 ? own : fallbackCode,
      name: typeof name === 'string' && name.length > 0 ? name : 'Error',
      message:
        typeof message === 'string' ? message : message === undefined ? '' : describe(message),
      ...(typeof stack === 'string' && { stack }),
    };
  }
  return {
    code: fallbackCode,
    name: 'NonError',
    message: `Agent threw a non-Error value: ${describe(thrown)}`,
  };
}

/** A short, safe rendering of any value for error messages; never throws. */
export function describe(value: unknown): string {
  try {
    if (typeof value === 'string')
      return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
    if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
    if (value === null || typeof value !== 'object') return String(value);
    try {
      const json = JSON.stringify(value);
      if (json !== undefined) return json.length > 60 ? `${json.slice(0, 57)}...` : json;
    } catch {}
    return Object.prototype.toString.call(value);
  } catch {
    return '[an unprintable value]';
  }
}
