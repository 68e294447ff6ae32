import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { optimize } from './optimize';
import { InstanceError } from './optimize.instance';

const USAGE = `Usage: switchyard optimize --input <instance.json> [--json] [--time-limit <ms>]

Allocates a batch of orders jointly with the HiGHS MIP solver (greedy fallback on timeout).
  --input, -i       instance file (JSON: locations, stock, orders, splitPenalty; see docs/routing.md)
  --json            print {"cost", "bound", "plan", ...} as JSON
  --time-limit      solver time limit in milliseconds (default 10000)
`;

/**
 * `npx switchyard optimize`: returns the process exit code (0 ok, 1 solver/IO failure, 2 bad arguments or instance).
 * Everything, including errors, goes to `out` so the caller decides where it lands.
 */
export async function runOptimizeCommand(argv: string[], out: NodeJS.WritableStream): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        input: { type: 'string', short: 'i' },
        json: { type: 'boolean', default: false },
        'time-limit': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: false,
    }).values;
  } catch (e) {
    out.write(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    out.write(USAGE);
    return 0;
  }
  if (!args.input) {
    out.write(`Missing --input.\n\n${USAGE}`);
    return 2;
  }
  const timeLimitMs = args['time-limit'] === undefined ? 10_000 : Number(args['time-limit']);
  if (!Number.isFinite(timeLimitMs) || timeLimitMs <= 0) {
    out.write(`--time-limit must be a positive number of milliseconds.\n`);
    return 2;
  }
  let data: unknown;
  try {
    data = JSON.parse(await readFile(args.input, 'utf8'));
  } catch (e) {
    out.write(`Cannot read ${args.input}: ${(e as Error).message}\n`);
    return (e as NodeJS.ErrnoException).code ? 1 : 2;
  }
  if (!args.json) out.write(`Solving ${args.input} (time limit ${timeLimitMs} ms)…\n`);
  try {
    const r = await optimize(data as never, { timeLimitMs });
    if (args.json) {
      out.write(
        JSON.stringify({
          cost: r.cost,
          bound: r.bound,
          plan: r.plan,
          gap: r.gap,
          status: r.status,
          solver: r.solver,
          shipments: r.shipments,
          unfilledUnits: r.unfilledUnits,
        }) + '\n',
      );
    } else {
      out.write(
        `${r.plan.length} orders: cost ${r.cost.toFixed(2)}, bound ${r.bound.toFixed(2)} (gap ${(r.gap * 100).toFixed(2)} %), ` +
          `${r.shipments} shipments, ${r.unfilledUnits} units unfilled; ${r.solver} ${r.status}` +
          `${r.solverError ? ` (solver: ${r.solverError.split('\n')[0]})` : ''}; greedy alone cost ${r.greedyCost.toFixed(2)}\n`,
      );
      for (const o of r.plan.slice(0, 50)) {
        const parts = o.shipments.map((s) => `${s.location} [${s.lines.map((l) => `${l.qty}×${l.sku}`).join(', ')}]`);
        out.write(`  ${o.id}: ${parts.length ? parts.join(' + ') : 'unfilled'}\n`);
      }
      if (r.plan.length > 50) out.write(`  … ${r.plan.length - 50} more (use --json for all)\n`);
    }
    return 0;
  } catch (e) {
    if (e instanceof InstanceError) {
      out.write(`${e.message}\n`);
      return 2;
    }
    out.write(`Optimisation failed: ${(e as Error).message}\n`);
    return 1;
  }
}
