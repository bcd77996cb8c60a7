import type { RunResult } from '../results.js';
import type { RunAnalysis } from './analysis.js';
import type { AttemptRecord } from './recorder.js';
import { escapeHtml, ms, STATUS_COLORS, timelineSvg } from './report-chart.js';

// The page's only script: one tooltip for every bar and wait, and on hover the
// attempt and its queue wait highlighted together (same data-task).
const SCRIPT = `
const tip = document.getElementById('tip');
const marks = document.querySelectorAll('[data-details]');
const light = (task, on) => {
  for (const mark of marks) if (mark.dataset.task === task) mark.classList.toggle('hl', on);
};
for (const mark of marks) {
  mark.addEventListener('mousemove', (e) => {
    tip.textContent = mark.dataset.details;
    tip.style.display = 'block';
    tip.style.left = \`\${Math.min(e.clientX + 12, window.innerWidth - tip.offsetWidth - 8)}px\`;
    tip.style.top = \`\${e.clientY + 12}px\`;
    light(mark.dataset.task, true);
  });
  mark.addEventListener('mouseleave', () => {
    tip.style.display = 'none';
    light(mark.dataset.task, false);
  });
}
`;

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1f2933}
h1{font-size:18px;margin:0 0 12px}
.summary{display:flex;flex-wrap:wrap;gap:8px 24px;margin-bottom:12px}
.summary b{display:block;font-size:11px;text-transform:uppercase;color:#616e7c}
.legend span{margin-right:14px;font-size:12px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px;vertical-align:-1px}
svg{border:1px solid #e4e7eb;border-radius:4px;background:#fff;max-width:100%;height:auto}
.lane,.tick{font-size:11px;fill:#52606d}.grid{stroke:#f0f2f4}
.bar{cursor:pointer}.bar.critical{stroke:#1f2933;stroke-width:2}.bar.hl{stroke:#1f2933;stroke-width:2;stroke-dasharray:3 2}
.wait{cursor:pointer}.wait rect{fill:url(#hatch)}.wait text{font-size:10px;fill:#3e4c59;pointer-events:none}
.wait.hl rect{stroke:#1f2933;stroke-width:1.5}
.bar-label{font-size:10px;fill:#fff;pointer-events:none}
.handover line{stroke:#1f2933;stroke-width:1.5;stroke-dasharray:2 2;pointer-events:none}.handover text{font-size:8px;fill:#1f2933}.handover{cursor:help}
.cached h2{font-size:14px;margin:16px 0 6px}.cached .hit{display:inline-block;margin:0 6px 6px 0;padding:1px 6px;border:1px dashed #0e7c86;border-radius:3px;background:#e6f6f7;color:#0e5c63;font-size:12px}
#tip{position:fixed;pointer-events:none;background:#1f2933;color:#fff;padding:6px 8px;border-radius:4px;font-size:12px;white-space:pre;display:none}
`;

/**
 * A run's timeline as one self-contained HTML page (inline SVG, CSS and a
 * few lines of script; nothing loaded from the network): the chart of
 * `timelineSvg`, details of any bar or wait on hover, and a summary against
 * the lower bound.
 */
export function timelineHtml(
  title: string,
  run: RunResult,
  attempts: readonly AttemptRecord[],
  analysis: RunAnalysis,
): string {
  const legend = Object.entries(STATUS_COLORS)
    .map(([status, color]) => `<span><i style="background:${color}"></i>${status}</span>`)
    .join('');
  const summary = [
    ['makespan', ms(analysis.makespanMs)],
    ['start-up', ms(analysis.startupMs)],
    ['threads', String(analysis.threads)],
    ['utilisation', `${(analysis.utilization * 100).toFixed(0)}%`],
    [
      'lower bound',
      `${ms(analysis.lowerBoundMs)} = max(critical path ${ms(analysis.criticalPathMs)}, work ${ms(analysis.busyMs)} / ${analysis.threads})`,
    ],
    [
      'vs lower bound',
      // A run cut short did not do all its work: its ratio would flatter it.
      run.stoppedBy === null
        ? `${analysis.ratio.toFixed(2)}×`
        : `n/a (stopped by ${run.stoppedBy} before the end)`,
    ],
    [
      'tasks',
      `${run.done} done, ${run.failed} failed, ${run.skipped} skipped, ${run.cancelled} cancelled of ${run.total}`,
    ],
    // Tokens are counted only under a budget or `countTokens`: 0 would read as "none used".
    ...(run.tokens > 0 || run.tokenBudget !== null
      ? [['tokens', run.tokens.toLocaleString('en-US')]]
      : []),
    ...(run.fromCache > 0
      ? [
          [
            'from cache',
            `${run.fromCache} tasks, ${run.saved.tokens.toLocaleString('en-US')} tokens and ${ms(run.saved.durationMs)} saved`,
          ],
        ]
      : []),
  ]
    .map(([k, v]) => `<div><b>${k}</b>${escapeHtml(v as string)}</div>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} — agentpool timeline</title>
<style>${STYLE}</style></head><body>
<h1>${escapeHtml(title)}</h1>
<div class="summary">${summary}</div>
<p class="legend">${legend}<span><i style="background:repeating-linear-gradient(45deg,#9aa5b1 0 1.5px,#e4e7eb 1.5px 4px)"></i>queue wait (ready, no thread free yet)</span><span>outlined: critical path (${escapeHtml(analysis.criticalPath.join(' → '))})</span></p>
${timelineSvg(title, run, attempts, analysis)}
${cachedList(run)}
<div id="tip"></div>
<script>${SCRIPT}</script>
</body></html>
`;
}

// Most cached tasks listed by name; a 100,000-task re-run would otherwise make a page of chips.
const CACHED_LISTED = 500;

/** Tasks whose results came from the cache: they never ran, so they have no bar. */
function cachedList(run: RunResult): string {
  if (run.fromCache === 0) return '';
  const hits: string[] = [];
  for (const task of Object.values(run.tasks)) {
    if (task.status !== 'done' || !task.cachedFrom) continue;
    if (hits.length === CACHED_LISTED) break;
    const from = task.cachedFrom;
    const details = `${task.id} (${task.agent}): from the cache, stored by run ${from.runId} at ${new Date(from.createdAt).toISOString()}; ${ms(from.durationMs)}, ${from.tokens} tokens saved`;
    hits.push(`<span class="hit" title="${escapeHtml(details)}">${escapeHtml(task.id)}</span>`);
  }
  const more = run.fromCache > hits.length ? ` … and ${run.fromCache - hits.length} more` : '';
  return `<section class="cached"><h2>From the cache (${run.fromCache}: not run)</h2>${hits.join('')}${more}</section>`;
}
