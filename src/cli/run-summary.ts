import type { RunResult } from '../results.js';

/** "9 of 12 tasks came from the cache (.agentpool)", or nothing when none did. */
export function cacheLine(run: RunResult, dir: string): string {
  if (run.fromCache === 0) return '';
  return `${run.fromCache} of ${run.total} tasks came from the cache (${dir}); ${run.done - run.fromCache} ran\n`;
}

/** " (9 from cache, 41,200 tokens and 38 s saved)" after the done count, or nothing. */
function savedText(run: RunResult): string {
  if (run.fromCache === 0) return '';
  const tokens = run.saved.tokens ? `${run.saved.tokens.toLocaleString('en-US')} tokens and ` : '';
  const seconds = run.saved.durationMs / 1000;
  return ` (${run.fromCache} from cache, ${tokens}${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s saved)`;
}

export function summary(run: RunResult, ratio: string): string {
  const lines = [
    '',
    `${run.done}/${run.total} done${savedText(run)}, ${run.failed} failed, ${run.skipped} skipped, ${run.cancelled} cancelled in ${(run.durationMs / 1000).toFixed(2)} s${run.tokens ? `, ${run.tokens.toLocaleString('en-US')} tokens` : ''}${ratio}`,
  ];
  const cancelled: string[] = [];
  for (const task of Object.values(run.tasks)) {
    if (task.status === 'cancelled') cancelled.push(task.id);
    else if (task.status !== 'done')
      lines.push(
        `  ${task.status.padEnd(9)} ${task.id}: ${task.error.code}: ${task.error.message}`,
      );
  }
  // One line for them all: a cancelled run of thousands of tasks is not thousands of lines.
  if (cancelled.length > 0) {
    const shown = cancelled.slice(0, 5).join(', ');
    const more = cancelled.length > 5 ? `, … ${cancelled.length - 5} more` : '';
    lines.push(`  cancelled ${cancelled.length}: ${shown}${more}`);
  }
  const slowest = Object.values(run.tasks)
    .filter((task) => task.startedAt !== null && task.status !== 'cancelled')
    .sort((a, b) => b.durationMs - a.durationMs)
    .slice(0, 3);
  if (slowest.length > 1)
    lines.push(
      `  slowest: ${slowest.map((task) => `${task.id} ${(task.durationMs / 1000).toFixed(2)} s`).join(', ')}`,
    );
  if (run.stoppedBy) lines.push(`stopped by ${run.stoppedBy}`);
  return `${lines.join('\n')}\n`;
}
