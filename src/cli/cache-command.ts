import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { SqliteStore, STORE_FILE } from '../cache/sqlite-store.js';
import { cacheDir } from './cache-dir.js';

const DURATION_UNITS: Record<string, number> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

/** "7d", "12h", "30m", "90s", "2w" in ms. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([smhdw])$/.exec(text.trim());
  if (!match) {
    throw new InvalidArgumentError(
      `--older-than must be a number and a unit (s, m, h, d, w), such as 7d, got "${text}"`,
    );
  }
  return Number(match[1]) * (DURATION_UNITS[match[2] as string] as number);
}

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/** "1GB" (10^9 bytes), "512MiB" (2^29), "100kb", "4096" in bytes. */
export function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = SIZE_UNITS[(match?.[2] || 'b').toLowerCase()];
  if (!match || unit === undefined) {
    throw new InvalidArgumentError(
      `--max-size must be a number of bytes with an optional unit (KB, MB, GB, KiB, MiB, GiB), such as 1GB, got "${text}"`,
    );
  }
  return Math.floor(Number(match[1]) * unit);
}

function bytes(n: number): string {
  if (n < 1e3) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} kB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)} MB`;
  return `${(n / 1e9).toFixed(2)} GB`;
}

interface Where {
  cacheDir?: string;
}

/** The store of the command's cache directory; undefined (and a line saying so) when there is none yet. */
function open(dag: string | undefined, flags: Where): SqliteStore | undefined {
  const dir = cacheDir(flags.cacheDir, dag);
  if (!existsSync(join(dir, STORE_FILE))) {
    process.stdout.write(`no cache in ${dir}\n`);
    return undefined;
  }
  try {
    return new SqliteStore(dir);
  } catch (error) {
    // A damaged file: say so (runs go on uncached with a warning; `clear` cannot help, deleting it does).
    process.stderr.write(
      `agentpool: cannot open the cache in ${dir}: ${(error as Error).message} (delete ${join(dir, STORE_FILE)}* to start afresh)\n`,
    );
    process.exitCode = 2;
    return undefined;
  }
}

function withStore(dag: string | undefined, flags: Where, use: (store: SqliteStore) => void): void {
  const store = open(dag, flags);
  if (store === undefined) return;
  try {
    use(store);
  } finally {
    store.close();
  }
}

/** `agentpool cache stats|prune|clear [dag]`. */
export function cacheCommands(program: Command): void {
  const cache = program
    .command('cache')
    .description(
      'inspect or shrink the task cache (.agentpool/ next to the DAG file, or --cache-dir)',
    )
    .addHelpText(
      'after',
      `
Examples:
  $ agentpool cache stats examples/research/dag.yaml
  $ agentpool cache prune dag.yaml --older-than 7d --max-size 1GB
  $ agentpool cache clear --cache-dir /tmp/agentpool-cache`,
    );
  const where = (command: Command) =>
    command
      .argument('[dag]', 'a DAG file: its cache is .agentpool/ beside it (default: ./.agentpool)')
      .option('--cache-dir <dir>', 'the cache directory, instead');

  where(
    cache.command('stats').description('entries, size and the hit rate of the last runs'),
  ).action((dag: string | undefined, flags: Where) =>
    withStore(dag, flags, (store) => {
      const stats = store.stats();
      const lines = [
        `${store.path}`,
        `entries   ${stats.entries.toLocaleString('en-US')}`,
        `outputs   ${bytes(stats.bytes)} (${bytes(stats.fileBytes)} on disk)`,
      ];
      if (stats.oldest !== null && stats.newest !== null) {
        lines.push(
          `written   ${new Date(stats.oldest).toISOString()} to ${new Date(stats.newest).toISOString()}`,
        );
      }
      if (stats.runs.length > 0) {
        lines.push('last runs (newest first):');
        for (const run of stats.runs) {
          const rate = run.lookups === 0 ? 'n/a' : `${Math.round((run.hits / run.lookups) * 100)}%`;
          lines.push(
            `  ${new Date(run.startedAt).toISOString()}  ${run.runId}  ${run.hits}/${run.lookups} hits (${rate}), ${Math.round(run.savedMs).toLocaleString('en-US')} ms and ${run.savedTokens.toLocaleString('en-US')} tokens saved`,
          );
        }
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    }),
  );

  where(
    cache
      .command('prune')
      .description('delete entries not used recently, then the least recently used above a size')
      .option(
        '--older-than <age>',
        'entries last used longer ago than this (7d, 12h, 30m)',
        parseDuration,
      )
      .option('--max-size <size>', 'then keep at most this much output (1GB, 500MB)', parseSize),
  ).action((dag: string | undefined, flags: Where & { olderThan?: number; maxSize?: number }) => {
    if (flags.olderThan === undefined && flags.maxSize === undefined) {
      process.stderr.write('agentpool cache prune: give --older-than, --max-size or both\n');
      process.exitCode = 2;
      return;
    }
    withStore(dag, flags, (store) => {
      const { removed, bytes: freed } = store.prune({
        ...(flags.olderThan !== undefined && { olderThan: Date.now() - flags.olderThan }),
        ...(flags.maxSize !== undefined && { maxBytes: flags.maxSize }),
      });
      const left = store.stats();
      process.stdout.write(
        `removed ${removed.toLocaleString('en-US')} entries (${bytes(freed)}); ${left.entries.toLocaleString('en-US')} left (${bytes(left.bytes)})\n`,
      );
    });
  });

  where(cache.command('clear').description('delete every entry')).action(
    (dag: string | undefined, flags: Where) =>
      withStore(dag, flags, (store) => {
        const { removed, bytes: freed } = store.clear();
        process.stdout.write(
          `removed ${removed.toLocaleString('en-US')} entries (${bytes(freed)})\n`,
        );
      }),
  );
}
