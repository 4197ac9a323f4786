// The lineage answer as the graph Marquez (OpenLineage's reference backend) answers on
// GET /api/v1/lineage: dataset and job nodes with in- and out-edges, so tools written for
// Marquez can read the ledger. Our DAG is of events; Marquez's is datasets and jobs. The
// mapping (README: "Marquez-compatible read API"):
// - dataset `dataset:<org>:<rest>` for a dataset id `<org>/<rest>`;
// - one job per (emitter, stream, movement type, dataset): `job:<emitter>:<stream>/<type>/<dataset id>`,
//   each event a run of it; collect, derive and transfer write their dataset (job -> dataset),
//   use, publish and delete read it (dataset -> job); every input link reads the input
//   event's dataset (dataset -> job). A transfer reads and writes the same dataset id.
import type { LineageEdge, LineageNode } from '@civic-ledger/lineage';

export interface MarquezEdge {
  origin: string;
  destination: string;
}

export interface MarquezNode {
  id: string;
  type: 'DATASET' | 'JOB';
  data: Record<string, unknown>;
  inEdges: MarquezEdge[];
  outEdges: MarquezEdge[];
}

const WRITES = new Set(['collect', 'derive', 'transfer']);

/** `<org>/<rest>` -> { namespace: org, name: rest }. */
export function splitDatasetId(id: string): { namespace: string; name: string } {
  const slash = id.indexOf('/');
  return { namespace: id.slice(0, slash), name: id.slice(slash + 1) };
}

export function datasetNodeId(id: string): string {
  const { namespace, name } = splitDatasetId(id);
  return `dataset:${namespace}:${name}`;
}

/** `dataset:<namespace>:<name>` -> the dataset id, or undefined when it is not one. */
export function datasetIdOfNode(nodeId: string): string | undefined {
  const m = /^dataset:([^:/]+):(.+)$/.exec(nodeId);
  return m ? `${m[1]}/${m[2]}` : undefined;
}

interface Acc {
  first: string;
  last: string;
  events: string[];
}

function touch(map: Map<string, Acc>, key: string, n: LineageNode): Acc {
  let a = map.get(key);
  if (!a) map.set(key, (a = { first: n.admitted, last: n.admitted, events: [] }));
  if (n.admitted < a.first) a.first = n.admitted;
  if (n.admitted > a.last) a.last = n.admitted;
  a.events.push(n.event);
  return a;
}

/**
 * Builds the graph of `nodes` (events) and `edges` (input links among them); `streamOf`
 * gives each event's stream (read from its leaf).
 */
export function toMarquezGraph(
  nodes: readonly LineageNode[],
  edges: readonly LineageEdge[],
  streamOf: ReadonlyMap<string, string>,
): MarquezNode[] {
  const byHash = new Map(nodes.map((n) => [n.event, n]));
  const datasets = new Map<string, Acc>();
  const versions = new Map<string, Set<string>>();
  const jobs = new Map<string, Acc>();
  const jobInfo = new Map<string, { node: LineageNode; stream: string }>();
  const links = new Map<string, MarquezEdge>();
  const link = (origin: string, destination: string) =>
    links.set(`${origin}\n${destination}`, { origin, destination });
  const jobOf = (n: LineageNode) => {
    const stream = streamOf.get(n.event) ?? 'unknown';
    return { id: `job:${n.emitter}:${stream}/${n.type}/${n.dataset.id}`, stream };
  };

  for (const n of nodes) {
    const ds = datasetNodeId(n.dataset.id);
    touch(datasets, ds, n);
    let v = versions.get(ds);
    if (!v) versions.set(ds, (v = new Set()));
    v.add(n.dataset.version);
    const { id, stream } = jobOf(n);
    touch(jobs, id, n);
    jobInfo.set(id, { node: n, stream });
    if (WRITES.has(n.type)) link(id, ds);
    else link(ds, id);
  }
  for (const e of edges) {
    const from = byHash.get(e.from);
    const to = byHash.get(e.to);
    if (from && to) link(datasetNodeId(from.dataset.id), jobOf(to).id);
  }

  const inEdges = new Map<string, MarquezEdge[]>();
  const outEdges = new Map<string, MarquezEdge[]>();
  const push = (m: Map<string, MarquezEdge[]>, k: string, e: MarquezEdge) => {
    const list = m.get(k);
    if (list) list.push(e);
    else m.set(k, [e]);
  };
  const sorted = [...links.values()].sort((a, b) =>
    a.origin === b.origin ? cmp(a.destination, b.destination) : cmp(a.origin, b.origin),
  );
  for (const e of sorted) {
    push(outEdges, e.origin, e);
    push(inEdges, e.destination, e);
  }
  const ref = (nodeId: string) => {
    const rest = nodeId.slice(nodeId.indexOf(':') + 1);
    const colon = rest.indexOf(':');
    return { namespace: rest.slice(0, colon), name: rest.slice(colon + 1) };
  };

  const out: MarquezNode[] = [];
  for (const [id, a] of datasets) {
    const { namespace, name } = ref(id);
    out.push({
      id,
      type: 'DATASET',
      data: {
        id: { namespace, name },
        type: 'DB_TABLE',
        name,
        physicalName: `${namespace}/${name}`,
        namespace,
        sourceName: namespace,
        createdAt: a.first,
        updatedAt: a.last,
        lastModifiedAt: a.last,
        fields: [],
        facets: {},
        tags: [],
        description: null,
        civicLedger: {
          datasetId: `${namespace}/${name}`,
          versions: [...versions.get(id)!].sort(),
          events: a.events.length,
        },
      },
      inEdges: inEdges.get(id) ?? [],
      outEdges: outEdges.get(id) ?? [],
    });
  }
  for (const [id, a] of jobs) {
    const { namespace, name } = ref(id);
    const ins = (inEdges.get(id) ?? []).map((e) => ref(e.origin));
    const outs = (outEdges.get(id) ?? []).map((e) => ref(e.destination));
    const { node, stream } = jobInfo.get(id)!;
    out.push({
      id,
      type: 'JOB',
      data: {
        id: { namespace, name },
        type: 'BATCH',
        name,
        simpleName: name,
        namespace,
        createdAt: a.first,
        updatedAt: a.last,
        inputs: ins,
        outputs: outs,
        location: null,
        description: null,
        latestRun: null,
        parentJobName: null,
        parentJobUuid: null,
        civicLedger: {
          emitter: node.emitter,
          stream,
          movement: node.type,
          datasetId: node.dataset.id,
          runs: a.events.length,
          events: a.events,
        },
      },
      inEdges: inEdges.get(id) ?? [],
      outEdges: outEdges.get(id) ?? [],
    });
  }
  return out.sort((x, y) => cmp(x.id, y.id));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
