import { OptionsError } from '../shared/errors.js';
import type { ExecuteCacheOption } from './options.js';
import { rerunSet } from './rerun.js';
import type { RunCache } from './run-cache.js';
import type { CacheRun, TaskCache } from './task-cache.js';

/**
 * The cache one run uses, from the runtime's cache and the run's `cache`
 * option: none when either is off, and none for a batched fan-out (a batch
 * task stands for many prompts). Bad `rerun` patterns throw here, before
 * anything runs.
 */
export function prepareRunCache(
  cache: TaskCache | undefined,
  option: ExecuteCacheOption | undefined,
  batched: boolean,
  run: Omit<CacheRun, 'rerun'>,
): RunCache | undefined | Promise<RunCache | undefined> {
  if (option === false) return undefined;
  if (cache === undefined) {
    if (option === undefined) return undefined;
    throw new OptionsError(
      `Expected \`cache\` to be false or absent: this runtime has no cache (create it with \`createRuntime({ cache: { dir } })\`), got \`${JSON.stringify(option)}\``,
    );
  }
  const rerun = typeof option === 'object' ? rerunSet(run.graph, option.rerun) : undefined;
  if (batched) return undefined;
  return cache.prepare({ ...run, rerun });
}
