import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each location's capacity use per local day (live fulfilment orders and their lines), kept as it changes instead of
 * counted for every routing snapshot. The count grew with the day's intake — 14 ms per snapshot after 6,000
 * orders, every order and every sync page paying it — and would reach hundreds of ms on a busy day.
 *
 * Kept by statement-level triggers on fulfilment orders (created; status, location or creation time changed) and
 * their lines (created), so every writer keeps it right, in its own transaction. Each database session adds to its
 * own row of (location, day): no two transactions ever update the same row, so the counters add no lock and no
 * lock-order hazard to the order writers (which lock stock rows in a fixed order). Readers sum a day's rows.
 * A fulfilment order counts on the day it was created at its location, until it is rejected or cancelled. Rows of
 * past days are history; a day is read by (location, day), a few rows per database session that wrote that day.
 */
export class LocationDayUse1763900000770 implements MigrationInterface {
  name = 'LocationDayUse1763900000770';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE location_day_use (
        location_id uuid NOT NULL REFERENCES location(id),
        day date NOT NULL,
        backend integer NOT NULL,
        orders integer NOT NULL,
        lines integer NOT NULL,
        PRIMARY KEY (location_id, day, backend)
      );

      CREATE FUNCTION location_day_use_fo_created() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO location_day_use AS u (location_id, day, backend, orders, lines)
        SELECT n.location_id, (n.created_at AT TIME ZONE l.time_zone)::date, pg_backend_pid(), count(*), 0
          FROM new_fulfillment_orders n JOIN location l ON l.id = n.location_id
         WHERE n.status NOT IN ('REJECTED', 'CANCELLED')
         GROUP BY 1, 2
        ON CONFLICT (location_id, day, backend) DO UPDATE SET orders = u.orders + EXCLUDED.orders;
        RETURN NULL;
      END $$;
      CREATE TRIGGER fulfillment_order_day_use_created AFTER INSERT ON fulfillment_order REFERENCING NEW TABLE AS new_fulfillment_orders
        FOR EACH STATEMENT EXECUTE FUNCTION location_day_use_fo_created();

      CREATE FUNCTION location_day_use_fo_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO location_day_use AS u (location_id, day, backend, orders, lines)
        SELECT d.location_id, (d.created_at AT TIME ZONE l.time_zone)::date, pg_backend_pid(), sum(d.sign),
               sum(d.sign * (SELECT count(*) FROM fulfillment_order_line fol WHERE fol.fulfillment_order_id = d.id))
          FROM (
            SELECT x.id, x.location_id, x.created_at, x.sign
              FROM old_fulfillment_orders o JOIN new_fulfillment_orders n ON n.id = o.id
              CROSS JOIN LATERAL (VALUES (o.id, o.location_id, o.created_at, o.status, -1), (n.id, n.location_id, n.created_at, n.status, 1))
                AS x(id, location_id, created_at, status, sign)
             WHERE x.status NOT IN ('REJECTED', 'CANCELLED')
               AND ((o.status IN ('REJECTED', 'CANCELLED')) <> (n.status IN ('REJECTED', 'CANCELLED'))
                    OR o.location_id <> n.location_id OR o.created_at <> n.created_at)
          ) d JOIN location l ON l.id = d.location_id
         GROUP BY 1, 2
        ON CONFLICT (location_id, day, backend) DO UPDATE SET orders = u.orders + EXCLUDED.orders, lines = u.lines + EXCLUDED.lines;
        RETURN NULL;
      END $$;
      CREATE TRIGGER fulfillment_order_day_use_changed AFTER UPDATE ON fulfillment_order
        REFERENCING OLD TABLE AS old_fulfillment_orders NEW TABLE AS new_fulfillment_orders
        FOR EACH STATEMENT EXECUTE FUNCTION location_day_use_fo_changed();

      CREATE FUNCTION location_day_use_lines_created() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO location_day_use AS u (location_id, day, backend, orders, lines)
        SELECT fo.location_id, (fo.created_at AT TIME ZONE l.time_zone)::date, pg_backend_pid(), 0, count(*)
          FROM new_fulfillment_order_lines nl JOIN fulfillment_order fo ON fo.id = nl.fulfillment_order_id JOIN location l ON l.id = fo.location_id
         WHERE fo.status NOT IN ('REJECTED', 'CANCELLED')
         GROUP BY 1, 2
        ON CONFLICT (location_id, day, backend) DO UPDATE SET lines = u.lines + EXCLUDED.lines;
        RETURN NULL;
      END $$;
      CREATE TRIGGER fulfillment_order_line_day_use AFTER INSERT ON fulfillment_order_line REFERENCING NEW TABLE AS new_fulfillment_order_lines
        FOR EACH STATEMENT EXECUTE FUNCTION location_day_use_lines_created();

      INSERT INTO location_day_use (location_id, day, backend, orders, lines)
      SELECT fo.location_id, (fo.created_at AT TIME ZONE l.time_zone)::date, 0, count(*),
             sum((SELECT count(*) FROM fulfillment_order_line fol WHERE fol.fulfillment_order_id = fo.id))
        FROM fulfillment_order fo JOIN location l ON l.id = fo.location_id
       WHERE fo.status NOT IN ('REJECTED', 'CANCELLED')
       GROUP BY 1, 2;

      -- Only the count read today's fulfilment orders by (location, created_at).
      DROP INDEX fulfillment_order_location_created_idx;
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE INDEX fulfillment_order_location_created_idx ON fulfillment_order (location_id, created_at) INCLUDE (status);
      DROP TRIGGER fulfillment_order_line_day_use ON fulfillment_order_line;
      DROP TRIGGER fulfillment_order_day_use_changed ON fulfillment_order;
      DROP TRIGGER fulfillment_order_day_use_created ON fulfillment_order;
      DROP FUNCTION location_day_use_lines_created();
      DROP FUNCTION location_day_use_fo_changed();
      DROP FUNCTION location_day_use_fo_created();
      DROP TABLE location_day_use;
    `);
  }
}
