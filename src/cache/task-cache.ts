import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Graph } from '../dag/graph.js';
import type { RunAgent } from '../planner/run-settings.js';
import { readVersions } from './agent-versions.js';
import { sourceHash } from './key.js';
import type { CacheOptions } from './options.js';
import { type KeyedAgent, RunCache } from './run-cache.js';
import { SqliteStore } from './sqlite-store.js';
import type { CacheStore } from './store.js';
import { CacheWarnings } from './warnings.js';

/** What one run needs to use the cache. */
export interface CacheRun {
  runId: string;
  graph: Graph;
  agents: ReadonlyMap<string, RunAgent>;
  context: Record<string, unknown>;
  encoding: string;
  /** By task index, 1 for tasks whose cached result is ignored. */
  rerun: Uint8Array | undefined;
}

/**
 * A runtime's task cache: opens its store on first use and prepares each
 * run's `RunCache`. A store that cannot be opened (a damaged file, a
 * directory that cannot be written) is a warning, and that run runs
 * uncached; the next run tries again.
 */
export class TaskCache {
  readonly #options: Exclude<CacheOptions, false>;
  #store: CacheStore | undefined;

  constructor(options: Exclude<CacheOptions, false>) {
    this.#options = options;
  }

  /** The run's cache, or undefined if the store is unusable; a promise when a module's version must be read first. */
  prepare(run: CacheRun): RunCache | undefined | Promise<RunCache | undefined> {
    const warnings = new CacheWarnings();
    const store = this.#open(warnings);
    if (store === undefined) return undefined;
    const agents = new Map<string, KeyedAgent>();
    const unread: { name: string; href: string; source: string }[] = [];
    const names = new Set(run.graph.tasks.map((task) => task.agent));
    for (const name of names) {
      const agent = run.agents.get(name);
      if (agent === undefined || agent.cache === false) continue;
      let source: string;
      try {
        source = sourceHash(readFileSync(fileURLToPath(agent.module)));
      } catch {
        // Not a readable file: its tasks fail to load anyway, uncached.
        continue;
      }
      let version: string | null | undefined;
      try {
        version = store.agentVersion(agent.module, source);
      } catch (error) {
        warnings.warn(`cannot read from the store: ${(error as Error).message}`);
        return undefined;
      }
      if (version === undefined) unread.push({ name, href: agent.module, source });
      else agents.set(name, { source, version: version ?? undefined, registered: agent.version });
    }
    const make = () => new RunCache({ ...run, store, warnings, agents });
    if (unread.length === 0) return make();
    return readVersions(unread.map(({ name, href }) => ({ agent: name, href }))).then(
      (versions) => {
        for (const { name, href, source } of unread) {
          const reply = versions.get(href);
          if (reply === undefined || 'error' in reply) continue;
          const registered = run.agents.get(name)?.version;
          agents.set(name, { source, version: reply.version ?? undefined, registered });
          try {
            store.rememberAgentVersion(href, source, reply.version);
          } catch (error) {
            warnings.warn(`cannot write to the store: ${(error as Error).message}`);
          }
        }
        return make();
      },
    );
  }

  #open(warnings: CacheWarnings): CacheStore | undefined {
    if (this.#store) return this.#store;
    if ('store' in this.#options) {
      this.#store = this.#options.store;
      return this.#store;
    }
    try {
      this.#store = new SqliteStore(this.#options.dir);
    } catch (error) {
      warnings.warn(
        `cannot open the store in ${this.#options.dir}, running uncached: ${(error as Error).message}`,
      );
    }
    return this.#store;
  }

  /** Closes a store the runtime opened. */
  close(): void {
    if (this.#store && !('store' in this.#options)) this.#store.close();
    this.#store = undefined;
  }
}
