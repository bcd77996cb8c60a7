import type { RunResult } from '../results.js';
import type { RunAnalysis } from './analysis.js';
import type { AttemptRecord } from './recorder.js';

const COLORS: Record<AttemptRecord['status'], string> = {
  done: '#2e9d5b',
  failed: '#d64545',
  retry: '#e89a2c',
  skipped: '#9aa3ad',
  cancelled: '#7b8794',
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function ms(value: number): string {
  return value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`;
}

/**
 * A run's timeline as one self-contained HTML page (inline SVG, CSS and a
 * few lines of script; nothing loaded from the network): a lane per worker
 * thread, a bar per attempt coloured by its outcome, queue wait as a faint
 * bar before it, the critical path outlined, details on hover, and a summary
 * against the lower bound.
 */
export function timelineHtml(
  title: string,
  run: RunResult,
  attempts: readonly AttemptRecord[],
  analysis: RunAnalysis,
): string {
  const lanes = [...new Set(attempts.map((a) => a.threadId ?? -1))].sort((a, b) => a - b);
  // Loops, not Math.min(...spread): a run may have more attempts than a call has arguments.
  let origin = run.startedAt;
  for (const a of attempts) origin = Math.min(origin, a.readyAt);
  let span = 1;
  for (const a of attempts) span = Math.max(span, a.finishedAt - origin);
  const width = 1100;
  const left = 90;
  const laneHeight = 28;
  const top = 24;
  const height = top + lanes.length * laneHeight + 10;
  const x = (t: number) => left + ((t - origin) / span) * (width - left - 10);
  const critical = new Set(analysis.criticalPath);

  const rows = lanes
    .map((lane, row) => {
      const y = top + row * laneHeight;
      const label = lane === -1 ? 'unknown' : lane === 0 ? 'main' : `thread ${lane}`;
      return `<text class="lane" x="8" y="${y + 18}">${label}</text><line x1="${left}" x2="${width - 10}" y1="${y + laneHeight - 2}" y2="${y + laneHeight - 2}" class="grid"/>`;
    })
    .join('');
  const waits: string[] = [];
  const bars = attempts
    .map((a) => {
      const row = lanes.indexOf(a.threadId ?? -1);
      const y = top + row * laneHeight + 4;
      const start = x(a.startedAt);
      const barWidth = Math.max(1.5, x(a.finishedAt) - start);
      const wait = a.startedAt - a.readyAt;
      const details = [
        `${a.id} (${a.agent})`,
        `attempt ${a.attempt}: ${a.status}`,
        `run ${ms(a.finishedAt - a.startedAt)}, waited ${ms(Math.max(0, wait))}`,
        a.tokens ? `${a.tokens} tokens` : '',
        a.error ?? '',
        critical.has(a.id) ? 'on the critical path' : '',
      ].filter(Boolean);
      // Queue wait: a thin line under the lane's bars, ending where the attempt starts.
      const waitBar =
        wait > 0
          ? `<rect class="wait" x="${x(a.readyAt).toFixed(1)}" y="${y + 21}" width="${(start - x(a.readyAt)).toFixed(1)}" height="2"/>`
          : '';
      waits.push(waitBar);
      return `<rect class="bar${critical.has(a.id) ? ' critical' : ''}" data-task="${escapeHtml(a.id)}" data-details="${escapeHtml(details.join('\n'))}" x="${start.toFixed(1)}" y="${y}" width="${barWidth.toFixed(1)}" height="20" rx="3" fill="${COLORS[a.status]}"><title>${escapeHtml(details.join('\n'))}</title></rect>`;
    })
    .join('');
  const ticks = Array.from({ length: 6 }, (_, k) => {
    const t = (span * k) / 5;
    const anchor = k === 0 ? 'start' : k === 5 ? 'end' : 'middle';
    return `<text class="tick" text-anchor="${anchor}" x="${x(origin + t).toFixed(1)}" y="14">${ms(t)}</text>`;
  }).join('');
  const legend = Object.entries(COLORS)
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
    ['tokens', String(run.tokens)],
  ]
    .map(([k, v]) => `<div><b>${k}</b>${escapeHtml(v as string)}</div>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} — agentpool timeline</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1f2933}
h1{font-size:18px;margin:0 0 12px}
.summary{display:flex;flex-wrap:wrap;gap:8px 24px;margin-bottom:12px}
.summary b{display:block;font-size:11px;text-transform:uppercase;color:#616e7c}
.legend span{margin-right:14px;font-size:12px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
svg{border:1px solid #e4e7eb;border-radius:4px;background:#fff}
.lane,.tick{font-size:11px;fill:#52606d}.grid{stroke:#f0f2f4}
.wait{fill:#9aa5b1;pointer-events:none}.bar{cursor:pointer}.bar.critical{stroke:#1f2933;stroke-width:2}
#tip{position:fixed;pointer-events:none;background:#1f2933;color:#fff;padding:6px 8px;border-radius:4px;font-size:12px;white-space:pre;display:none}
</style></head><body>
<h1>${escapeHtml(title)}</h1>
<div class="summary">${summary}</div>
<p class="legend">${legend}<span>▬ queue wait</span><span>outlined: critical path (${escapeHtml(analysis.criticalPath.join(' → '))})</span></p>
<svg width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img"><title>${escapeHtml(`Timeline of ${title}: one lane per worker thread, a bar per task attempt`)}</title>${ticks}${rows}${waits.join('')}${bars}</svg>
<div id="tip"></div>
<script>
const tip = document.getElementById('tip');
for (const bar of document.querySelectorAll('rect.bar')) {
  bar.addEventListener('mousemove', (e) => { tip.textContent = bar.dataset.details; tip.style.display = 'block'; tip.style.left = \`\${e.clientX + 12}px\`; tip.style.top = \`\${e.clientY + 12}px\`; });
  bar.addEventListener('mouseleave', () => { tip.style.display = 'none'; });
}
</script>
</body></html>
`;
}
