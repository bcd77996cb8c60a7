// A raw piscina/tinypool worker: holds its thread for `ms` without using a
// core (Atomics.wait), so scheduling at 16 threads can be measured on 2 cores.
const cell = new Int32Array(new SharedArrayBuffer(4));

export default function wait(ms: number): number {
  if (ms > 0) Atomics.wait(cell, 0, 0, ms);
  return ms;
}
