import * as types from 'node:util/types';

/*
 * What an output is charged in tokens: the text it carries to the main
 * thread, whatever holds it. Counting `JSON.stringify(output)` charged an
 * output with a BigInt or a cycle nothing (it throws), a Map or a Set one
 * token (`{}`), and a class with a `toJSON` whatever that returned, while
 * the structured clone carried all of it.
 *
 * Captured when the worker loads: an agent's output is counted after it has
 * returned, before its thread's builtins are put back, so nothing here goes
 * through a prototype or global the agent could have replaced.
 */
const { apply } = Reflect;
const { keys } = Object;
const { isArray } = Array;
const toText = String;
const mapForEach = Map.prototype.forEach;
const setForEach = Set.prototype.forEach;
const dateTime = Date.prototype.getTime;
const regExpSource = Object.getOwnPropertyDescriptor(RegExp.prototype, 'source')?.get;
const regExpFlags = Object.getOwnPropertyDescriptor(RegExp.prototype, 'flags')?.get;
const { valueOf: objectValueOf } = Object.prototype;
const {
  isMap,
  isSet,
  isDate,
  isRegExp,
  isNativeError,
  isBoxedPrimitive,
  isAnyArrayBuffer,
  isArrayBufferView,
} = types;
const stringValueOf = String.prototype.valueOf;
const numberValueOf = Number.prototype.valueOf;
const booleanValueOf = Boolean.prototype.valueOf;
const bigintValueOf = BigInt.prototype.valueOf;
const { isStringObject, isNumberObject, isBooleanObject, isBigIntObject } = types;
const SeenSet = Set;
const setHas = Set.prototype.has;
const setAdd = Set.prototype.add;

/** Text is counted in pieces of about this many characters: no single string grows past V8's limit, and memory stays flat. */
const CHUNK_CHARS = 1 << 20;

function boxedText(value: object): string {
  if (isStringObject(value)) return apply(stringValueOf, value, []) as string;
  if (isNumberObject(value)) return toText(apply(numberValueOf, value, []));
  if (isBooleanObject(value)) return toText(apply(booleanValueOf, value, []));
  if (isBigIntObject(value)) return toText(apply(bigintValueOf, value, []));
  return toText(apply(objectValueOf, value, []));
}

/**
 * The tokens of every string `output` carries, counted with `count`: a
 * string as it is; anything else as its strings (object keys included),
 * numbers, booleans and BigInts as their digits, one per line, through
 * objects, arrays, Maps, Sets, Errors (name, message, stack, cause), Dates,
 * RegExps and boxed primitives, each object once however often it recurs
 * (cycles included). Binary data (ArrayBuffers, typed arrays) carries no
 * text and is charged nothing: `limits.outputBytes` caps it.
 *
 * Iterative (a 100,000-deep list is fine) and linear in what the output
 * holds. Measured on 100,000 objects (12.4 MB as JSON), load 11 on 2 cores:
 * the walk 372 ms, walk and count 1.24 s, against 68 ms and 1.14 s through
 * `JSON.stringify`: the tokenizer's pass dominates either way.
 */
export function countOutputTokens(output: unknown, count: (text: string) => number): number {
  if (typeof output === 'string') return count(output);
  let total = 0;
  let chunk = '';
  const emit = (text: string) => {
    if (text.length === 0) return;
    if (chunk.length + text.length > CHUNK_CHARS && chunk.length > 0) {
      total += count(chunk);
      chunk = '';
    }
    chunk = chunk.length === 0 ? text : `${chunk}\n${text}`;
  };
  const seen = new SeenSet<object>();
  const stack: unknown[] = [output];
  const push = (value: unknown) => {
    stack[stack.length] = value;
  };
  while (stack.length > 0) {
    const value = stack.pop();
    switch (typeof value) {
      case 'string':
        emit(value);
        continue;
      case 'number':
      case 'bigint':
      case 'boolean':
        emit(toText(value));
        continue;
      case 'object':
        break;
      default:
        continue; // undefined, symbols and functions carry no text (the latter fail the clone).
    }
    if (value === null || apply(setHas, seen, [value])) continue;
    apply(setAdd, seen, [value]);
    if (isArray(value)) {
      // Own keys, not 0..length: a sparse array of length 1e9 carries only what it holds.
      for (const key of keys(value)) push((value as unknown as Record<string, unknown>)[key]);
      continue;
    }
    if (isAnyArrayBuffer(value) || isArrayBufferView(value)) continue;
    if (isMap(value)) {
      apply(mapForEach, value, [
        (v: unknown, k: unknown) => {
          push(k);
          push(v);
        },
      ]);
      continue;
    }
    if (isSet(value)) {
      apply(setForEach, value, [(v: unknown) => push(v)]);
      continue;
    }
    if (isDate(value)) {
      emit(toText(apply(dateTime, value, [])));
      continue;
    }
    if (isRegExp(value)) {
      if (regExpSource) emit(apply(regExpSource, value, []) as string);
      if (regExpFlags) emit(apply(regExpFlags, value, []) as string);
      continue;
    }
    if (isBoxedPrimitive(value)) {
      emit(boxedText(value));
      continue;
    }
    if (isNativeError(value)) {
      const error = value as {
        name?: unknown;
        message?: unknown;
        stack?: unknown;
        cause?: unknown;
      };
      push(error.name);
      push(error.message);
      push(error.stack);
      push(error.cause);
    }
    for (const key of keys(value)) {
      emit(key);
      push((value as Record<string, unknown>)[key]);
    }
  }
  if (chunk.length > 0) total += count(chunk);
  return total;
}
