import { type ChildProcess, spawn } from 'node:child_process';

/**
 * Starts a CPU hog: a child process (one spinning thread per core, its
 * CPU time not this process's) keeping `cores` threads busy, for
 * `--contended` runs (contention is where a scheduler's own per-task cost
 * shows most). Returns its stop, which kills it by its pid and resolves
 * once it has exited (reaped: its pid is gone); it is also killed if this
 * process exits first.
 */
export function startHog(cores: number): { pid: number; stop(): Promise<void> } {
  const worker = 'for (;;) {}';
  const main = `const { Worker } = require('node:worker_threads'); for (let k = 1; k < ${cores}; k++) new Worker(${JSON.stringify(worker)}, { eval: true }); for (;;) {}`;
  const child: ChildProcess = spawn(process.execPath, ['-e', main], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', kill);
  return {
    pid: child.pid as number,
    stop: () => {
      kill();
      return exited;
    },
  };
}
