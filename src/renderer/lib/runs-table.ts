// Sorting and filtering the run history. Pure; unit-tested.

export interface RunRow {
  id: number;
  datasetName: string;
  model: string;
  status: string;
  createdAt: string;
  trainSeconds: number | null;
  bestValAccuracy: number | null;
  samplesPerSecond: number | null;
  config: { batchSize: number; epochs: number; learningRate: number };
}

export const SORT_KEYS = ['id', 'datasetName', 'model', 'status', 'batchSize', 'epochs', 'bestValAccuracy', 'samplesPerSecond', 'trainSeconds'] as const;
export type SortKey = (typeof SORT_KEYS)[number];
export type SortDir = 'ascending' | 'descending';

function keyOf(r: RunRow, key: SortKey): string | number | null {
  switch (key) {
    case 'batchSize':
      return r.config.batchSize;
    case 'epochs':
      return r.config.epochs;
    default:
      return r[key];
  }
}

/** Sorted copy; missing values (a run that never validated) always go last. */
export function sortRuns<R extends RunRow>(runs: readonly R[], key: SortKey, dir: SortDir): R[] {
  const sign = dir === 'ascending' ? 1 : -1;
  return [...runs].sort((a, b) => {
    const va = keyOf(a, key);
    const vb = keyOf(b, key);
    if (va === null && vb === null) return b.id - a.id;
    if (va === null) return 1;
    if (vb === null) return -1;
    const c = typeof va === 'number' && typeof vb === 'number' ? va - vb : String(va).localeCompare(String(vb));
    return c !== 0 ? sign * c : b.id - a.id;
  });
}

interface RunFilter {
  dataset: string;
  model: string;
  status: string;
}

/** Empty strings mean "any". */
export function filterRuns<R extends RunRow>(runs: readonly R[], f: RunFilter): R[] {
  return runs.filter((r) => (!f.dataset || r.datasetName === f.dataset) && (!f.model || r.model === f.model) && (!f.status || r.status === f.status));
}
