// Regenerates docs/timeline.png, the README's picture of the timeline report:
// runs the example, opens its report in headless Chromium (Debian's
// `chromium`, or CHROMIUM_PATH), hovers a bar that waited for a tooltip and
// screenshots the page. Run after `npm run build`: node docs/timeline-screenshot.mjs
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const root = fileURLToPath(new URL('..', import.meta.url));
const report = join(mkdtempSync(join(tmpdir(), 'agentpool-shot-')), 'timeline.html');
execFileSync(
  process.execPath,
  [join(root, 'dist/src/cli/main.js'), 'run', 'examples/research/dag.yaml', '--report', report],
  { cwd: root, stdio: 'inherit' },
);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1160, height: 420 } });
  await page.goto(pathToFileURL(report).href);
  // The bar of the task that waited longest for a thread: hovering it also outlines its wait.
  const waits = await page
    .locator('g.wait')
    .evaluateAll((all) =>
      all.map((g) => [g.getAttribute('data-task'), g.getBoundingClientRect().width]),
    );
  const [waited] = waits.reduce((a, b) => (b[1] > a[1] ? b : a), [null, 0]);
  const bar = page.locator(`rect.bar[data-task="${waited}"]`).first();
  const box = await bar.boundingBox();
  if (box) await page.mouse.move(box.x + Math.min(box.width / 3, 140), box.y + box.height / 2);
  const svg = await page.locator('svg').boundingBox();
  const height = Math.ceil((svg?.y ?? 0) + (svg?.height ?? 300) + 90);
  await page.screenshot({
    path: join(root, 'docs/timeline.png'),
    clip: { x: 0, y: 0, width: 1160, height },
  });
} finally {
  await browser.close();
}
