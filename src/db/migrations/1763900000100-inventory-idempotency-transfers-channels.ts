import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Inventory, second step:
 * - idempotency_key: a generic store of "this request (scope, key) already had its effect, here is the result",
 *   shared by every mutation that takes an idempotency key;
 * - inventory_transfer: stock between locations, in transit until received (TRANSFER_OUT at the source when
 *   shipped, TRANSFER_IN at the destination when received);
 * - channel_allocation / channel_inventory_policy: which locations feed which sales channel, with a per-location
 *   buffer the channel never sees, and a channel-wide safety stock held back from its network total.
 */
export class InventoryIdempotencyTransfersChannels1763900000100 implements MigrationInterface {
  name = 'InventoryIdempotencyTransfersChannels1763900000100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE idempotency_key (
        scope text NOT NULL CHECK (length(scope) BETWEEN 1 AND 200),
        key text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
        request_hash text NOT NULL,
        status text NOT NULL DEFAULT 'IN_FLIGHT' CHECK (status IN ('IN_FLIGHT','DONE')),
        result jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        completed_at timestamptz,
        PRIMARY KEY (scope, key)
      );
      CREATE INDEX idempotency_key_created_idx ON idempotency_key (created_at);

      CREATE TABLE inventory_transfer (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        product_id uuid NOT NULL REFERENCES product(id),
        from_location_id uuid NOT NULL REFERENCES location(id),
        to_location_id uuid NOT NULL REFERENCES location(id),
        quantity integer NOT NULL CHECK (quantity > 0),
        status text NOT NULL DEFAULT 'IN_TRANSIT' CHECK (status IN ('IN_TRANSIT','RECEIVED','CANCELLED')),
        reference text,
        actor text NOT NULL DEFAULT 'system',
        created_at timestamptz NOT NULL DEFAULT now(),
        closed_at timestamptz,
        CHECK (from_location_id <> to_location_id)
      );
      CREATE INDEX inventory_transfer_in_transit_idx ON inventory_transfer (to_location_id, product_id) WHERE status = 'IN_TRANSIT';

      CREATE TABLE channel_allocation (
        channel text NOT NULL CHECK (length(channel) BETWEEN 1 AND 100),
        location_id uuid NOT NULL REFERENCES location(id),
        buffer integer NOT NULL DEFAULT 0 CHECK (buffer >= 0),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (channel, location_id)
      );

      CREATE TABLE channel_inventory_policy (
        channel text PRIMARY KEY CHECK (length(channel) BETWEEN 1 AND 100),
        safety_stock integer NOT NULL DEFAULT 0 CHECK (safety_stock >= 0),
        updated_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE INDEX reservation_reference_idx ON reservation (reference) WHERE status = 'ACTIVE' AND reference IS NOT NULL;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP INDEX reservation_reference_idx;
      DROP TABLE channel_inventory_policy, channel_allocation, inventory_transfer, idempotency_key;
    `);
  }
}
