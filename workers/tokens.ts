import { createRequire } from 'node:module';
import { parentPort } from 'node:worker_threads';
import { AgentpoolError, formatCount } from '../src/shared/errors.js';
import {
  CHARGE_MARK,
  type ChargeRequest,
  type Encoding,
  type RunTokens,
} from '../src/shared/protocol.js';
import { chargeRemote } from '../src/shared/remote-budget.js';
import { chargeRefused, chargeTokens, tokensSpent } from '../src/shared/run-budget.js';
import { countOutputTokens } from './output-tokens.js';

const require = createRequire(import.meta.url);
type Counter = (text: string) => number;
const counters = new Map<Encoding, Counter>();

/**
 * The BPE token counter for an encoding. Loaded synchronously (the CommonJS
 * build) on first use in a thread, so `ctx.tokens.count` needs no await;
 * it costs a few hundred ms and ~25 MB once per thread, so threads that
 * never count never load it.
 */
function counter(encoding: Encoding): Counter {
  let count = counters.get(encoding);
  if (count === undefined) {
    count = (require(`gpt-tokenizer/cjs/encoding/${encoding}`) as { countTokens: Counter })
      .countTokens;
    counters.set(encoding, count);
  }
  return count;
}

// One view per run budget, not one per attempt that asks.
const runCells = new WeakMap<SharedArrayBuffer, BigInt64Array>();
// How long a thread waits for its worker's answer to a charge of a budget in Redis.
const CHARGE_WAIT_MS = 10_000;
// Captured when the module loads, as the budget's Atomics are.
const port = parentPort;
const post = port?.postMessage.bind(port);

/** Whether a charge to the run's shared budget has been refused: the run starts nothing new. */
export function runBudgetSpent(run: RunTokens): boolean {
  let cells = runCells.get(run.buffer);
  if (cells === undefined) {
    cells = new BigInt64Array(run.buffer);
    runCells.set(run.buffer, cells);
  }
  return chargeRefused(cells);
}

/** What an agent sees as `ctx.tokens`. */
export interface Tokens {
  /** Tokens this attempt has used so far. */
  readonly used: number;
  /** This attempt's budget, or undefined when it has none. */
  readonly limit: number | undefined;
  /** Tokens left before this attempt's (or the run's, if tighter) budget is spent; Infinity without one. */
  readonly remaining: number;
  /** Counts the tokens of `text` without charging them. */
  count(text: string): number;
  /** Charges `n` tokens; throws `ERR_TOKEN_BUDGET` or `ERR_RUN_TOKEN_BUDGET` at the moment of an overrun. */
  consume(n: number): void;
  /** Counts and charges the tokens of `text`; returns the count. */
  charge(text: string): number;
}

/**
 * One attempt's token account. The run-wide budget is a counter in shared
 * memory that every thread charges with compare-and-swap, so two threads can
 * never jointly overspend it: a charge that does not fit is refused whole.
 */
export class TokenMeter implements Tokens {
  // Private, with getters: the agent reads its account but cannot rewrite it.
  #used = 0;
  readonly #taskId: string;
  readonly #encoding: Encoding;
  readonly #limit: number | undefined;
  readonly #run: BigInt64Array | undefined;
  readonly #runTokens: RunTokens | undefined;
  readonly #runBudget: number;
  // Called before the first charge to the run's budget, which other threads see.
  readonly #charging: () => void;
  #overrun: AgentpoolError | undefined;

  constructor(
    taskId: string,
    encoding: Encoding,
    limit: number | undefined,
    run: RunTokens | undefined,
    charging: () => void = () => {},
  ) {
    this.#charging = charging;
    this.#taskId = taskId;
    this.#encoding = encoding;
    this.#limit = limit;
    this.#run = run && new BigInt64Array(run.buffer);
    this.#runTokens = run;
    this.#runBudget = run?.budget ?? Number.POSITIVE_INFINITY;
  }

  get used(): number {
    return this.#used;
  }

  get limit(): number | undefined {
    return this.#limit;
  }

  /**
   * The budget error thrown in this attempt, if any. It is final: an agent
   * that catches it and returns still fails with it.
   */
  get overrun(): AgentpoolError | undefined {
    return this.#overrun;
  }

  /** Whether any budget applies, so prompts and outputs must be counted. */
  get metered(): boolean {
    return this.#limit !== undefined || this.#run !== undefined;
  }

  get remaining(): number {
    const own = this.#limit === undefined ? Number.POSITIVE_INFINITY : this.#limit - this.#used;
    const run = this.#run ? this.#runBudget - tokensSpent(this.#run) : Number.POSITIVE_INFINITY;
    return Math.max(0, Math.min(own, run));
  }

  /** Loads the tokenizer now (once per thread and encoding), so the first count costs no more than the next. */
  load(): void {
    counter(this.#encoding);
  }

  count(text: string): number {
    if (typeof text !== 'string')
      throw new TypeError(`ctx.tokens.count expects a string, got ${typeof text}`);
    return counter(this.#encoding)(text);
  }

  consume(n: number): void {
    if (!Number.isFinite(n) || n < 0)
      throw new TypeError(`ctx.tokens.consume expects a number >= 0, got ${n}`);
    this.#consume(n);
  }

  // Private: what the worker charges goes through no method an agent can
  // replace on its `ctx.tokens` (or that object's prototype).
  #consume(n: number): void {
    const after = this.#used + n;
    if (this.#limit !== undefined && after > this.#limit) {
      this.#used = after;
      throw this.#fail(
        'ERR_TOKEN_BUDGET',
        `task "${this.#taskId}" used ${formatCount(after)} tokens of its ${formatCount(this.#limit)}-token budget`,
      );
    }
    if (this.#run) this.#chargeRun(n);
    this.#used = after;
  }

  /**
   * Charges what `output` carries (see `countOutputTokens`) to this attempt
   * and the run. Static, captured below, and private inside: an agent can
   * reach `ctx.tokens` and its class, but not what this calls.
   */
  static chargeOutput(meter: TokenMeter, output: unknown): number {
    const n = countOutputTokens(output, counter(meter.#encoding));
    meter.#consume(n);
    return n;
  }

  #fail(
    code: 'ERR_TOKEN_BUDGET' | 'ERR_RUN_TOKEN_BUDGET' | 'ERR_CLUSTER_UNREACHABLE',
    message: string,
  ): AgentpoolError {
    this.#overrun ??= new AgentpoolError(code, message);
    return this.#overrun;
  }

  charge(text: string): number {
    const n = this.count(text);
    this.consume(n);
    return n;
  }

  #chargeRun(n: number): void {
    this.#charging();
    // Refused whole (and marked, so the planner starts nothing new) when it does not fit.
    const spent = this.#chargeCells(BigInt(Math.ceil(n)));
    if (spent === undefined) return;
    if (spent === 'unreachable')
      throw this.#fail(
        'ERR_CLUSTER_UNREACHABLE',
        `task "${this.#taskId}" needed ${formatCount(n)} more tokens, but its worker heard nothing from Redis about the run's budget within ${CHARGE_WAIT_MS / 1000} s`,
      );
    throw this.#fail(
      'ERR_RUN_TOKEN_BUDGET',
      `task "${this.#taskId}" needed ${formatCount(n)} more tokens, but the run has ${formatCount(this.#runBudget - spent)} of its ${formatCount(this.#runBudget)}-token budget left`,
    );
  }

  /** Charges the run: its cells here, or (on an `agentpool worker`) Redis, through this thread's worker. */
  #chargeCells(amount: bigint): number | undefined | 'unreachable' {
    const cells = this.#run as BigInt64Array;
    const run = this.#runTokens as RunTokens;
    const id = run.remote;
    if (id === undefined) return chargeTokens(cells, amount, this.#runBudget);
    // Nothing to ask: a charge of 0 never overspends.
    if (amount === 0n) return undefined;
    if (post === undefined) return 'unreachable';
    const send = (seq: number) =>
      post({
        type: CHARGE_MARK,
        id,
        seq,
        amount: Number(amount),
        buffer: run.buffer,
      } satisfies ChargeRequest);
    return chargeRemote(cells, send, CHARGE_WAIT_MS);
  }
}

/** `TokenMeter.chargeOutput`, as it was when the worker loaded. */
export const chargeOutput = TokenMeter.chargeOutput;
