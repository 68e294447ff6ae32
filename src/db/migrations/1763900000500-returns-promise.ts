import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Delivery promise and returns.
 * - Carriers as data: service levels with transit days and prices per distance band, pickup cut-off, emissions
 *   factor; a holiday calendar per country. A default set is seeded and editable through GraphQL.
 * - delivery_promise: what the customer was told; the actual date is filled in by a trigger when the order is
 *   delivered, so the accuracy report never depends on a caller remembering to record it.
 * - Returns can never exceed what was shipped: order_line.shipped_quantity is maintained by a trigger when a
 *   fulfilment order ships or is picked up, order_line.returned_quantity by the return service with a conditional
 *   UPDATE, and a CHECK keeps returned <= shipped <= ordered whatever the code does.
 */
export class ReturnsPromise1763900000500 implements MigrationInterface {
  name = 'ReturnsPromise1763900000500';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE carrier_service (
        code text PRIMARY KEY CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
        carrier text NOT NULL CHECK (length(carrier) BETWEEN 1 AND 100),
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        service_level text NOT NULL CHECK (service_level IN ('SAME_DAY','OVERNIGHT','EXPRESS','STANDARD','ECONOMY')),
        pickup_cutoff time NOT NULL DEFAULT '17:00',
        saturday_delivery boolean NOT NULL DEFAULT false,
        transit jsonb NOT NULL CHECK (jsonb_typeof(transit) = 'array'),
        rates jsonb NOT NULL CHECK (jsonb_typeof(rates) = 'array'),
        co2_kg_per_tonne_km numeric(10,4) NOT NULL DEFAULT 0 CHECK (co2_kg_per_tonne_km >= 0),
        currency char(3) NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
        active boolean NOT NULL DEFAULT true,
        updated_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE holiday (
        country char(2) NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
        date date NOT NULL,
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        PRIMARY KEY (country, date)
      );

      CREATE TABLE delivery_promise (
        order_id uuid PRIMARY KEY REFERENCES orders(id) ON DELETE CASCADE,
        method text NOT NULL CHECK (method IN ('SHIP','PICKUP','CURBSIDE')),
        service_level text,
        carrier_service_code text,
        earliest_delivery date NOT NULL,
        latest_delivery date NOT NULL,
        time_zone text NOT NULL DEFAULT 'UTC',
        promised_at timestamptz NOT NULL DEFAULT now(),
        actor text NOT NULL,
        delivered_at timestamptz,
        delivered_date date,
        kept boolean,
        CHECK (latest_delivery >= earliest_delivery)
      );
      CREATE INDEX delivery_promise_delivered_idx ON delivery_promise (delivered_date) WHERE delivered_date IS NOT NULL;

      -- The actual delivery day, in the promise's time zone, the moment the order is delivered.
      CREATE FUNCTION delivery_promise_record_actual() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.status = 'DELIVERED' AND OLD.status <> 'DELIVERED' THEN
          UPDATE delivery_promise p
             SET delivered_at = now(), delivered_date = (now() AT TIME ZONE p.time_zone)::date,
                 kept = (now() AT TIME ZONE p.time_zone)::date <= p.latest_delivery
           WHERE p.order_id = NEW.id AND p.delivered_at IS NULL;
        END IF;
        RETURN NULL;
      END $$;
      CREATE TRIGGER orders_delivery_promise AFTER UPDATE OF status ON orders FOR EACH ROW EXECUTE FUNCTION delivery_promise_record_actual();

      ALTER TABLE order_line
        ADD COLUMN shipped_quantity integer NOT NULL DEFAULT 0,
        ADD COLUMN returned_quantity integer NOT NULL DEFAULT 0,
        ADD CONSTRAINT order_line_shipped_within_ordered CHECK (shipped_quantity >= 0 AND shipped_quantity <= quantity),
        ADD CONSTRAINT order_line_returned_within_shipped CHECK (returned_quantity >= 0 AND returned_quantity <= shipped_quantity);
      UPDATE order_line ol SET shipped_quantity = s.qty
        FROM (SELECT fol.order_line_id, sum(fol.quantity)::int AS qty FROM fulfillment_order_line fol
                JOIN fulfillment_order fo ON fo.id = fol.fulfillment_order_id
               WHERE fo.status IN ('SHIPPED','DELIVERED','PICKED_UP') GROUP BY 1) s
       WHERE ol.id = s.order_line_id;

      -- Goods leave the hub's hands when a fulfilment order ships or is picked up (SHIPPED → DELIVERED adds nothing).
      CREATE FUNCTION order_line_count_shipped() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.status IN ('SHIPPED','PICKED_UP') AND OLD.status NOT IN ('SHIPPED','DELIVERED','PICKED_UP') THEN
          UPDATE order_line ol SET shipped_quantity = ol.shipped_quantity + fol.quantity
            FROM fulfillment_order_line fol WHERE fol.fulfillment_order_id = NEW.id AND ol.id = fol.order_line_id;
        END IF;
        RETURN NULL;
      END $$;
      CREATE TRIGGER fulfillment_order_count_shipped AFTER UPDATE OF status ON fulfillment_order
        FOR EACH ROW EXECUTE FUNCTION order_line_count_shipped();

      ALTER TABLE location ADD COLUMN return_capacity integer CHECK (return_capacity >= 0);

      ALTER TABLE returns
        ADD COLUMN rma text UNIQUE,
        ADD COLUMN routing jsonb,
        ADD COLUMN exchange_order_id uuid REFERENCES orders(id),
        ADD COLUMN currency char(3) NOT NULL DEFAULT 'USD',
        ADD COLUMN refund_amount numeric(19,4) CHECK (refund_amount >= 0),
        ADD COLUMN refunded_at timestamptz,
        ADD COLUMN received_at timestamptz,
        ADD COLUMN completed_at timestamptz,
        ADD COLUMN actor text NOT NULL DEFAULT 'system';
      CREATE INDEX returns_order_idx ON returns (order_id);
      CREATE INDEX returns_open_location_idx ON returns (location_id) WHERE status IN ('REQUESTED','IN_TRANSIT','RECEIVED');

      ALTER TABLE return_line
        ADD COLUMN line_no integer NOT NULL DEFAULT 1,
        ADD COLUMN product_id uuid REFERENCES product(id),
        ADD COLUMN sku text,
        ADD COLUMN unit_price numeric(19,4),
        ADD COLUMN exchange_sku text,
        ADD COLUMN received_quantity integer NOT NULL DEFAULT 0,
        ADD CONSTRAINT return_line_received_within_quantity CHECK (received_quantity >= 0 AND received_quantity <= quantity);
      CREATE INDEX return_line_return_idx ON return_line (return_id);

      -- One row per grading decision (units of one line in one condition at one location).
      CREATE TABLE return_unit (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        return_id uuid NOT NULL REFERENCES returns(id) ON DELETE CASCADE,
        return_line_id uuid NOT NULL REFERENCES return_line(id) ON DELETE CASCADE,
        location_id uuid NOT NULL REFERENCES location(id),
        condition text NOT NULL CHECK (condition IN ('RESELLABLE','REFURBISH','DAMAGED','DISPOSE')),
        quantity integer NOT NULL CHECK (quantity > 0),
        received_at timestamptz NOT NULL DEFAULT now(),
        actor text NOT NULL,
        -- RESELLABLE units are put back into stock through the inventory service after commit; NULL until done.
        restocked_at timestamptz
      );
      CREATE INDEX return_unit_return_idx ON return_unit (return_id);
      CREATE INDEX return_unit_restock_idx ON return_unit (received_at) WHERE condition = 'RESELLABLE' AND restocked_at IS NULL;
      CREATE INDEX return_unit_location_idx ON return_unit (location_id, condition);
    `);

    await q.query(`
      INSERT INTO carrier_service (code, carrier, name, service_level, pickup_cutoff, saturday_delivery, transit, rates, co2_kg_per_tonne_km) VALUES
      ('COURIER-SAME-DAY', 'Local Courier', 'Same-day courier', 'SAME_DAY', '12:00', true,
        '[{"maxKm":60,"minDays":0,"maxDays":0}]',
        '[{"maxKm":60,"maxWeightKg":10,"price":14.99},{"maxKm":60,"maxWeightKg":25,"price":24.99}]', 0.9),
      ('PARCEL-OVERNIGHT', 'Switchyard Parcel', 'Overnight', 'OVERNIGHT', '16:00', false,
        '[{"maxKm":6000,"minDays":1,"maxDays":1}]',
        '[{"maxKm":1000,"maxWeightKg":5,"price":24.99},{"maxKm":1000,"maxWeightKg":30,"price":49.99},{"maxKm":6000,"maxWeightKg":5,"price":34.99},{"maxKm":6000,"maxWeightKg":30,"price":69.99}]', 1.5),
      ('PARCEL-EXPRESS', 'Switchyard Parcel', '2-day express', 'EXPRESS', '17:00', false,
        '[{"maxKm":1000,"minDays":1,"maxDays":2},{"maxKm":6000,"minDays":2,"maxDays":2}]',
        '[{"maxKm":1000,"maxWeightKg":5,"price":12.99},{"maxKm":1000,"maxWeightKg":30,"price":24.99},{"maxKm":6000,"maxWeightKg":5,"price":17.99},{"maxKm":6000,"maxWeightKg":30,"price":34.99}]', 0.8),
      ('PARCEL-GROUND', 'Switchyard Parcel', 'Ground', 'STANDARD', '17:00', false,
        '[{"maxKm":300,"minDays":1,"maxDays":2},{"maxKm":1000,"minDays":2,"maxDays":3},{"maxKm":2500,"minDays":3,"maxDays":5},{"maxKm":6000,"minDays":4,"maxDays":6}]',
        '[{"maxKm":300,"maxWeightKg":1,"price":6.99},{"maxKm":300,"maxWeightKg":5,"price":8.99},{"maxKm":300,"maxWeightKg":30,"price":14.99},{"maxKm":1000,"maxWeightKg":1,"price":7.99},{"maxKm":1000,"maxWeightKg":5,"price":10.99},{"maxKm":1000,"maxWeightKg":30,"price":19.99},{"maxKm":2500,"maxWeightKg":1,"price":8.99},{"maxKm":2500,"maxWeightKg":5,"price":12.99},{"maxKm":2500,"maxWeightKg":30,"price":24.99},{"maxKm":6000,"maxWeightKg":1,"price":9.99},{"maxKm":6000,"maxWeightKg":5,"price":14.99},{"maxKm":6000,"maxWeightKg":30,"price":29.99}]', 0.2);

      INSERT INTO holiday (country, date, name) VALUES
      ('US','2025-01-01','New Year''s Day'), ('US','2025-05-26','Memorial Day'), ('US','2025-07-04','Independence Day'),
      ('US','2025-09-01','Labor Day'), ('US','2025-11-27','Thanksgiving Day'), ('US','2025-12-25','Christmas Day'),
      ('US','2026-01-01','New Year''s Day'), ('US','2026-05-25','Memorial Day'), ('US','2026-07-03','Independence Day (observed)'),
      ('US','2026-09-07','Labor Day'), ('US','2026-11-26','Thanksgiving Day'), ('US','2026-12-25','Christmas Day'),
      ('US','2027-01-01','New Year''s Day'), ('US','2027-05-31','Memorial Day'), ('US','2027-07-05','Independence Day (observed)'),
      ('US','2027-09-06','Labor Day'), ('US','2027-11-25','Thanksgiving Day'), ('US','2027-12-24','Christmas Day (observed)');
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE return_unit;
      ALTER TABLE return_line DROP COLUMN line_no, DROP COLUMN product_id, DROP COLUMN sku, DROP COLUMN unit_price,
        DROP COLUMN exchange_sku, DROP COLUMN received_quantity;
      DROP INDEX returns_order_idx; DROP INDEX returns_open_location_idx;
      ALTER TABLE returns DROP COLUMN rma, DROP COLUMN routing, DROP COLUMN exchange_order_id, DROP COLUMN currency,
        DROP COLUMN refund_amount, DROP COLUMN refunded_at, DROP COLUMN received_at, DROP COLUMN completed_at, DROP COLUMN actor;
      ALTER TABLE location DROP COLUMN return_capacity;
      DROP TRIGGER fulfillment_order_count_shipped ON fulfillment_order;
      DROP FUNCTION order_line_count_shipped();
      ALTER TABLE order_line DROP COLUMN shipped_quantity, DROP COLUMN returned_quantity;
      DROP TRIGGER orders_delivery_promise ON orders;
      DROP FUNCTION delivery_promise_record_actual();
      DROP TABLE delivery_promise, holiday, carrier_service;
    `);
  }
}
