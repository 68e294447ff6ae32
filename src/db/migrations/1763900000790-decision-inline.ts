import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Routing decisions are kept as `json` text, inline in their row. They are only ever read whole (explainRouting), so
 * jsonb bought nothing and cost the most of any intake statement: each decision (about 2.5 kB of JSON text) became
 * about 4.5 kB of jsonb, which PostgreSQL then moved out of line into TOAST (a second heap row and index entry per
 * order) or compressed. As json under a 4 kB toast target, a decision is checked, not converted, and written once
 * (with the decisions sent as one binary parameter, OrderService.placeOrdersIn: 15.8 → 7.6 ms per 100-order page).
 */
export class DecisionInline1763900000790 implements MigrationInterface {
  name = 'DecisionInline1763900000790';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE routing_decision ALTER COLUMN decision TYPE json USING decision::json`);
    await q.query(`ALTER TABLE routing_decision SET (toast_tuple_target = 4080)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE routing_decision RESET (toast_tuple_target)`);
    await q.query(`ALTER TABLE routing_decision ALTER COLUMN decision TYPE jsonb USING decision::jsonb`);
  }
}
