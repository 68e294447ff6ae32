import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface GraphQLResponse<T = any> { data?: T; errors?: { message: string; extensions?: Record<string, any>; path?: string[] }[] }

export async function gql<T = any>(url: string, query: string, variables?: Record<string, unknown>, headers: Record<string, string> = {}): Promise<GraphQLResponse<T> & { status: number }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }) });
  const text = await res.text();
  return { status: res.status, ...(JSON.parse(text) as GraphQLResponse<T>) };
}

export function wsClient(url: string, connectionParams?: Record<string, unknown>): Client {
  return createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams, retryAttempts: 0, lazy: false });
}

/** Subscribes and collects events; `next(n)` waits until n events have arrived. */
export function collect<T = any>(client: Client, query: string, variables?: Record<string, unknown>) {
  const events: T[] = [];
  const errors: unknown[] = [];
  let waiter: (() => void) | undefined;
  const dispose = client.subscribe<T>({ query, variables }, {
    next: (v) => { events.push(v.data as T); waiter?.(); },
    error: (e) => { errors.push(e); waiter?.(); },
    complete: () => undefined,
  });
  return {
    events, errors, dispose,
    async next(n: number, timeoutMs = 30_000): Promise<T[]> {
      const deadline = Date.now() + timeoutMs;
      while (events.length < n && !errors.length) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${n} events, got ${events.length}`);
        await new Promise<void>((r) => { waiter = r; setTimeout(r, 200); });
      }
      if (errors.length) throw new Error(`subscription error: ${JSON.stringify(errors[0])}`);
      return events;
    },
  };
}

/** graphql-ws sends no "subscribed" acknowledgement: wait until the hub counts the new subscriber. */
export async function waitForSubscribers(count: () => number, atLeast: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (count() < atLeast) {
    if (Date.now() > deadline) throw new Error(`no subscriber registered within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
