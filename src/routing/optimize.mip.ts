import type { OrderPlan, PreparedInstance } from './optimize.instance';

/** Plain-array MIP in HiGHS `ModelData` layout (CSC matrix), safe to post to a worker. */
export interface MipModel {
  numCols: number;
  numRows: number;
  colCost: Float64Array;
  colLower: Float64Array;
  colUpper: Float64Array;
  rowLower: Float64Array;
  rowUpper: Float64Array;
  matrix: { format: 'csc'; numRows: number; numCols: number; starts: Int32Array; indices: Int32Array; values: Float64Array };
  integrality: Int32Array;
}

interface XCol {
  order: number;
  loc: number;
  sku: string;
}
interface YCol {
  order: number;
  loc: number;
}

export interface BuiltMip {
  model: MipModel;
  /** Plan from a (possibly slightly fractional) solver column vector. */
  decode(colValue: ArrayLike<number>): OrderPlan[];
  /** Column vector for a plan (warm start). */
  encode(plan: readonly OrderPlan[]): Float64Array;
}

/**
 * Formulation (o = order, l = location, s = SKU):
 *   x[o,s,l] ≥ 0 integer  units of s for o from l (only where l stocks s)
 *   y[o,l]   ∈ {0,1}      o ships from l; cost shipCost[o][l] + splitPenalty
 *   u[o,s]   ≥ 0          units left unfilled; cost unfilledPenalty
 *   z[o]     ∈ [0,1]      1 when o ships at all; cost −splitPenalty, so the penalty counts shipments − 1
 * subject to
 *   Σ_l x[o,s,l] + u[o,s] = q[o,s]            demand
 *   Σ_o x[o,s,l] ≤ stock[l,s]                  stock
 *   x[o,s,l] ≤ min(q, stock) · y[o,l]          a unit ships only with its parcel
 *   z[o] ≤ Σ_l y[o,l]
 *   Σ_o y[o,l] ≤ capacityOrders[l]             capacity
 * z needs no integrality: at any optimum z = min(1, Σ y), which is integral once y is.
 */
export interface BuildOptions {
  /**
   * Keep only this many locations per order (the cheapest to ship from among those stocking any of its SKUs), plus
   * `keep`. Large batches need it: every dropped location removes SKU-count columns and rows per order.
   */
  maxLocationsPerOrder?: number;
  /** Locations that must stay candidates for an order (e.g. those of the warm-start plan), by order index. */
  keep?: (orderIndex: number) => Iterable<number>;
}

export function buildMip(p: PreparedInstance, opts: BuildOptions = {}): BuiltMip & { pruned: boolean } {
  const { inst } = p;
  let pruned = false;
  const allowed = p.demand.map((d, oi) => {
    const stocking: number[] = [];
    p.stock.forEach((m, li) => {
      for (const sku of d.keys()) if ((m.get(sku) ?? 0) > 0) return void stocking.push(li);
    });
    const k = opts.maxLocationsPerOrder;
    if (k === undefined || stocking.length <= k) return new Set(stocking);
    pruned = true;
    stocking.sort((a, b) => p.shipCost[oi][a] - p.shipCost[oi][b] || a - b);
    return new Set([...stocking.slice(0, k), ...(opts.keep?.(oi) ?? [])]);
  });
  const xs: XCol[] = [];
  const ys: YCol[] = [];
  const yIndex = new Map<string, number>(); // `${o}:${l}` → index into ys
  const uKeys: { order: number; sku: string }[] = [];

  p.demand.forEach((d, oi) => {
    for (const [sku] of d) {
      uKeys.push({ order: oi, sku });
      p.stock.forEach((m, li) => {
        if ((m.get(sku) ?? 0) <= 0 || !allowed[oi].has(li)) return;
        xs.push({ order: oi, loc: li, sku });
        const k = `${oi}:${li}`;
        if (!yIndex.has(k)) {
          yIndex.set(k, ys.length);
          ys.push({ order: oi, loc: li });
        }
      });
    }
  });
  const splitOn = inst.splitPenalty > 0;
  const nX = xs.length;
  const nY = ys.length;
  const nU = uKeys.length;
  const nZ = splitOn ? inst.orders.length : 0;
  const numCols = nX + nY + nU + nZ;
  const yCol = (oi: number, li: number) => nX + yIndex.get(`${oi}:${li}`)!;
  const uCol = (i: number) => nX + nY + i;
  const zCol = (oi: number) => nX + nY + nU + oi;

  const colCost = new Float64Array(numCols);
  const colLower = new Float64Array(numCols);
  const colUpper = new Float64Array(numCols);
  const integrality = new Int32Array(numCols);
  xs.forEach((x, j) => {
    colUpper[j] = Math.min(p.demand[x.order].get(x.sku)!, p.stock[x.loc].get(x.sku)!);
    integrality[j] = 1;
  });
  ys.forEach((y, k) => {
    colCost[nX + k] = p.shipCost[y.order][y.loc] + inst.splitPenalty;
    colUpper[nX + k] = 1;
    integrality[nX + k] = 1;
  });
  uKeys.forEach((u, i) => {
    colCost[uCol(i)] = inst.unfilledPenalty;
    colUpper[uCol(i)] = p.demand[u.order].get(u.sku)!;
  });
  for (let oi = 0; oi < nZ; oi++) {
    colCost[zCol(oi)] = -inst.splitPenalty;
    colUpper[zCol(oi)] = 1;
  }

  // Rows as triplets, converted to CSC at the end.
  const rowLower: number[] = [];
  const rowUpper: number[] = [];
  const entries: [col: number, row: number, val: number][] = [];
  const addRow = (lo: number, hi: number, terms: [number, number][]) => {
    const r = rowLower.length;
    rowLower.push(lo);
    rowUpper.push(hi);
    for (const [c, v] of terms) entries.push([c, r, v]);
  };

  const xByDemand = new Map<string, number[]>(); // `${o}:${sku}` → x cols
  const xByStock = new Map<string, number[]>(); // `${l}:${sku}` → x cols
  xs.forEach((x, j) => {
    const a = `${x.order}:${x.sku}`;
    const b = `${x.loc}:${x.sku}`;
    (xByDemand.get(a) ?? xByDemand.set(a, []).get(a)!).push(j);
    (xByStock.get(b) ?? xByStock.set(b, []).get(b)!).push(j);
  });
  uKeys.forEach((u, i) => {
    const q = p.demand[u.order].get(u.sku)!;
    addRow(q, q, [...(xByDemand.get(`${u.order}:${u.sku}`) ?? []).map((j): [number, number] => [j, 1]), [uCol(i), 1]]);
  });
  for (const [key, cols] of xByStock) {
    const [li, sku] = [Number(key.slice(0, key.indexOf(':'))), key.slice(key.indexOf(':') + 1)];
    const have = p.stock[li].get(sku)!;
    const demandTotal = cols.reduce((a, j) => a + colUpper[j], 0);
    if (demandTotal > have) addRow(-Infinity, have, cols.map((j): [number, number] => [j, 1]));
  }
  xs.forEach((x, j) => addRow(-Infinity, 0, [[j, 1], [yCol(x.order, x.loc), -colUpper[j]]]));
  const yByOrder: number[][] = inst.orders.map(() => []);
  const yByLoc: number[][] = inst.locations.map(() => []);
  ys.forEach((y, k) => {
    yByOrder[y.order].push(nX + k);
    yByLoc[y.loc].push(nX + k);
  });
  for (let oi = 0; oi < nZ; oi++) addRow(-Infinity, 0, [[zCol(oi), 1], ...yByOrder[oi].map((c): [number, number] => [c, -1])]);
  p.capacity.forEach((cap, li) => {
    if (Number.isFinite(cap) && yByLoc[li].length > cap) addRow(-Infinity, cap, yByLoc[li].map((c): [number, number] => [c, 1]));
  });

  // Counting sort into CSC: rows were added in increasing order, so each column's row indices stay sorted.
  const starts = new Int32Array(numCols + 1);
  for (const [c] of entries) starts[c + 1]++;
  for (let c = 0; c < numCols; c++) starts[c + 1] += starts[c];
  const fill = starts.slice(0, numCols);
  const indices = new Int32Array(entries.length);
  const values = new Float64Array(entries.length);
  for (const [c, r, v] of entries) {
    const at = fill[c]++;
    indices[at] = r;
    values[at] = v;
  }
  const numRows = rowLower.length;
  const model: MipModel = {
    numCols,
    numRows,
    colCost,
    colLower,
    colUpper,
    rowLower: Float64Array.from(rowLower),
    rowUpper: Float64Array.from(rowUpper),
    matrix: {
      format: 'csc',
      numRows,
      numCols,
      starts,
      indices,
      values,
    },
    integrality,
  };

  const decode = (colValue: ArrayLike<number>): OrderPlan[] => {
    const plans: OrderPlan[] = inst.orders.map((o) => ({ id: o.id, shipments: [] }));
    const byOrderLoc = new Map<string, { sku: string; qty: number }[]>();
    xs.forEach((x, j) => {
      const qty = Math.round(colValue[j]);
      if (qty <= 0) return;
      const k = `${x.order}:${x.loc}`;
      (byOrderLoc.get(k) ?? byOrderLoc.set(k, []).get(k)!).push({ sku: x.sku, qty });
    });
    // Keys were inserted order-major, SKU-minor; emit shipments in location order for stable output.
    const keys = [...byOrderLoc.keys()].map((k) => k.split(':').map(Number)).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    for (const [oi, li] of keys) plans[oi].shipments.push({ location: inst.locations[li].code, lines: byOrderLoc.get(`${oi}:${li}`)! });
    return plans;
  };

  const encode = (plan: readonly OrderPlan[]): Float64Array => {
    const v = new Float64Array(numCols);
    const xIdx = new Map(xs.map((x, j) => [`${x.order}:${x.loc}:${x.sku}`, j]));
    const locIdx = new Map(inst.locations.map((l, i) => [l.code, i]));
    const orderIdx = new Map(inst.orders.map((o, i) => [o.id, i]));
    const got = new Map<string, number>();
    for (const op of plan) {
      const oi = orderIdx.get(op.id)!;
      for (const s of op.shipments) {
        const li = locIdx.get(s.location)!;
        for (const l of s.lines) {
          const j = xIdx.get(`${oi}:${li}:${l.sku}`);
          if (j === undefined || l.qty <= 0) continue;
          v[j] += l.qty;
          v[yCol(oi, li)] = 1;
          if (nZ) v[zCol(oi)] = 1;
          got.set(`${oi}:${l.sku}`, (got.get(`${oi}:${l.sku}`) ?? 0) + l.qty);
        }
      }
    }
    uKeys.forEach((u, i) => {
      v[uCol(i)] = p.demand[u.order].get(u.sku)! - (got.get(`${u.order}:${u.sku}`) ?? 0);
    });
    return v;
  };

  return { model, decode, encode, pruned };
}
