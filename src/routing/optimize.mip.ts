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
/** Where the coupling rows sit, for reading their duals (`lagrangianBound`). */
export interface MipRows {
  /** Demand row of order o's i-th demanded SKU (insertion order of `p.demand[o]`). */
  demand: number[][];
  /** `${location}:${sku}` → stock row (only for stock that the candidate orders could exhaust). */
  stock: Map<string, number>;
  /** Capacity row per location, −1 when the cap cannot bind. */
  capacity: number[];
  /** "ships at all" row per order, −1 without a split penalty. */
  shipsAtAll: number[];
}

export interface BuiltMip {
  model: MipModel;
  rows: MipRows;
  /** Per order: the candidate locations' shipment-variable values in a column vector (LP or MIP). */
  shipmentValues(colValue: ArrayLike<number>, orderIndex: number): Map<number, number>;
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

/** Columns and rows to append to a loaded model (column generation): first the columns, then the rows. */
export interface MipExtension {
  cols: { cost: Float64Array; lower: Float64Array; upper: Float64Array; integrality: Int32Array; starts: Int32Array; indices: Int32Array; values: Float64Array };
  rows: { lower: Float64Array; upper: Float64Array; starts: Int32Array; indices: Int32Array; values: Float64Array };
}

export function buildMip(p: PreparedInstance, opts: BuildOptions = {}): BuiltMip & {
  pruned: boolean;
  /** Adds order × location pairs the model lacks; returns what to append to a model loaded from `model`. */
  extend(pairs: readonly [order: number, loc: number][]): MipExtension;
  /** Whether the model has the order × location pair. */
  has(orderIndex: number, locIndex: number): boolean;
} {
  const { inst } = p;
  let pruned = false;
  const stockingOf = (d: Map<string, number>) => {
    const stocking: number[] = [];
    p.stock.forEach((m, li) => {
      for (const sku of d.keys()) if ((m.get(sku) ?? 0) > 0) return void stocking.push(li);
    });
    return stocking;
  };
  const stockingByOrder = p.demand.map(stockingOf);
  const allowed = p.demand.map((_d, oi) => {
    const stocking = [...stockingByOrder[oi]];
    const k = opts.maxLocationsPerOrder;
    if (k === undefined || stocking.length <= k) return stocking;
    pruned = true;
    stocking.sort((a, b) => p.shipCost[oi][a] - p.shipCost[oi][b] || a - b);
    // Also the two cheapest sources of each SKU, so that every line has somewhere to come from in the first LP
    // (column generation adds the rest where the LP would gain).
    const perSku: number[] = [];
    for (const sku of p.demand[oi].keys()) perSku.push(...stocking.filter((li) => (p.stock[li].get(sku) ?? 0) > 0).slice(0, 2));
    return [...new Set([...stocking.slice(0, k), ...perSku, ...(opts.keep?.(oi) ?? [])])].sort((a, b) => a - b);
  });
  const splitOn = inst.splitPenalty > 0;

  // Columns (x/y/u/z interleaved in creation order) and rows, growable.
  const colCost: number[] = [];
  const colUpper: number[] = [];
  const integrality: number[] = [];
  const rowLower: number[] = [];
  const rowUpper: number[] = [];
  const colEntries: [row: number, val: number][][] = [];
  const xs: (XCol & { col: number })[] = [];
  const yCols = new Map<string, number>(); // `${o}:${l}` → column
  const yByOrder: [loc: number, col: number][][] = inst.orders.map(() => []);
  const uCols: { order: number; sku: string; col: number }[] = [];
  const zCols: number[] = [];
  const newCol = (cost: number, upper: number, int: boolean, entries: [number, number][]) => {
    colCost.push(cost);
    colUpper.push(upper);
    integrality.push(int ? 1 : 0);
    colEntries.push(entries);
    return colCost.length - 1;
  };
  const newRow = (lo: number, hi: number) => {
    rowLower.push(lo);
    rowUpper.push(hi);
    return rowLower.length - 1;
  };

  // Coupling rows first (they exist whatever pairs are added later, so column generation only appends).
  const rowInfo: MipRows = { demand: inst.orders.map(() => []), stock: new Map(), capacity: inst.locations.map(() => -1), shipsAtAll: inst.orders.map(() => -1) };
  p.demand.forEach((d, oi) => {
    for (const [, q] of d) rowInfo.demand[oi].push(newRow(q, q));
  });
  // Stock rows only where all orders together could exhaust the stock; capacity rows where orders could exceed it.
  const demandBySku = new Map<string, number>();
  for (const d of p.demand) for (const [sku, q] of d) demandBySku.set(sku, (demandBySku.get(sku) ?? 0) + q);
  p.stock.forEach((m, li) => {
    for (const [sku, have] of m) if (have > 0 && (demandBySku.get(sku) ?? 0) > have) rowInfo.stock.set(`${li}:${sku}`, newRow(-Infinity, have));
  });
  const couldUse = inst.locations.map(() => 0);
  for (const stocking of stockingByOrder) for (const li of stocking) couldUse[li]++;
  p.capacity.forEach((cap, li) => {
    if (Number.isFinite(cap) && couldUse[li] > cap) rowInfo.capacity[li] = newRow(-Infinity, cap);
  });
  if (splitOn) inst.orders.forEach((_, oi) => (rowInfo.shipsAtAll[oi] = newRow(-Infinity, 0)));

  p.demand.forEach((d, oi) => {
    [...d].forEach(([sku, q], i) => uCols.push({ order: oi, sku, col: newCol(inst.unfilledPenalty, q, false, [[rowInfo.demand[oi][i], 1]]) }));
    if (splitOn) zCols.push(newCol(-inst.splitPenalty, 1, false, [[rowInfo.shipsAtAll[oi], 1]]));
  });

  /** Adds y[o,l] and x[o,s,l] with their coupling entries; linking rows are appended by the caller afterwards. */
  const linking: [xCol: number, yCol: number, upper: number][] = [];
  const addPair = (oi: number, li: number) => {
    const key = `${oi}:${li}`;
    if (yCols.has(key)) return;
    // Entries in increasing row order (capacity rows precede "ships at all" rows), as CSC wants them.
    const yEntries: [number, number][] = [];
    if (rowInfo.capacity[li] >= 0) yEntries.push([rowInfo.capacity[li], 1]);
    if (splitOn) yEntries.push([rowInfo.shipsAtAll[oi], -1]);
    const y = newCol(p.shipCost[oi][li] + inst.splitPenalty, 1, true, yEntries);
    yCols.set(key, y);
    yByOrder[oi].push([li, y]);
    [...p.demand[oi]].forEach(([sku, q], i) => {
      const have = p.stock[li].get(sku) ?? 0;
      if (have <= 0) return;
      const entries: [number, number][] = [[rowInfo.demand[oi][i], 1]];
      const sr = rowInfo.stock.get(`${li}:${sku}`);
      if (sr !== undefined) entries.push([sr, 1]);
      const upper = Math.min(q, have);
      const x = newCol(0, upper, true, entries);
      xs.push({ order: oi, loc: li, sku, col: x });
      linking.push([x, y, upper]);
    });
  };
  allowed.forEach((locs, oi) => locs.forEach((li) => addPair(oi, li)));

  /** Appends the pending linking rows x − U·y ≤ 0 (as column entries) and returns their row indices' first. */
  const flushLinking = () => {
    const first = rowLower.length;
    for (const [x, y, upper] of linking) {
      const r = newRow(-Infinity, 0);
      colEntries[x].push([r, 1]);
      colEntries[y].push([r, -upper]);
    }
    const added = linking.splice(0);
    return { first, added };
  };
  flushLinking();

  const toCsc = (from: number, to: number, rowFrom = 0, rowTo = Infinity) => {
    const starts = new Int32Array(to - from + 1);
    const idx: number[] = [];
    const val: number[] = [];
    for (let c = from; c < to; c++) {
      for (const [r, v] of colEntries[c]) {
        if (r < rowFrom || r >= rowTo) continue;
        idx.push(r);
        val.push(v);
      }
      starts[c - from + 1] = idx.length;
    }
    return { starts, indices: Int32Array.from(idx), values: Float64Array.from(val) };
  };
  const numCols = colCost.length;
  const numRows = rowLower.length;
  const csc = toCsc(0, numCols);
  const model: MipModel = {
    numCols,
    numRows,
    colCost: Float64Array.from(colCost),
    colLower: new Float64Array(numCols),
    colUpper: Float64Array.from(colUpper),
    rowLower: Float64Array.from(rowLower),
    rowUpper: Float64Array.from(rowUpper),
    matrix: { format: 'csc', numRows, numCols, ...csc },
    integrality: Int32Array.from(integrality),
  };

  const extend = (pairs: readonly [number, number][]): MipExtension => {
    const firstCol = colCost.length;
    const firstRow = rowLower.length;
    for (const [oi, li] of pairs) addPair(oi, li);
    const lastCol = colCost.length;
    // New columns reference existing rows only; the new linking rows come after them, row-wise.
    const cols = { cost: Float64Array.from(colCost.slice(firstCol)), lower: new Float64Array(lastCol - firstCol), upper: Float64Array.from(colUpper.slice(firstCol)), integrality: Int32Array.from(integrality.slice(firstCol)), ...toCsc(firstCol, lastCol, 0, firstRow) };
    const { added } = flushLinking();
    const starts = new Int32Array(added.length + 1);
    const indices = new Int32Array(added.length * 2);
    const values = new Float64Array(added.length * 2);
    added.forEach(([x, y, upper], i) => {
      indices[2 * i] = Math.min(x, y);
      values[2 * i] = x < y ? 1 : -upper;
      indices[2 * i + 1] = Math.max(x, y);
      values[2 * i + 1] = x < y ? -upper : 1;
      starts[i + 1] = 2 * (i + 1);
    });
    return { cols, rows: { lower: new Float64Array(added.length).fill(-Infinity), upper: new Float64Array(added.length), starts, indices, values } };
  };

  const decode = (colValue: ArrayLike<number>): OrderPlan[] => {
    const plans: OrderPlan[] = inst.orders.map((o) => ({ id: o.id, shipments: [] }));
    const byOrderLoc = new Map<string, { sku: string; qty: number }[]>();
    for (const x of xs) {
      const qty = Math.round(colValue[x.col] ?? 0);
      if (qty <= 0) continue;
      const k = `${x.order}:${x.loc}`;
      (byOrderLoc.get(k) ?? byOrderLoc.set(k, []).get(k)!).push({ sku: x.sku, qty });
    }
    // Emit shipments in location order, lines in demand order, for stable output.
    const keys = [...byOrderLoc.keys()].map((k) => k.split(':').map(Number)).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    for (const [oi, li] of keys) {
      const order = [...p.demand[oi].keys()];
      const lines = byOrderLoc.get(`${oi}:${li}`)!.sort((a, b) => order.indexOf(a.sku) - order.indexOf(b.sku));
      plans[oi].shipments.push({ location: inst.locations[li].code, lines });
    }
    return plans;
  };

  const encode = (plan: readonly OrderPlan[]): Float64Array => {
    const v = new Float64Array(colCost.length);
    const xIdx = new Map(xs.map((x) => [`${x.order}:${x.loc}:${x.sku}`, x.col]));
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
          v[yCols.get(`${oi}:${li}`)!] = 1;
          if (splitOn) v[zCols[oi]] = 1;
          got.set(`${oi}:${l.sku}`, (got.get(`${oi}:${l.sku}`) ?? 0) + l.qty);
        }
      }
    }
    for (const u of uCols) v[u.col] = p.demand[u.order].get(u.sku)! - (got.get(`${u.order}:${u.sku}`) ?? 0);
    return v;
  };

  const shipmentValues = (colValue: ArrayLike<number>, oi: number) => new Map(yByOrder[oi].map(([li, col]) => [li, colValue[col] ?? 0]));

  return { model, rows: rowInfo, shipmentValues, decode, encode, pruned, extend, has: (oi, li) => yCols.has(`${oi}:${li}`) };
}
