import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const rawWorker = fileURLToPath(new URL('../workers/bullmq-noop.js', import.meta.url));

/** The agents the cluster section's workers and planners know, by name. */
export const AGENTS = ['noop', 'wait', 'hang-once'] as const;
export const clusterAgents: Record<string, URL> = Object.fromEntries(
  AGENTS.map((name) => [name, new URL(`../agents/${name}.js`, import.meta.url)]),
);

/** A worker process of the cluster section, started and ready. */
export interface Proc {
  readonly pid: number;
  readonly exited: Promise<void>;
  /** SIGKILL, as a crashed machine would go. */
  kill(): Promise<void>;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
}

function start(args: string[], ready: string): Promise<Proc> {
  const child: ChildProcess = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = async (name: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(name);
    await exited;
  };
  return new Promise((resolve, reject) => {
    let out = '';
    const early = () => reject(new Error(`${args[0]} exited before it was ready: ${err}`));
    child.once('exit', early);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (!out.includes(ready)) return;
      child.off('exit', early);
      resolve({
        pid: child.pid as number,
        exited,
        kill: () => signal('SIGKILL'),
        stop: () => signal('SIGTERM'),
      });
    });
  });
}

/** `agentpool worker <agentsFile> --redis <url>` with `threads` threads. */
export function agentpoolWorker(
  agentsFile: string,
  url: string,
  options: { threads: number; prefix: string },
): Promise<Proc> {
  return start(
    [
      cli,
      'worker',
      agentsFile,
      '--redis',
      url,
      '--threads',
      String(options.threads),
      '--prefix',
      options.prefix,
    ],
    ' ready: ',
  );
}

/** A raw BullMQ worker doing nothing per job, `concurrency` jobs at once (bench/workers/bullmq-noop.ts). */
export function bullmqWorker(
  url: string,
  options: { concurrency: number; prefix: string },
): Promise<Proc> {
  return start([rawWorker, url, options.prefix, String(options.concurrency)], 'bullmq-noop ready');
}

/** Starts `count` processes at once and resolves when all are ready. */
export function many(count: number, make: () => Promise<Proc>): Promise<Proc[]> {
  return Promise.all(Array.from({ length: count }, make));
}
