import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REDIS = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';

/** Whether the redis-server binary is installed (the bench's cluster section is skipped without it). */
export const redisInstalled = (): boolean => existsSync(REDIS);

/** A port nothing listens on right now (the OS picks it; we close and reuse it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/** Sends PING on a fresh socket; true on +PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

/**
 * A redis-server of its own (a test's, or the bench's cluster section): 127.0.0.1 on a free port, AOF on
 * (fsync every second, as in production), its own temporary folder. It is
 * only ever signalled by its PID, never by name (other suites and agents
 * run their own). `restart` starts it again on the same folder and port, so
 * it reloads its AOF.
 */
export class RedisServer {
  readonly port: number;
  readonly dir: string;
  #child: ChildProcess | undefined;

  private constructor(port: number, dir: string) {
    this.port = port;
    this.dir = dir;
  }

  static async start(): Promise<RedisServer> {
    const dir = await mkdtemp(join(tmpdir(), 'agentpool-redis-'));
    const server = new RedisServer(await freePort(), dir);
    await server.#spawn();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  async #spawn(): Promise<void> {
    const child = spawn(
      REDIS,
      [
        '--bind',
        '127.0.0.1',
        '--port',
        String(this.port),
        '--dir',
        this.dir,
        '--appendonly',
        'yes',
        '--appendfsync',
        'everysec',
        '--save',
        '',
        // BullMQ's keys must never be evicted.
        '--maxmemory-policy',
        'noeviction',
        '--daemonize',
        'no',
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    this.#child = child;
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) => reject(new Error(`redis-server exited (${code})`))),
    );
    exited.catch(() => {});
    // PING until it answers: a deterministic readiness signal, not a sleep.
    for (let i = 0; i < 200; i++) {
      if (await Promise.race([ping(this.port), exited])) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`redis-server on port ${this.port} did not answer PING`);
  }

  /** Sends `signal` to this server's process (SIGSTOP, SIGCONT, SIGKILL…). */
  signal(signal: NodeJS.Signals): void {
    const pid = this.#child?.pid;
    if (pid !== undefined) process.kill(pid, signal);
  }

  /** Kills it with SIGKILL (no shutdown save) and waits for its exit. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    process.kill(child.pid as number, 'SIGKILL');
    await exited;
    this.#child = undefined;
  }

  /** Starts it again on the same folder (its AOF) and port. */
  async restart(): Promise<void> {
    await this.kill();
    await this.#spawn();
  }

  /** Stops it (SIGCONT first, in case it was stopped) and removes its folder. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      process.kill(child.pid as number, 'SIGCONT');
      process.kill(child.pid as number, 'SIGTERM');
      await exited;
    }
    this.#child = undefined;
    await rm(this.dir, { recursive: true, force: true });
  }
}
