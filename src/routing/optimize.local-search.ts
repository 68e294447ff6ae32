import type { OrderPlan, PreparedInstance } from './optimize.instance';

/**
 * Local search for the batch problem, on integer indices so that a few thousand orders take milliseconds per pass.
 *
 * State: what each order takes from where, the stock and order capacity left at each location. The moves are
 * - reinsert: take one order out and put it back in its best way given what is left (the best single location, the
 *   best pair among its cheapest candidates, then more locations while they still fill units worth their cost);
 * - eject: an order short of units (or of a full location) takes them from an order that holds them, which is then
 *   re-inserted elsewhere; kept only if the two orders together get cheaper.
 * Every accepted move lowers the plan's cost, so the search ends, and every state respects stock and capacity.
 */
export interface LocalSearchOptions {
  /** Stop after this time (ms since the epoch). */
  deadline: number;
  /** Per order, locations the LP relaxation likes (y value), to try first when rounding. */
  preference?: (orderIndex: number) => ReadonlyMap<number, number> | undefined;
  /** Candidate locations per order for pair moves (cheapest first). */
  pairCandidates?: number;
}

interface Alloc {
  loc: number;
  /** Units per demand position of the order. */
  qty: Int32Array;
}

export class PlanSearch {
  private readonly nO: number;
  private readonly skuIndex = new Map<string, number>();
  private readonly orderSkus: Int32Array[] = [];
  private readonly orderQty: Int32Array[] = [];
  private readonly orderUnits: number[] = [];
  /** Locations that stock any of the order's SKUs, cheapest first. */
  private readonly cands: Int32Array[] = [];
  private readonly stockLeft: Map<number, number>[];
  private readonly capLeft: number[];
  private readonly alloc: Alloc[][];
  private readonly orderCost: number[];
  /** (location, sku) → orders holding units of it there. */
  private readonly holders = new Map<number, Set<number>>();
  /** location → orders shipping from it. */
  private readonly atLoc: Set<number>[];
  private readonly nSkuKey: number;

  constructor(private readonly p: PreparedInstance) {
    const { inst } = p;
    this.nO = inst.orders.length;
    for (const d of p.demand) for (const sku of d.keys()) if (!this.skuIndex.has(sku)) this.skuIndex.set(sku, this.skuIndex.size);
    for (const m of p.stock) for (const sku of m.keys()) if (!this.skuIndex.has(sku)) this.skuIndex.set(sku, this.skuIndex.size);
    this.nSkuKey = this.skuIndex.size + 1;
    this.stockLeft = p.stock.map((m) => {
      const out = new Map<number, number>();
      for (const [sku, q] of m) if (q > 0) out.set(this.skuIndex.get(sku)!, q);
      return out;
    });
    this.capLeft = [...p.capacity];
    this.atLoc = inst.locations.map(() => new Set<number>());
    p.demand.forEach((d, oi) => {
      const skus = Int32Array.from([...d.keys()].map((s) => this.skuIndex.get(s)!));
      const qty = Int32Array.from(d.values());
      this.orderSkus.push(skus);
      this.orderQty.push(qty);
      this.orderUnits.push(qty.reduce((a, b) => a + b, 0));
      const c: number[] = [];
      this.stockLeft.forEach((m, li) => {
        for (const s of skus) if (m.has(s)) return void c.push(li);
      });
      c.sort((a, b) => p.shipCost[oi][a] - p.shipCost[oi][b] || a - b);
      this.cands.push(Int32Array.from(c));
    });
    this.alloc = inst.orders.map(() => []);
    this.orderCost = inst.orders.map((_, oi) => this.orderUnits[oi] * inst.unfilledPenalty);
  }

  /** Cost of the current plan (same definition as `evaluatePlan`). */
  totalCost(): number {
    return this.orderCost.reduce((a, b) => a + b, 0);
  }

  /** Loads a plan (assumed valid: `evaluatePlan` reports no violations). */
  load(plan: readonly OrderPlan[]): void {
    const locIndex = new Map(this.p.inst.locations.map((l, i) => [l.code, i]));
    const byId = new Map(plan.map((o) => [o.id, o]));
    this.p.inst.orders.forEach((o, oi) => {
      this.unassign(oi);
      const allocs: Alloc[] = [];
      for (const s of byId.get(o.id)?.shipments ?? []) {
        const qty = new Int32Array(this.orderSkus[oi].length);
        for (const l of s.lines) {
          const k = this.positionOf(oi, l.sku);
          if (k >= 0) qty[k] += l.qty;
        }
        if (qty.some((q) => q > 0)) allocs.push({ loc: locIndex.get(s.location)!, qty });
      }
      this.assign(oi, allocs);
    });
  }

  plan(): OrderPlan[] {
    const skuName = [...this.skuIndex.keys()];
    return this.p.inst.orders.map((o, oi) => ({
      id: o.id,
      shipments: [...this.alloc[oi]]
        .sort((a, b) => a.loc - b.loc)
        .map((a) => ({
          location: this.p.inst.locations[a.loc].code,
          lines: [...a.qty].flatMap((q, k) => (q > 0 ? [{ sku: skuName[this.orderSkus[oi][k]], qty: q }] : [])),
        })),
    }));
  }

  /**
   * Builds a plan from scratch: orders the LP relaxation settles on one location first (they are the least
   * contested), each placed in its best way given what is left, preferring the LP's locations on ties.
   */
  construct(opts: LocalSearchOptions): void {
    for (let oi = 0; oi < this.nO; oi++) this.unassign(oi);
    const conf = (oi: number) => Math.max(0, ...(opts.preference?.(oi)?.values() ?? []));
    const order = Array.from({ length: this.nO }, (_, i) => i).sort((a, b) => conf(b) - conf(a) || a - b);
    for (const oi of order) {
      const pref = opts.preference?.(oi);
      let placed = false;
      if (pref) {
        // Follow the LP where it is (nearly) integral and the stock is still there.
        const locs = [...pref].filter(([, v]) => v > 0.5).map(([l]) => l);
        if (locs.length > 0) placed = this.tryExact(oi, locs);
      }
      if (!placed) this.assign(oi, this.bestInsert(oi, opts.pairCandidates ?? 12).allocs);
    }
  }

  /** Improves the current plan until no move helps or the deadline passes. Returns the number of passes. */
  improve(opts: LocalSearchOptions): number {
    const m = opts.pairCandidates ?? 12;
    let passes = 0;
    for (let improved = true; improved && Date.now() < opts.deadline; passes++) {
      improved = false;
      for (let oi = 0; oi < this.nO; oi++) {
        if ((oi & 63) === 0 && Date.now() >= opts.deadline) return passes;
        if (this.reinsert(oi, m)) improved = true;
      }
      for (let oi = 0; oi < this.nO; oi++) {
        if ((oi & 15) === 0 && Date.now() >= opts.deadline) return passes;
        if (this.unfilledOf(oi) > 0 || this.alloc[oi].length > 1) if (this.eject(oi, m)) improved = true;
      }
    }
    return passes;
  }

  /**
   * Ruin and recreate: takes a few orders that compete for the same stock or locations out (one that is short or
   * split, and orders holding what it wants), puts them back one by one in a random order, each in its best way,
   * and keeps the result only if those orders got cheaper together. Escapes the local optima of `improve`.
   * `random` returns numbers in [0, 1) (seeded by the caller, so runs are reproducible). Returns accepted moves,
   * or −1 when no order is short or split (nothing to try).
   */
  perturb(opts: LocalSearchOptions & { random: () => number; group?: number }): number {
    const m = opts.pairCandidates ?? 12;
    const size = opts.group ?? 6;
    let accepted = 0;
    const troubled: number[] = [];
    for (let oi = 0; oi < this.nO; oi++) if (this.unfilledOf(oi) > 0 || this.alloc[oi].length > 1) troubled.push(oi);
    if (troubled.length === 0) return -1; // every order whole and complete: nothing to ruin
    for (let iter = 0; Date.now() < opts.deadline; iter++) {
      const seed = troubled[Math.floor(opts.random() * troubled.length)];
      const group = new Set([seed]);
      const skus = this.orderSkus[seed];
      const cands = this.cands[seed];
      for (let i = 0; i < cands.length && group.size < size; i++) {
        const l = cands[i];
        for (const s of skus) for (const v of this.holders.get(l * this.nSkuKey + s) ?? []) if (group.size < size && opts.random() < 0.5) group.add(v);
        if (this.capLeft[l] <= 0) for (const v of this.atLoc[l]) if (group.size < size && opts.random() < 0.3) group.add(v);
      }
      if (group.size < 2) continue;
      const members = [...group];
      const before = members.reduce((a, oi) => a + this.orderCost[oi], 0);
      const old = members.map((oi) => this.unassign(oi));
      for (let i = members.length - 1; i > 0; i--) {
        const j = Math.floor(opts.random() * (i + 1));
        [members[i], members[j]] = [members[j], members[i]];
      }
      let after = 0;
      for (const oi of members) {
        const best = this.bestInsert(oi, m);
        this.assign(oi, best.allocs);
        after += best.cost;
      }
      if (after < before - 1e-9) {
        accepted++;
        continue;
      }
      for (const oi of members) this.unassign(oi);
      const order = [...group];
      order.forEach((oi, k) => this.assign(oi, old[k]));
    }
    return accepted;
  }

  private positionOf(oi: number, sku: string): number {
    const s = this.skuIndex.get(sku);
    return s === undefined ? -1 : this.orderSkus[oi].indexOf(s);
  }

  private unfilledOf(oi: number): number {
    let got = 0;
    for (const a of this.alloc[oi]) for (const q of a.qty) got += q;
    return this.orderUnits[oi] - got;
  }

  private costOf(oi: number, allocs: readonly Alloc[]): number {
    const { inst } = this.p;
    let cost = 0;
    let units = 0;
    for (const a of allocs) {
      cost += this.p.shipCost[oi][a.loc];
      for (const q of a.qty) units += q;
    }
    if (allocs.length > 1) cost += inst.splitPenalty * (allocs.length - 1);
    return cost + (this.orderUnits[oi] - units) * inst.unfilledPenalty;
  }

  private assign(oi: number, allocs: Alloc[]): void {
    const skus = this.orderSkus[oi];
    for (const a of allocs) {
      const m = this.stockLeft[a.loc];
      a.qty.forEach((q, k) => {
        if (q <= 0) return;
        m.set(skus[k], (m.get(skus[k]) ?? 0) - q);
        const key = a.loc * this.nSkuKey + skus[k];
        (this.holders.get(key) ?? this.holders.set(key, new Set()).get(key)!).add(oi);
      });
      this.capLeft[a.loc]--;
      this.atLoc[a.loc].add(oi);
    }
    this.alloc[oi] = allocs;
    this.orderCost[oi] = this.costOf(oi, allocs);
  }

  private unassign(oi: number): Alloc[] {
    const skus = this.orderSkus[oi];
    const old = this.alloc[oi];
    for (const a of old) {
      const m = this.stockLeft[a.loc];
      a.qty.forEach((q, k) => {
        if (q <= 0) return;
        m.set(skus[k], (m.get(skus[k]) ?? 0) + q);
        this.holders.get(a.loc * this.nSkuKey + skus[k])?.delete(oi);
      });
      this.capLeft[a.loc]++;
      this.atLoc[a.loc].delete(oi);
    }
    this.alloc[oi] = [];
    this.orderCost[oi] = this.orderUnits[oi] * this.p.inst.unfilledPenalty;
    return old;
  }

  /** Ships the order from exactly `locs` if they have capacity and stock for all of it. */
  private tryExact(oi: number, locs: number[]): boolean {
    const skus = this.orderSkus[oi];
    const need = Int32Array.from(this.orderQty[oi]);
    const allocs: Alloc[] = [];
    for (const l of locs) {
      if (this.capLeft[l] <= 0) return false;
      const qty = new Int32Array(skus.length);
      const m = this.stockLeft[l];
      skus.forEach((s, k) => {
        const u = Math.min(need[k], m.get(s) ?? 0);
        qty[k] = u;
        need[k] -= u;
      });
      if (qty.some((q) => q > 0)) allocs.push({ loc: l, qty });
    }
    if (need.some((q) => q > 0) || allocs.length !== locs.length) return false;
    this.assign(oi, allocs);
    return true;
  }

  /** The cheapest way to serve the order from what is left (single, best pair, then greedy extension). */
  private bestInsert(oi: number, pairCandidates: number): { cost: number; allocs: Alloc[] } {
    const { inst } = this.p;
    const skus = this.orderSkus[oi];
    const nk = skus.length;
    const qty = this.orderQty[oi];
    const cost = this.p.shipCost[oi];
    const P = inst.unfilledPenalty;
    const units = this.orderUnits[oi];
    // Usable units per candidate location and demanded SKU, in one flat array (no map lookups in the loops below).
    const open: number[] = [];
    const cand = this.cands[oi];
    const avail = new Int32Array(cand.length * nk);
    const fills: number[] = [];
    let bestCost = units * P;
    let bestLocs: number[] = [];
    for (const l of cand) {
      if (this.capLeft[l] <= 0) continue;
      const m = this.stockLeft[l];
      const at = open.length * nk;
      let f = 0;
      for (let k = 0; k < nk; k++) {
        const a = Math.min(qty[k], m.get(skus[k]) ?? 0);
        avail[at + k] = a;
        f += a;
      }
      if (f === 0) continue;
      open.push(l);
      fills.push(f);
      const c = cost[l] + (units - f) * P;
      if (c < bestCost - 1e-9) {
        bestCost = c;
        bestLocs = [l];
      }
    }
    if (!(bestLocs.length === 1 && fills[open.indexOf(bestLocs[0])] === units)) {
      // Pairs among the cheapest candidates and the best fillers.
      const idx = open.map((_, i) => i);
      const byFill = [...idx].sort((a, b) => fills[b] - fills[a] || cost[open[a]] - cost[open[b]]);
      const pool = [...new Set([...idx.slice(0, pairCandidates), ...byFill.slice(0, pairCandidates)])];
      for (let i = 0; i < pool.length; i++) {
        const a = pool[i];
        for (let j = i + 1; j < pool.length; j++) {
          const b = pool[j];
          const base = cost[open[a]] + cost[open[b]] + inst.splitPenalty;
          if (base >= bestCost) continue;
          let f = 0;
          for (let k = 0; k < nk; k++) f += Math.min(qty[k], avail[a * nk + k] + avail[b * nk + k]);
          if (f <= fills[a] || f <= fills[b]) continue; // one of them alone does as well
          const c = base + (units - f) * P;
          if (c < bestCost - 1e-9) {
            bestCost = c;
            bestLocs = [open[a], open[b]];
          }
        }
      }
    }
    let allocs = this.take(oi, bestLocs);
    // More locations while each fills units worth more than its parcel.
    for (let left = units - this.unitsOf(allocs); left > 0; ) {
      const used = new Set(allocs.map((a) => a.loc));
      const need = Int32Array.from(qty);
      for (const a of allocs) a.qty.forEach((q, k) => (need[k] -= q));
      let pick = -1;
      let pickGain = 0;
      open.forEach((l, i) => {
        if (used.has(l)) return;
        let f = 0;
        for (let k = 0; k < nk; k++) f += Math.min(need[k], avail[i * nk + k]);
        const gain = f * P - cost[l] - (used.size > 0 ? inst.splitPenalty : 0);
        if (gain > pickGain + 1e-9) {
          pick = l;
          pickGain = gain;
        }
      });
      if (pick < 0) break;
      allocs = this.take(oi, [...allocs.map((a) => a.loc), pick]);
      left = units - this.unitsOf(allocs);
    }
    return { cost: this.costOf(oi, allocs), allocs };
  }

  private unitsOf(allocs: readonly Alloc[]): number {
    let u = 0;
    for (const a of allocs) for (const q of a.qty) u += q;
    return u;
  }

  /** Allocation from `locs` in that order (each takes what it has of what is still needed); empty ones dropped. */
  private take(oi: number, locs: readonly number[]): Alloc[] {
    const skus = this.orderSkus[oi];
    const need = Int32Array.from(this.orderQty[oi]);
    const out: Alloc[] = [];
    for (const l of locs) {
      const qty = new Int32Array(skus.length);
      const m = this.stockLeft[l];
      for (let k = 0; k < skus.length; k++) {
        const u = Math.min(need[k], m.get(skus[k]) ?? 0);
        qty[k] = u;
        need[k] -= u;
      }
      if (qty.some((q) => q > 0)) out.push({ loc: l, qty });
    }
    return out;
  }

  private reinsert(oi: number, m: number): boolean {
    const before = this.orderCost[oi];
    const old = this.unassign(oi);
    const best = this.bestInsert(oi, m);
    if (best.cost < before - 1e-9) {
      this.assign(oi, best.allocs);
      return true;
    }
    this.assign(oi, old);
    return false;
  }

  /**
   * Frees what the order lacks from one other order, which is then re-inserted elsewhere; kept only if the two get
   * cheaper together. Victims: holders of the SKUs it is short of (anywhere it could ship from), or, for a split
   * order, holders of its SKUs and occupants of full locations among its few cheapest candidates.
   */
  private eject(oi: number, m: number): boolean {
    const skus = this.orderSkus[oi];
    const got = new Int32Array(skus.length);
    for (const a of this.alloc[oi]) a.qty.forEach((q, k) => (got[k] += q));
    const short = [...skus].filter((_, k) => got[k] < this.orderQty[oi][k]);
    const victims = new Set<number>();
    const cands = this.cands[oi];
    for (let i = 0; i < cands.length && victims.size < 16; i++) {
      const l = cands[i];
      const near = i < 3;
      for (const s of near ? skus : short) for (const v of this.holders.get(l * this.nSkuKey + s) ?? []) if (v !== oi) victims.add(v);
      if (near && this.capLeft[l] <= 0) for (const v of this.atLoc[l]) if (v !== oi && victims.size < 16) victims.add(v);
      if (!near && short.length === 0) break;
    }
    for (const v of victims) {
      const before = this.orderCost[oi] + this.orderCost[v];
      const oldA = this.unassign(oi);
      const oldB = this.unassign(v);
      const a = this.bestInsert(oi, m);
      this.assign(oi, a.allocs);
      const b = this.bestInsert(v, m);
      if (a.cost + b.cost < before - 1e-9) {
        this.assign(v, b.allocs);
        return true;
      }
      this.unassign(oi);
      this.assign(v, oldB);
      this.assign(oi, oldA);
    }
    return false;
  }
}
