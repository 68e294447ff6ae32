import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every new order, whatever path created it (sync page intake, a webhook, a POS sale, GraphQL `placeOrder`), gets
 * an `order.book` outbox event for each enabled ERP connection that books orders (Odoo `config.bookOrders`), in the
 * same transaction as the order. A statement-level trigger with a transition table does it in one INSERT per
 * statement, so a page of orders costs one extra statement, not one per order. An order is never booked back into
 * the ERP it came from. The idempotency key is the one the application used before this trigger, so events already
 * written stay deduplicated.
 */
export class ErpBooksEveryOrder1763900000750 implements MigrationInterface {
  name = 'ErpBooksEveryOrder1763900000750';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION book_new_orders_in_erp() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO outbox_event (topic, aggregate_type, aggregate_id, connection_id, payload, idempotency_key)
        SELECT 'order.book', 'ORDER', n.id::text, c.id, jsonb_build_object('orderId', n.id), 'order-book:' || n.id || ':' || c.id
          FROM new_orders n
          JOIN connection c ON c.enabled AND c.kind = 'odoo' AND coalesce((c.config->>'bookOrders')::boolean, false)
         WHERE n.connection_id IS DISTINCT FROM c.id
        ON CONFLICT (idempotency_key) DO NOTHING;
        RETURN NULL;
      END $$;
      CREATE TRIGGER orders_book_in_erp AFTER INSERT ON orders REFERENCING NEW TABLE AS new_orders
        FOR EACH STATEMENT EXECUTE FUNCTION book_new_orders_in_erp();
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER orders_book_in_erp ON orders; DROP FUNCTION book_new_orders_in_erp()`);
  }
}
