// A socket ioredis opens can fail twice (a TLS certificate refused, then the
// server's alert on the same socket); ioredis hears only the first.

import { createRequire } from 'node:module';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { GuardedConnector } from '../../src/cluster/guarded-connector.js';

const { default: Standalone } = createRequire(import.meta.url)(
  'ioredis/built/connectors/StandaloneConnector.js',
) as typeof import('ioredis/built/connectors/StandaloneConnector.js');

let server: Server;
let port: number;

beforeAll(async () => {
  server = createServer((socket) => socket.on('error', () => {}));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

it('a socket from ioredis’s own connector throws on its second error: the guarded one does not', async () => {
  const options = { host: '127.0.0.1', port, disconnectTimeout: 2_000 };
  const plain = await new Standalone(options).connect(() => {});
  // What ioredis itself listens with (Redis.connect: stream.once('error', …)).
  plain.once('error', () => {});
  plain.emit('error', new Error('certificate refused'));
  expect(() => plain.emit('error', new Error('tlsv1 alert decode error'))).toThrow(
    /tlsv1 alert decode error/,
  );
  plain.destroy();

  const guarded = await new GuardedConnector(options).connect(() => {});
  const heard: string[] = [];
  guarded.once('error', (error) => heard.push(error.message));
  guarded.emit('error', new Error('certificate refused'));
  expect(() => guarded.emit('error', new Error('tlsv1 alert decode error'))).not.toThrow();
  // ioredis still hears the first (it reconnects on it).
  expect(heard).toEqual(['certificate refused']);
  guarded.destroy();
});
