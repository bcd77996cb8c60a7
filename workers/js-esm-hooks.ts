import { readFileSync } from 'node:fs';
import type { ResolveHook } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

/**
 * Module hooks registered in a thread before it imports a `.js` agent whose
 * package does not say `"type": "module"`: a `.js` file written with
 * `import`/`export` loads as an ES module wherever it is.
 *
 * Why: `npm init -y` on npm 11 writes `"type": "commonjs"`, and there Node
 * loads every `.js` file as CommonJS, so an agent written as the README
 * shows fails with "Cannot use import statement outside a module". With no
 * `type` at all, Node 20 detects the syntax itself but prints
 * MODULE_TYPELESS_PACKAGE_JSON into the user's output. Agents are ES
 * modules by contract (a default export), so a file that only parses as
 * one is one; a file that parses as CommonJS stays CommonJS (a helper
 * with `module.exports` keeps working). Packages under node_modules are
 * left as their authors published them.
 */
export const resolve: ResolveHook = async (specifier, context, nextResolve) => {
  const resolved = await nextResolve(specifier, context);
  if (resolved.format === 'module' || !isOwnJsFile(resolved.url)) return resolved;
  return hasModuleSyntax(resolved.url) ? { ...resolved, format: 'module' } : resolved;
};

function isOwnJsFile(url: string): boolean {
  if (!url.startsWith('file:')) return false;
  const { pathname } = new URL(url);
  return pathname.endsWith('.js') && !pathname.includes('/node_modules/');
}

// What V8 says when code only an ES module may contain is compiled as a
// CommonJS function body (Node's own syntax detection looks for the same).
const ESM_ONLY =
  /Cannot use import statement outside a module|Unexpected token 'export'|Cannot use 'import\.meta' outside a module|await is only valid in async functions and the top level bodies of modules/;

const verdicts = new Map<string, boolean>();

/** Whether a file fails to compile as CommonJS for a reason only ES modules have. */
export function hasModuleSyntax(url: string): boolean {
  let verdict = verdicts.get(url);
  if (verdict === undefined) {
    verdict = false;
    try {
      const source = readFileSync(fileURLToPath(url), 'utf8');
      // Compiled, not run: the wrapper CommonJS gives every module.
      new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`);
    } catch (error) {
      verdict = error instanceof SyntaxError && ESM_ONLY.test(error.message);
    }
    verdicts.set(url, verdict);
  }
  return verdict;
}
