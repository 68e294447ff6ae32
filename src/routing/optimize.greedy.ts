import type { OrderPlan, PreparedInstance } from './optimize.instance';

/**
 * Fast feasible plan, used as the fallback when the MIP runs out of time and as its starting solution.
 * Orders are taken in file order. Each ships from the cheapest location that has everything and capacity left;
 * otherwise from the location that covers the most units (cheaper first on ties), repeatedly, while covering units
 * is cheaper than leaving them unfilled.
 */
export function greedyPlan(p: PreparedInstance): OrderPlan[] {
  const stock = p.stock.map((m) => new Map(m));
  const capLeft = [...p.capacity];
  const nLoc = p.inst.locations.length;
  return p.inst.orders.map((o, oi) => {
    const need = new Map(p.demand[oi]);
    const shipments: OrderPlan['shipments'] = [];
    const covers = (li: number) => {
      for (const [sku, q] of need) if ((stock[li].get(sku) ?? 0) < q) return false;
      return true;
    };
    let best = -1;
    for (let li = 0; li < nLoc; li++) {
      if (capLeft[li] <= 0 || !covers(li)) continue;
      if (best < 0 || p.shipCost[oi][li] < p.shipCost[oi][best]) best = li;
    }
    const take = (li: number) => {
      const lines: { sku: string; qty: number }[] = [];
      for (const [sku, q] of need) {
        const u = Math.min(q, stock[li].get(sku) ?? 0);
        if (u <= 0) continue;
        lines.push({ sku, qty: u });
        stock[li].set(sku, (stock[li].get(sku) ?? 0) - u);
        need.set(sku, q - u);
      }
      capLeft[li]--;
      shipments.push({ location: p.inst.locations[li].code, lines });
    };
    if (best >= 0) take(best);
    else {
      const used = new Set<number>();
      for (;;) {
        let pick = -1;
        let pickUnits = 0;
        for (let li = 0; li < nLoc; li++) {
          if (used.has(li) || capLeft[li] <= 0) continue;
          let units = 0;
          for (const [sku, q] of need) units += Math.min(q, stock[li].get(sku) ?? 0);
          if (units > pickUnits || (units === pickUnits && units > 0 && p.shipCost[oi][li] < p.shipCost[oi][pick])) {
            pick = li;
            pickUnits = units;
          }
        }
        if (pick < 0) break;
        const extra = p.shipCost[oi][pick] + (used.size > 0 ? p.inst.splitPenalty : 0);
        if (extra >= pickUnits * p.inst.unfilledPenalty) break;
        used.add(pick);
        take(pick);
      }
    }
    return { id: o.id, shipments };
  });
}

/**
 * A valid lower bound on any plan's cost, for when the solver gives none: every order either ships at least once
 * (at least its cheapest shipment) or leaves all its units unfilled.
 */
export function trivialLowerBound(p: PreparedInstance): number {
  return p.inst.orders.reduce((sum, _o, oi) => {
    const units = [...p.demand[oi].values()].reduce((a, b) => a + b, 0);
    const cheapest = Math.min(...p.shipCost[oi]);
    return sum + Math.min(cheapest, units * p.inst.unfilledPenalty);
  }, 0);
}

/** Another valid lower bound: units that exceed the network's total stock of their SKU can never be filled. */
export function shortageLowerBound(p: PreparedInstance): number {
  const demand = new Map<string, number>();
  for (const d of p.demand) for (const [sku, q] of d) demand.set(sku, (demand.get(sku) ?? 0) + q);
  const stock = new Map<string, number>();
  for (const m of p.stock) for (const [sku, q] of m) stock.set(sku, (stock.get(sku) ?? 0) + q);
  let units = 0;
  for (const [sku, q] of demand) units += Math.max(0, q - (stock.get(sku) ?? 0));
  return units * p.inst.unfilledPenalty;
}
