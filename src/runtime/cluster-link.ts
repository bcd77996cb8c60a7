import type { z } from 'zod';
import type { QueueExecutor } from '../cluster/queue-executor.js';
import { clusterSettings, type redisOptionSchema } from '../cluster/settings.js';
import type { DagInput } from '../dag/schema.js';
import type { ChannelEvent } from '../shared/protocol.js';

/** What the link reads of the runtime's options. */
export interface ClusterLinkSettings {
  redis: z.output<typeof redisOptionSchema>;
  timeoutGraceMs: number;
  /** The host services this process registers (a run needs workers that offer them). */
  services: readonly string[];
}

/**
 * A runtime's connection to its cluster (`redis`): the queue executor that
 * replaces local threads, connected once on first use (bullmq is imported
 * only then), and the checks each run passes before it starts.
 */
export class ClusterLink {
  readonly #s: ClusterLinkSettings;
  readonly #onEvent: (event: ChannelEvent) => void;
  #executor: Promise<QueueExecutor> | undefined;

  constructor(settings: ClusterLinkSettings, onEvent: (event: ChannelEvent) => void) {
    this.#s = settings;
    this.#onEvent = onEvent;
  }

  /**
   * The queue executor, connecting on the first call. A run's token budget
   * (`runTokens`) is then a Redis counter its workers charge (see
   * `cluster/budget-store.ts`).
   */
  connect(): Promise<QueueExecutor> {
    this.#executor ??= import('../cluster/queue-executor.js').then(({ QueueExecutor }) =>
      QueueExecutor.connect(clusterSettings(this.#s.redis), this.#onEvent, this.#s.timeoutGraceMs),
    );
    return this.#executor;
  }

  /**
   * Refuses the run unless live workers have each agent it needs (`modules`:
   * name to module path) with this process's module hash, and the host
   * services; a run id given is leased, so one planner owns it at a time.
   */
  async check(
    executor: QueueExecutor,
    modules: ReadonlyMap<string, string>,
    runId: string | undefined,
  ): Promise<void> {
    await executor.preflight(modules, this.#s.services);
    if (runId !== undefined) await executor.journal.claim(runId);
  }

  /** A run ended: its lease goes (a later planner may take the id at once). */
  release(runId: string): void {
    void this.#executor?.then((c) => c.journal.release(runId)).catch(() => undefined);
  }
}

/** The agents a DAG's tasks name (whatever is malformed is left to the DAG's validation). */
export function agentsOf(dag: DagInput): string[] {
  if (typeof dag !== 'object' || dag === null) return [];
  const names = new Set<string>();
  try {
    for (const task of Object.values(dag)) {
      const agent = (task as { agent?: unknown } | null)?.agent;
      if (typeof agent === 'string') names.add(agent);
    }
  } catch {
    // A getter or proxy that throws: compiling the DAG reports it, coded.
  }
  return [...names];
}
