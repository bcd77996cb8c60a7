import * as Comlink from 'comlink';
import type { TaskError } from '../shared/errors.js';
import type {
  ChannelEvent,
  ChannelHello,
  ChargeRequest,
  HostApi,
  Link,
} from '../shared/protocol.js';

/** Functions agents may call on the main thread as `ctx.host.name(...)`. */
export type HostServices = Record<string, (...args: never[]) => unknown>;

/**
 * The main thread's end of every thread's channel: it serves host calls and
 * hands progress and chunk events to the runtime.
 */
export class HostBridge {
  readonly #services: HostServices;
  readonly #onEvent: (event: ChannelEvent) => void;
  readonly #onStray: (error: TaskError) => void;
  readonly #onCharge: (request: ChargeRequest) => void;
  readonly #api: HostApi;

  constructor(
    services: HostServices,
    onEvent: (event: ChannelEvent) => void,
    onStray: (error: TaskError) => void = () => {},
    onCharge: (request: ChargeRequest) => void = () => {},
  ) {
    this.#services = services;
    this.#onEvent = onEvent;
    this.#onStray = onStray;
    this.#onCharge = onCharge;
    this.#api = { call: (name, args) => this.#call(name, args) };
  }

  async #call(name: string, args: unknown[]): Promise<unknown> {
    const service = Object.hasOwn(this.#services, name) ? this.#services[name] : undefined;
    if (typeof service !== 'function') {
      const known = Object.keys(this.#services);
      throw new Error(
        `no host service "${name}" (${known.length ? `registered: ${known.join(', ')}` : 'none registered: pass createRuntime({ host })'})`,
      );
    }
    return await (service as (...a: unknown[]) => unknown)(...args);
  }

  /** Serves a thread that just opened its channel. Its ports never keep the process alive. */
  attach(hello: ChannelHello): void {
    hello.events.on('message', (event: ChannelEvent) => this.#onEvent(event));
    hello.events.unref();
    Comlink.expose(this.#api, hello.rpc as unknown as Comlink.Endpoint);
    hello.rpc.unref();
  }

  /** A thread's last word: agent code threw while no task ran there (see `StrayError`). */
  stray(error: TaskError): void {
    this.#onStray(error);
  }

  /** A thread's charge to a run budget kept in Redis (only an `agentpool worker` answers). */
  charge(request: ChargeRequest): void {
    this.#onCharge(request);
  }

  /** The link for inline mode, where agent and host share the main thread. */
  readonly inline: Link = {
    send: (event) => this.#onEvent(structuredClone(event)),
    call: (name, args) => this.#call(name, args),
  };
}
