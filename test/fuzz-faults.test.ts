import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// FUZZ_SEEDS x FUZZ_TASKS scale it up (the large run: 10 x 1,000).
const SEEDS = Number(process.env.FUZZ_SEEDS ?? 2);
const TASKS = Number(process.env.FUZZ_TASKS ?? 150);
const LIMIT_MS = Math.max(90_000, SEEDS * TASKS * 150);

interface Summary {
  tally: { tasks: number; faults: number; failed: number; skipped: number; done: number };
  strays: number;
  mismatches: unknown[];
  cleanOk: boolean;
}

/** Runs the fuzzer's child process; resolves with its exit and its summary line. */
function fuzz(): Promise<{
  code: number | null;
  signal: string | null;
  summary: Summary;
  stderr: string;
}> {
  const child = spawn(
    process.execPath,
    [fileURLToPath(new URL('./fixtures/fuzz-faults-child.mjs', import.meta.url))],
    { env: { ...process.env, FUZZ_SEEDS: String(SEEDS), FUZZ_TASKS: String(TASKS) } },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (data) => {
    stdout += data;
  });
  child.stderr.on('data', (data) => {
    stderr += data;
  });
  return new Promise((resolve) => {
    // Past the limit the process did not end by itself: killed, and the test fails on its signal.
    const timer = setTimeout(() => child.kill('SIGKILL'), LIMIT_MS);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith('{"tally"'));
      resolve({ code, signal, summary: line ? JSON.parse(line) : undefined, stderr });
    });
  });
}

describe(`fault fuzzer (${SEEDS} seeds x ${TASKS} tasks)`, () => {
  it(
    'every task ends once, as the oracle says; a clean run after; the process exits by itself',
    async () => {
      const { code, signal, summary, stderr } = await fuzz();
      expect({ code, signal, stderr: summary ? '' : stderr }).toEqual({
        code: 0,
        signal: null,
        stderr: '',
      });
      expect(summary.mismatches).toEqual([]);
      expect(summary.cleanOk).toBe(true);
      expect(summary.tally.tasks).toBe(SEEDS * TASKS);
      expect(summary.tally.faults).toBeGreaterThan(0);
      expect(summary.tally.failed).toBeGreaterThan(0);
    },
    LIMIT_MS + 30_000,
  );
});
