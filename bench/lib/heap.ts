const gc = (globalThis as { gc?: () => void }).gc;

/** Whether retained bytes can be measured (node was started with --expose-gc). */
export const canMeasureHeap = gc !== undefined;

function heapUsed(): number {
  gc?.();
  return process.memoryUsage().heapUsed;
}

/**
 * Main-thread heap bytes retained per item by what `make` returns, holding
 * `copies` results at once so that the heap's own drift between two
 * measurements (compiled code, caches) is small next to what is measured.
 * `make` always runs; bytesPerItem is null without --expose-gc, or when the
 * heap came out smaller after than before (drift larger than the figure:
 * there is no number to print).
 */
export async function retainedBytes<T>(
  items: number,
  copies: number,
  make: () => T | Promise<T>,
): Promise<{ bytesPerItem: number | null; kept: T[] }> {
  const before = canMeasureHeap ? heapUsed() : 0;
  const kept: T[] = [];
  for (let k = 0; k < copies; k++) kept.push(await make());
  if (!canMeasureHeap) return { bytesPerItem: null, kept };
  const bytes = (heapUsed() - before) / (items * copies);
  return { bytesPerItem: bytes > 0 ? bytes : null, kept };
}
