import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// CLOSE_CYCLES scales it up (the reliability figures use 1,000).
const CYCLES = Number(process.env.CLOSE_CYCLES ?? 200);

describe('create / execute / close', () => {
  // Threads still loading their entry when close() terminates them used to
  // abort the whole process (V8 fatal in require() of an ES module, exit 134)
  // within a few cycles at 8 threads.
  it(
    `never aborts the process over ${CYCLES} cycles at 8 threads`,
    async () => {
      const script = new URL('./fixtures/close-loop.js', import.meta.url);
      const outcome = await new Promise<{
        code: number | null;
        signal: string | null;
        out: string;
      }>((resolve) => {
        execFile(
          process.execPath,
          [script.pathname, String(CYCLES), '8'],
          { maxBuffer: 16 << 20 },
          (error, stdout, stderr) => {
            const failure = error as (Error & { code?: number; signal?: string }) | null;
            resolve({
              code: failure ? (failure.code ?? null) : 0,
              signal: failure?.signal ?? null,
              out: `${stdout}${stderr}`.slice(-2_000),
            });
          },
        );
      });
      expect(outcome, outcome.out).toMatchObject({ code: 0, signal: null });
      expect(outcome.out).toContain(`${CYCLES} cycles`);
    },
    Math.max(300_000, CYCLES * 2_000),
  );
});
