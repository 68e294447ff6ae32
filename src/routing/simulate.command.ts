import { createWriteStream, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_HISTORY_TIME_ZONE, generateHistory, type HistoryOptions } from './history-generator';
import { localDate } from './time';
import { parseRuleSet, RuleSetValidationError, type RuleSet } from './rule-set.schema';
import { Simulation, type Scenario } from './simulate';
import { historyLine, readHistoryFile, SimulationInputError } from './simulate.history';
import { demoSimulationNetwork, loadNetworkFile, parseStructuredFile, type SimulationNetwork } from './simulate.network';
import { formatReport } from './simulate.report';

const USAGE = `Usage:
  switchyard simulate --orders <history.jsonl> --rules <A.json|yaml> [--compare <B.json|yaml> ...]
                      [--network <network.json|yaml>] [--json] [--examples N]
  switchyard simulate --generate <N> [--seed S] [--out <history.jsonl>] [--from YYYY-MM-DD] [--days D]
                      [--peak X] [--zipf S] [--network <network.json|yaml>] [--json]

Replays an order history against the network (the demo network unless --network) once per rule-set file, stock
depleting as orders are routed, and prints per rule set: shipments per order, split rate, shipping cost, mean
distance and delivery days, CO2, unfulfillable orders, location utilisation, and the decisions that changed
between --rules and each --compare. A rule-set file holds one rule set or a list (each order uses the one in force
at its placedAt). --generate writes a realistic seeded history instead (see docs/routing.md#what-if-simulation).
  --json         machine-readable report (format "switchyard-simulate/1")
  --examples N   changed decisions listed per comparison (default 20; all are counted)
`;

/** Reads a rule-set file (JSON, or YAML for .yaml/.yml): one rule set or a list of them. */
export function loadScenario(file: string): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw Object.assign(new Error(`cannot read ${file}: ${(e as Error).message}`), { io: true });
  }
  const data = parseStructuredFile(text, file);
  const items = Array.isArray(data) ? data : [data];
  if (items.length === 0) throw new SimulationInputError(file, undefined, 'the list of rule sets is empty');
  const ruleSets: RuleSet[] = items.map((item, i) => {
    try {
      return parseRuleSet(item, Array.isArray(data) ? `${file} [${i}]` : file);
    } catch (e) {
      if (e instanceof RuleSetValidationError) throw new SimulationInputError(e.source ?? file, undefined, e.issues.map((x) => `${x.path || '(root)'}: ${x.message}`).join('; '));
      throw e;
    }
  });
  return { name: file, ruleSets };
}

function positiveInt(name: string, v: string | undefined, dflt: number, min = 1): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new SimulationInputError(`--${name}`, undefined, `must be a whole number ≥ ${min}, got "${v}"`);
  return n;
}

async function runGenerate(values: Record<string, string | boolean | string[] | undefined>, out: NodeJS.WritableStream): Promise<number> {
  const net: SimulationNetwork = typeof values.network === 'string' ? loadNetworkFile(values.network) : demoSimulationNetwork();
  const number = (name: string) => {
    const v = values[name];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new SimulationInputError(`--${name}`, undefined, `must be a number, got "${v}"`);
    return n;
  };
  const opts: HistoryOptions = {
    orders: positiveInt('generate', values.generate as string, 0, 0),
    seed: positiveInt('seed', values.seed as string | undefined, 1, 0),
    from: values.from as string | undefined,
    days: number('days'),
    peak: number('peak'),
    zipf: number('zipf'),
    skus: net.skus,
    stores: net.network.locations.filter((l) => l.active && l.type === 'STORE'),
  };
  let orders;
  try {
    orders = generateHistory(opts);
  } catch (e) {
    throw new SimulationInputError('--generate', undefined, (e as Error).message);
  }
  const file = typeof values.out === 'string' && values.out !== '-' ? values.out : undefined;
  let sink: NodeJS.WritableStream = out;
  let failure: Error | undefined;
  // Resolves on the first of `events`, leaving no listener behind (a long history waits for 'drain' many times).
  const settled = (events: string[]) =>
    new Promise<void>((resolve) => {
      const done = () => {
        events.forEach((ev) => sink.removeListener(ev, done));
        resolve();
      };
      events.forEach((ev) => sink.on(ev, done));
    });
  if (file) {
    sink = createWriteStream(file);
    sink.on('error', (e: Error) => (failure ??= e));
    await settled(['open', 'error']);
  }
  let count = 0;
  let first: string | undefined;
  let last: string | undefined;
  let busiest = { day: '', orders: 0 };
  let day = { day: '', orders: 0 };
  for (const o of orders) {
    if (failure) break;
    if (!sink.write(historyLine(o) + '\n')) await settled(['drain', 'error', 'close']);
    count++;
    first ??= o.placedAt;
    last = o.placedAt;
    const d = localDate(new Date(o.placedAt), DEFAULT_HISTORY_TIME_ZONE);
    day = d === day.day ? { day: d, orders: day.orders + 1 } : { day: d, orders: 1 };
    if (day.orders > busiest.orders) busiest = { ...day };
  }
  if (file) {
    if (!failure) {
      const closed = settled(['close']);
      sink.end();
      await closed;
    }
    if (failure) throw Object.assign(new Error(`cannot write ${file}: ${failure.message}`), { io: true });
  }
  if (file) {
    const summary = { orders: count, seed: opts.seed, first: first ?? null, last: last ?? null, busiestDay: busiest.day || null, busiestDayOrders: busiest.orders, out: file };
    out.write(values.json ? JSON.stringify(summary) + '\n'
      : `wrote ${count} orders to ${file} (${first ?? '-'} → ${last ?? '-'}; busiest day ${busiest.day || '-'} with ${busiest.orders})\n`);
  }
  return 0;
}

/**
 * `npx switchyard simulate`: returns the process exit code (0 ok, 1 I/O failure, 2 bad arguments or input).
 * Reports and errors go to `out`; progress (on a terminal only) to `progress`.
 */
export async function runSimulateCommand(argv: string[], out: NodeJS.WritableStream, progress?: NodeJS.WriteStream): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args: argv,
      options: {
        orders: { type: 'string' },
        rules: { type: 'string' },
        compare: { type: 'string', multiple: true },
        network: { type: 'string' },
        json: { type: 'boolean', default: false },
        examples: { type: 'string' },
        generate: { type: 'string' },
        seed: { type: 'string' },
        out: { type: 'string' },
        from: { type: 'string' },
        days: { type: 'string' },
        peak: { type: 'string' },
        zipf: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: false,
    }).values;
  } catch (e) {
    out.write(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    out.write(USAGE);
    return 0;
  }
  try {
    if (values.generate !== undefined) {
      if (values.orders || values.rules || values.compare) {
        out.write(`--generate writes a history; replay it in a second run with --orders.\n\n${USAGE}`);
        return 2;
      }
      return await runGenerate(values, out);
    }
    if (!values.orders || !values.rules) {
      out.write(`Missing ${!values.orders ? '--orders' : '--rules'}.\n\n${USAGE}`);
      return 2;
    }
    const examples = positiveInt('examples', values.examples, 20, 0);
    const scenarios = [loadScenario(values.rules), ...(values.compare ?? []).map(loadScenario)];
    const network = values.network ? loadNetworkFile(values.network) : demoSimulationNetwork();
    const sim = new Simulation(network, scenarios, { maxExamples: examples });
    const showProgress = !values.json && progress?.isTTY;
    let n = 0;
    try {
      for await (const { order, line } of readHistoryFile(values.orders)) {
        sim.step(order, { file: values.orders, line });
        if (showProgress && ++n % 1000 === 0) progress!.write(`\r  replayed ${n.toLocaleString('en-US')} orders`);
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'EACCES' || (e as NodeJS.ErrnoException).code === 'EISDIR') {
        out.write(`Cannot read ${values.orders}: ${(e as Error).message}\n`);
        return 1;
      }
      throw e;
    } finally {
      if (showProgress && n >= 1000) progress!.write('\n');
    }
    const report = sim.report();
    out.write(values.json ? JSON.stringify(report, null, 2) + '\n' : formatReport(report));
    return 0;
  } catch (e) {
    if (e instanceof SimulationInputError) {
      out.write(`${e.message}\n`);
      return 2;
    }
    if ((e as { io?: boolean }).io) {
      out.write(`${(e as Error).message}\n`);
      return 1;
    }
    out.write(`Simulation failed: ${(e as Error).message}\n`);
    return 1;
  }
}
