import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { haversineKm } from '../src/routing/geo';
import { blackFriday, generateHistory } from '../src/routing/history-generator';
import { optimize } from '../src/routing/optimize';
import { evaluatePlan, parseInstance, prepare, type OptimizeInstanceInput, type OrderPlan, type PreparedInstance } from '../src/routing/optimize.instance';
import { demoSimulationNetwork } from '../src/routing/simulate.network';
import { generateInstance } from './instances/generate';

/**
 * route-quality: how good the batch optimiser's plans are, on seeded instance sets kept in bench/instances/
 * (route-quality-*.json; `node dist/bench/route-quality.js --regenerate` rewrites them from their seeds).
 *
 * - vs the LP-relaxation bound, computed here independently of the optimiser (HiGHS on the textbook LP of the
 *   instance cost definition over every order × location pair): goal gap ≤ 0.5 %;
 * - vs nearest-first greedy (each line from the nearest location that has it): goal cost ≥ 1 % lower and
 *   shipments ≥ 20 % fewer. A whole-order-first variant (nearest location with everything, else nearest-first) is
 *   printed beside it as a stronger baseline.
 * RESULT lines: worst gap (ratio = 0.5 % ÷ gap), cost and shipment reductions over the whole set (ratio = ours ÷ goal).
 */

const SETS: { name: string; build: () => OptimizeInstanceInput }[] = [
  // Synthetic UK batches (bench/instances/generate.ts): partial assortments, so many orders need a split somewhere.
  ...[1, 2, 3].map((seed) => ({ name: `uk-${seed}`, build: () => generateInstance({ seed, orders: 150, locations: 20, capacitySlack: 2 }) })),
  // A Black Friday backlog on the demo network: orders from the history generator, the demo's real stock.
  ...[1, 2].map((seed) => ({ name: `us-peak-${seed}`, build: () => usPeakInstance(seed, 250) })),
];

function usPeakInstance(seed: number, orders: number): OptimizeInstanceInput {
  const net = demoSimulationNetwork();
  const history = [...generateHistory({ orders, seed, from: blackFriday(2025), days: 1 })];
  const skus = new Set(history.flatMap((o) => o.lines.map((l) => l.sku)));
  const stock: OptimizeInstanceInput['stock'] = [];
  for (const sku of [...skus].sort()) {
    for (const [location, qty] of Object.entries(net.atp.available[sku] ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (qty > 0) stock.push({ sku, location, qty });
    }
  }
  return {
    // Stores pick a handful of orders in a peak batch; warehouses and the 3PL are not the constraint.
    locations: net.network.locations.map((l) => ({
      code: l.code, lat: l.latitude, lng: l.longitude, shipBase: l.shipBase, shipPerKm: l.shipPerKm,
      ...(l.type === 'STORE' ? { capacityOrders: 10 } : {}),
    })),
    stock,
    orders: history.map((o) => ({ id: o.id, lat: o.shipTo!.latitude, lng: o.shipTo!.longitude, lines: o.lines.map((l) => ({ sku: l.sku, qty: l.quantity })) })),
    splitPenalty: 5,
  };
}

function instanceDir(): string {
  // Runs from bench/ (ts) or dist/bench/ (compiled): the JSON files live in the source tree.
  const candidates = [path.join(__dirname, 'instances'), path.join(__dirname, '..', '..', 'bench', 'instances')];
  return candidates.find((d) => existsSync(path.join(d, 'generate.ts'))) ?? candidates[0];
}

/** One entry per line keeps the committed files diffable. */
function writeInstance(file: string, inst: OptimizeInstanceInput): void {
  const list = (xs: unknown[]) => `[\n${xs.map((x) => `  ${JSON.stringify(x)}`).join(',\n')}\n]`;
  const { locations, stock, orders, ...rest } = inst;
  writeFileSync(file, `{\n"locations": ${list(locations)},\n"stock": ${list(stock)},\n"orders": ${list(orders)},\n${Object.entries(rest).map(([k, v]) => `"${k}": ${JSON.stringify(v)}`).join(',\n')}\n}\n`);
}

/**
 * Nearest-first, what a DOM without optimisation does: each line from the nearest location that has it, walking
 * outwards (`line`). `order` first looks for the nearest location that has the whole order (a stronger baseline,
 * printed for reference).
 */
export function nearestFirst(p: PreparedInstance, mode: 'line' | 'order' = 'line'): OrderPlan[] {
  const { inst } = p;
  const stock = p.stock.map((m) => new Map(m));
  const capLeft = [...p.capacity];
  return inst.orders.map((o, oi) => {
    const byDistance = inst.locations
      .map((l, li) => ({ li, km: haversineKm(o.lat, o.lng, l.lat, l.lng), code: l.code }))
      .sort((a, b) => a.km - b.km || (a.code < b.code ? -1 : 1));
    const need = new Map(p.demand[oi]);
    const shipments: OrderPlan['shipments'] = [];
    const take = (li: number) => {
      const lines: { sku: string; qty: number }[] = [];
      for (const [sku, q] of need) {
        const u = Math.min(q, stock[li].get(sku) ?? 0);
        if (u <= 0) continue;
        lines.push({ sku, qty: u });
        stock[li].set(sku, (stock[li].get(sku) ?? 0) - u);
        need.set(sku, q - u);
      }
      if (lines.length) {
        capLeft[li]--;
        shipments.push({ location: inst.locations[li].code, lines });
      }
    };
    const whole = mode === 'order' ? byDistance.find(({ li }) => capLeft[li] > 0 && [...need].every(([sku, q]) => (stock[li].get(sku) ?? 0) >= q)) : undefined;
    if (whole) take(whole.li);
    else for (const { li } of byDistance) if (capLeft[li] > 0 && [...need.values()].some((q) => q > 0)) take(li);
    return { id: o.id, shipments };
  });
}

/**
 * The LP relaxation of the allocation MIP, written out as CPLEX LP text and solved by HiGHS: units x ≥ 0 per
 * order × SKU × location, shipments 0 ≤ y ≤ 1 per order × location with x ≤ min(q, stock)·y, unfilled u ≥ 0,
 * 0 ≤ z ≤ min(1, Σy) so the split penalty is charged on Σy − z; stock and capacity rows. Pairs where the location
 * stocks none of the order's SKUs are left out (they can only add cost).
 */
export function lpRelaxationBound(p: PreparedInstance, highs: { solve: (lp: string, o?: object) => { Status: string; ObjectiveValue: number } }): number {
  const { inst } = p;
  const obj: string[] = [];
  const rows: string[] = [];
  const bounds: string[] = [];
  const stockRows = new Map<string, string[]>();
  const capRows = inst.locations.map(() => [] as string[]);
  let nx = 0;
  let ny = 0;
  let nu = 0;
  inst.orders.forEach((_o, oi) => {
    const ys: string[] = [];
    const demandRows = new Map<string, string[]>();
    inst.locations.forEach((_l, li) => {
      const skus = [...p.demand[oi]].filter(([sku]) => (p.stock[li].get(sku) ?? 0) > 0);
      if (!skus.length) return;
      const y = `y${ny++}`;
      ys.push(y);
      bounds.push(`0 <= ${y} <= 1`);
      obj.push(`${p.shipCost[oi][li] + inst.splitPenalty} ${y}`);
      capRows[li].push(y);
      for (const [sku, q] of skus) {
        const x = `x${nx++}`;
        const cap = Math.min(q, p.stock[li].get(sku)!);
        rows.push(`${x} - ${cap} ${y} <= 0`);
        (demandRows.get(sku) ?? demandRows.set(sku, []).get(sku)!).push(x);
        const key = `${li}:${sku}`;
        (stockRows.get(key) ?? stockRows.set(key, []).get(key)!).push(x);
      }
    });
    for (const [sku, q] of p.demand[oi]) {
      const u = `u${nu++}`;
      obj.push(`${inst.unfilledPenalty} ${u}`);
      rows.push(`${[...(demandRows.get(sku) ?? []), u].join(' + ')} = ${q}`);
    }
    if (ys.length && inst.splitPenalty > 0) {
      const z = `z${oi}`;
      obj.push(`-${inst.splitPenalty} ${z}`);
      bounds.push(`0 <= ${z} <= 1`);
      rows.push(`${z} - ${ys.join(' - ')} <= 0`);
    }
  });
  for (const [key, xs] of stockRows) {
    const [li, sku] = [Number(key.slice(0, key.indexOf(':'))), key.slice(key.indexOf(':') + 1)];
    rows.push(`${xs.join(' + ')} <= ${p.stock[li].get(sku)}`);
  }
  capRows.forEach((ys, li) => {
    if (ys.length && Number.isFinite(p.capacity[li]) && p.capacity[li] < ys.length) rows.push(`${ys.join(' + ')} <= ${p.capacity[li]}`);
  });
  // CPLEX LP lines must stay short: wrap long expressions.
  const wrap = (s: string) => s.replace(/((?:\S+ ){40})/g, '$1\n ');
  const lp = `Minimize\n obj: ${wrap(obj.join(' + ').replace(/\+ -/g, '- '))}\nSubject To\n${rows.map((r, i) => ` r${i}: ${wrap(r)}`).join('\n')}\nBounds\n${bounds.map((b) => ` ${b}`).join('\n')}\nEnd\n`;
  const sol = highs.solve(lp, { solver: 'simplex', presolve: 'on' });
  if (sol.Status !== 'Optimal') throw new Error(`LP relaxation: HiGHS status ${sol.Status}`);
  return sol.ObjectiveValue;
}

export async function run(opts: { timeLimitMs?: number } = {}): Promise<void> {
  const dir = instanceDir();
  const files = SETS.map((s) => ({ ...s, file: path.join(dir, `route-quality-${s.name}.json`) }));
  const missing = files.filter((f) => !existsSync(f.file));
  if (missing.length) throw new Error(`missing instance files (run with --regenerate): ${missing.map((f) => f.file).join(', ')}`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const highs = await require('highs')();
  let worstGap = 0;
  const totals = { ours: 0, nearest: 0, oursShipments: 0, nearestShipments: 0 };
  for (const f of files) {
    const input = JSON.parse(readFileSync(f.file, 'utf8')) as OptimizeInstanceInput;
    const p = prepare(parseInstance(input));
    const t0 = process.hrtime.bigint();
    const r = await optimize(input, { timeLimitMs: opts.timeLimitMs ?? 10_000 }); // the CLI's default
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const ours = evaluatePlan(p, r.plan);
    if (ours.violations.length) throw new Error(`${f.name}: optimiser plan violates ${ours.violations[0]}`);
    const nf = evaluatePlan(p, nearestFirst(p, 'line'));
    const nfOrder = evaluatePlan(p, nearestFirst(p, 'order'));
    for (const v of [...nf.violations, ...nfOrder.violations]) throw new Error(`${f.name}: nearest-first plan violates ${v}`);
    const lp = lpRelaxationBound(p, highs);
    const gap = (ours.cost - lp) / Math.max(1, Math.abs(lp));
    worstGap = Math.max(worstGap, gap);
    // Shipping alone (without the unfilled-unit penalty, which dominates batches short of stock).
    const penalty = p.inst.unfilledPenalty;
    const shipOurs = ours.cost - ours.unfilledUnits * penalty;
    const shipNf = nf.cost - nf.unfilledUnits * penalty;
    totals.ours += ours.cost;
    totals.nearest += nf.cost;
    totals.oursShipments += ours.shipments;
    totals.nearestShipments += nf.shipments;
    console.log(
      `${f.name}: ${input.orders.length} orders × ${input.locations.length} locations; optimiser ${ours.cost.toFixed(2)} (${r.status}, ${secs.toFixed(1)} s, ` +
        `${ours.shipments} shipments, ${ours.unfilledUnits} unfilled; its bound ${r.bound.toFixed(2)}), LP relaxation ${lp.toFixed(2)} → gap ${(gap * 100).toFixed(3)} % ` +
        `(${(((ours.cost - lp) / Math.max(1, shipOurs)) * 100).toFixed(2)} % of shipping alone); ` +
        `nearest-first ${nf.cost.toFixed(2)} (${nf.shipments} shipments, ${nf.unfilledUnits} unfilled) → cost −${((1 - ours.cost / nf.cost) * 100).toFixed(2)} %, ` +
        `shipments −${((1 - ours.shipments / nf.shipments) * 100).toFixed(1)} % (shipping alone ${shipOurs.toFixed(2)} vs ${shipNf.toFixed(2)}); whole-order-first ${nfOrder.cost.toFixed(2)} (${nfOrder.shipments} shipments) → ` +
        `cost −${((1 - ours.cost / nfOrder.cost) * 100).toFixed(2)} %, shipments −${((1 - ours.shipments / nfOrder.shipments) * 100).toFixed(1)} %`,
    );
  }
  const costDrop = (1 - totals.ours / totals.nearest) * 100;
  const shipDrop = (1 - totals.oursShipments / totals.nearestShipments) * 100;
  const gapPct = worstGap * 100;
  console.log(`RESULT route-quality-gap value=${gapPct.toFixed(3)} limit=0.5 ratio=${(0.5 / Math.max(gapPct, 1e-3)).toFixed(3)}`);
  console.log(`RESULT route-quality-cost value=${costDrop.toFixed(3)} limit=1 ratio=${(costDrop / 1).toFixed(3)}`);
  console.log(`RESULT route-quality-shipments value=${shipDrop.toFixed(3)} limit=20 ratio=${(shipDrop / 20).toFixed(3)}`);
}

function regenerate(): void {
  const dir = instanceDir();
  mkdirSync(dir, { recursive: true });
  for (const s of SETS) {
    const file = path.join(dir, `route-quality-${s.name}.json`);
    writeInstance(file, s.build());
    console.log(`wrote ${file}`);
  }
  const stale = readdirSync(dir).filter((f) => f.startsWith('route-quality-') && !SETS.some((s) => f === `route-quality-${s.name}.json`));
  if (stale.length) console.log(`not part of the set any more: ${stale.join(', ')}`);
}

if (require.main === module) {
  if (process.argv.includes('--regenerate')) regenerate();
  else {
    run().then(
      () => process.exit(0),
      (e) => {
        console.error(e);
        process.exit(1);
      },
    );
  }
}
