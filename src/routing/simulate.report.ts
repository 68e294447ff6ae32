import type { PlanSummary, ScenarioReport, SimulationReport } from './simulate';

const int = (n: number) => n.toLocaleString('en-US');
const num = (n: number, d: number) => n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const pct = (r: number) => `${(r * 100).toFixed(2)} %`;

function table(rows: string[][], rightFrom = 1): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c >= rightFrom ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ').trimEnd()).join('\n') + '\n';
}

interface Metric {
  label: string;
  value: (s: ScenarioReport) => number;
  show: (v: number, s: ScenarioReport) => string;
  /** How a difference is shown: relative (%), in percentage points, or absolute with d decimals. */
  delta: 'relative' | 'points' | number;
}

const METRICS: Metric[] = [
  { label: 'orders', value: (s) => s.orders, show: int, delta: 0 },
  { label: 'routed completely', value: (s) => s.routed, show: int, delta: 0 },
  { label: 'unfulfillable orders', value: (s) => s.unfulfillable, show: (v, s) => `${int(v)} (${pct(s.unfulfillableRate)})`, delta: 0 },
  { label: '  of which backordered', value: (s) => s.backordered, show: int, delta: 0 },
  { label: 'unfilled units', value: (s) => s.unfilledUnits, show: int, delta: 0 },
  { label: 'shipments', value: (s) => s.shipments, show: int, delta: 'relative' },
  { label: 'shipments per order', value: (s) => s.shipmentsPerOrder, show: (v) => num(v, 3), delta: 3 },
  { label: 'split rate', value: (s) => s.splitRate, show: pct, delta: 'points' },
  { label: 'shipping cost', value: (s) => s.shippingCost, show: (v) => num(v, 2), delta: 'relative' },
  { label: 'cost per order', value: (s) => s.costPerOrder, show: (v) => num(v, 2), delta: 2 },
  { label: 'mean distance (km/parcel)', value: (s) => s.meanDistanceKm, show: (v) => num(v, 1), delta: 1 },
  { label: 'mean delivery days', value: (s) => s.meanDeliveryDays, show: (v) => num(v, 2), delta: 2 },
  { label: 'CO2 (kg)', value: (s) => s.co2Kg, show: (v) => num(v, 1), delta: 'relative' },
  { label: 'CO2 per order (kg)', value: (s) => s.co2PerOrderKg, show: (v) => num(v, 3), delta: 3 },
];

function delta(m: Metric, a: number, b: number): string {
  if (m.delta === 'relative') return a === 0 ? (b === 0 ? '0' : 'n/a') : `${b >= a ? '+' : ''}${(((b - a) / a) * 100).toFixed(1)} %`;
  if (m.delta === 'points') return `${b >= a ? '+' : ''}${((b - a) * 100).toFixed(2)} pt`;
  const d = b - a;
  return `${d >= 0 ? '+' : ''}${num(d, m.delta)}`;
}

function plan(p: PlanSummary): string {
  if (p.shipments.length === 0) return p.status;
  const parts = p.shipments.map((s) => `${s.location}${s.kind === 'SHIP' ? '' : `/${s.kind}`}[${s.lines.map((l) => `${l.quantity}×${l.sku}`).join(', ')}]`);
  return `${p.status === 'ROUTED' ? '' : `${p.status} `}${parts.join(' + ')}`;
}

/** The human-readable report: metrics side by side, location utilisation, then what changed. */
export function formatReport(r: SimulationReport): string {
  const out: string[] = [];
  const [base, ...others] = r.scenarios;
  out.push(
    `History: ${int(r.history.orders)} orders${r.history.first ? `, ${r.history.first} → ${r.history.last}` : ''}. ` +
      `Network: ${r.network.source} (${r.network.locations} locations, ${int(r.network.skus)} SKUs in stock, ${int(r.network.units)} units available at the start).\n`,
  );
  if (r.history.unknownSkuLines > 0) out.push(`Warning: ${int(r.history.unknownSkuLines)} order lines name SKUs the network does not know (they can never be filled).\n`);
  out.push('\n');

  const header = ['', ...r.scenarios.map((s) => s.name), ...others.map((o) => `Δ ${o.name}`)];
  const rows = METRICS.map((m) => [
    m.label,
    ...r.scenarios.map((s) => m.show(m.value(s), s)),
    ...others.map((o) => delta(m, m.value(base), m.value(o))),
  ]);
  out.push(table([header, ...rows]));

  out.push('\nRule sets used:\n');
  for (const s of r.scenarios) {
    out.push(`  ${s.name}: ${s.ruleSets.map((rs) => `${rs.id} v${rs.version} "${rs.name}" (${int(rs.orders)} orders)`).join('; ')}\n`);
  }

  out.push('\nLocation utilisation (shipments, share of all shipments, busiest local day: orders/capacity, days at capacity):\n');
  const codes = base.locations.map((l) => l.code).filter((code) => r.scenarios.some((s) => s.locations.find((l) => l.code === code)!.shipments > 0));
  const locRows = codes.map((code) => {
    const cells = r.scenarios.flatMap((s) => {
      const l = s.locations.find((x) => x.code === code)!;
      if (l.shipments === 0) return ['-', '', '', ''];
      return [int(l.shipments), pct(l.share), `${l.peakDayOrders}/${l.peakDayCapacity ?? '∞'}`, l.daysAtCapacity ? `${l.daysAtCapacity}` : ''];
    });
    return [code, base.locations.find((l) => l.code === code)!.type, ...cells];
  });
  const idle = base.locations.length - codes.length;
  out.push(table([['location', 'type', ...r.scenarios.flatMap((s) => [s.name, 'share', 'peak', 'full'])], ...locRows], 2));
  if (idle > 0) out.push(`  (${idle} location${idle === 1 ? '' : 's'} shipped nothing in any scenario)\n`);

  for (const c of r.comparisons) {
    out.push(
      `\nChanged decisions, ${c.other} vs ${c.base}: ${int(c.changed)} of ${int(r.history.orders)} orders (${pct(c.changedRate)}); ` +
        `${int(c.changedSameState)} differ even on the same stock and capacity (the direct effect of the rules).\n`,
    );
    if (c.changed === 0) continue;
    out.push(`  by kind: fill ${int(c.byKind.fill)}, number of shipments ${int(c.byKind.shipmentCount)}, locations ${int(c.byKind.locations)}, quantities ${int(c.byKind.quantities)}\n`);
    out.push(`  main location moves: ${c.flows.map((f) => `${f.from} → ${f.to} (${int(f.orders)})`).join(', ')}\n`);
    for (const e of c.examples) {
      out.push(`  ${e.id} (line ${e.line}, ${e.placedAt}): ${plan(e.base)}  ⇒  ${plan(e.other)}\n`);
    }
    if (c.changed > c.examples.length) out.push(`  … ${int(c.changed - c.examples.length)} more (--examples N, or --json)\n`);
  }
  return out.join('');
}
