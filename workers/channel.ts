import { MessageChannel, type MessagePort, parentPort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import {
  CHANNEL_MARK,
  type ChannelHello,
  type HostApi,
  type Link,
} from '../src/shared/protocol.js';

export type { Link };

let link: Link | undefined;
let calls = 0;

/** Host calls this thread has made: an attempt that made one must not run again unseen. */
export function hostCalls(): number {
  return calls;
}

/**
 * This thread's link to the main thread, made the first time a task uses
 * `ctx.progress`, `ctx.emit` or `ctx.host`: a thread whose tasks never do
 * pays nothing. Events go as plain messages on their own port (ordered, and
 * an uncloneable chunk throws right in `ctx.emit`); host calls use comlink.
 */
export function threadLink(): Link {
  if (link === undefined) {
    if (parentPort === null) throw new Error('threadLink() outside a worker thread');
    const events = new MessageChannel();
    const rpc = new MessageChannel();
    const hello: ChannelHello = { type: CHANNEL_MARK, events: events.port2, rpc: rpc.port2 };
    parentPort.postMessage(hello, [events.port2, rpc.port2]);
    const remote = Comlink.wrap<HostApi>(rpc.port1 as unknown as Comlink.Endpoint);
    const eventPort: MessagePort = events.port1;
    link = {
      send: (event) => eventPort.postMessage(event),
      call: (name, args, origin) => {
        calls++;
        return remote.call(name, args, origin);
      },
    };
  }
  return link;
}
