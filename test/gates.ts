/**
 * Cells that tasks running the `gate` fixture and the test set and wait on
 * (Atomics): ordering by signal, not by sleeping and hoping.
 */
export class Gates {
  readonly cells = new SharedArrayBuffer(64);
  readonly #view = new Int32Array(this.cells);

  /** Sets cell `n`, waking a task that waits on it. */
  open(n: number): void {
    Atomics.store(this.#view, n, 1);
    Atomics.notify(this.#view, n);
  }
}
