import { AgentpoolError } from '../shared/errors.js';
import type { Announcement } from './heartbeat.js';

/**
 * Refuses a run up front, rather than letting its jobs wait for a worker
 * that will never take them: each agent the run needs must be offered by
 * at least one live worker, with the same content hash as the planner's
 * own module (another hash is other code: its results would not be this
 * DAG's). `ERR_CLUSTER_AGENT_MISSING` when no live worker has it,
 * `ERR_CLUSTER_AGENT_HASH` when workers have it only with other hashes.
 */
export function checkWorkers(
  workers: readonly Announcement[],
  needs: ReadonlyMap<string, string>,
  url: string,
): void {
  if (workers.length === 0)
    throw new AgentpoolError(
      'ERR_CLUSTER_AGENT_MISSING',
      `no live worker at ${redacted(url)} (start one with \`agentpool worker <agents-file> --redis URL\`); the run needs agents ${[...needs.keys()].map((n) => `"${n}"`).join(', ')}`,
    );
  for (const [agent, hash] of needs) {
    const offered = workers.filter((w) => Object.hasOwn(w.agents, agent));
    if (offered.some((w) => w.agents[agent] === hash)) continue;
    if (offered.length === 0)
      throw new AgentpoolError(
        'ERR_CLUSTER_AGENT_MISSING',
        `no live worker has agent "${agent}" (${workers.length} live: ${workers.map((w) => `${w.host}/${w.pid} has ${Object.keys(w.agents).join(', ') || 'none'}`).join('; ')})`,
      );
    throw new AgentpoolError(
      'ERR_CLUSTER_AGENT_HASH',
      `agent "${agent}" is ${hash} here, but every live worker that has it runs other code: ${offered.map((w) => `${w.host}/${w.pid} has ${w.agents[agent]}`).join('; ')}`,
    );
  }
}

/**
 * Refuses a run up front when a host service the planner declares (the
 * names of its runtime's `host` functions: host calls cannot cross
 * machines, so each must be served by a worker's own `--host` module) is
 * offered by no live worker: `ERR_CLUSTER_SERVICE_MISSING`.
 */
export function checkServices(workers: readonly Announcement[], services: readonly string[]): void {
  const offered = new Set(workers.flatMap((w) => w.services));
  const missing = services.filter((name) => !offered.has(name));
  if (missing.length > 0)
    throw new AgentpoolError(
      'ERR_CLUSTER_SERVICE_MISSING',
      `no live worker offers host service${missing.length > 1 ? 's' : ''} ${missing.map((n) => `"${n}"`).join(', ')} (start workers with \`--host module.js\`; ${workers.length} live offer ${[...offered].map((n) => `"${n}"`).join(', ') || 'none'})`,
    );
}

/** A URL with its password hidden, for messages. */
export function redacted(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparsable redis URL>';
  }
}
