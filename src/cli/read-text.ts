import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

/** The most a DAG file may hold (a 50 MB file of 100k tasks validates in seconds). */
export const MAX_DAG_BYTES = 256 * 1024 * 1024;
/** The most a `--context` file may hold. */
export const MAX_CONTEXT_BYTES = 64 * 1024 * 1024;

/** Why a file could not be read, in a few words: "ENOENT", "a FIFO, not a regular file". */
export class ReadTextError extends Error {}

function kindOf(stats: {
  isDirectory(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
}): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  return 'not a file';
}

/**
 * A regular file's text, at most `maxBytes` of it. Anything else is refused
 * before it is read: a FIFO with no writer would block the read (and the
 * libuv thread doing it) forever, and a device never ends. Opened with
 * O_NONBLOCK so that even opening a FIFO returns at once; the check is on
 * the opened descriptor, so the file cannot be swapped in between.
 */
export async function readRegularText(path: string, maxBytes: number): Promise<string> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (cause) {
    throw new ReadTextError(String((cause as NodeJS.ErrnoException).code ?? cause), { cause });
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new ReadTextError(`${kindOf(stats)}, not a regular file`);
    if (stats.size > maxBytes)
      throw new ReadTextError(`${stats.size} bytes, more than the ${maxBytes} a file may have`);
    // Read to the end, not to stat's size: a file that grew since is still held to the limit.
    const chunks: Buffer[] = [];
    let length = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(Math.max(stats.size - length, 0) + 1, 1 << 24));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      length += bytesRead;
      if (length > maxBytes)
        throw new ReadTextError(`more than the ${maxBytes} bytes a file may have`);
    }
    return Buffer.concat(chunks, length).toString('utf8');
  } finally {
    await handle.close();
  }
}
