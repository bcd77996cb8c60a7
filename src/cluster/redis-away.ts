import type { Redis } from 'ioredis';

/** How often `awayFor` reads the client's state. */
const READ_MS = 250;

/**
 * `gone` resolves once `redis` has been without a connection for `ms` on
 * end: a Redis that was stopped (its socket closed, reconnects refused).
 * One that is slow, frozen, or on a host cut off without a word (the
 * socket stays open until TCP gives up, ~15 min) is not gone: a second
 * signal stops the worker then. `stop` ends the watch.
 */
export function awayFor(redis: Redis, ms: number): { gone: Promise<void>; stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  const gone = new Promise<void>((resolve) => {
    let since: number | undefined;
    timer = setInterval(() => {
      const at = performance.now();
      if (redis.status === 'ready') since = undefined;
      else if (since === undefined) since = at;
      else if (at - since >= ms) resolve();
    }, READ_MS);
  });
  return { gone, stop: () => clearInterval(timer) };
}
