import { availableParallelism } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolveAgents } from '../agents.js';
import { redacted } from '../cluster/preflight.js';
import { clusterSettings, redisOptionSchema } from '../cluster/settings.js';
import { WorkerNode } from '../cluster/worker-node.js';
import { parseOptions } from '../options.js';
import type { HostServices } from '../pool/host-bridge.js';
import { DagFileError, describe } from '../shared/errors.js';
import { type DagDocument, isDocument, readDocument } from './dag-document.js';
import { readDagFile } from './dag-file.js';
import { parseText } from './parse-text.js';
import { MAX_DAG_BYTES, readRegularText } from './read-text.js';

export interface WorkerFlags {
  redis: string;
  prefix?: string;
  threads?: number | 'auto';
  host?: string;
  lockMs?: number;
  stalledMs?: number;
}

/**
 * The agents a worker offers, from a DAG file's `agents:` (and agents found
 * by convention at `agents/<name>.js` for its tasks) or from a file that is
 * only that section (name -> module, or `{ module, … }`), module paths
 * relative to the file. Throws `DagFileError` naming each problem.
 */
export async function readAgentsFile(path: string): Promise<DagDocument['agents']> {
  const file = resolve(path);
  let raw: unknown;
  try {
    raw = parseText(path, await readRegularText(file, MAX_DAG_BYTES));
  } catch (cause) {
    if (cause instanceof DagFileError) throw cause;
    throw new DagFileError(path, `cannot read the file (${(cause as Error).message})`, { cause });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new DagFileError(
      path,
      `expected a map of agents or a DAG document, got ${describe(raw)}`,
    );
  const map = raw as Record<string, unknown>;
  const taskLike = Object.values(map).some(
    (v) =>
      typeof v === 'object' && v !== null && typeof (v as { agent?: unknown }).agent === 'string',
  );
  if (isDocument(map) || taskLike) {
    const { dag, problems } = await readDagFile(path);
    if (problems.length > 0) throw new DagFileError(path, problems);
    return dag.agents;
  }
  // Read as a document's `agents:` section, with no tasks (a worker runs none of its own).
  const { document, problems } = readDocument({ agents: map, tasks: {} });
  if (problems.length > 0) throw new DagFileError(path, problems);
  const dir = dirname(file);
  const agents: DagDocument['agents'] = {};
  const absolute = (m: string | URL) =>
    m instanceof URL || m.startsWith('file:') || isAbsolute(m) ? m : resolve(dir, m);
  for (const [name, spec] of Object.entries(document.agents))
    agents[name] =
      typeof spec === 'string' || spec instanceof URL
        ? absolute(spec)
        : { ...spec, module: absolute(spec.module) };
  return agents;
}

/** A `--host` module's services: its default export's functions, else its named function exports. */
async function hostServices(path: string | undefined): Promise<HostServices> {
  if (path === undefined) return {};
  const module = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>;
  const source =
    typeof module.default === 'object' && module.default !== null
      ? (module.default as Record<string, unknown>)
      : module;
  const services: HostServices = {};
  for (const [name, value] of Object.entries(source))
    if (typeof value === 'function') services[name] = value as HostServices[string];
  return services;
}

/**
 * `agentpool worker <file> --redis URL`: runs attempts from the queue on
 * this machine's threads until SIGINT/SIGTERM, then stops taking jobs,
 * lets running ones end and exits 0; a second signal exits at once. If
 * Redis is stopped meanwhile, it exits 1 after a lock's length.
 * Prints one line on stdout once it takes jobs.
 */
export async function workerCommand(path: string, flags: WorkerFlags): Promise<number> {
  const agents = resolveAgents(await readAgentsFile(path));
  const redis = parseOptions(
    redisOptionSchema,
    flags.prefix === undefined ? flags.redis : { url: flags.redis, prefix: flags.prefix },
    '--redis',
  );
  const threads =
    flags.threads === undefined || flags.threads === 'auto'
      ? availableParallelism()
      : flags.threads;
  const settings = clusterSettings(redis);
  const node = await WorkerNode.start({
    settings,
    agents: new Map([...agents].map(([name, agent]) => [name, agent.module])),
    threads: Math.max(1, threads),
    host: await hostServices(flags.host),
    ...(flags.lockMs !== undefined && { lockMs: flags.lockMs }),
    ...(flags.stalledMs !== undefined && { stalledMs: flags.stalledMs }),
  });
  const names = [...node.agents].map(([name, hash]) => `${name} (${hash.slice(0, 12)})`);
  process.stdout.write(
    `agentpool worker ${node.id} ready: ${threads} threads, agents ${names.join(', ') || 'none'}\n`,
  );
  const closed = await new Promise<boolean | Error>((done) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) process.exit(signal === 'SIGINT' ? 130 : 143);
      stopping = true;
      process.stderr.write(`agentpool worker: ${signal}: finishing running attempts\n`);
      node.close().then(done, (error: unknown) => done(toError(error)));
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  if (closed === true) return 0;
  process.stderr.write(
    closed === false
      ? `agentpool worker: Redis at ${redacted(settings.url)} is unreachable: stopped without handing back what ran here (its jobs run again elsewhere once Redis is back)\n`
      : `agentpool worker: stopping failed: ${closed.message}\n`,
  );
  // Its BullMQ connections would go on reconnecting.
  process.exit(1);
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
