import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An order's ship-to address changed (the channel's edit, or an operator's correction):
 * - each of its open SHIP fulfilment orders at a location a connected 3PL/ERP fulfils is sent the new address there
 *   (`fulfillment.address`), unless that connection is the one that reported the change;
 * - a change the channel did not make goes back to the channel (`order.address`).
 * One event per change: the keys carry the order's version, so changing it back is sent too. The dispatcher reads the
 * address when it sends.
 * `orders.channel_ship_to`: the address the order's channel still shows after a change it did not make (null: the
 * same as `ship_to`). Its next update of the order, carrying that address, is then not taken for the customer's
 * change, which would undo the correction.
 */
export class ShipToOutbox1763900000820 implements MigrationInterface {
  name = 'ShipToOutbox1763900000820';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE orders ADD COLUMN channel_ship_to jsonb;

      CREATE FUNCTION sync_outbox_ship_to() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE origin text := coalesce(current_setting('switchyard.sync_origin', true), '');
      BEGIN
        INSERT INTO outbox_event (topic, aggregate_type, aggregate_id, connection_id, payload, idempotency_key)
        SELECT 'fulfillment.address', 'FULFILLMENT_ORDER', fo.id::text, c.id, jsonb_build_object('fulfillmentOrderId', fo.id),
               'fo-address:' || fo.id || ':' || c.id || ':' || NEW.version
          FROM fulfillment_order fo
          JOIN location l ON l.id = fo.location_id
          JOIN connection c ON c.enabled AND c.settings->'fulfilsLocations' ? l.code
         WHERE fo.order_id = NEW.id AND fo.method = 'SHIP' AND fo.status IN ('PENDING', 'ACCEPTED', 'PICKED', 'PACKED')
           AND origin <> c.id::text
        ON CONFLICT (idempotency_key) DO NOTHING;
        IF NEW.connection_id IS NOT NULL AND origin <> NEW.connection_id::text THEN
          INSERT INTO outbox_event (topic, aggregate_type, aggregate_id, connection_id, payload, idempotency_key)
          VALUES ('order.address', 'ORDER', NEW.id::text, NEW.connection_id, jsonb_build_object('orderId', NEW.id),
                  'order-address:' || NEW.id || ':' || NEW.version)
          ON CONFLICT (idempotency_key) DO NOTHING;
        END IF;
        RETURN NULL;
      END $$;
      CREATE TRIGGER orders_ship_to_outbox AFTER UPDATE OF ship_to ON orders
        FOR EACH ROW WHEN (OLD.ship_to IS DISTINCT FROM NEW.ship_to) EXECUTE FUNCTION sync_outbox_ship_to();
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER orders_ship_to_outbox ON orders; DROP FUNCTION sync_outbox_ship_to(); ALTER TABLE orders DROP COLUMN channel_ship_to;`);
  }
}
