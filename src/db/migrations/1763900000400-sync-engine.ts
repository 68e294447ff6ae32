import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Sync engine: run history, schedule tick claims, a durable job queue, quarantine, and the outbox feeds.
 *
 * The outbox rows for fulfilment orders, shipments and hub-side cancellations are written by triggers, and stock
 * changes mark `stock_push_dirty` by trigger: the orders and inventory services own those tables, and a trigger is
 * the one way to be sure that every change — from GraphQL, sync or the expiry sweeper — records its external
 * effect in the same transaction (DESIGN §4: every external effect is recorded before it is attempted).
 */
export class SyncEngine1763900000400 implements MigrationInterface {
  name = 'SyncEngine1763900000400';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      -- Hub-side settings of a connection (channel name, location mappings, what it fulfils, stock pushes).
      ALTER TABLE connection ADD COLUMN settings jsonb NOT NULL DEFAULT '{}';
      -- The vendor's updated_at of the version last landed: older deliveries are stale and skipped.
      ALTER TABLE external_ref ADD COLUMN source_updated_at timestamptz;
      -- Canonical events parsed from a verified delivery (the raw body stays in body).
      ALTER TABLE webhook_receipt ADD COLUMN events jsonb;
      ALTER TABLE webhook_receipt DROP CONSTRAINT webhook_receipt_status_check;
      ALTER TABLE webhook_receipt ADD CONSTRAINT webhook_receipt_status_check
        CHECK (status IN ('RECEIVED','PROCESSED','FAILED','DEAD','QUARANTINED'));
      CREATE INDEX webhook_receipt_dead_idx ON webhook_receipt (received_at DESC) WHERE status IN ('DEAD','QUARANTINED');
      ALTER TABLE outbox_event ADD COLUMN locked_until timestamptz;

      CREATE TABLE sync_run (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        connection_id uuid NOT NULL REFERENCES connection(id),
        stream text NOT NULL,
        trigger text NOT NULL CHECK (trigger IN ('SCHEDULE','MANUAL','CLI')),
        status text NOT NULL DEFAULT 'RUNNING' CHECK (status IN ('RUNNING','SUCCEEDED','FAILED','ABORTED')),
        since timestamptz,
        holder text NOT NULL,
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        pages integer NOT NULL DEFAULT 0,
        created integer NOT NULL DEFAULT 0,
        updated integer NOT NULL DEFAULT 0,
        skipped integer NOT NULL DEFAULT 0,
        failed integer NOT NULL DEFAULT 0,
        errors jsonb NOT NULL DEFAULT '[]'
      );
      CREATE INDEX sync_run_connection_idx ON sync_run (connection_id, started_at DESC);
      -- At most one live run per (connection, stream), whatever the number of hub instances.
      CREATE UNIQUE INDEX sync_run_one_running_idx ON sync_run (connection_id, stream) WHERE status = 'RUNNING';

      -- One row per schedule tick: the instance whose INSERT wins runs it.
      CREATE TABLE sync_tick (
        connection_id uuid NOT NULL REFERENCES connection(id),
        stream text NOT NULL,
        tick_at timestamptz NOT NULL,
        claimed_by text NOT NULL,
        claimed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (connection_id, stream, tick_at)
      );

      -- Durable work (webhook processing, scheduled runs, stock coalescing): claimed with FOR UPDATE SKIP LOCKED,
      -- leased, retried with backoff, dead-lettered after max_attempts.
      CREATE TABLE sync_job (
        id bigserial PRIMARY KEY,
        kind text NOT NULL,
        payload jsonb NOT NULL DEFAULT '{}',
        dedupe_key text UNIQUE,
        status text NOT NULL DEFAULT 'QUEUED' CHECK (status IN ('QUEUED','RUNNING','DONE','DEAD')),
        attempts integer NOT NULL DEFAULT 0,
        max_attempts integer NOT NULL DEFAULT 8 CHECK (max_attempts >= 1),
        run_at timestamptz NOT NULL DEFAULT now(),
        locked_by text,
        locked_until timestamptz,
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
      );
      CREATE INDEX sync_job_due_idx ON sync_job (run_at) WHERE status = 'QUEUED';
      CREATE INDEX sync_job_lease_idx ON sync_job (locked_until) WHERE status = 'RUNNING';

      -- Records that could not be mapped or landed: kept whole with the reason, never half-applied.
      CREATE TABLE sync_quarantine (
        id bigserial PRIMARY KEY,
        connection_id uuid NOT NULL REFERENCES connection(id),
        source text NOT NULL CHECK (source IN ('SYNC','WEBHOOK')),
        stream text NOT NULL,
        record_id text,
        reason text NOT NULL,
        payload jsonb,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX sync_quarantine_connection_idx ON sync_quarantine (connection_id, created_at DESC);

      -- What each channel was last told (compare-and-set) and what reconciliation saw there.
      CREATE TABLE channel_stock (
        connection_id uuid NOT NULL REFERENCES connection(id),
        sku text NOT NULL,
        external_location_id text NOT NULL,
        pushed_quantity integer,
        pushed_at timestamptz,
        channel_quantity integer,
        channel_seen_at timestamptz,
        hub_available integer,
        PRIMARY KEY (connection_id, sku, external_location_id)
      );

      -- Stock rows whose ATP may have changed since the last push (coalesced: one row per item, however many changes).
      CREATE TABLE stock_push_dirty (
        product_id uuid NOT NULL,
        location_id uuid NOT NULL,
        marked_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (product_id, location_id)
      );
      CREATE FUNCTION sync_mark_stock_dirty() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' OR NEW.on_hand <> OLD.on_hand OR NEW.reserved <> OLD.reserved OR NEW.safety_stock <> OLD.safety_stock THEN
          INSERT INTO stock_push_dirty (product_id, location_id) VALUES (NEW.product_id, NEW.location_id)
            ON CONFLICT (product_id, location_id) DO NOTHING;
        END IF;
        RETURN NULL;
      END $$;
      CREATE TRIGGER stock_level_mark_dirty AFTER INSERT OR UPDATE ON stock_level
        FOR EACH ROW EXECUTE FUNCTION sync_mark_stock_dirty();

      -- A fulfilment order at a location run by a connected 3PL/ERP/POS is sent there.
      CREATE FUNCTION sync_outbox_fulfillment() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE c record; code text;
      BEGIN
        SELECT l.code INTO code FROM location l WHERE l.id = NEW.location_id;
        FOR c IN SELECT id FROM connection WHERE enabled AND settings->'fulfilsLocations' ? code LOOP
          IF TG_OP = 'INSERT' THEN
            INSERT INTO outbox_event (topic, aggregate_type, aggregate_id, connection_id, payload, idempotency_key)
            VALUES ('fulfillment.create', 'FULFILLMENT_ORDER', NEW.id::text, c.id, jsonb_build_object('fulfillmentOrderId', NEW.id),
                    'fo-create:' || NEW.id || ':' || c.id)
            ON CONFLICT (idempotency_key) DO NOTHING;
          ELSIF NEW.status IN ('CANCELLED','REJECTED') AND OLD.status NOT IN ('CANCELLED','REJECTED')
                AND coalesce(current_setting('switchyard.sync_origin', true), '') <> c.id::text THEN
            INSERT INTO outbox_event (topic, aggregate_type, aggregate_id, connection_id, payload, idempotency_key)
            VALUES ('fulfillment.cancel', 'FULFILLMENT_ORDER', NEW.id::text, c.id, jsonb_build_object('fulfillmentOrderId', NEW.id),
                    'fo-cancel:' || NEW.id || ':' || c.id)
            ON CONFLICT (idempotency_key) DO NOTHING;
          END IF;
        END LOOP;
        RETURN NULL;
      END $$;
      CREATE TRIGGER fulfillment_order_outbox AFTER INSERT OR UPDATE OF status ON fulfillment_order
        FOR EACH ROW EXECUTE FUNCTION sync_outbox_fulfillment();

      -- A shipment goes back to the channel the order came from, with its tracking.
      CREATE FUNCTION sync_outbox_shipment() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE conn uuid;
      BEGIN
        SELECT o.connection_id INTO conn FROM fulfillment_order fo JOIN orders o ON o.id = fo.order_id WHERE fo.id = NEW.fulfillment_order_id;
        IF conn IS NOT NULL AND coalesce(current_setting('switchyard.sync_origin', true), '') <> conn::text THEN
          INSERT INTO outbox_event (topic, aggregate_type, aggregate_id, connection_id, payload, idempotency_key)
          VALUES ('tracking.push', 'SHIPMENT', NEW.id::text, conn, jsonb_build_object('shipmentId', NEW.id), 'tracking:' || NEW.id)
          ON CONFLICT (idempotency_key) DO NOTHING;
        END IF;
        RETURN NULL;
      END $$;
      CREATE TRIGGER shipment_outbox AFTER INSERT ON shipment FOR EACH ROW EXECUTE FUNCTION sync_outbox_shipment();

      -- An order cancelled in the hub is cancelled in its channel (not when the channel itself told us).
      CREATE FUNCTION sync_outbox_order_cancel() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.status = 'CANCELLED' AND OLD.status <> 'CANCELLED' AND NEW.connection_id IS NOT NULL
           AND coalesce(current_setting('switchyard.sync_origin', true), '') <> NEW.connection_id::text THEN
          INSERT INTO outbox_event (topic, aggregate_type, aggregate_id, connection_id, payload, idempotency_key)
          VALUES ('order.cancel', 'ORDER', NEW.id::text, NEW.connection_id, jsonb_build_object('orderId', NEW.id), 'order-cancel:' || NEW.id)
          ON CONFLICT (idempotency_key) DO NOTHING;
        END IF;
        RETURN NULL;
      END $$;
      CREATE TRIGGER orders_cancel_outbox AFTER UPDATE OF status ON orders FOR EACH ROW EXECUTE FUNCTION sync_outbox_order_cancel();
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TRIGGER orders_cancel_outbox ON orders;
      DROP TRIGGER shipment_outbox ON shipment;
      DROP TRIGGER fulfillment_order_outbox ON fulfillment_order;
      DROP TRIGGER stock_level_mark_dirty ON stock_level;
      DROP FUNCTION sync_outbox_order_cancel(), sync_outbox_shipment(), sync_outbox_fulfillment(), sync_mark_stock_dirty();
      DROP TABLE stock_push_dirty, channel_stock, sync_quarantine, sync_job, sync_tick, sync_run;
      ALTER TABLE outbox_event DROP COLUMN locked_until;
      DROP INDEX webhook_receipt_dead_idx;
      ALTER TABLE webhook_receipt DROP CONSTRAINT webhook_receipt_status_check;
      ALTER TABLE webhook_receipt ADD CONSTRAINT webhook_receipt_status_check CHECK (status IN ('RECEIVED','PROCESSED','FAILED','DEAD'));
      ALTER TABLE webhook_receipt DROP COLUMN events;
      ALTER TABLE external_ref DROP COLUMN source_updated_at;
      ALTER TABLE connection DROP COLUMN settings;
    `);
  }
}
