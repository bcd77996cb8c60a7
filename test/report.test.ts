import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Locator, type Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// .ci/run installs Debian's chromium; elsewhere the test says what is missing instead of failing.
const hasChromium = existsSync(CHROMIUM);

/** Runs the CLI; a run with a failed task exits 1, which is what this test wants. */
function run(args: string[]): Promise<number | null> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      // --no-cache: the report must show attempts, which a cached re-run would not make.
      [join(root, 'dist/src/cli/main.js'), ...args, '--no-cache'],
      { cwd: root },
      (error) => resolve(error ? (typeof error.code === 'number' ? error.code : null) : 0),
    );
  });
}

/**
 * Moves the mouse onto a part of `mark` that nothing is drawn over, as a
 * user would; fails if there is none (the mark cannot be hovered at all).
 */
async function hoverVisible(page: Page, mark: Locator): Promise<void> {
  const point = await mark.evaluate((element) => {
    const doc = (
      globalThis as unknown as { document: { elementFromPoint(x: number, y: number): unknown } }
    ).document;
    const r = element.getBoundingClientRect();
    for (let dx = 0.5; dx < r.width; dx += 0.5) {
      const at = { x: r.x + dx, y: r.y + r.height / 2 };
      if (doc.elementFromPoint(at.x, at.y) === element) return at;
    }
    return null;
  });
  expect(point, `${await mark.getAttribute('data-task')} is covered`).not.toBeNull();
  await page.mouse.move(point?.x ?? 0, point?.y ?? 0);
}

async function box(page: Page, selector: string, index = 0) {
  const found = await page.locator(selector).nth(index).boundingBox();
  if (!found) throw new Error(`${selector} #${index} is not drawn`);
  return found;
}

describe('the HTML timeline report', () => {
  it.skipIf(!hasChromium && !process.env.CI)(
    'renders in headless Chromium: a bar per attempt coloured by outcome, errors and waits on hover, nothing clipped',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'agentpool-report-'));
      const report = join(dir, 'timeline.html');
      const results = join(dir, 'results.json');
      // report.yaml on two threads: a failure, a retry, a skipped task (no bar), tasks that
      // wait for a thread, and a 0 ms task that is a sliver at the run's scale.
      const dag = join(root, 'test/fixtures/cli/report.yaml');
      expect(await run(['run', dag, '--threads', '2', '--report', report, '--out', results])).toBe(
        1,
      );
      const result = JSON.parse(await readFile(results, 'utf8'));
      const attempts = Object.values(result.tasks as Record<string, { attempts: number }>).reduce(
        (n, t) => n + t.attempts,
        0,
      );
      expect(attempts).toBe(7); // 5 tasks once, flaky twice, after never

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
        const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
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
        expect(await page.textContent('svg > title')).toContain('Timeline of report.yaml');
        expect(await page.textContent('.summary')).toContain('lower bound');

        // A bar per attempt, coloured by how it ended.
        const bars = page.locator('rect.bar');
        expect(await bars.count()).toBe(attempts);
        const fills = async (status: string) =>
          page
            .locator(`rect.bar[data-status="${status}"]`)
            .evaluateAll((all) => all.map((bar) => bar.getAttribute('fill')));
        expect(await fills('failed')).toEqual(['#d64545']);
        expect(await fills('retry')).toEqual(['#e89a2c']);
        expect(await fills('done')).toEqual(Array(5).fill('#2e9d5b'));
        expect(await page.locator('rect.bar.critical').count()).toBeGreaterThan(0);

        // Every bar, the 0 ms one too, is wide enough to see, and can be hovered to show its
        // own details.
        expect((await box(page, 'rect.bar[data-task="blip"]')).width).toBeGreaterThanOrEqual(4.9);
        for (const bar of await bars.all()) {
          expect((await bar.boundingBox())?.width).toBeGreaterThanOrEqual(4.9);
          await hoverVisible(page, bar);
          expect(await page.textContent('#tip')).toContain(
            `${await bar.getAttribute('data-task')} (`,
          );
        }
        await hoverVisible(page, page.locator('rect.bar[data-status="failed"]'));
        expect(await page.textContent('#tip')).toContain('E_BOOM: boom: disk full');
        await hoverVisible(page, page.locator('rect.bar[data-status="retry"]'));
        expect(await page.textContent('#tip')).toMatch(
          /attempt 1: retry[\s\S]*flaky: attempt 1 fails/,
        );

        // Queue waits: each labelled with its task, none on top of another, each ending where
        // its attempt's bar starts; hovering one names it and picks out its bar.
        const waits = page.locator('g.wait');
        const tasks = await waits.evaluateAll((all) =>
          all.map((wait) => wait.getAttribute('data-task')),
        );
        expect(tasks).toContain('queued-2');
        const boxes = [];
        for (let k = 0; k < tasks.length; k++) {
          const wait = waits.nth(k);
          expect(await wait.locator('text').textContent()).toBe(tasks[k]);
          const rect = await box(page, 'g.wait rect', k);
          const starts = await page
            .locator(`rect.bar[data-task="${tasks[k]}"]`)
            .evaluateAll((all) => all.map((bar) => bar.getBoundingClientRect().x));
          expect(starts.some((x) => Math.abs(x - (rect.x + rect.width)) < 1.5)).toBe(true);
          for (const other of boxes) {
            const apart =
              rect.y >= other.y + other.height - 0.5 ||
              other.y >= rect.y + rect.height - 0.5 ||
              rect.x >= other.x + other.width ||
              other.x >= rect.x + rect.width;
            expect(apart).toBe(true);
          }
          boxes.push(rect);
        }
        await hoverVisible(page, page.locator('g.wait[data-task="queued-2"] rect'));
        expect(await page.textContent('#tip')).toMatch(
          /^queued-2 \(sleep\), attempt 1\nwaited \d+ ms/,
        );
        expect(await page.locator('rect.bar.hl').getAttribute('data-task')).toBe('queued-2');

        // Every tick label inside the chart, the last one too.
        const chart = await box(page, 'svg');
        const ticks = page.locator('text.tick');
        expect(await ticks.count()).toBeGreaterThanOrEqual(3);
        for (let k = 0; k < (await ticks.count()); k++) {
          const tick = await box(page, 'text.tick', k);
          expect(tick.x).toBeGreaterThanOrEqual(chart.x);
          expect(tick.x + tick.width).toBeLessThanOrEqual(chart.x + chart.width);
        }
        // A bar with room for its task's id carries it; a sliver does not.
        const labels = await page.locator('text.bar-label').allTextContents();
        expect(labels).toContain('long');
        expect(labels).not.toContain('blip');
        expect(problems).toEqual([]);
      } finally {
        await browser.close();
      }
    },
  );

  it.skipIf(!hasChromium && !process.env.CI)(
    'draws one lane per thread slot: a replaced thread continues its lane, marked where it took over',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'agentpool-report-'));
      const report = join(dir, 'timeline.html');
      const results = join(dir, 'results.json');
      const dag = join(root, 'test/fixtures/cli/replaced.yaml');
      expect(await run(['run', dag, '--threads', '2', '--report', report, '--out', results])).toBe(
        1,
      );
      const result = JSON.parse(await readFile(results, 'utf8'));
      expect(result.tasks.crash.error.code).toBe('ERR_WORKER_CRASHED');
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
      try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
        await page.goto(pathToFileURL(report).href);
        // Each lane's own label, without the <title> that lists its threads.
        const lanes = await page
          .locator('text.lane')
          .evaluateAll((all) => all.map((lane) => lane.lastChild?.textContent));
        // Three thread ids (the crashed thread's replacement has its own) on two slots.
        expect(lanes.filter((text) => text !== 'queue wait')).toEqual(['slot 1', 'slot 2']);
        const handover = page.locator('g.handover');
        expect(await handover.count()).toBe(1);
        await hoverVisible(page, handover.locator('text'));
        expect(await page.textContent('#tip')).toMatch(
          /^thread \d+ takes over from thread \d+ at /,
        );
        // The task after the crash sits in the lane the crashed thread had.
        const y = (task: string) => box(page, `rect.bar[data-task="${task}"]`).then((b) => b.y);
        expect(await y('next-1')).toBe(await y('crash'));
        expect(await y('steady')).not.toBe(await y('crash'));
      } finally {
        await browser.close();
      }
    },
  );
});
