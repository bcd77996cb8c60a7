import { createRequire } from 'node:module';
import type { ErrorEmitter } from 'ioredis/built/connectors/AbstractConnector.js';
import type { NetStream } from 'ioredis/built/types.js';

// Required, not imported: ioredis exports it only from this CommonJS file,
// whose default an ESM import reads differently in Node and in vitest.
const { default: Standalone } = createRequire(import.meta.url)(
  'ioredis/built/connectors/StandaloneConnector.js',
) as typeof import('ioredis/built/connectors/StandaloneConnector.js');

/**
 * ioredis's own connector, except that every socket it opens keeps an
 * `error` listener for its whole life. ioredis listens with `once`
 * (redis/ioredis#961, still open), and a TLS socket can fail twice: the
 * certificate refused here, then the server's alert ("tlsv1 alert decode
 * error") on the same socket. The second error, heard by no one, crashed
 * the process: 7 of 40 planners refused a certificate exited 1 that way
 * after printing their coded error. ioredis still hears the first error and
 * the close, and reconnects as before. Given to every client (`connect`,
 * BullMQ's through `connectionOptions`; ioredis's `duplicate` keeps it).
 */
export class GuardedConnector extends Standalone {
  // ioredis types a Connector's options as unknown; it hands over its own.
  constructor(options: unknown) {
    super(options as ConstructorParameters<typeof Standalone>[0]);
  }

  override async connect(onError: ErrorEmitter): Promise<NetStream> {
    const stream = await super.connect(onError);
    stream.on('error', () => {});
    return stream;
  }
}
