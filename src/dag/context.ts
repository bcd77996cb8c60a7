import { z } from 'zod';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A copy of a context object that keeps every own key as data. zod's
 * `z.record` drops a `__proto__` key without a word (it would otherwise set
 * the result's prototype), so `{ "__proto__": … }` read from JSON reached
 * no task. The copy is a null-prototype object with own properties only.
 */
export function ownCopy(value: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = Object.create(null);
  for (const key of Object.keys(value)) {
    Object.defineProperty(copy, key, {
      value: value[key],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return copy;
}

/** Whether zod's record output lost a key of `raw` (only `__proto__` is ever dropped). */
export function lostProtoKey(raw: unknown): raw is Record<string, unknown> {
  return isRecord(raw) && Object.hasOwn(raw, '__proto__');
}

/**
 * A run's context: an object of any keys, `__proto__`, `constructor` and
 * `toString` among them, each kept as data (see `ownCopy`).
 */
export const contextSchema = z
  .custom<Record<string, unknown>>(isRecord, 'expected an object')
  .transform(ownCopy);
