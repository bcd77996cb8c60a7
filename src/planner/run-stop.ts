import type { StopReason, TaskStatus } from '../results.js';
import type { TaskError } from '../shared/errors.js';
import type { RunTokens } from '../shared/protocol.js';
import { chargeRefused, newRunBudget, tokensSpent } from '../shared/run-budget.js';
import type { RunSettings } from './run-settings.js';
import { stopError } from './stop-error.js';

/** How a stop ends every task that had not begun: its status and error. */
export type StopEnding = [TaskStatus, TaskError];

/**
 * A run's stop: whether and why it stopped, how that ends what had not
 * begun, and the run's token budget (one of the causes). Kept out of `Run`
 * so the run only acts on a stop (ends tasks, clears timers, withdraws).
 */
export class RunStop {
  readonly #s: Pick<RunSettings, 'runTokens' | 'signal'>;
  readonly #budget: BigInt64Array | undefined;
  /** The budget's shared cells, handed to the workers, when the run has a token budget. */
  readonly runTokens: RunTokens | undefined;
  #by: StopReason = null;
  #ending: StopEnding | undefined;

  constructor(settings: Pick<RunSettings, 'runTokens' | 'signal'>) {
    this.#s = settings;
    if (settings.runTokens !== undefined) {
      const buffer = newRunBudget();
      this.#budget = new BigInt64Array(buffer);
      this.runTokens = { buffer, budget: settings.runTokens };
    }
  }

  /** Why the run stopped; null while it has not. */
  get by(): StopReason {
    return this.#by;
  }

  get stopped(): boolean {
    return this.#by !== null;
  }

  /** How the stop ends what had not begun. Only once stopped. */
  get ending(): StopEnding {
    return this.#ending as StopEnding;
  }

  /** Tokens charged to the run's budget so far; undefined without a budget. */
  spent(): number | undefined {
    return this.#budget && tokensSpent(this.#budget);
  }

  /** Whether the run's token budget is spent: a charge was refused, or the total reached it. */
  budgetSpent(): boolean {
    const cells = this.#budget;
    if (cells === undefined) return false;
    return chargeRefused(cells) || tokensSpent(cells) >= (this.#s.runTokens as number);
  }

  /**
   * Records the stop for `reason` (`culprit`: the failed task's id, for
   * fail-fast) and returns how it ends what had not begun; undefined when
   * the run had already stopped (the first stop's reason holds).
   */
  stop(reason: Exclude<StopReason, null>, culprit: string | undefined): StopEnding | undefined {
    if (this.#by !== null) return undefined;
    this.#by = reason;
    const status = reason === 'token-budget' ? 'skipped' : 'cancelled';
    const error = stopError(reason, {
      runTokens: this.#s.runTokens,
      spent: this.spent(),
      culprit,
      signal: this.#s.signal,
    });
    this.#ending = [status, error];
    return this.#ending;
  }
}
