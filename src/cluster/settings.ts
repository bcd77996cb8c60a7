import { z } from 'zod';

/**
 * The `redis` option of `createRuntime` (and `--redis` of the CLI): where
 * the cluster's Redis is. A URL alone (`redis://`, `rediss://` for TLS,
 * `redis://user:password@host:port/db` for an ACL user) or an object with
 * a key prefix, so several clusters can share one Redis.
 */
export const redisOptionSchema = z.union([
  z.string().regex(/^rediss?:\/\//, 'expected a redis:// or rediss:// URL'),
  z.strictObject({
    url: z.string().regex(/^rediss?:\/\//, 'expected a redis:// or rediss:// URL'),
    /** Prefix of every key agentpool and BullMQ write. @default 'agentpool' */
    prefix: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+$/, 'expected letters, digits, _ . -')
      .default('agentpool'),
  }),
]);
export type RedisOption = z.input<typeof redisOptionSchema>;

/** Where the cluster lives, resolved. */
export interface ClusterSettings {
  url: string;
  prefix: string;
}

export function clusterSettings(option: z.output<typeof redisOptionSchema>): ClusterSettings {
  return typeof option === 'string'
    ? { url: option, prefix: 'agentpool' }
    : { url: option.url, prefix: option.prefix };
}

/** The connection options every client is made with: Redis is reached at `url` only. */
export function connectionOptions(settings: ClusterSettings) {
  // null: BullMQ's blocking commands must not give up while Redis is away
  // for a few seconds (it retries forever, reconnecting).
  return { url: settings.url, maxRetriesPerRequest: null };
}

/** A BullMQ worker's options for `agentpool worker` (see `WorkerNodeOptions` for the settings' defaults). */
export function workerOptions(
  settings: ClusterSettings,
  options: { threads: number; lockMs?: number; stalledMs?: number; maxStalledCount?: number },
) {
  return {
    connection: connectionOptions(settings),
    prefix: settings.prefix,
    concurrency: options.threads,
    lockDuration: options.lockMs ?? 5_000,
    stalledInterval: options.stalledMs ?? 2_500,
    maxStalledCount: options.maxStalledCount ?? 2,
    // Seconds an idle worker blocks waiting for a job: closing waits for
    // that wait to end (measured: SIGTERM to exit took ~5 s at BullMQ's 5 s).
    drainDelay: 1,
    // The planner keeps jobs' lifetimes; these are BullMQ's defaults for ones added by hand.
    removeOnComplete: { age: 3_600 },
    removeOnFail: { age: 3_600 },
  };
}
