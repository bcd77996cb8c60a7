import { register as registerHooks } from 'node:module';
import { AgentpoolError, describe } from '../src/errors.js';
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

async function loadHandler(moduleUrl: string, agent: string): Promise<AgentHandler> {
  let mod: Record<string, unknown>;
  try {
    if (/\.[mc]?ts$/.test(new URL(moduleUrl).pathname)) await typescriptLoader();
    mod = await import(moduleUrl);
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
