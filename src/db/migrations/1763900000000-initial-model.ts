import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The canonical model. Invariants live here, not only in services:
 * - stock: 0 <= reserved <= on_hand, safety stock >= 0; the ledger is append-only (trigger) and every movement
 *   records the balance after it, so the ledger can be checked against stock_level at any time;
 * - one canonical row per (connection/channel, external id);
 * - money is numeric, never float; external ids are text (vendor ids exceed 2^53).
 */
export class InitialModel1763900000000 implements MigrationInterface {
  name = 'InitialModel1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE connection (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        kind text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_-]*$'),
        name text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
        config jsonb NOT NULL DEFAULT '{}',
        credentials_ciphertext text,
        schedules jsonb NOT NULL DEFAULT '{}',
        enabled boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE location (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        code text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        type text NOT NULL CHECK (type IN ('WAREHOUSE','STORE','THREE_PL','DROPSHIP_VENDOR','MICRO_HUB')),
        address_line1 text,
        city text,
        region text,
        postal_code text,
        country char(2) NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
        latitude double precision NOT NULL CHECK (latitude BETWEEN -90 AND 90),
        longitude double precision NOT NULL CHECK (longitude BETWEEN -180 AND 180),
        time_zone text NOT NULL DEFAULT 'UTC',
        capabilities text[] NOT NULL DEFAULT '{SHIP}'
          CHECK (capabilities <@ ARRAY['SHIP','PICKUP','CURBSIDE','RETURNS']::text[]),
        active boolean NOT NULL DEFAULT true,
        daily_order_capacity integer CHECK (daily_order_capacity >= 0),
        daily_line_capacity integer CHECK (daily_line_capacity >= 0),
        processing_hours integer NOT NULL DEFAULT 24 CHECK (processing_hours >= 0),
        order_cutoff time NOT NULL DEFAULT '14:00',
        priority integer NOT NULL DEFAULT 10, -- lower is preferred by routing
        ship_base_cost numeric(12,2) NOT NULL DEFAULT 5 CHECK (ship_base_cost >= 0),
        ship_cost_per_km numeric(12,4) NOT NULL DEFAULT 0.01 CHECK (ship_cost_per_km >= 0),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX location_active_type_idx ON location (active, type);

      CREATE TABLE product (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        sku text NOT NULL UNIQUE CHECK (length(sku) BETWEEN 1 AND 100),
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 500),
        barcode text,
        weight_grams integer CHECK (weight_grams >= 0),
        length_mm integer CHECK (length_mm >= 0),
        width_mm integer CHECK (width_mm >= 0),
        height_mm integer CHECK (height_mm >= 0),
        attributes jsonb NOT NULL DEFAULT '{}',
        tags text[] NOT NULL DEFAULT '{}',
        active boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX product_tags_idx ON product USING gin (tags);

      CREATE TABLE stock_level (
        product_id uuid NOT NULL REFERENCES product(id),
        location_id uuid NOT NULL REFERENCES location(id),
        on_hand integer NOT NULL DEFAULT 0,
        reserved integer NOT NULL DEFAULT 0,
        safety_stock integer NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (product_id, location_id),
        CONSTRAINT stock_on_hand_non_negative CHECK (on_hand >= 0),
        CONSTRAINT stock_reserved_within_on_hand CHECK (reserved >= 0 AND reserved <= on_hand),
        CONSTRAINT stock_safety_non_negative CHECK (safety_stock >= 0)
      );
      CREATE INDEX stock_level_location_idx ON stock_level (location_id);

      CREATE TABLE stock_movement (
        id bigserial PRIMARY KEY,
        product_id uuid NOT NULL REFERENCES product(id),
        location_id uuid NOT NULL REFERENCES location(id),
        reason text NOT NULL CHECK (reason IN ('RECEIPT','SALE','DAMAGE','CYCLE_COUNT','RETURN','CORRECTION',
          'TRANSFER_OUT','TRANSFER_IN','RESERVE','RELEASE','EXPIRE','CONSUME')),
        on_hand_delta integer NOT NULL,
        reserved_delta integer NOT NULL DEFAULT 0,
        on_hand_after integer NOT NULL,
        reserved_after integer NOT NULL,
        reference text,
        note text,
        actor text NOT NULL DEFAULT 'system',
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        CHECK (on_hand_delta <> 0 OR reserved_delta <> 0)
      );
      CREATE INDEX stock_movement_item_time_idx ON stock_movement (product_id, location_id, created_at);

      CREATE FUNCTION forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
      END $$;
      CREATE TRIGGER stock_movement_append_only BEFORE UPDATE OR DELETE ON stock_movement
        FOR EACH ROW EXECUTE FUNCTION forbid_change();

      CREATE TABLE orders (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        connection_id uuid REFERENCES connection(id),
        channel text NOT NULL CHECK (length(channel) BETWEEN 1 AND 100),
        external_id text NOT NULL CHECK (length(external_id) BETWEEN 1 AND 200),
        status text NOT NULL DEFAULT 'CREATED' CHECK (status IN ('CREATED','ALLOCATED','BACKORDERED','ON_HOLD',
          'PARTIALLY_SHIPPED','SHIPPED','READY_FOR_PICKUP','DELIVERED','CANCELLED','PARTIALLY_RETURNED','RETURNED')),
        status_before_hold text,
        custom_status text CHECK (length(custom_status) <= 100),
        method text NOT NULL DEFAULT 'SHIP' CHECK (method IN ('SHIP','PICKUP','CURBSIDE')),
        pickup_location_id uuid REFERENCES location(id),
        customer_name text,
        customer_email text,
        customer_phone text,
        ship_to jsonb,
        tags text[] NOT NULL DEFAULT '{}',
        attributes jsonb NOT NULL DEFAULT '{}',
        currency char(3) NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
        total_amount numeric(19,4) NOT NULL DEFAULT 0 CHECK (total_amount >= 0),
        placed_at timestamptz NOT NULL DEFAULT now(),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        version integer NOT NULL DEFAULT 1,
        CONSTRAINT orders_channel_external_id_key UNIQUE (channel, external_id),
        CHECK (method = 'SHIP' OR pickup_location_id IS NOT NULL)
      );
      CREATE INDEX orders_status_idx ON orders (status, placed_at DESC);
      CREATE INDEX orders_placed_idx ON orders (placed_at DESC, id DESC);
      CREATE INDEX orders_tags_idx ON orders USING gin (tags);

      CREATE TABLE order_line (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        order_id uuid NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
        line_no integer NOT NULL CHECK (line_no >= 1),
        product_id uuid NOT NULL REFERENCES product(id),
        sku text NOT NULL,
        quantity integer NOT NULL CHECK (quantity > 0),
        unit_price numeric(19,4) CHECK (unit_price >= 0),
        external_id text,
        UNIQUE (order_id, line_no)
      );

      CREATE TABLE fulfillment_order (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        order_id uuid NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
        location_id uuid NOT NULL REFERENCES location(id),
        method text NOT NULL CHECK (method IN ('SHIP','PICKUP','CURBSIDE')),
        status text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING','ACCEPTED','PICKED','PACKED','SHIPPED',
          'DELIVERED','READY_FOR_PICKUP','PICKED_UP','REJECTED','CANCELLED')),
        status_reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX fulfillment_order_order_idx ON fulfillment_order (order_id);
      CREATE INDEX fulfillment_order_location_status_idx ON fulfillment_order (location_id, status);

      CREATE TABLE fulfillment_order_line (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        fulfillment_order_id uuid NOT NULL REFERENCES fulfillment_order(id) ON DELETE CASCADE,
        order_line_id uuid NOT NULL REFERENCES order_line(id),
        product_id uuid NOT NULL REFERENCES product(id),
        sku text NOT NULL,
        quantity integer NOT NULL CHECK (quantity > 0),
        UNIQUE (fulfillment_order_id, order_line_id)
      );

      CREATE TABLE reservation (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        product_id uuid NOT NULL REFERENCES product(id),
        location_id uuid NOT NULL REFERENCES location(id),
        quantity integer NOT NULL CHECK (quantity > 0),
        status text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE','CONSUMED','RELEASED','EXPIRED')),
        order_id uuid REFERENCES orders(id),
        fulfillment_order_line_id uuid REFERENCES fulfillment_order_line(id),
        reference text,
        expires_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX reservation_active_item_idx ON reservation (product_id, location_id) WHERE status = 'ACTIVE';
      CREATE INDEX reservation_expiry_idx ON reservation (expires_at) WHERE status = 'ACTIVE' AND expires_at IS NOT NULL;
      CREATE INDEX reservation_fo_line_idx ON reservation (fulfillment_order_line_id);

      CREATE TABLE shipment (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        fulfillment_order_id uuid NOT NULL REFERENCES fulfillment_order(id),
        carrier text,
        service text,
        tracking_number text,
        tracking_url text,
        shipped_at timestamptz NOT NULL DEFAULT now(),
        delivered_at timestamptz
      );
      CREATE INDEX shipment_fo_idx ON shipment (fulfillment_order_id);

      CREATE TABLE shipment_line (
        shipment_id uuid NOT NULL REFERENCES shipment(id) ON DELETE CASCADE,
        fulfillment_order_line_id uuid NOT NULL REFERENCES fulfillment_order_line(id),
        quantity integer NOT NULL CHECK (quantity > 0),
        PRIMARY KEY (shipment_id, fulfillment_order_line_id)
      );

      CREATE TABLE returns (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        order_id uuid NOT NULL REFERENCES orders(id),
        status text NOT NULL DEFAULT 'REQUESTED' CHECK (status IN ('REQUESTED','IN_TRANSIT','RECEIVED','COMPLETED','CANCELLED')),
        method text NOT NULL DEFAULT 'MAIL' CHECK (method IN ('MAIL','IN_STORE')),
        location_id uuid REFERENCES location(id),
        reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE return_line (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        return_id uuid NOT NULL REFERENCES returns(id) ON DELETE CASCADE,
        order_line_id uuid NOT NULL REFERENCES order_line(id),
        quantity integer NOT NULL CHECK (quantity > 0),
        reason text,
        condition text CHECK (condition IN ('RESELLABLE','REFURBISH','DAMAGED','DISPOSE'))
      );

      CREATE TABLE order_transition (
        id bigserial PRIMARY KEY,
        order_id uuid NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
        fulfillment_order_id uuid REFERENCES fulfillment_order(id) ON DELETE CASCADE,
        from_status text,
        to_status text NOT NULL,
        actor text NOT NULL,
        reason text,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp()
      );
      CREATE INDEX order_transition_order_idx ON order_transition (order_id, id);

      CREATE TABLE external_ref (
        connection_id uuid NOT NULL REFERENCES connection(id),
        entity_type text NOT NULL CHECK (entity_type IN ('ORDER','ORDER_LINE','PRODUCT','LOCATION','FULFILLMENT_ORDER','SHIPMENT','RETURN')),
        external_id text NOT NULL,
        internal_id uuid NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (connection_id, entity_type, external_id)
      );
      CREATE INDEX external_ref_internal_idx ON external_ref (entity_type, internal_id);

      CREATE TABLE sync_cursor (
        connection_id uuid NOT NULL REFERENCES connection(id),
        stream text NOT NULL,
        cursor jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (connection_id, stream)
      );

      CREATE TABLE outbox_event (
        id bigserial PRIMARY KEY,
        topic text NOT NULL,
        aggregate_type text NOT NULL,
        aggregate_id text NOT NULL,
        connection_id uuid REFERENCES connection(id),
        payload jsonb NOT NULL,
        idempotency_key text NOT NULL UNIQUE,
        status text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING','SENT','DEAD')),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        dispatched_at timestamptz
      );
      CREATE INDEX outbox_pending_idx ON outbox_event (next_attempt_at) WHERE status = 'PENDING';

      CREATE TABLE webhook_receipt (
        id bigserial PRIMARY KEY,
        connection_id uuid NOT NULL REFERENCES connection(id),
        delivery_id text NOT NULL,
        topic text NOT NULL,
        headers jsonb NOT NULL DEFAULT '{}',
        body text NOT NULL,
        status text NOT NULL DEFAULT 'RECEIVED' CHECK (status IN ('RECEIVED','PROCESSED','FAILED','DEAD')),
        attempts integer NOT NULL DEFAULT 0,
        last_error text,
        received_at timestamptz NOT NULL DEFAULT now(),
        processed_at timestamptz,
        UNIQUE (connection_id, delivery_id)
      );
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE webhook_receipt, outbox_event, sync_cursor, external_ref, order_transition, return_line, returns,
        shipment_line, shipment, reservation, fulfillment_order_line, fulfillment_order, order_line, orders,
        stock_movement, stock_level, product, location, connection;
      DROP FUNCTION forbid_change();
    `);
  }
}
