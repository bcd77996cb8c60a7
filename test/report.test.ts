import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// .ci/run installs Debian's chromium; elsewhere the test says what is missing instead of failing.
const hasChromium = existsSync(CHROMIUM);

describe('the HTML timeline report', () => {
  it.skipIf(!hasChromium && !process.env.CI)(
    'renders in headless Chromium: a bar per attempt, no console errors',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'agentpool-report-'));
      const report = join(dir, 'timeline.html');
      const results = join(dir, 'results.json');
      // fails.yaml: one failed task, one skipped (never ran), one done: two bars.
      await promisify(execFile)(
        process.execPath,
        [
          join(root, 'dist/src/cli/main.js'),
          'run',
          join(root, 'test/fixtures/cli/dag.yaml'),
          '--report',
          report,
          '--out',
          results,
        ],
        { cwd: root },
      );
      const run = JSON.parse(await readFile(results, 'utf8'));
      const attempts = Object.values(run.tasks as Record<string, { attempts: number }>).reduce(
        (n, t) => n + t.attempts,
        0,
      );

      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
      try {
        const page = await browser.newPage();
        const problems: string[] = [];
        page.on('console', (message) => {
          if (message.type() === 'error') problems.push(message.text());
        });
        page.on('pageerror', (error) => problems.push(error.message));
        page.on('request', (request) => {
          if (!request.url().startsWith('file:'))
            problems.push(`network request: ${request.url()}`);
        });
        await page.goto(pathToFileURL(report).href);
        expect(await page.locator('rect.bar').count()).toBe(attempts);
        expect(await page.locator('rect.bar.critical').count()).toBeGreaterThan(0);
        expect(await page.textContent('.summary')).toContain('lower bound');
        // Every bar can be hovered (nothing drawn over it) and shows its own details.
        for (const bar of await page.locator('rect.bar').all()) {
          await bar.hover({ timeout: 5_000 });
          expect(await page.textContent('#tip')).toContain(
            `${await bar.getAttribute('data-task')} (`,
          );
        }
        expect(problems).toEqual([]);
        await page.screenshot({ path: join(dir, 'timeline.png') });
      } finally {
        await browser.close();
      }
    },
  );
});
