import { AgentpoolError, describe } from '../shared/errors.js';
import { importFailure, importUserModule, notImportable } from './user-module.js';

/** Host services: what `createRuntime({ host })` takes. */
export type HostFunctions = Record<string, (...args: never[]) => unknown>;

/**
 * Loads a host module (the DAG file's or config file's `host:`, or
 * `--host`): its exports become the host services agents call as
 * `await ctx.host.name(...args)`. Named exports that are functions, and the
 * functions of a default-exported object (`export default { search }`).
 * Throws `ERR_HOST_MODULE` naming the file for a module that does not
 * exist, does not load, exports something other than a function, or
 * exports no function at all.
 *
 * @example
 * // host.js
 * export async function search(query) { return fetch(`https://example.com?q=${query}`).then((r) => r.text()); }
 */
export async function loadHostModule(file: string): Promise<HostFunctions> {
  const fail = (why: string, cause?: unknown) =>
    new AgentpoolError('ERR_HOST_MODULE', `host module ${why}`, { cause });
  const problem = notImportable(file);
  if (problem !== undefined) throw fail(problem);
  let exports: Record<string, unknown>;
  try {
    exports = await importUserModule(file);
  } catch (cause) {
    throw fail(`${file} does not load: ${importFailure(cause)}`, cause);
  }
  const services: Record<string, unknown> = {};
  const { default: main, ...named } = exports;
  if (typeof main === 'object' && main !== null && !Array.isArray(main))
    Object.assign(services, main);
  else if (main !== undefined)
    throw fail(
      `${file}: its default export must be an object of functions (or leave it out and export functions by name), got ${describe(main)}`,
    );
  Object.assign(services, named);
  const notFunctions = Object.entries(services).filter(([, value]) => typeof value !== 'function');
  if (notFunctions.length > 0) {
    const list = notFunctions.map(([name, value]) => `\`${name}\` (${describe(value)})`);
    throw fail(
      `${file}: every export must be a function agents call as ctx.host.<name>(...); not ${list.join(', ')}`,
    );
  }
  if (Object.keys(services).length === 0)
    throw fail(`${file} exports no function (export each host service by name)`);
  return services as HostFunctions;
}
