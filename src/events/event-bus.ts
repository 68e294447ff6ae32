import { rows as sql } from '../db/sql';
import { setMaxListeners } from 'node:events';
import { createPubSub } from '@graphql-yoga/subscription';
import { Client } from 'pg';
import type { EntityManager } from 'typeorm';
import type { Logger } from '../logger';
import { TOPIC, type HubEvent } from './hub-events';

export const NOTIFY_CHANNEL = 'switchyard_events';

/**
 * Events travel through Postgres NOTIFY, issued inside the writing transaction: Postgres delivers a
 * notification only when its transaction commits, so no subscriber — in this process or another hub process
 * on the same database — ever sees a change that was rolled back. One LISTEN connection per process feeds
 * the local pub/sub that GraphQL subscriptions read.
 */
export class EventBus {
  // One listener per subscription on a shared EventTarget: thousands are expected, so no leak warning at 10.
  private readonly target = (() => { const t = new EventTarget(); setMaxListeners(0, t); return t; })();
  private readonly local = createPubSub<Record<string, [HubEvent]>>({ eventTarget: this.target as never });
  private readonly subscribers = new Map<string, number>();
  /** What GraphQL subscriptions read; counts live subscribers per topic (for metrics, and for tests to wait on). */
  readonly pubSub = {
    publish: (topic: string, event: HubEvent) => this.local.publish(topic, event),
    subscribe: (topic: string): AsyncIterable<HubEvent> => {
      const source = this.local.subscribe(topic);
      const counts = this.subscribers;
      return {
        [Symbol.asyncIterator]() {
          const it = source[Symbol.asyncIterator]();
          counts.set(topic, (counts.get(topic) ?? 0) + 1);
          let open = true;
          const close = () => {
            if (open) counts.set(topic, (counts.get(topic) ?? 1) - 1);
            open = false;
          };
          return {
            next: () => it.next(),
            return: async (value?: unknown) => {
              close();
              return it.return ? it.return(value) : { done: true as const, value: undefined };
            },
            throw: async (err?: unknown) => {
              close();
              if (it.throw) return it.throw(err);
              throw err;
            },
          };
        },
      };
    },
  };
  private listener?: Client;
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
      if (msg.channel !== NOTIFY_CHANNEL || !msg.payload) return;
      try {
        this.deliver(JSON.parse(msg.payload) as HubEvent);
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
    this.listener = client;
    this.reconnectDelayMs = 250;
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

  subscriberCount(topic: string): number {
    return this.subscribers.get(topic) ?? 0;
  }

  private deliver(event: HubEvent): void {
    this.pubSub.publish(event.type === 'orderUpdated' ? TOPIC.orderUpdated : TOPIC.inventoryChanged, event);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const client = this.listener;
    this.listener = undefined;
    await client?.end().catch(() => undefined);
  }
}
