import { addDeliveryDays, shipDate, transitBand, type TransitBand } from '../promise/promise.calc';
import { remainingCapacity } from './capacity';
import { route, RoutingInputError } from './route';
import type { RuleSet } from './rule-set.schema';
import { selectRuleSet } from './rule-set.select';
import { SimulationInputError, type HistoryOrder } from './simulate.history';
import type { SimulationNetwork } from './simulate.network';
import { localDate } from './time';
import type { AtpSnapshot, PlannedShipment, RoutingDecision, RoutingLocation, RoutingNetwork } from './types';

/**
 * What-if simulation: replays an order history against a network, once per rule-set scenario, with stock
 * depleting and daily capacity filling as the orders are routed, through the same pure `route()` the hub uses.
 * Everything is in memory and deterministic; nothing is written anywhere.
 */

/** A rule-set file: one rule set, or several (each order uses the one in force at its placedAt). */
export interface Scenario {
  name: string;
  ruleSets: RuleSet[];
}

export interface SimulateOptions {
  /** Changed decisions listed per comparison (all are counted). Default 20. */
  maxExamples?: number;
}

/**
 * Ground parcel service used for delivery days and, where a location has no co2PerKm, CO₂: the transit bands and
 * emission factor of the hub's seeded PARCEL-GROUND carrier service. No holiday calendar (the simulator has no
 * database): weekends are skipped, holidays are not.
 */
export const SIMULATION_CARRIER: { code: string; pickupCutoff: string; saturdayDelivery: boolean; transit: TransitBand[]; co2KgPerTonneKm: number } = {
  code: 'PARCEL-GROUND',
  pickupCutoff: '17:00',
  saturdayDelivery: false,
  transit: [
    { maxKm: 300, minDays: 1, maxDays: 2 },
    { maxKm: 1000, minDays: 2, maxDays: 3 },
    { maxKm: 2500, minDays: 3, maxDays: 5 },
    { maxKm: 6000, minDays: 4, maxDays: 6 },
  ],
  co2KgPerTonneKm: 0.2,
};

export interface LocationUtilisation {
  code: string;
  type: RoutingLocation['type'];
  /** Fulfilment orders (shipments, pickups, transfers) assigned to the location. */
  shipments: number;
  units: number;
  /** shipments ÷ all shipments of the scenario. */
  share: number;
  /** Busiest local day and its order count. */
  peakDay: string | null;
  peakDayOrders: number;
  /** Daily order capacity in force on that day (location limit tightened by the rule set), null if unlimited. */
  peakDayCapacity: number | null;
  /** Local days on which the location reached its order capacity. */
  daysAtCapacity: number;
}

export interface ScenarioReport {
  name: string;
  ruleSets: { id: string; version: number; name: string; orders: number }[];
  orders: number;
  routed: number;
  partial: number;
  backordered: number;
  /** Orders not completely filled (partial + backordered). */
  unfulfillable: number;
  unfulfillableRate: number;
  unitsOrdered: number;
  unfilledUnits: number;
  /** Orders with at least one shipment. */
  shippedOrders: number;
  shipments: number;
  shipmentsPerOrder: number;
  /** Share of shipped orders with more than one shipment. */
  splitRate: number;
  shippingCost: number;
  costPerOrder: number;
  /** Mean km a parcel travels (SHIP and TRANSFER shipments; store pickups from the shelf travel 0 and are left out). */
  meanDistanceKm: number;
  /** Mean calendar days from order to delivery (or to ready-for-pickup), over completely routed orders. */
  meanDeliveryDays: number;
  co2Kg: number;
  co2PerOrderKg: number;
  locations: LocationUtilisation[];
}

export type ChangeKind = 'fill' | 'shipmentCount' | 'locations' | 'quantities';

export interface PlanSummary {
  status: RoutingDecision['status'];
  cost: number;
  shipments: { location: string; kind: PlannedShipment['kind']; lines: { sku: string; quantity: number }[] }[];
}

export interface ComparisonReport {
  base: string;
  other: string;
  /** Orders whose decision differs between the two replays. */
  changed: number;
  changedRate: number;
  /**
   * Orders whose decision differs when the other rule set is applied to the base replay's own state at that
   * moment: the direct effect of the rules, without the knock-on effect of stock consumed differently earlier.
   */
  changedSameState: number;
  byKind: Record<ChangeKind, number>;
  /** Where changed orders moved: main location (most units) under base → under other, most frequent first (top 10). */
  flows: { from: string; to: string; orders: number }[];
  examples: { id: string; line: number; placedAt: string; kind: ChangeKind; base: PlanSummary; other: PlanSummary }[];
}

export interface SimulationReport {
  format: 'switchyard-simulate/1';
  history: { orders: number; first: string | null; last: string | null; unknownSkuLines: number };
  /** skus: SKUs with stock somewhere at the start; units: all units available at the start. */
  network: { source: string; locations: number; skus: number; units: number };
  scenarios: ScenarioReport[];
  comparisons: ComparisonReport[];
}

const round = (n: number, d: number) => {
  const f = 10 ** d;
  return Math.round(n * f) / f;
};
const ratio = (a: number, b: number, d = 4) => (b > 0 ? round(a / b, d) : 0);
const dateDiff = (a: string, b: string) => Math.round((Date.parse(`${a}T00:00:00Z`) - Date.parse(`${b}T00:00:00Z`)) / 86_400_000);

interface LocationStats {
  shipments: number;
  units: number;
  peakDay: string | null;
  peakDayOrders: number;
  peakDayCapacity: number | null;
  fullDays: Set<string>;
}

/** One scenario's private world: its own copy of stock and capacity counters, mutated in place as it replays. */
class ScenarioRun {
  readonly atp: AtpSnapshot;
  readonly network: RoutingNetwork;
  private readonly byCode = new Map<string, RoutingLocation>();
  private readonly ruleSets: RuleSet[];
  private readonly ruleSetUse = new Map<RuleSet, number>();
  readonly stats = new Map<string, LocationStats>();
  readonly m = {
    orders: 0, routed: 0, partial: 0, backordered: 0, unitsOrdered: 0, unfilledUnits: 0, shippedOrders: 0, shipments: 0,
    splitOrders: 0, cost: 0, parcelKm: 0, parcels: 0, deliveryDays: 0, deliveredOrders: 0, co2: 0,
  };

  constructor(
    readonly scenario: Scenario,
    base: SimulationNetwork,
  ) {
    this.atp = { available: structuredClone(base.atp.available) };
    const locations = base.network.locations.map((l) => ({ ...l }));
    this.network = { ...base.network, locations };
    for (const l of locations) {
      this.byCode.set(l.code, l);
      this.stats.set(l.code, { shipments: 0, units: 0, peakDay: null, peakDayOrders: 0, peakDayCapacity: null, fullDays: new Set() });
    }
    // A what-if tests drafts: every rule set in the file counts as published; windows still apply. Pickup transfers
    // follow the rule set's pickup.allowTransfer, as orders in the hub do.
    this.ruleSets = scenario.ruleSets.map((rs) => ({ ...rs, status: 'PUBLISHED' as const }));
  }

  ruleSetAt(order: HistoryOrder, now: Date, where: { file: string; line: number }): RuleSet {
    const rs = selectRuleSet(this.ruleSets, now);
    if (!rs) {
      throw new SimulationInputError(where.file, where.line,
        `no rule set of ${this.scenario.name} is in force at ${order.placedAt} (order ${order.id}); add one without validFrom/validTo`);
    }
    return rs;
  }

  decide(order: HistoryOrder, now: Date, rs: RuleSet, where: { file: string; line: number }): RoutingDecision {
    try {
      return route(order, this.atp, this.network, rs, { now });
    } catch (e) {
      if (e instanceof RoutingInputError) throw new SimulationInputError(where.file, where.line, e.message);
      throw e;
    }
  }

  /** Records the decision and applies it to stock and capacity, exactly as `consumeDecision` does (but in place). */
  apply(order: HistoryOrder, decision: RoutingDecision, rs: RuleSet, now: Date): void {
    const m = this.m;
    m.orders++;
    this.ruleSetUse.set(rs, (this.ruleSetUse.get(rs) ?? 0) + 1);
    if (decision.status === 'ROUTED') m.routed++;
    else if (decision.status === 'PARTIAL') m.partial++;
    else m.backordered++;
    m.unitsOrdered += order.lines.reduce((a, l) => a + l.quantity, 0);
    m.unfilledUnits += decision.unfilled.reduce((a, u) => a + u.quantity, 0);
    const n = decision.shipments.length;
    if (n > 0) m.shippedOrders++;
    if (n > 1) m.splitOrders++;
    m.shipments += n;
    m.cost += decision.estimatedCost;

    const touched = new Map<string, number>();
    let deliveredOn = '';
    let placedOn = '';
    for (const s of decision.shipments) {
      const loc = this.byCode.get(s.locationCode)!;
      const units = s.lines.reduce((a, l) => a + l.quantity, 0);
      for (const l of s.lines) {
        const bySku = (this.atp.available[l.sku] ??= {});
        bySku[s.locationCode] = Math.max(0, (bySku[s.locationCode] ?? 0) - l.quantity);
      }
      touched.set(s.locationCode, (touched.get(s.locationCode) ?? 0) + s.lines.length);
      const st = this.stats.get(s.locationCode)!;
      st.shipments++;
      st.units += units;
      if (s.kind === 'SHIP' || s.kind === 'TRANSFER') {
        m.parcels++;
        m.parcelKm += s.distanceKm;
        const kg = s.lines.reduce((a, l) => a + l.quantity * (this.network.products?.[l.sku]?.weightKg ?? rs.defaultWeightKg), 0);
        m.co2 += loc.co2PerKm !== undefined ? s.co2Kg : (SIMULATION_CARRIER.co2KgPerTonneKm * s.distanceKm * kg) / 1000;
      }
      if (s.kind === 'SHIP') {
        const placed = localDate(now, loc.timeZone);
        const band = transitBand(SIMULATION_CARRIER, s.distanceKm) ?? SIMULATION_CARRIER.transit[SIMULATION_CARRIER.transit.length - 1];
        const shipped = shipDate(new Date(s.readyBy), { timeZone: loc.timeZone, country: order.shipTo?.country ?? 'US' }, SIMULATION_CARRIER.pickupCutoff, {});
        const delivered = addDeliveryDays(shipped, band.maxDays, order.shipTo?.country ?? 'US', {}, SIMULATION_CARRIER.saturdayDelivery);
        if (!deliveredOn || dateDiff(delivered, placed) > dateDiff(deliveredOn, placedOn)) [deliveredOn, placedOn] = [delivered, placed];
      }
    }
    if (decision.status === 'ROUTED' && n > 0) {
      if (order.method !== 'SHIP' && decision.readyBy && order.pickupLocationCode) {
        const store = this.byCode.get(order.pickupLocationCode)!;
        [deliveredOn, placedOn] = [localDate(new Date(decision.readyBy), store.timeZone), localDate(now, store.timeZone)];
      }
      if (deliveredOn) {
        m.deliveredOrders++;
        m.deliveryDays += dateDiff(deliveredOn, placedOn);
      }
    }

    for (const [code, lines] of touched) {
      const loc = this.byCode.get(code)!;
      const today = localDate(now, loc.timeZone);
      const used = loc.usedToday && loc.usedToday.date === today ? loc.usedToday : { date: today, orders: 0, lines: 0 };
      loc.usedToday = { date: today, orders: used.orders + 1, lines: used.lines + lines };
      const st = this.stats.get(code)!;
      const cap = remainingCapacity(loc, now, rs).orderCap;
      if (loc.usedToday.orders > st.peakDayOrders) {
        st.peakDayOrders = loc.usedToday.orders;
        st.peakDay = today;
        st.peakDayCapacity = Number.isFinite(cap) ? cap : null;
      }
      if (loc.usedToday.orders >= cap) st.fullDays.add(today);
    }
  }

  report(): ScenarioReport {
    const m = this.m;
    return {
      name: this.scenario.name,
      ruleSets: this.ruleSets
        .map((rs) => ({ id: rs.id, version: rs.version, name: rs.name, orders: this.ruleSetUse.get(rs) ?? 0 })),
      orders: m.orders,
      routed: m.routed,
      partial: m.partial,
      backordered: m.backordered,
      unfulfillable: m.partial + m.backordered,
      unfulfillableRate: ratio(m.partial + m.backordered, m.orders),
      unitsOrdered: m.unitsOrdered,
      unfilledUnits: m.unfilledUnits,
      shippedOrders: m.shippedOrders,
      shipments: m.shipments,
      shipmentsPerOrder: ratio(m.shipments, m.shippedOrders),
      splitRate: ratio(m.splitOrders, m.shippedOrders),
      shippingCost: round(m.cost, 2),
      costPerOrder: ratio(m.cost, m.shippedOrders, 2),
      meanDistanceKm: ratio(m.parcelKm, m.parcels, 1),
      meanDeliveryDays: ratio(m.deliveryDays, m.deliveredOrders, 2),
      co2Kg: round(m.co2, 3),
      co2PerOrderKg: ratio(m.co2, m.shippedOrders, 4),
      locations: [...this.stats]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([code, st]) => ({
          code,
          type: this.byCode.get(code)!.type,
          shipments: st.shipments,
          units: st.units,
          share: ratio(st.shipments, m.shipments),
          peakDay: st.peakDay,
          peakDayOrders: st.peakDayOrders,
          peakDayCapacity: st.peakDayCapacity,
          daysAtCapacity: st.fullDays.size,
        })),
    };
  }
}

function planOf(d: RoutingDecision): PlanSummary {
  return {
    status: d.status,
    cost: d.estimatedCost,
    shipments: d.shipments.map((s) => ({ location: s.locationCode, kind: s.kind, lines: s.lines.map((l) => ({ sku: l.sku, quantity: l.quantity })) })),
  };
}

/** A canonical text form of a decision's plan: equal strings mean the same shipments from the same places. */
export function planSignature(d: Pick<RoutingDecision, 'status' | 'shipments'>): string {
  const parts = d.shipments
    .map((s) => `${s.locationCode}/${s.kind}:${[...s.lines].sort((a, b) => (a.sku < b.sku ? -1 : 1)).map((l) => `${l.sku}x${l.quantity}`).join(',')}`)
    .sort();
  return `${d.status}|${parts.join('|')}`;
}

export function changeKind(a: RoutingDecision, b: RoutingDecision): ChangeKind {
  if (a.status !== b.status) return 'fill';
  if (a.shipments.length !== b.shipments.length) return 'shipmentCount';
  const locs = (d: RoutingDecision) => d.shipments.map((s) => s.locationCode).sort().join(',');
  return locs(a) !== locs(b) ? 'locations' : 'quantities';
}

function mainLocation(d: RoutingDecision): string {
  let best = '';
  let bestUnits = -1;
  for (const s of d.shipments) {
    const u = s.lines.reduce((a, l) => a + l.quantity, 0);
    if (u > bestUnits) [best, bestUnits] = [s.locationCode, u];
  }
  return best || '(none)';
}

class Comparison {
  changed = 0;
  changedSameState = 0;
  readonly byKind: Record<ChangeKind, number> = { fill: 0, shipmentCount: 0, locations: 0, quantities: 0 };
  readonly flows = new Map<string, number>();
  readonly examples: ComparisonReport['examples'] = [];
  constructor(
    readonly base: ScenarioRun,
    readonly other: ScenarioRun,
    readonly maxExamples: number,
  ) {}

  record(order: HistoryOrder, line: number, a: RoutingDecision, b: RoutingDecision, sameState: RoutingDecision): void {
    const sigA = planSignature(a);
    if (planSignature(sameState) !== sigA) this.changedSameState++;
    if (planSignature(b) === sigA) return;
    this.changed++;
    const kind = changeKind(a, b);
    this.byKind[kind]++;
    const [from, to] = [mainLocation(a), mainLocation(b)];
    if (from !== to) this.flows.set(`${from}\u0000${to}`, (this.flows.get(`${from}\u0000${to}`) ?? 0) + 1);
    if (this.examples.length < this.maxExamples) {
      this.examples.push({ id: order.id, line, placedAt: order.placedAt, kind, base: planOf(a), other: planOf(b) });
    }
  }

  report(orders: number): ComparisonReport {
    return {
      base: this.base.scenario.name,
      other: this.other.scenario.name,
      changed: this.changed,
      changedRate: ratio(this.changed, orders),
      changedSameState: this.changedSameState,
      byKind: { ...this.byKind },
      flows: [...this.flows]
        .map(([k, n]) => {
          const [from, to] = k.split('\u0000');
          return { from, to, orders: n };
        })
        .sort((x, y) => y.orders - x.orders || (x.from + x.to < y.from + y.to ? -1 : 1))
        .slice(0, 10),
      examples: this.examples,
    };
  }
}

/**
 * The replay, one order at a time: `step` routes the order under every scenario (each against its own state),
 * then `report` summarises. The first scenario is the base every other one is compared with.
 */
export class Simulation {
  private readonly runs: ScenarioRun[];
  private readonly comparisons: Comparison[];
  private readonly locationCodes: Set<string>;
  private readonly knownSkus: Set<string>;
  private orders = 0;
  private first: string | null = null;
  private last: string | null = null;
  private unknownSkuLines = 0;

  constructor(
    private readonly base: SimulationNetwork,
    scenarios: Scenario[],
    opts: SimulateOptions = {},
  ) {
    if (scenarios.length === 0) throw new Error('simulate needs at least one scenario');
    this.runs = scenarios.map((s) => new ScenarioRun(s, base));
    this.comparisons = this.runs.slice(1).map((r) => new Comparison(this.runs[0], r, opts.maxExamples ?? 20));
    this.locationCodes = new Set(base.network.locations.map((l) => l.code));
    this.knownSkus = new Set([...Object.keys(base.atp.available), ...Object.keys(base.network.products ?? {})]);
  }

  /** Routes one order under every scenario. `where` names the input for error messages. */
  step(order: HistoryOrder, where: { file: string; line: number }): void {
    if (order.method !== 'SHIP' && order.pickupLocationCode && !this.locationCodes.has(order.pickupLocationCode)) {
      throw new SimulationInputError(where.file, where.line, `pickupLocationCode: "${order.pickupLocationCode}" is not a location of the network (${this.base.source})`);
    }
    const now = new Date(order.placedAt);
    for (const l of order.lines) if (!this.knownSkus.has(l.sku)) this.unknownSkuLines++;
    const chosen = this.runs.map((r) => r.ruleSetAt(order, now, where));
    const decisions = this.runs.map((r, i) => r.decide(order, now, chosen[i], where));
    // The same-state counterfactual must see the base state before the base decision is applied.
    const sameState = this.comparisons.map((_, k) => this.runs[0].decide(order, now, chosen[k + 1], where));
    this.comparisons.forEach((c, k) => c.record(order, where.line, decisions[0], decisions[k + 1], sameState[k]));
    this.runs.forEach((r, i) => r.apply(order, decisions[i], chosen[i], now));
    this.orders++;
    this.first ??= order.placedAt;
    this.last = order.placedAt;
  }

  report(): SimulationReport {
    let units = 0;
    let skus = 0;
    for (const bySku of Object.values(this.base.atp.available)) {
      const n = Object.values(bySku).reduce((a, u) => a + Math.max(0, u), 0);
      units += n;
      if (n > 0) skus++;
    }
    return {
      format: 'switchyard-simulate/1',
      history: { orders: this.orders, first: this.first, last: this.last, unknownSkuLines: this.unknownSkuLines },
      network: { source: this.base.source, locations: this.base.network.locations.length, skus, units },
      scenarios: this.runs.map((r) => r.report()),
      comparisons: this.comparisons.map((c) => c.report(this.orders)),
    };
  }
}

/** Replays an in-memory history (tests, library use). Orders must be in placedAt order. */
export function simulate(
  orders: Iterable<{ order: HistoryOrder; line: number }>,
  network: SimulationNetwork,
  scenarios: Scenario[],
  opts: SimulateOptions & { file?: string } = {},
): SimulationReport {
  const sim = new Simulation(network, scenarios, opts);
  for (const { order, line } of orders) sim.step(order, { file: opts.file ?? 'history', line });
  return sim.report();
}
