import { Worker } from 'node:worker_threads';
import type { MipModel } from './optimize.mip';

/**
 * The worker body is plain JavaScript evaluated in the worker (`eval: true`), so it runs the same under ts-jest,
 * from `dist/`, and from the CLI without a separate build step for a worker file. It loads HiGHS (WebAssembly,
 * single-threaded), solves, and streams every improving incumbent so the parent still has the best plan found if it
 * has to terminate the worker on the hard time limit.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const loadHighs = require(workerData.highsPath);
(async () => {
  let model;
  try {
    const highs = await loadHighs();
    parentPort.postMessage({ type: 'loaded' });
    model = highs.createModel(workerData.model);
    model.options.set({ output_flag: false, time_limit: workerData.timeLimitSec, mip_rel_gap: workerData.mipRelGap });
    if (workerData.start) { try { model.setSolution({ colValue: workerData.start }); } catch (e) { /* a bad start only loses the warm start */ } }
    const cb = highs.constants.callbackType;
    model.run({
      [cb.mipImprovingSolution](event) {
        const d = event.data;
        if (d.mip_solution) parentPort.postMessage({ type: 'incumbent', objective: d.objective_function_value, bound: d.mip_dual_bound, colValue: d.mip_solution });
      },
    });
    const info = (k) => { try { return model.info.get(k); } catch (e) { return undefined; } };
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

export interface SolveOptions {
  /** HiGHS's own time limit (seconds). */
  timeLimitSec: number;
  /** Wall-clock limit after which the worker is terminated whatever it is doing. */
  hardLimitMs: number;
  mipRelGap?: number;
  start?: Float64Array;
}

/** Solves `model` with HiGHS in a worker thread; never rejects. */
export function solveInWorker(model: MipModel, opts: SolveOptions): Promise<SolveOutcome> {
  return new Promise((resolve) => {
    let best: SolveOutcome = { ended: 'killed' };
    let settled = false;
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        highsPath: require.resolve('highs'),
        model,
        timeLimitSec: Math.max(0.001, opts.timeLimitSec),
        mipRelGap: opts.mipRelGap ?? 1e-6,
        start: opts.start,
      },
      resourceLimits: { maxOldGenerationSizeMb: 1024 },
    });
    const finish = (o: SolveOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      resolve(o);
    };
    const timer = setTimeout(() => finish(best), opts.hardLimitMs);
    worker.on('message', (m: { type: string; status?: number; objective?: number; bound?: number; colValue?: Float64Array; message?: string }) => {
      if (m.type === 'incumbent') best = { ended: 'killed', objective: m.objective, bound: m.bound, colValue: m.colValue };
      else if (m.type === 'done')
        finish({ ended: 'done', status: m.status, objective: m.objective ?? best.objective, bound: m.bound, colValue: m.colValue ?? best.colValue });
      else if (m.type === 'error') finish({ ...best, ended: 'error', error: m.message });
    });
    worker.on('error', (e) => finish({ ...best, ended: 'error', error: String(e) }));
    worker.on('exit', () => finish({ ...best, ended: best.colValue ? 'killed' : 'error', error: 'worker exited' }));
  });
}
