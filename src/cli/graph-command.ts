import { compileDag } from '../dag/validate.js';
import { estimateCosts, upwardRanks } from '../planner/rank.js';
import { DagFileError, DagValidationError } from '../shared/errors.js';
import { type ConfigChoice, loadDagFile } from './dag-file.js';

/**
 * The path the planner considers critical: from the task with the highest
 * rank, each step to the dependent with the highest rank (costs from `cost`
 * hints, else one per task).
 */
export function criticalPath(graph: ReturnType<typeof compileDag>): Set<number> {
  const rank = upwardRanks(
    graph,
    estimateCosts(graph, () => undefined),
  );
  const path = new Set<number>();
  let node = -1;
  for (let i = 0; i < graph.ids.length; i++) {
    const isRoot = graph.depStart[i] === graph.depStart[i + 1];
    if (isRoot && (node === -1 || (rank[i] as number) > (rank[node] as number))) node = i;
  }
  while (node !== -1) {
    path.add(node);
    let next = -1;
    for (
      let k = graph.childStart[node] as number;
      k < (graph.childStart[node + 1] as number);
      k++
    ) {
      const child = graph.childIdx[k] as number;
      if (next === -1 || (rank[child] as number) > (rank[next] as number)) next = child;
    }
    node = next;
  }
  return path;
}

function label(text: string): string {
  return text.replace(/"/g, '\\"');
}

/** `agentpool graph <dag>`: Mermaid or Graphviz source, the critical path marked. */
export async function graphCommand(
  path: string,
  format: 'mermaid' | 'dot',
  config?: ConfigChoice,
): Promise<string> {
  const file = await loadDagFile(path, { config });
  let graph: ReturnType<typeof compileDag>;
  try {
    graph = compileDag(file.tasks);
  } catch (error) {
    if (!(error instanceof DagValidationError)) throw error;
    throw new DagFileError(
      path,
      error.issues.map((issue) => `${issue.code}: ${issue.message}`),
      { cause: error },
    );
  }
  const critical = criticalPath(graph);
  const edges: [number, number][] = [];
  for (let i = 0; i < graph.ids.length; i++) {
    for (let k = graph.depStart[i] as number; k < (graph.depStart[i + 1] as number); k++)
      edges.push([graph.depIdx[k] as number, i]);
  }
  const onPath = (a: number, b: number) => critical.has(a) && critical.has(b);
  if (format === 'dot') {
    const lines = ['digraph agentpool {', '  rankdir=LR;', '  node [shape=box, style="rounded"];'];
    graph.ids.forEach((id, i) => {
      const style = critical.has(i) ? ', color="#d64545", penwidth=2' : '';
      lines.push(`  n${i} [label="${label(id)}\\n${label(graph.tasks[i]?.agent ?? '')}"${style}];`);
    });
    for (const [a, b] of edges)
      lines.push(`  n${a} -> n${b}${onPath(a, b) ? ' [color="#d64545", penwidth=2]' : ''};`);
    lines.push('}');
    return `${lines.join('\n')}\n`;
  }
  const lines = ['flowchart LR'];
  graph.ids.forEach((id, i) => {
    lines.push(`  n${i}["${label(id)}<br/><small>${label(graph.tasks[i]?.agent ?? '')}</small>"]`);
  });
  for (const [a, b] of edges) lines.push(`  n${a} ${onPath(a, b) ? '==>' : '-->'} n${b}`);
  lines.push('  classDef critical stroke:#d64545,stroke-width:3px');
  if (critical.size > 0)
    lines.push(`  class ${[...critical].map((i) => `n${i}`).join(',')} critical`);
  return `${lines.join('\n')}\n`;
}
