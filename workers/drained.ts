// piscina posts an attempt's reply only once this thread's stdout and stderr
// hold no unwritten bytes (in a worker, until the main thread has taken
// them), so that what the agent printed comes out before its result. It
// waits after the attempt has ended, when the thread may already have begun
// the next one: an attempt that then ended the thread (process.exit, a
// timeout, a memory cap) took the finished one's reply with it, and a task
// that had emitted chunks could not run again (fuzz-faults: a corked stdout
// held every later reply of its thread until its timeout ended the thread).
// Waited for inside the attempt instead, piscina finds nothing to wait for,
// and a stream that never drains times out the attempt that corked it.

/** Resolves once stdout and stderr have handed all they were given to the main thread. */
export async function drained(): Promise<void> {
  for (const stream of [process.stdout, process.stderr])
    if (stream.writableLength > 0)
      await new Promise<void>((resolve) => stream.write('', () => resolve()));
}
