/**
 * Cells that tasks running the `gate` fixture and the test set and wait on
 * (Atomics): ordering by signal, not by sleeping and hoping.
 */
export class Gates {
  readonly cells = new SharedArrayBuffer(64);
  readonly #view = new Int32Array(this.cells);

  /** Cell `n`'s value: how often a task passed its `once n` step, say. */
  read(n: number): number {
    return Atomics.load(this.#view, n);
  }

  /** Resolves once a task has set cell `n` (`arrive n`). */
  async reached(n: number): Promise<void> {
    // Atomics.waitAsync (Node 16+) is not in the ES2023 lib the tests compile with.
    const { waitAsync } = Atomics as unknown as {
      waitAsync(view: Int32Array, index: number, value: number): { value: unknown };
    };
    while (Atomics.load(this.#view, n) === 0) await waitAsync(this.#view, n, 0).value;
  }

  /** Sets cell `n`, waking a task that waits on it. */
  open(n: number): void {
    Atomics.store(this.#view, n, 1);
    Atomics.notify(this.#view, n);
  }
}
