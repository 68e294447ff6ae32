import type { MipRows } from './optimize.mip';
import type { PreparedInstance } from './optimize.instance';

/**
 * A lower bound on the cost of every plan of the **whole** problem (all locations), from the row duals of the LP
 * relaxation of a model that may keep only some candidate locations per order.
 *
 * Lagrangian relaxation of the MIP in `optimize.mip.ts`: demand, stock, capacity and "ships at all" rows are priced
 * with the duals π, and what is left splits into one small block per order × location (a shipment y ∈ [0, 1] with
 * its units x ≤ U·y), plus the unfilled and "ships at all" columns. Each block's minimum is a closed form, so
 *   L(π) = Σ π·rhs + Σ_blocks min(0, c̃_y + Σ_s U_s·min(0, c̃_x)) + Σ_u min(0, c̃_u·q) + Σ_z min(0, c̃_z)
 * is valid for any π of the right signs (≤ rows: π ≤ 0) over every order × location pair that stocks one of the
 * order's SKUs, including those the restricted model dropped. With the restricted LP's optimal duals it equals that
 * LP's optimum, minus whatever the dropped pairs could still have gained: when they could gain nothing it is exactly
 * the LP-relaxation bound of the full problem.
 */
export function lagrangianBound(p: PreparedInstance, rows: MipRows, rowDual: ArrayLike<number>): number {
  let blocks = 0;
  const constant = priceBlocks(p, rows, rowDual, (_oi, _li, value) => (blocks += Math.min(0, value)));
  return constant + blocks;
}

/**
 * The order-free part of L(π) (returned), and each order × location block's reduced value (to `visit`): a negative
 * value is a pair the LP would gain from (column generation adds it); the block's minimum is min(0, value).
 */
export function priceBlocks(p: PreparedInstance, rows: MipRows, rowDual: ArrayLike<number>, visit: (orderIndex: number, locIndex: number, value: number) => void): number {
  const { inst } = p;
  const P = inst.unfilledPenalty;
  const split = inst.splitPenalty;
  const le = (r: number) => (r < 0 ? 0 : Math.min(0, rowDual[r]));
  const stockDual = new Map<string, number>();
  let L = 0;
  for (const [key, r] of rows.stock) {
    const pi = le(r);
    if (pi === 0) continue;
    stockDual.set(key, pi);
    const [li, sku] = [Number(key.slice(0, key.indexOf(':'))), key.slice(key.indexOf(':') + 1)];
    L += pi * p.stock[li].get(sku)!;
  }
  const capDual = rows.capacity.map(le);
  p.capacity.forEach((cap, li) => {
    if (capDual[li] !== 0) L += capDual[li] * cap;
  });
  p.demand.forEach((d, oi) => {
    const piD = [...d.keys()].map((_, i) => rowDual[rows.demand[oi][i]] ?? 0);
    const qs = [...d.values()];
    qs.forEach((q, i) => {
      L += piD[i] * q;
      L += Math.min(0, (P - piD[i]) * q);
    });
    const piZ = split > 0 ? le(rows.shipsAtAll[oi]) : 0;
    if (split > 0) L += Math.min(0, -split - piZ);
    const skus = [...d.keys()];
    p.stock.forEach((m, li) => {
      let gain = 0;
      let stocks = false;
      skus.forEach((sku, i) => {
        const have = m.get(sku) ?? 0;
        if (have <= 0) return;
        stocks = true;
        const reduced = -piD[i] - (stockDual.get(`${li}:${sku}`) ?? 0);
        if (reduced < 0) gain += Math.min(qs[i], have) * reduced;
      });
      if (!stocks) return;
      visit(oi, li, p.shipCost[oi][li] + split + piZ - capDual[li] + gain);
    });
  });
  return L;
}
