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
