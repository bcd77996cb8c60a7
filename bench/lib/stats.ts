/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** "min–max" of a list, for the spread column. */
export function spread(values: readonly number[], digits = 2): string {
  return `${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}`;
}

/** Median and range of repeated measurements of one figure. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  /** Every measurement, in the order taken. */
  samples: number[];
}

export function summarize(values: readonly number[]): Summary {
  return {
    median: median(values),
    min: Math.min(...values),
    max: Math.max(...values),
    samples: [...values],
  };
}

/** "1.23 (1.10–1.31)": a summary's median and range in one cell. */
export function cell(summary: Summary, digits = 2): string {
  return `${summary.median.toFixed(digits)} (${spread(summary.samples, digits)})`;
}

/** Milliseconds `fn` takes. */
export async function time(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** A markdown table. */
export function table(head: string[], rows: (string | number)[][], align?: ('l' | 'r')[]): string {
  const rule = head.map((_, i) => ((align?.[i] ?? 'r') === 'l' ? '---' : '---:'));
  return [head, rule, ...rows].map((row) => `| ${row.join(' | ')} |`).join('\n');
}
