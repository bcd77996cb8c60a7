import { defineAgent } from '../../workers/agent.js';

const cell = new Int32Array(new SharedArrayBuffer(4));

/** Holds its thread for `prompt` ms without using a core (Atomics.wait). */
export default defineAgent((prompt) => {
  const ms = Number(prompt);
  if (ms > 0) Atomics.wait(cell, 0, 0, ms);
  return ms;
});
