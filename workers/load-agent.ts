import { readFileSync } from 'node:fs';
import { register as registerHooks } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgentpoolError, describe } from '../src/shared/errors.js';
import type { AgentDefinition, AgentHandler } from './agent.js';
import { AGENT } from './agent-mark.js';

// One load per module per thread; later tasks of the agent reuse it.
const handlers = new Map<string, Promise<AgentHandler>>();

let typescript: Promise<void> | undefined;

/**
 * TypeScript agents (`.ts`, `.mts`, `.cts`) load through tsx's loader,
 * registered in this thread the first time one is needed, so users need no
 * build step for their agents and threads that never see one never load it.
 * Our hooks go in after tsx's, so they see (and correct) what tsx resolved:
 * `.ts` files load as ES modules whatever the nearest package.json says
 * (see ts-esm-hooks.ts).
 */
function typescriptLoader(): Promise<void> {
  typescript ??= import('tsx/esm/api').then(({ register }) => {
    register();
    registerHooks(new URL('./ts-esm-hooks.js', import.meta.url));
  });
  return typescript;
}

let javascript = false;

/**
 * `.js` agents outside a `"type": "module"` package load through hooks that
 * make a file written with import/export an ES module (see js-esm-hooks.ts),
 * registered in this thread the first time one is needed.
 */
function javascriptLoader(moduleUrl: string): void {
  if (javascript || !moduleUrl.startsWith('file:')) return;
  if (packageType(dirname(fileURLToPath(moduleUrl))) === 'module') return;
  registerHooks(new URL('./js-esm-hooks.js', import.meta.url));
  javascript = true;
}

/** The `type` of the package.json nearest to `dir` (Node's rule for `.js` files). */
function packageType(dir: string): unknown {
  for (let at = dir; ; at = dirname(at)) {
    try {
      return (JSON.parse(readFileSync(join(at, 'package.json'), 'utf8')) as { type?: unknown })
        .type;
    } catch {
      // No (readable) package.json here: Node looks further up too.
    }
    if (dirname(at) === at) return undefined;
  }
}

/** Thrown into a module's own code when it calls process.exit() while it loads. */
class ExitAtLoad extends Error {}

// Modules loading now in this thread (top-level await lets loads overlap).
let loading = 0;
let realExit: typeof process.exit | undefined;

/**
 * Imports a module with process.exit() turned into a throw while it loads:
 * a module that ends its thread at load is a module that does not load,
 * `ERR_AGENT_LOAD` in a run as in validate, and the thread survives it
 * (its later tasks would otherwise fail ERR_WORKER_CRASHED, a code that
 * says the agent crashed while running).
 */
async function importGuarded(moduleUrl: string): Promise<Record<string, unknown>> {
  if (loading++ === 0) {
    realExit = process.exit;
    process.exit = ((code?: number | string | null) => {
      throw new ExitAtLoad(`it called process.exit(${code ?? ''}) while loading`);
    }) as typeof process.exit;
  }
  try {
    return await import(moduleUrl);
  } finally {
    if (--loading === 0 && realExit) process.exit = realExit;
  }
}

async function loadHandler(moduleUrl: string, agent: string): Promise<AgentHandler> {
  let mod: Record<string, unknown>;
  try {
    const { pathname } = new URL(moduleUrl);
    if (/\.[mc]?ts$/.test(pathname)) await typescriptLoader();
    else if (pathname.endsWith('.js')) javascriptLoader(moduleUrl);
    mod = await importGuarded(moduleUrl);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : describe(cause);
    throw new AgentpoolError(
      'ERR_AGENT_LOAD',
      `agent "${agent}": cannot load module ${moduleUrl}: ${reason}`,
      {
        cause,
      },
    );
  }
  const handler = handlerOf(mod.default);
  if (handler === undefined) {
    throw new AgentpoolError(
      'ERR_AGENT_LOAD',
      `agent "${agent}": module ${moduleUrl} must have a default export made with defineAgent() (or a function), got ${mod.default === undefined ? 'no default export' : describe(mod.default)}`,
    );
  }
  return handler;
}

/** The handler of an agent module, loaded once per thread. */
export function handlerFor(moduleUrl: string, agent: string): Promise<AgentHandler> {
  let handler = handlers.get(moduleUrl);
  if (handler === undefined) {
    handler = loadHandler(moduleUrl, agent);
    // A failed load is not cached: a module fixed on disk loads on the next try.
    handler.catch(() => handlers.delete(moduleUrl));
    handlers.set(moduleUrl, handler);
  }
  return handler;
}

/** The handler of a module's default export: a `defineAgent` result or a plain function. */
function handlerOf(exported: unknown): AgentHandler | undefined {
  if (typeof exported === 'function') return exported as AgentHandler;
  if (
    typeof exported === 'object' &&
    exported !== null &&
    (exported as Record<symbol, unknown>)[AGENT] === true
  ) {
    return (exported as AgentDefinition).handler;
  }
  return undefined;
}
