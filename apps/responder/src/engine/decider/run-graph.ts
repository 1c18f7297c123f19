import type { Runbook, RunbookStep } from '@responder/runbooks';

/** The step graph of a loaded runbook, computed once. */
export interface RunGraph {
  byId: Map<string, RunbookStep>;
  /** Every step each step needs, directly or through its needs: the steps the runbook sequences before it. */
  ancestors: Map<string, Set<string>>;
}

const graphs = new WeakMap<Runbook, RunGraph>();

export function runGraph(runbook: Runbook): RunGraph {
  let graph = graphs.get(runbook);
  if (!graph) {
    graph = { byId: new Map(runbook.steps.map((s) => [s.id, s])), ancestors: ancestorsOf(runbook) };
    graphs.set(runbook, graph);
  }
  return graph;
}

function ancestorsOf(runbook: Runbook): Map<string, Set<string>> {
  const byId = new Map(runbook.steps.map((s) => [s.id, s]));
  const out = new Map<string, Set<string>>();
  for (const step of runbook.steps) {
    const seen = new Set<string>();
    const todo = [...step.needs];
    for (let id = todo.pop(); id !== undefined; id = todo.pop()) {
      if (seen.has(id)) continue;
      seen.add(id);
      todo.push(...(byId.get(id)?.needs ?? []));
    }
    out.set(step.id, seen);
  }
  return out;
}
