import { createSourceEventStream, execute, print, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { GraphQLContext } from './context';

/**
 * graphql-js runs every subscription's selection set once per event per subscriber. With a thousand dashboards
 * on the same query that is a thousand identical executions of one small event. This subscribe executes each
 * event once per (document, variables, role) and hands the same result to every subscriber of that shape; the
 * per-subscriber filter still runs first, so nobody receives an event they did not subscribe to.
 */
export function createSharedSubscribe() {
  const results = new WeakMap<object, Map<string, ExecutionResult | Promise<ExecutionResult>>>();
  const documents = new WeakMap<object, string>();

  return async function sharedSubscribe(args: ExecutionArgs): Promise<AsyncIterable<ExecutionResult> | ExecutionResult> {
    const source = await createSourceEventStream(args);
    if (!isAsyncIterable(source)) return source as ExecutionResult;
    let text = documents.get(args.document);
    if (text === undefined) {
      text = print(args.document);
      documents.set(args.document, text);
    }
    const role = (args.contextValue as GraphQLContext | undefined)?.principal?.role ?? 'anonymous';
    const key = `${role}\u0000${args.operationName ?? ''}\u0000${text}\u0000${JSON.stringify(args.variableValues ?? {})}`;
    // execute() answers synchronously for synchronous resolvers (every subscription field): no promise per subscriber.
    const run = (payload: unknown): ExecutionResult | Promise<ExecutionResult> => {
      if (typeof payload !== 'object' || payload === null) return execute({ ...args, rootValue: payload }) as ExecutionResult | Promise<ExecutionResult>;
      let perEvent = results.get(payload);
      if (!perEvent) {
        perEvent = new Map();
        results.set(payload, perEvent);
      }
      let result = perEvent.get(key);
      if (!result) {
        result = execute({ ...args, rootValue: payload }) as ExecutionResult | Promise<ExecutionResult>;
        perEvent.set(key, result);
      }
      return result;
    };
    const it = source[Symbol.asyncIterator]();
    const mapped: AsyncIterableIterator<ExecutionResult> = {
      async next() {
        const step = await it.next();
        if (step.done) return { done: true, value: undefined };
        const result = run(step.value);
        return { done: false, value: result instanceof Promise ? await result : result };
      },
      async return() {
        await it.return?.();
        return { done: true, value: undefined };
      },
      async throw(err?: unknown) {
        if (it.throw) await it.throw(err);
        throw err;
      },
      [Symbol.asyncIterator]() { return this; },
    };
    return mapped;
  };
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}
