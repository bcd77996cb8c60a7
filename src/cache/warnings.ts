/** Warnings about the cache, by `process.emitWarning` with this code. */
export const CACHE_WARNING = 'AGENTPOOL_CACHE';

// A store that fails every call would otherwise print one warning per task.
const MOST_PER_RUN = 5;

/** The cache's warnings of one run: the first few, then one saying the rest were left out. */
export class CacheWarnings {
  #count = 0;

  warn(message: string): void {
    this.#count++;
    if (this.#count <= MOST_PER_RUN) {
      process.emitWarning(`cache: ${message}`, { code: CACHE_WARNING });
    } else if (this.#count === MOST_PER_RUN + 1) {
      process.emitWarning('cache: further cache warnings of this run are left out', {
        code: CACHE_WARNING,
      });
    }
  }
}
