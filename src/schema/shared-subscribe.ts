import { createSourceEventStream, execute, print, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { GraphQLContext } from './context';

/**
 * Writes one subscription's result, already serialised (the `payload` of a graphql-ws `next` message), to its
 * socket. Throws when the socket has fallen too far behind: that ends the subscription with the error.
 */
export type FrameSender = (payloadJson: string) => void;

/** A source stream that can hand its events over synchronously (EventBus subscriptions, see `deliverTo` there). */
interface DirectSource<T> extends AsyncIterator<T> {
  deliverTo(sink: (value: T) => void): Promise<void>;
  end(err?: Error): void;
}

const frameSenders = new WeakMap<object, FrameSender>();

/**
 * Marks a subscription (by its context value) as served by direct frames: each event is written to `send` as soon
 * as it is published, instead of going through graphql-ws's per-subscriber promise chain, `onNext` and stringify.
 */
export function deliverFramesTo<C extends object>(contextValue: C, send: FrameSender): C {
  frameSenders.set(contextValue, send);
  return contextValue;
}

/**
 * graphql-js runs every subscription's selection set once per event per subscriber, and graphql-ws serialises each
 * result once per subscriber. With a thousand dashboards on the same query that is a thousand identical executions
 * and serialisations of one small event. This subscribe executes each event once per (document, variables, role)
 * and serialises that result once (`serialize`); a subscription marked with `deliverFramesTo` whose source is an
 * EventBus subscription then gets the pre-serialised payload written to its socket while the bus walks its
 * subscribers. The per-subscriber filter still runs first, at the source, so nobody receives an event they did not
 * subscribe to; anything else goes the ordinary graphql-ws way, with the shared execution.
 */
export function createSharedSubscribe(opts: { serialize?: (result: ExecutionResult) => string } = {}) {
  const serialize = opts.serialize ?? ((result: ExecutionResult) => JSON.stringify(result));
  const results = new WeakMap<object, Map<string, ExecutionResult | Promise<ExecutionResult>>>();
  const serialised = new WeakMap<ExecutionResult, string>();
  const documents = new WeakMap<object, string>();
  const json = (result: ExecutionResult): string => {
    let text = serialised.get(result);
    if (text === undefined) {
      text = serialize(result);
      serialised.set(result, text);
    }
    return text;
  };

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
    const send = typeof args.contextValue === 'object' && args.contextValue !== null ? frameSenders.get(args.contextValue) : undefined;
    const direct = send && isDirectSource(it) ? it : undefined;
    const mapped: AsyncIterableIterator<ExecutionResult> = {
      async next() {
        if (direct) {
          // graphql-ws asks for the first result once it has registered the subscription: from then on every event
          // is written as it is published, and this one call waits until the subscription ends (or fails).
          await direct.deliverTo(directSink(direct, run, json, send!));
          return { done: true, value: undefined };
        }
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

/** Per direct subscriber: executes (shared), serialises (shared) and sends, in publication order. */
function directSink(
  source: DirectSource<unknown>,
  run: (payload: unknown) => ExecutionResult | Promise<ExecutionResult>,
  json: (result: ExecutionResult) => string,
  send: FrameSender,
): (event: unknown) => void {
  // Only a resolver that answers asynchronously needs a chain (none does today); order is kept either way.
  let chain: Promise<void> | undefined;
  return (event) => {
    const result = run(event);
    if (!chain && !(result instanceof Promise)) { send(json(result)); return; }
    chain = (chain ?? Promise.resolve()).then(async () => send(json(await result)))
      .catch((err: unknown) => source.end(err instanceof Error ? err : new Error(String(err))));
  };
}

function isDirectSource(it: AsyncIterator<unknown>): it is DirectSource<unknown> {
  return typeof (it as Partial<DirectSource<unknown>>).deliverTo === 'function' && typeof (it as Partial<DirectSource<unknown>>).end === 'function';
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}
