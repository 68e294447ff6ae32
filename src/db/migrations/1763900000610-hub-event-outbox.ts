import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * hub_event_outbox: live events (GraphQL subscriptions) written in the same transaction as the change they
 * describe, then relayed to LISTEN/NOTIFY by src/events/event-outbox.ts. A crash between commit and relay leaves
 * the row behind for the next relay (any hub process), so a committed change is never without its event, and a
 * rolled-back one never has one. `events` is a JSON array of HubEvent (one row per writing statement).
 */
export class HubEventOutbox1763900000610 implements MigrationInterface {
  name = 'HubEventOutbox1763900000610';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE hub_event_outbox (
        id bigserial PRIMARY KEY,
        events json NOT NULL CHECK (json_typeof(events) = 'array'),
        created_at timestamptz NOT NULL DEFAULT now()
      );
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE hub_event_outbox`);
  }
}
