import * as Comlink from 'comlink';
import type { TaskError } from '../shared/errors.js';
import type {
  CallOrigin,
  ChannelEvent,
  ChannelHello,
  ChargeRequest,
  HostApi,
  Link,
} from '../shared/protocol.js';

/** Functions agents may call on the main thread as `ctx.host.name(...)`. */
export type HostServices = Record<string, (...args: never[]) => unknown>;

/** What the bridge hands on: everything but `event` is optional. */
export interface BridgeHandlers {
  /** A progress report or chunk. */
  event: (event: ChannelEvent) => void;
  /** Agent code threw on a thread while no task ran there (see `StrayError`). */
  stray?: ((error: TaskError) => void) | undefined;
  /** A charge to a run budget kept in Redis (only an `agentpool worker` answers). */
  charge?: ((request: ChargeRequest) => void) | undefined;
  /**
   * Awaited before a host service runs: an `agentpool worker` records there
   * that the attempt has shown outside effects, so that its job, if this
   * process dies, fails ERR_WORKER_CRASHED instead of running unseen again.
   * A rejection fails the call, and the service does not run.
   */
  beforeCall?: ((origin: CallOrigin) => Promise<void>) | undefined;
}

/**
 * The main thread's end of every thread's channel: it serves host calls and
 * hands progress and chunk events to the runtime.
 */
export class HostBridge {
  readonly #services: HostServices;
  readonly #on: BridgeHandlers;
  readonly #api: HostApi;

  constructor(services: HostServices, handlers: BridgeHandlers) {
    this.#services = services;
    this.#on = handlers;
    this.#api = { call: (name, args, origin) => this.#call(name, args, origin) };
  }

  async #call(name: string, args: unknown[], origin: CallOrigin): Promise<unknown> {
    const service = Object.hasOwn(this.#services, name) ? this.#services[name] : undefined;
    if (typeof service !== 'function') {
      const known = Object.keys(this.#services);
      throw new Error(
        `no host service "${name}" (${known.length ? `registered: ${known.join(', ')}` : 'none registered: pass createRuntime({ host })'})`,
      );
    }
    // Awaited only where there is one: a local call waits on nothing extra.
    const before = this.#on.beforeCall;
    if (before !== undefined) await before(origin);
    return await (service as (...a: unknown[]) => unknown)(...args);
  }

  /** Serves a thread that just opened its channel. Its ports never keep the process alive. */
  attach(hello: ChannelHello): void {
    hello.events.on('message', (event: ChannelEvent) => this.#on.event(event));
    hello.events.unref();
    Comlink.expose(this.#api, hello.rpc as unknown as Comlink.Endpoint);
    hello.rpc.unref();
  }

  /** A thread's last word: agent code threw while no task ran there (see `StrayError`). */
  stray(error: TaskError): void {
    this.#on.stray?.(error);
  }

  /** A thread's charge to a run budget kept in Redis (only an `agentpool worker` answers). */
  charge(request: ChargeRequest): void {
    this.#on.charge?.(request);
  }

  /** The link for inline mode, where agent and host share the main thread. */
  readonly inline: Link = {
    send: (event) => this.#on.event(structuredClone(event)),
    call: (name, args, origin) => this.#call(name, args, origin),
  };
}
