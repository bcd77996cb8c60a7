import { statSync } from 'node:fs';
import { extname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe } from '../shared/errors.js';

/** What a user's module (host services, a config file) may be: JavaScript or TypeScript. */
export const USER_MODULE_EXTENSIONS = ['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts'];

/** Why `file` cannot be imported at all, without importing it; undefined when it can be tried. */
export function notImportable(file: string): string | undefined {
  const found = statSync(file, { throwIfNoEntry: false });
  if (!found) return `${file} does not exist`;
  if (!found.isFile())
    return `${file} is ${found.isDirectory() ? 'a directory' : 'not a regular file'}, not a module`;
  if (!USER_MODULE_EXTENSIONS.includes(extname(file)))
    return `${file} is not a JavaScript or TypeScript module (${USER_MODULE_EXTENSIONS.join(', ')})`;
  return undefined;
}

/**
 * Imports a user's module on the main thread, as agent threads load agents:
 * TypeScript without a build step, and a `.js` file written with
 * import/export whatever its package.json says. tsx's `tsImport` does both
 * and is scoped to this one import (registering hooks for the whole process
 * would change how the CLI's own imports resolve). Returns the module's
 * exports; a module tsx compiled to CommonJS (a `.ts` or `.js` file in a
 * `"type": "commonjs"` package) comes back as `{ default: module.exports }`
 * with `__esModule` set, measured with tsx 4: unwrapped here so both kinds
 * read the same.
 */
export async function importUserModule(file: string): Promise<Record<string, unknown>> {
  const { tsImport } = await import('tsx/esm/api');
  const namespace = (await tsImport(pathToFileURL(file).href, import.meta.url)) as Record<
    string,
    unknown
  >;
  const inner = namespace.default as Record<string, unknown> | undefined;
  if (typeof inner === 'object' && inner !== null && inner.__esModule === true) {
    return Object.fromEntries(Object.entries(inner).filter(([key]) => key !== '__esModule'));
  }
  return { ...namespace };
}

/** The reason an import threw, as one line. */
export function importFailure(cause: unknown): string {
  const text = cause instanceof Error ? cause.message : describe(cause);
  return text.split('\n')[0] ?? text;
}
