import * as crypto from 'node:crypto';
import { createHash, type Hash } from 'node:crypto';

// One-shot hashing (Node >= 20.12) is twice as fast as createHash().update().digest()
// on inputs of a few hundred bytes (1.0 vs 2.0 µs measured here): two or three per
// cached task, most of a fully cached re-run's hashing.
const oneShot:
  | ((algorithm: string, data: string | Uint8Array, encoding: 'base64url') => string)
  | undefined = typeof crypto.hash === 'function' ? crypto.hash : undefined;

/** SHA-256 of `data`, base64url. */
export function sha256(data: string | Uint8Array): string {
  if (oneShot !== undefined) return oneShot('sha256', data, 'base64url');
  return createHash('sha256').update(data).digest('base64url');
}

/**
 * A content hash of a structured-clonable value (what a task's context,
 * dependency outputs and output may hold): the same value gives the same
 * hash in any process, on any run. Plain objects hash by their keys sorted,
 * so `{ a, b }` and `{ b, a }` agree (YAML, JSON and spreads reorder keys
 * freely). Maps and Sets keep their order: iteration order is observable to
 * an agent, so two that differ only in order are different inputs (at worst
 * a cache miss, never a wrong hit). Numbers hash by value, so `-0` and `0`
 * differ and `NaN` equals `NaN`. Shared and circular references hash as
 * back-references, as structured clone preserves them. An Error hashes by
 * name, message and cause, not its stack (file paths and line numbers).
 *
 * @example
 * ```ts
 * stableHash({ b: 1, a: new Map([[1n, new Date(0)]]) }) === stableHash({ a: new Map([[1n, new Date(0)]]), b: 1 }); // true
 * ```
 */
export function stableHash(value: unknown): string {
  const writer = new Writer();
  writer.value(value);
  return writer.digest();
}

// Strings are gathered and fed to the hash in large pieces: one update per
// field costs a native call each (~3x slower on small contexts).
const FLUSH_AT = 8192;

class Writer {
  // Created at the first flush: a value small enough to stay in #text is hashed in one shot.
  #hash: Hash | undefined;
  readonly #seen = new Map<object, number>();
  #text = '';

  digest(): string {
    if (this.#hash === undefined) return sha256(this.#text);
    this.#flush();
    return this.#hash.digest('base64url');
  }

  #put(text: string): void {
    this.#text += text;
    if (this.#text.length > FLUSH_AT) this.#flush();
  }

  #flush(): Hash {
    this.#hash ??= createHash('sha256');
    if (this.#text.length > 0) this.#hash.update(this.#text, 'utf8');
    this.#text = '';
    return this.#hash;
  }

  #bytes(view: ArrayBufferView | ArrayBuffer | SharedArrayBuffer): void {
    const bytes =
      view instanceof ArrayBuffer || view instanceof SharedArrayBuffer
        ? new Uint8Array(view)
        : new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
    this.#put(`${bytes.byteLength}:`);
    this.#flush().update(bytes);
  }

  #string(s: string): void {
    this.#put(`${s.length}:${s}`);
  }

  value(v: unknown): void {
    switch (typeof v) {
      case 'undefined':
        this.#put('u');
        return;
      case 'boolean':
        this.#put(v ? 't' : 'f');
        return;
      case 'number':
        this.#put(`d${Object.is(v, -0) ? '-0' : String(v)};`);
        return;
      case 'bigint':
        this.#put(`i${v.toString()};`);
        return;
      case 'string':
        this.#put('s');
        this.#string(v);
        return;
      case 'object':
        if (v === null) this.#put('n');
        else this.#object(v);
        return;
      default:
        throw new TypeError(`cannot hash a ${typeof v}: not structured-clonable`);
    }
  }

  #object(v: object): void {
    const seen = this.#seen.get(v);
    if (seen !== undefined) {
      this.#put(`r${seen};`);
      return;
    }
    this.#seen.set(v, this.#seen.size);
    if (Array.isArray(v)) {
      this.#put(`a${v.length};`);
      for (let k = 0; k < v.length; k++) {
        if (k in v) this.value(v[k]);
        else this.#put('h');
      }
    } else if (ArrayBuffer.isView(v)) {
      this.#put(`V${v.constructor.name}`);
      this.#bytes(v);
    } else if (v instanceof ArrayBuffer) {
      this.#put('B');
      this.#bytes(v);
    } else if (v instanceof SharedArrayBuffer) {
      this.#put('SB');
      this.#bytes(v);
    } else if (v instanceof Map) {
      this.#put(`M${v.size};`);
      for (const [key, item] of v) {
        this.value(key);
        this.value(item);
      }
    } else if (v instanceof Set) {
      this.#put(`S${v.size};`);
      for (const item of v) this.value(item);
    } else if (v instanceof Date) {
      this.#put(`D${v.getTime()};`);
    } else if (v instanceof RegExp) {
      this.#put('R');
      this.#string(v.source);
      this.#string(v.flags);
    } else if (v instanceof Error) {
      this.#put('E');
      this.#string(v.name);
      this.#string(v.message);
      this.value('cause' in v ? v.cause : undefined);
    } else if (
      v instanceof Number ||
      v instanceof String ||
      v instanceof Boolean ||
      v instanceof BigInt
    ) {
      this.#put(`O${typeof v.valueOf()}`);
      this.value(v.valueOf());
    } else {
      // A plain object, or any other object structured clone copies as one (own enumerable keys).
      const keys = Object.keys(v).sort();
      this.#put(`o${keys.length};`);
      for (const key of keys) {
        this.#string(key);
        this.value((v as Record<string, unknown>)[key]);
      }
    }
  }
}
