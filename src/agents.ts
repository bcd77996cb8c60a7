import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AgentSpec } from './options.js';
import type { RunAgent } from './planner/run-settings.js';

function moduleHref(module: URL | string): string {
  if (module instanceof URL) return module.href;
  if (module.startsWith('file:')) return new URL(module).href;
  return pathToFileURL(isAbsolute(module) ? module : resolve(module)).href;
}

/**
 * Turns the `agents` option into what runs need: each module as an absolute
 * file URL (so worker threads load it the same whatever their cwd).
 */
export function resolveAgents(specs: Record<string, AgentSpec>): Map<string, RunAgent> {
  const agents = new Map<string, RunAgent>();
  for (const [name, spec] of Object.entries(specs)) {
    const full = typeof spec === 'string' || spec instanceof URL ? { module: spec } : spec;
    agents.set(name, {
      module: moduleHref(full.module),
      concurrency: full.concurrency ?? Number.POSITIVE_INFINITY,
      retries: full.retries,
      timeoutMs: full.timeoutMs,
      limits: full.limits,
      cache: full.cache,
      version: full.version,
    });
  }
  return agents;
}
