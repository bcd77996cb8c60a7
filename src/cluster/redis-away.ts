import type { Redis } from 'ioredis';

/** How often `awayFor` reads the client's state. */
const READ_MS = 250;

/**
 * `gone` resolves once `redis` has been without a connection for `ms` on
 * end (a Redis that was stopped, or whose host is down: ioredis sees its
 * socket close and keeps reconnecting). A Redis that is only slow, or
 * frozen with its socket open, is not gone. `stop` ends the watch.
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
