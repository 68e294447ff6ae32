import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An order's ship-to address changed (the channel's edit, or an operator's correction): each of its open SHIP
 * fulfilment orders at a location a connected 3PL/ERP fulfils is sent the new address there (`fulfillment.address`),
 * unless that connection is the one that reported the change. One event per change: the key carries the order's
 * version, so changing the address back is sent too. The dispatcher reads the address when it sends.
 */
export class ShipToOutbox1763900000820 implements MigrationInterface {
  name = 'ShipToOutbox1763900000820';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION sync_outbox_ship_to() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO outbox_event (topic, aggregate_type, aggregate_id, connection_id, payload, idempotency_key)
        SELECT 'fulfillment.address', 'FULFILLMENT_ORDER', fo.id::text, c.id, jsonb_build_object('fulfillmentOrderId', fo.id),
               'fo-address:' || fo.id || ':' || c.id || ':' || NEW.version
          FROM fulfillment_order fo
          JOIN location l ON l.id = fo.location_id
          JOIN connection c ON c.enabled AND c.settings->'fulfilsLocations' ? l.code
         WHERE fo.order_id = NEW.id AND fo.method = 'SHIP' AND fo.status IN ('PENDING', 'ACCEPTED', 'PICKED', 'PACKED')
           AND coalesce(current_setting('switchyard.sync_origin', true), '') <> c.id::text
        ON CONFLICT (idempotency_key) DO NOTHING;
        RETURN NULL;
      END $$;
      CREATE TRIGGER orders_ship_to_outbox AFTER UPDATE OF ship_to ON orders
        FOR EACH ROW WHEN (OLD.ship_to IS DISTINCT FROM NEW.ship_to) EXECUTE FUNCTION sync_outbox_ship_to();
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER orders_ship_to_outbox ON orders; DROP FUNCTION sync_outbox_ship_to();`);
  }
}
