// What keeps one task's misbehaviour from reaching the next on its thread.
// Imported by the worker entry before any agent code runs, so what it
// captures here are the real builtins.
import { MessagePort } from 'node:worker_threads';

// The worker's own references, for code of ours that runs while (or right
// after) agent code has had its chance to replace the globals.
const reflectApply = Reflect.apply;
const ownKeys = Reflect.ownKeys;
const objectKeys = Object.keys;
const describeProperty = Reflect.getOwnPropertyDescriptor;
const defineProperty = Reflect.defineProperty;
const deleteProperty = Reflect.deleteProperty;
export const realSetTimeout = globalThis.setTimeout;
export const realClearTimeout = globalThis.clearTimeout;
export const realSetImmediate = globalThis.setImmediate;
const realSetInterval = globalThis.setInterval;
const realPost = MessagePort.prototype.postMessage;
const realExit = process.exit.bind(process);

/** `port.postMessage(message)` whatever agent code did to MessagePort. */
export function post(port: MessagePort, message: unknown, transfer?: readonly MessagePort[]): void {
  reflectApply(realPost, port, transfer === undefined ? [message] : [message, transfer]);
}

// ---------------------------------------------------------------------------
// Builtins agent code may replace (its thread's later tasks, the worker and
// piscina's own loop rely on them). After each attempt what was replaced is
// put back; what cannot be put back (redefined non-configurable) makes the
// thread untrustworthy.

interface Watched {
  target: object;
  key: PropertyKey;
  descriptor: PropertyDescriptor;
  /** The value, or the getter of an accessor. */
  value: unknown;
  data: boolean;
}
const watched: Watched[] = [];
function watch(target: object, keys: readonly PropertyKey[] = ownKeys(target)): void {
  for (const key of keys) {
    try {
      // Some globals are lazy getters that turn into plain values on first read.
      (target as Record<PropertyKey, unknown>)[key];
    } catch {}
    const descriptor = describeProperty(target, key);
    if (descriptor === undefined) continue;
    const data = 'value' in descriptor;
    watched.push({
      target,
      key,
      descriptor,
      value: data ? descriptor.value : descriptor.get,
      data,
    });
  }
}
// What the worker, piscina's loop and the thread's next agents lean on most;
// each entry costs a property read per attempt, so the list is short (Node's
// own internals hold their own copies of the builtins and need none).
watch(globalThis, [
  'Atomics',
  'Math',
  'JSON',
  'Reflect',
  'Object',
  'Array',
  'Promise',
  'Error',
  'Number',
  'String',
  'BigInt',
  'Map',
  'Set',
  'Buffer',
  'SharedArrayBuffer',
  'Uint8Array',
  'Int32Array',
  'BigInt64Array',
  'AbortController',
  'structuredClone',
  'queueMicrotask',
  'setTimeout',
  'clearTimeout',
  'setInterval',
  'clearInterval',
  'setImmediate',
  'clearImmediate',
  'performance',
  'process',
]);
watch(Atomics);
watch(Math, ['round', 'ceil', 'floor', 'min', 'max', 'abs', 'random', 'sqrt', 'trunc']);
watch(JSON, ['stringify', 'parse']);
watch(Promise, ['resolve', 'reject', 'all', 'race']);
watch(Promise.prototype, ['then', 'catch', 'finally']);
watch(Object, [
  'keys',
  'assign',
  'defineProperty',
  'getOwnPropertyDescriptor',
  'create',
  'freeze',
  'hasOwn',
]);
watch(Array.prototype, [
  'push',
  'pop',
  'slice',
  'splice',
  'map',
  'filter',
  'forEach',
  'includes',
  'indexOf',
  'join',
  'shift',
  'sort',
  Symbol.iterator,
]);
watch(Function.prototype, ['call', 'apply', 'bind']);
watch(Object.getPrototypeOf(performance) as object, ['now', 'eventLoopUtilization']);
watch(MessagePort.prototype, ['postMessage', 'on', 'once']);
watch(process, ['nextTick', 'exit', 'emitWarning', 'hrtime', 'getActiveResourcesInfo']);
watch(Object.getPrototypeOf(Object.getPrototypeOf(process)) as object, ['on', 'emit']); // EventEmitter's
// Objects whose new own keys are tampering: `Object.prototype.x = 1`
// reaches every object of every later task.
// Enumerable own keys only (what assignment makes): listing every own key
// of these objects cost ~7 µs per attempt, their enumerable ones almost nothing.
const sealedKeys = new Map<object, Set<PropertyKey>>(
  [
    Object.prototype,
    Array.prototype,
    Function.prototype,
    Promise.prototype,
    performance,
    Atomics,
  ].map((target) => [target, new Set(Object.keys(target))]),
);
const sealedCount = new Map<object, number>([...sealedKeys].map(([t, keys]) => [t, keys.size]));

const same = Object.is;

function name(entry: { target: object; key: PropertyKey }): string {
  const owner =
    entry.target === globalThis
      ? 'globalThis'
      : entry.target === Object.prototype
        ? 'Object.prototype'
        : entry.target === Array.prototype
          ? 'Array.prototype'
          : ((describeProperty(entry.target, Symbol.toStringTag)?.value as string | undefined) ??
            (describeProperty(entry.target, 'constructor')?.value as { name?: string } | undefined)
              ?.name ??
            'a builtin');
  return `${owner}.${String(entry.key)}`;
}

/** What an attempt changed among the builtins: restored, and what could not be. */
export interface Repair {
  restored: string[];
  broken: string[];
}

/**
 * Puts back every watched builtin an agent replaced, redefined or added.
 * Cheap when nothing changed (one property read per watched entry, about
 * 150 of them), which is every attempt of a well-behaved agent.
 */
export function repair(): Repair | undefined {
  let result: Repair | undefined;
  for (const entry of watched) {
    // A data property is read directly (no descriptor object per entry).
    if (entry.data) {
      try {
        if (same((entry.target as Record<PropertyKey, unknown>)[entry.key], entry.value)) continue;
      } catch {}
    } else {
      const current = describeProperty(entry.target, entry.key);
      if (current !== undefined && same(current.get, entry.value)) continue;
    }
    result ??= { restored: [], broken: [] };
    (defineProperty(entry.target, entry.key, entry.descriptor)
      ? result.restored
      : result.broken
    ).push(name(entry));
  }
  for (const [target, keys] of sealedKeys) {
    const present = objectKeys(target);
    if (present.length === sealedCount.get(target)) continue;
    for (const key of present) {
      if (keys.has(key)) continue;
      result ??= { restored: [], broken: [] };
      (deleteProperty(target, key) ? result.restored : result.broken).push(name({ target, key }));
    }
  }
  return result;
}

/** Ends a thread that can no longer be trusted (after its reason was posted). */
export function retire(): never {
  return realExit(1);
}

// ---------------------------------------------------------------------------
// Callbacks that outlive their attempt. A timer, interval or immediate
// carries the attempt that scheduled it (and so do the ones it schedules),
// so an error it throws after that attempt ended is its maker's: reported as
// a stray error naming the task, and the attempt running now, and its
// thread, go on. (Async context would follow every promise too, but on
// Node 20 AsyncLocalStorage made a promise-heavy loop 2.6x slower, measured
// 87 -> 228 ms for 1e6 awaits; these wrappers cost only the callbacks.)

/** The attempt that scheduled a callback. */
export interface Owner {
  readonly taskId: string;
  ended: boolean;
}

let scope: Owner | undefined;
let onStray: (owner: Owner, error: unknown) => void = () => {};

/** Runs the attempt's code with `owner` as the maker of whatever it schedules; call `end` when it ends. */
export function enter(owner: Owner): void {
  scope = owner;
}
export function leave(owner: Owner): void {
  owner.ended = true;
  if (scope === owner) scope = undefined;
}

/** Where errors of ended attempts' callbacks go. */
export function strayTo(report: (owner: Owner, error: unknown) => void): void {
  onStray = report;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

function bound(callback: unknown): unknown {
  const owner = scope;
  if (owner === undefined || typeof callback !== 'function') return callback;
  return function (this: unknown, ...args: unknown[]) {
    const outer = scope;
    scope = owner;
    try {
      const result: unknown = reflectApply(callback as (...a: unknown[]) => unknown, this, args);
      // An async callback's rejection, likewise its maker's.
      if (isThenable(result))
        result.then(undefined, (error: unknown) => {
          if (!owner.ended) throw error; // unhandled: its own attempt fails, as before
          onStray(owner, error);
        });
      return result;
    } catch (error) {
      if (!owner.ended) throw error;
      onStray(owner, error);
      return undefined;
    } finally {
      scope = outer;
    }
  };
}

function schedule<F extends (callback: never, ...rest: never[]) => unknown>(real: F): F {
  const wrapper = function (this: unknown, callback: unknown, ...rest: unknown[]) {
    return reflectApply(real, this, [bound(callback), ...rest]);
  };
  Object.defineProperties(wrapper, {
    name: { value: real.name },
    length: { value: real.length },
  });
  // Keeps util.promisify(setTimeout) and friends working.
  for (const key of ownKeys(real)) {
    if (key === 'name' || key === 'length' || key === 'prototype') continue;
    const descriptor = describeProperty(real, key);
    if (descriptor) defineProperty(wrapper, key, descriptor);
  }
  return wrapper as unknown as F;
}

globalThis.setTimeout = schedule(realSetTimeout);
globalThis.setInterval = schedule(realSetInterval);
globalThis.setImmediate = schedule(realSetImmediate);
// The wrappers are what later tasks must find: watch them, not the originals.
for (const entry of watched) {
  if (entry.target !== globalThis) continue;
  if (entry.key === 'setTimeout' || entry.key === 'setInterval' || entry.key === 'setImmediate') {
    const descriptor = describeProperty(globalThis, entry.key) as PropertyDescriptor;
    entry.descriptor = descriptor;
    entry.value = descriptor.value;
  }
}
