import { readFileSync } from 'node:fs';

const schedstat = `/proc/self/task/${process.pid}/schedstat`;

function readSchedstat(): number | undefined {
  try {
    return Number(readFileSync(schedstat, 'utf8').split(' ')[0]) / 1000;
  } catch {
    return undefined;
  }
}

/**
 * Whether the main thread's own CPU time can be read. `process.cpuUsage()`
 * counts every thread of the process, the pool's workers included, so on
 * Linux the main thread's time comes from its `schedstat` (nanoseconds on
 * CPU, the main thread's task id being the process id).
 */
export const mainThreadOnly = readSchedstat() !== undefined;

/** CPU µs used so far: the main thread's alone where Linux tells it, else the whole process's. */
export function mainThreadCpuUs(): number {
  const own = readSchedstat();
  if (own !== undefined) return own;
  const { user, system } = process.cpuUsage();
  return user + system;
}

/** The whole process's CPU µs so far, every thread included. */
export function processCpuUs(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}
