import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { sourceHash } from '../cache/key.js';

/**
 * The content hash of an agent module (its own source bytes, as the cache
 * keys it), by file URL; `missing:<reason>` for a file that cannot be read,
 * which matches no other side's hash.
 */
export async function agentHash(href: string): Promise<string> {
  try {
    return sourceHash(await readFile(fileURLToPath(href)));
  } catch (cause) {
    return `missing:${(cause as NodeJS.ErrnoException).code ?? 'unreadable'}`;
  }
}

/** Hashes of several agents' modules, by agent name. */
export async function agentHashes(
  modules: ReadonlyMap<string, string>,
): Promise<Map<string, string>> {
  const entries = await Promise.all(
    [...modules].map(async ([name, href]) => [name, await agentHash(href)] as const),
  );
  return new Map(entries);
}
