import type { ResolveHook } from 'node:module';

/**
 * Module hooks registered after tsx's in a thread that loads TypeScript
 * agents: every `.ts` file reached by `import` is an ES module.
 *
 * Why: tsx, like Node, takes a `.ts` file's format from the nearest
 * package.json, and a folder without `"type": "module"` (a user's agents
 * folder, a scratch directory) makes it CommonJS. An agent written with
 * `import`/`export default defineAgent(...)` then fails to load with
 * "Cannot require() ES Module ... in a cycle". Agents are ES modules by
 * contract (a default export), so agentpool does not let a missing
 * package.json field decide. `.mts` is ESM anyway; `.cts` (CommonJS by
 * name) is left as tsx resolves it.
 */
export const resolve: ResolveHook = async (specifier, context, nextResolve) => {
  const resolved = await nextResolve(specifier, context);
  if (resolved.format !== 'module' && isTypeScriptFile(resolved.url)) {
    return { ...resolved, format: 'module' };
  }
  return resolved;
};

function isTypeScriptFile(url: string): boolean {
  if (!url.startsWith('file:')) return false;
  return new URL(url).pathname.endsWith('.ts');
}
