import { z } from 'zod';
import type { CacheStore } from './store.js';

/**
 * `createRuntime({ cache })`: where the task cache lives. Off unless given.
 * `dir`: a directory for the runtime's SQLite store (created if missing);
 * `store`: a `CacheStore` of your own.
 */
export const cacheOptionsSchema = z.union([
  z.literal(false),
  z.strictObject({
    /** Directory of the cache's store (created if missing). */
    dir: z.string().min(1),
  }),
  z.strictObject({
    /** A store of your own, implementing `CacheStore`; the runtime does not close it. */
    store: z.custom<CacheStore>(
      (v) => typeof v === 'object' && v !== null && typeof (v as CacheStore).get === 'function',
      'expected a CacheStore',
    ),
  }),
]);
export type CacheOptions = z.input<typeof cacheOptionsSchema>;

/**
 * `execute(dag, { cache })`: `false` neither reads nor writes the cache in
 * this run; `{ rerun: [ids or globs] }` ignores what is cached for those
 * tasks and everything depending on them (their new results are stored).
 */
export const executeCacheSchema = z.union([
  z.boolean(),
  z.strictObject({
    rerun: z.array(z.string().min(1)),
  }),
]);
export type ExecuteCacheOption = z.input<typeof executeCacheSchema>;
