import type { RunResult, TaskResult } from 'agentpool';

/** URL of a fixture agent module under test/fixtures. */
export function fixture(name: string): URL {
  return new URL(`./fixtures/${name}.js`, import.meta.url);
}

/** The most attempts whose [startedAt, finishedAt] intervals overlap at any moment. */
export function maxOverlap(results: readonly TaskResult[]): number {
  const edges: [number, number][] = [];
  for (const r of results) {
    if (r.startedAt === null) continue;
    edges.push([r.startedAt, 1], [r.finishedAt, -1]);
  }
  // Ends sort before starts at the same instant: touching intervals do not overlap.
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let current = 0;
  let most = 0;
  for (const [, delta] of edges) {
    current += delta;
    most = Math.max(most, current);
  }
  return most;
}

/** Task ids in the order their (last) attempt started. */
export function startOrder(run: RunResult): string[] {
  return Object.values(run.tasks)
    .filter((r) => r.startedAt !== null)
    .sort((a, b) => (a.startedAt as number) - (b.startedAt as number))
    .map((r) => r.id);
}

/** Narrows a result to the given status, failing the test otherwise. */
export function expectStatus<S extends TaskResult['status']>(
  result: TaskResult | undefined,
  status: S,
): Extract<TaskResult, { status: S }> {
  if (result?.status !== status) {
    throw new Error(`expected status ${status}, got ${JSON.stringify(result, null, 2)}`);
  }
  return result as Extract<TaskResult, { status: S }>;
}
