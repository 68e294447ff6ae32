import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Units of an order line that the channel took back before they shipped (a refund or an order edit of unfulfilled
 * items). Kept beside `quantity`, the units ordered, so that a channel's cumulative view of the line (Shopify's
 * current_quantity, Magento's qty_canceled) can be compared with the hub's on every update, and a replay changes
 * nothing. A unit is shipped or cancelled, never both.
 */
export class OrderLineCancelled1763900000810 implements MigrationInterface {
  name = 'OrderLineCancelled1763900000810';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE order_line ADD COLUMN cancelled_quantity int NOT NULL DEFAULT 0,
        ADD CONSTRAINT order_line_cancelled_within_unshipped CHECK (cancelled_quantity >= 0 AND shipped_quantity + cancelled_quantity <= quantity)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE order_line DROP CONSTRAINT order_line_cancelled_within_unshipped, DROP COLUMN cancelled_quantity`);
  }
}
