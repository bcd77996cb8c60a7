import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineAgent } from '../../workers/agent.js';

const cell = new Int32Array(new SharedArrayBuffer(4));

/**
 * The first execution of a task writes `<prompt>/<task id>.pid` (its worker
 * process's pid) and then holds its thread until that process is killed;
 * any later execution returns at once. The cluster section kills the
 * process and times how soon the task ends on another worker.
 */
export default defineAgent((prompt, ctx) => {
  const file = join(prompt, `${ctx.taskId}.pid`);
  if (existsSync(file)) return 'again';
  writeFileSync(file, String(process.pid));
  Atomics.wait(cell, 0, 0, 120_000);
  return 'first';
});
