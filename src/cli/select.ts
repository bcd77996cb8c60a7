import type { Graph } from '../dag/graph.js';
import { closest } from '../dag/suggest.js';
import { compileDag } from '../dag/validate.js';

/** A task-id pattern: `*` matches any run of characters, `?` one (as `--rerun` reads them). */
function globRegExp(pattern: string): RegExp {
  const body = [...pattern]
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, 's');
}

/** Indices of the tasks the patterns match; a pattern that matches none is a problem naming it. */
function matching(graph: Graph, patterns: readonly string[], flag: string, problems: string[]) {
  const found: number[] = [];
  for (const pattern of patterns) {
    const regexp = globRegExp(pattern);
    const before = found.length;
    graph.ids.forEach((id, i) => {
      if (regexp.test(id)) found.push(i);
    });
    if (found.length > before) continue;
    const hint = closest(pattern, graph.ids);
    problems.push(
      `${flag} ${pattern}: no task matches it${hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ''}`,
    );
  }
  return found;
}

/** Marks `start` and everything reachable from it along `start`/`index` (a CSR adjacency). */
function reach(start: readonly number[], begin: Int32Array, index: Int32Array, marked: Uint8Array) {
  const work = start.filter((i) => marked[i] === 0);
  for (const i of work) marked[i] = 1;
  for (let p = work.pop(); p !== undefined; p = work.pop()) {
    for (let k = begin[p] as number; k < (begin[p + 1] as number); k++) {
      const next = index[k] as number;
      if (marked[next] === 0) {
        marked[next] = 1;
        work.push(next);
      }
    }
  }
}

/** What `--only` / `--from` leave of a DAG file's tasks. */
export interface Selection {
  /** The task map to run: the file's own task entries, only the selected ones. */
  tasks: Record<string, unknown>;
  graph: Graph;
  /** Patterns whose tasks (and their dependents) ignore the cache: `--from`'s. */
  rerun: string[];
  /** Problems (a pattern matching nothing, both flags given); none: the selection is good. */
  problems: string[];
}

/**
 * Subgraph selection. `--only ID|GLOB`: those tasks and everything they
 * need (their dependencies, transitively). `--from ID|GLOB`: those tasks
 * and everything downstream of them, run afresh; what those need upstream
 * is part of the run too, taken from the cache where it is there and run
 * where it is not (an output a task needs has to come from somewhere, and a
 * cached one is what the last run made). Tasks neither selects are left
 * out. Without either flag, every task.
 */
export function selectTasks(
  graph: Graph,
  tasks: Record<string, unknown>,
  agents: ReadonlySet<string>,
  flags: { only: readonly string[]; from: readonly string[] },
): Selection {
  const problems: string[] = [];
  if (flags.only.length === 0 && flags.from.length === 0)
    return { tasks, graph, rerun: [], problems };
  if (flags.only.length > 0 && flags.from.length > 0) {
    problems.push('--only and --from: give one or the other');
    return { tasks, graph, rerun: [], problems };
  }
  const n = graph.ids.length;
  let roots = matching(graph, flags.only, '--only', problems);
  if (flags.from.length > 0) {
    const downstream = new Uint8Array(n);
    reach(
      matching(graph, flags.from, '--from', problems),
      graph.childStart,
      graph.childIdx,
      downstream,
    );
    roots = [];
    downstream.forEach((marked, i) => {
      if (marked) roots.push(i);
    });
  }
  if (problems.length > 0) return { tasks, graph, rerun: [], problems };
  const keep = new Uint8Array(n);
  reach(roots, graph.depStart, graph.depIdx, keep);
  const selected: Record<string, unknown> = {};
  graph.ids.forEach((id, i) => {
    if (keep[i]) selected[id] = tasks[id];
  });
  // Everything a kept task depends on is kept, so the subset compiles as the whole did.
  return { tasks: selected, graph: compileDag(selected, agents), rerun: [...flags.from], problems };
}
