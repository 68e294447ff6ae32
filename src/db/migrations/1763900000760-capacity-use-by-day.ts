import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Routing reads each location's capacity use today (fulfilment orders and their lines created since local midnight)
 * for every order or page it routes. The only index led with (location_id, status), so that count visited every
 * fulfilment order the location ever had, a cost that grew without end with the hub's history. This index bounds it
 * to today's fulfilment orders at the location; `status` is included so the filter on it needs no heap visit.
 */
export class CapacityUseByDay1763900000760 implements MigrationInterface {
  name = 'CapacityUseByDay1763900000760';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX fulfillment_order_location_created_idx ON fulfillment_order (location_id, created_at) INCLUDE (status)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX fulfillment_order_location_created_idx`);
  }
}
