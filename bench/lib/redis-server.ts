import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';

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

/** TLS files (PEM paths) a server serves with: its certificate and key, and the CA that signed it. */
export interface TlsFiles {
  cert: string;
  key: string;
  ca: string;
}

/** Sends PING on a fresh socket (over TLS, trusting `tls.ca`, when given); true on +PONG. */
function ping(port: number, tls: TlsFiles | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const socket =
      tls === undefined
        ? new Socket()
        : tlsConnect({ port, host: '127.0.0.1', ca: readFileSync(tls.ca) }, () =>
            socket.write('PING\r\n'),
          );
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    if (tls === undefined) socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
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
  readonly #tls: TlsFiles | undefined;
  #child: ChildProcess | undefined;

  private constructor(port: number, dir: string, tls: TlsFiles | undefined) {
    this.port = port;
    this.dir = dir;
    this.#tls = tls;
  }

  /** `tls`: it serves TLS only (clients need not present a certificate), at a `rediss://` URL. */
  static async start(options: { tls?: TlsFiles } = {}): Promise<RedisServer> {
    const dir = await mkdtemp(join(tmpdir(), 'agentpool-redis-'));
    const server = new RedisServer(await freePort(), dir, options.tls);
    await server.#spawn();
    return server;
  }

  get url(): string {
    return `${this.#tls === undefined ? 'redis' : 'rediss'}://127.0.0.1:${this.port}`;
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
        ...this.#portArgs(),
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
      if (await Promise.race([ping(this.port, this.#tls), exited])) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`redis-server on port ${this.port} did not answer PING`);
  }

  #portArgs(): string[] {
    const tls = this.#tls;
    if (tls === undefined) return ['--port', String(this.port)];
    return [
      ...['--port', '0', '--tls-port', String(this.port)],
      ...['--tls-cert-file', tls.cert, '--tls-key-file', tls.key, '--tls-ca-cert-file', tls.ca],
      ...['--tls-auth-clients', 'no'],
    ];
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
