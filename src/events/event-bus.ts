import { rows as sql } from '../db/sql';
import { Client } from 'pg';
import type { EntityManager } from 'typeorm';
import type { Logger } from '../logger';
import { simpleQuery, sweepOutbox } from './event-outbox';
import { NOTIFY_CHANNEL, TOPIC, type HubEvent } from './hub-events';

export { NOTIFY_CHANNEL };

/** How often each listening process relays events left in the outbox (by a process that died before relaying). */
const SWEEP_INTERVAL_MS = 1000;

/**
 * Events travel through Postgres NOTIFY, which delivers a notification only when its transaction commits, so no
 * subscriber — in this process or another hub process on the same database — ever sees a change that was rolled
 * back. Inventory changes write their events to the outbox in their own transaction and a relay notifies them
 * (event-outbox.ts); `emit` notifies inside the caller's transaction. One LISTEN connection per process feeds the
 * local pub/sub that GraphQL subscriptions read, and also sweeps the outbox every second.
 */
/** Subscribers served per turn of the event loop when one event goes to many (see publish). */
const FANOUT_SLICE = 200;

/** Events a subscriber may have waiting before it is ended as too slow (it re-subscribes and re-reads). */
const MAX_BACKLOG = 10_000;

/**
 * One subscriber's queue: `publish` appends (or hands the event straight to a waiting `next`), `next` takes in order.
 * A plain array with a moving head: pushing and taking are O(1), a slow reader never makes publishing slower.
 */
class SubscriberQueue<T> implements AsyncIterableIterator<T> {
  private buffer: T[] = [];
  private head = 0;
  private waiting?: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void };
  private failure?: Error;
  /** Set by `deliverTo`: takes every accepted event synchronously, in order, instead of the queue. */
  private sink?: (value: T) => void;
  closed = false;

  constructor(readonly accepts: (value: T) => boolean, private readonly onClose: () => void) {}

  push(value: T): void {
    if (this.closed || !this.accepts(value)) return;
    if (this.sink) {
      this.toSink(value);
    } else if (this.waiting) {
      const w = this.waiting;
      this.waiting = undefined;
      w.resolve({ value, done: false });
    } else if (this.buffer.length - this.head >= MAX_BACKLOG) {
      this.fail(new Error(`subscriber fell ${MAX_BACKLOG} events behind; subscribe again`));
    } else {
      this.buffer.push(value);
    }
  }

  next(): Promise<IteratorResult<T>> {
    if (this.head < this.buffer.length) {
      const value = this.buffer[this.head++];
      if (this.head === this.buffer.length) { this.buffer = []; this.head = 0; }
      // A backlog is served one event per turn of the event loop: a socket write can complete synchronously, and a
      // reader draining its whole backlog at once would keep every other socket and database reply waiting.
      return new Promise((resolve) => setImmediate(resolve, { value, done: false }));
    }
    if (this.failure) { const err = this.failure; this.failure = undefined; return Promise.reject(err); }
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => { this.waiting = { resolve, reject }; });
  }

  return(): Promise<IteratorResult<T>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(err?: unknown): Promise<IteratorResult<T>> {
    this.close();
    return Promise.reject(err);
  }

  [Symbol.asyncIterator](): this { return this; }

  /**
   * Direct delivery for a reader that writes each event out at once (the WebSocket fan-out, shared-subscribe.ts):
   * from now on every accepted event goes to `sink` synchronously while the publisher walks its subscribers — no
   * promise, no turn of the event loop per event. Events already queued go first, in order. Resolves when the
   * subscription ends (`return`), rejects with the reason it was ended with (`end(err)`, or `sink` throwing).
   * The reader's own backpressure replaces MAX_BACKLOG: it ends the subscription when its socket falls behind.
   */
  deliverTo(sink: (value: T) => void): Promise<void> {
    if (this.sink || this.waiting) throw new Error('subscriber is already being read');
    if (this.closed) {
      const err = this.failure;
      this.failure = undefined;
      return err ? Promise.reject(err) : Promise.resolve();
    }
    const ended = new Promise<void>((resolve, reject) => { this.waiting = { resolve: () => resolve(), reject }; });
    const backlog = this.buffer.slice(this.head);
    this.buffer = [];
    this.head = 0;
    this.sink = sink;
    for (const value of backlog) if (!this.closed) this.toSink(value);
    return ended;
  }

  /** Ends the subscription: with an error for its reader, or normally. */
  end(err?: Error): void {
    if (err) this.fail(err); else this.close();
  }

  /** A sink that throws ends the subscription with that error (the reader hears it, the publisher carries on). */
  private toSink(value: T): void {
    try {
      this.sink!(value);
    } catch (err) {
      this.end(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private fail(err: Error): void {
    this.buffer = [];
    this.head = 0;
    this.failure = err;
    this.close();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sink = undefined;
    this.onClose();
    const w = this.waiting;
    this.waiting = undefined;
    if (w && this.failure) { const err = this.failure; this.failure = undefined; w.reject(err); } else w?.resolve({ value: undefined, done: true });
  }
}

export class EventBus {
  private readonly topics = new Map<string, Set<SubscriberQueue<HubEvent>>>();
  /** Per topic while a walk over its subscribers is under way: the events published since, delivered next. */
  private readonly waitingEvents = new Map<string, HubEvent[]>();

  /**
   * Subscribes to a topic; `accepts` filters at the source, so an event nobody of the filter wants wakes nobody.
   * Each subscriber gets its own queue (see SubscriberQueue); ending the iteration unsubscribes.
   */
  subscribe(topic: string, accepts: (event: HubEvent) => boolean = () => true): AsyncIterableIterator<HubEvent> {
    let set = this.topics.get(topic);
    if (!set) { set = new Set(); this.topics.set(topic, set); }
    const subscribers = set;
    const queue: SubscriberQueue<HubEvent> = new SubscriberQueue(accepts, () => subscribers.delete(queue));
    subscribers.add(queue);
    return queue;
  }

  /** What type-graphql's topic subscriptions (and tests) read: subscribing happens when iteration starts. */
  readonly pubSub = {
    publish: (topic: string, event: HubEvent) => this.publish(topic, event),
    subscribe: (topic: string): AsyncIterable<HubEvent> => ({ [Symbol.asyncIterator]: () => this.subscribe(topic) }),
  };

  /**
   * Hands the event to every subscriber of the topic. Each hand-off runs that subscriber's delivery (execution result,
   * socket write) before the event loop turns again, so a big audience is served in slices, one per turn: database
   * replies and other sockets get their turn in between. Events published meanwhile wait and then go out together
   * (batched per walk over the subscribers), so every subscriber still receives events in publication order.
   */
  private publish(topic: string, event: HubEvent): void {
    const waiting = this.waitingEvents.get(topic);
    if (waiting) { waiting.push(event); return; }
    this.waitingEvents.set(topic, []);
    this.walk(topic, [event]);
  }

  private walk(topic: string, events: HubEvent[]): void {
    const list = [...(this.topics.get(topic) ?? [])];
    let i = 0;
    const slice = () => {
      for (const end = Math.min(i + FANOUT_SLICE, list.length); i < end; i++) for (const e of events) list[i].push(e);
      if (i < list.length) { setImmediate(slice); return; }
      const next = this.waitingEvents.get(topic)!;
      if (next.length) { this.waitingEvents.set(topic, []); setImmediate(() => this.walk(topic, next)); } else this.waitingEvents.delete(topic);
    };
    slice();
  }

  private listener?: Client;
  private sweepTimer?: NodeJS.Timeout;
  private sweeping?: Promise<void>;
  private stopped = false;
  private reconnectDelayMs = 250;

  constructor(private readonly url: string, private readonly log: Logger) {}

  /** Queue an event in the current transaction; it is delivered if and when that transaction commits. */
  static async emit(em: EntityManager, event: HubEvent): Promise<void> {
    await sql(em, 'SELECT pg_notify($1, $2)', [NOTIFY_CHANNEL, JSON.stringify(event)]);
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.connect();
  }

  private async connect(): Promise<void> {
    const client = new Client({ connectionString: this.url, application_name: 'switchyard-listener' });
    client.on('notification', (msg) => {
      if (msg.channel !== NOTIFY_CHANNEL) {
        for (const fn of this.wakers.get(msg.channel) ?? []) fn();
        return;
      }
      if (!msg.payload) return;
      try {
        const parsed = JSON.parse(msg.payload) as HubEvent | HubEvent[];
        if (Array.isArray(parsed)) for (const event of parsed) this.deliver(event);
        else this.deliver(parsed);
      } catch (err) {
        this.log.error({ err }, 'dropping malformed hub event');
      }
    });
    client.on('error', (err) => {
      this.log.warn({ err }, 'event listener connection lost; reconnecting');
      this.scheduleReconnect(client);
    });
    client.on('end', () => this.scheduleReconnect(client));
    await client.connect();
    await client.query(`LISTEN ${NOTIFY_CHANNEL}`);
    for (const channel of this.wakers.keys()) await client.query(`LISTEN ${channel}`);
    this.listener = client;
    this.reconnectDelayMs = 250;
    this.scheduleSweep(0);
    // What was announced while the connection was down went unheard: every waker looks once.
    for (const fns of this.wakers.values()) for (const fn of fns) fn();
  }

  private readonly wakers = new Map<string, (() => void)[]>();

  /**
   * Calls `fn` on every notification on `channel` (a plain identifier; the payload is ignored), and once after each
   * (re)connection. For workers that would otherwise wait for their next poll: the job queue (JOBS_CHANNEL) and the
   * outbox dispatcher (OUTBOX_CHANNEL).
   */
  async onNotify(channel: string, fn: () => void): Promise<void> {
    if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`not a channel name: ${channel}`);
    const listening = this.wakers.has(channel);
    this.wakers.set(channel, [...this.wakers.get(channel) ?? [], fn]);
    if (!listening && this.listener) await this.listener.query(`LISTEN ${channel}`);
  }

  /** Relays outbox rows nobody relayed (their writer died after commit), on the LISTEN connection. */
  private scheduleSweep(delay: number): void {
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    this.sweepTimer = setTimeout(() => {
      const client = this.listener;
      if (this.stopped || !client) return;
      this.sweeping = sweepOutbox(simpleQuery(client))
        .then(() => undefined, (err) => { if (!this.stopped) this.log.warn({ err }, 'event outbox sweep failed; will retry'); })
        .finally(() => { this.sweeping = undefined; if (this.listener === client) this.scheduleSweep(SWEEP_INTERVAL_MS); });
    }, delay);
    this.sweepTimer.unref();
  }

  private scheduleReconnect(client: Client): void {
    if (this.stopped || this.listener !== client) return;
    this.listener = undefined;
    const delay = this.reconnectDelayMs;
    this.reconnectDelayMs = Math.min(delay * 2, 10000);
    setTimeout(() => {
      if (!this.stopped) this.connect().catch((err) => {
        this.log.warn({ err }, 'event listener reconnect failed');
        this.listener = client; // let scheduleReconnect run again for this attempt
        this.scheduleReconnect(client);
      });
    }, delay).unref();
  }

  /** Live subscribers of a topic (metrics; tests wait on it). */
  subscriberCount(topic: string): number {
    return this.topics.get(topic)?.size ?? 0;
  }

  private deliver(event: HubEvent): void {
    this.pubSub.publish(event.type === 'orderUpdated' ? TOPIC.orderUpdated : TOPIC.inventoryChanged, event);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    await this.sweeping;
    const client = this.listener;
    this.listener = undefined;
    await client?.end().catch(() => undefined);
  }
}
