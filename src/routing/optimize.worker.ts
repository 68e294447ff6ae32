import { Worker } from 'node:worker_threads';
import type { MipExtension, MipModel } from './optimize.mip';

/**
 * The worker body is plain JavaScript evaluated in the worker (`eval: true`), so it runs the same under ts-jest,
 * from `dist/`, and from the CLI without a separate build step for a worker file. It loads HiGHS (WebAssembly,
 * single-threaded) and works in two phases on one model:
 *  1. the LP relaxation (integrality dropped): posts its objective, primal values and row duals, so the parent can
 *     round it and compute a bound valid for the whole problem;
 *  2. on request, the MIP from a warm start, streaming every improving incumbent so the parent still has the best
 *     plan found if it has to terminate the worker on its hard time limit.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const loadHighs = require(workerData.highsPath);
(async () => {
  let model;
  try {
    const highs = await loadHighs();
    const d = workerData.model;
    const integrality = Array.from(d.integrality);
    let numRows = d.numRows;
    let numCols = d.numCols;
    model = highs.createModel({ ...d, integrality: undefined });
    const info = (k) => { try { return model.info.get(k); } catch (e) { return undefined; } };
    const next = () => new Promise((resolve) => parentPort.once('message', resolve));
    const solveLp = (timeLimitSec) => {
      // Dual simplex without presolve is the fastest way through these models in WebAssembly (measured); after
      // columns are added it restarts from the previous basis.
      model.options.set({ output_flag: false, time_limit: Math.max(0.001, timeLimitSec), presolve: 'off', solver: 'simplex' });
      model.run();
      const status = model.getModelStatus();
      if (status !== 7) return parentPort.postMessage({ type: 'lp', status });
      const s = model.getSolution();
      parentPort.postMessage({ type: 'lp', status, objective: model.getObjectiveValue(), colValue: s.colValue, rowDual: s.rowDual });
    };
    if (workerData.lpTimeLimitSec > 0) solveLp(workerData.lpTimeLimitSec);
    else parentPort.postMessage({ type: 'lp', status: 0 });
    let msg = await next();
    while (msg.type === 'extend') {
      const c = msg.cols;
      if (c.cost.length > 0) {
        model.addCols({ cost: c.cost, lower: c.lower, upper: c.upper, matrix: { format: 'csc', numRows, numCols: c.cost.length, starts: c.starts, indices: c.indices, values: c.values } });
        numCols += c.cost.length;
        for (const t of c.integrality) integrality.push(t);
        const r = msg.rows;
        if (r.lower.length > 0) model.addRows({ lower: r.lower, upper: r.upper, matrix: { format: 'csr', numRows: r.lower.length, numCols, starts: r.starts, indices: r.indices, values: r.values } });
        numRows += r.lower.length;
      }
      solveLp(msg.timeLimitSec);
      msg = await next();
    }
    if (msg.type !== 'mip') return parentPort.postMessage({ type: 'done', status: 0 });
    if (integrality.length > 0) model.changeColsIntegrality({ kind: 'range', from: 0, to: integrality.length - 1 }, Int32Array.from(integrality));
    model.options.set({ time_limit: msg.timeLimitSec, mip_rel_gap: msg.mipRelGap, presolve: 'choose', solver: 'choose' });
    if (msg.start) { try { model.setSolution({ colValue: msg.start }); } catch (e) { /* a bad start only loses the warm start */ } }
    const cb = highs.constants.callbackType;
    model.run({
      [cb.mipImprovingSolution](event) {
        const e = event.data;
        if (e.mip_solution) parentPort.postMessage({ type: 'incumbent', objective: e.objective_function_value, bound: e.mip_dual_bound, colValue: e.mip_solution });
      },
    });
    const hasPrimal = info('primal_solution_status') === 2;
    parentPort.postMessage({
      type: 'done',
      status: model.getModelStatus(),
      objective: hasPrimal ? model.getObjectiveValue() : undefined,
      bound: info('mip_dual_bound'),
      colValue: hasPrimal ? model.getSolution().colValue : undefined,
    });
  } catch (e) {
    parentPort.postMessage({ type: 'error', message: String((e && e.stack) || e) });
  } finally {
    if (model) model.dispose();
  }
})();
`;

export interface LpOutcome {
  /** HiGHS model status (7 optimal); values are present only when the LP was solved to optimality. */
  status: number;
  objective?: number;
  colValue?: Float64Array;
  rowDual?: Float64Array;
}

export interface SolveOutcome {
  /** 'done': HiGHS returned (optimal or stopped by its own limit); 'killed': terminated on the hard limit. */
  ended: 'done' | 'killed' | 'error';
  /** HiGHS model status code (7 optimal, 13 time limit, ...), when it returned. */
  status?: number;
  objective?: number;
  bound?: number;
  colValue?: Float64Array;
  error?: string;
}

export interface SolverSession {
  /** The LP relaxation; undefined when the worker failed or was terminated first. */
  lp: Promise<LpOutcome | undefined>;
  /** Appends columns and rows (column generation) and re-solves the LP from the last basis; undefined if ended. */
  extend(ext: MipExtension, timeLimitSec: number): Promise<LpOutcome | undefined>;
  /** Runs the MIP (call once, after the LP settled); never rejects. */
  mip(opts: { timeLimitSec: number; mipRelGap: number; start?: Float64Array }): Promise<SolveOutcome>;
  /** Ends the worker (idempotent). */
  close(): void;
}

/** Starts HiGHS on `model` in a worker thread; everything is terminated at `hardDeadline` (ms since the epoch). */
export function startSolver(model: MipModel, opts: { lpTimeLimitSec: number; hardDeadline: number }): SolverSession {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { highsPath: require.resolve('highs'), model, lpTimeLimitSec: opts.lpTimeLimitSec },
    resourceLimits: { maxOldGenerationSizeMb: 1024 },
  });
  let closed = false;
  let best: SolveOutcome = { ended: 'killed' };
  let lpResolve: (o: LpOutcome | undefined) => void = () => {};
  let mipResolve: ((o: SolveOutcome) => void) | undefined;
  const lp = new Promise<LpOutcome | undefined>((r) => (lpResolve = r));
  const close = () => {
    if (closed) return;
    closed = true;
    clearTimeout(timer);
    void worker.terminate();
    lpResolve(undefined);
    mipResolve?.(best);
  };
  const finish = (o: SolveOutcome) => {
    best = o;
    close();
  };
  const timer = setTimeout(close, Math.max(0, opts.hardDeadline - Date.now()));
  worker.on('message', (m: { type: string; status?: number; objective?: number; bound?: number; colValue?: Float64Array; rowDual?: Float64Array; message?: string }) => {
    if (m.type === 'lp') lpResolve({ status: m.status ?? 0, objective: m.objective, colValue: m.colValue, rowDual: m.rowDual });
    else if (m.type === 'incumbent') best = { ended: 'killed', objective: m.objective, bound: m.bound, colValue: m.colValue };
    else if (m.type === 'done')
      finish({ ended: 'done', status: m.status, objective: m.objective ?? best.objective, bound: m.bound, colValue: m.colValue ?? best.colValue });
    else if (m.type === 'error') finish({ ...best, ended: 'error', error: m.message });
  });
  worker.on('error', (e) => finish({ ...best, ended: 'error', error: String(e) }));
  worker.on('exit', () => finish({ ...best, ended: best.colValue ? 'killed' : 'error', error: best.error ?? 'worker exited' }));
  return {
    lp,
    close,
    extend: (ext, timeLimitSec) =>
      new Promise<LpOutcome | undefined>((resolve) => {
        if (closed) return resolve(undefined);
        lpResolve = resolve;
        worker.postMessage({ type: 'extend', cols: ext.cols, rows: ext.rows, timeLimitSec });
      }),
    mip: (o) =>
      new Promise<SolveOutcome>((resolve) => {
        if (closed) return resolve(best);
        mipResolve = resolve;
        worker.postMessage({ type: 'mip', ...o });
      }),
  };
}
