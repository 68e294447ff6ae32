import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Returns beyond the happy path.
 * - A return whose goods never all arrive can be closed with what was received: the rest of each line is recorded
 *   as not received, with the operator's reason (`return_line.not_received_quantity`, `not_received_reason`), and a
 *   CHECK keeps received + not received within the line's quantity.
 * - Every status change of a return is kept in `return_event` (its history): who, when, from what to what, why.
 * - A mailed return's carrier and tracking number, from the carrier's first scan or the 3PL (it is then IN_TRANSIT).
 */
export class ReturnClosing1763900000720 implements MigrationInterface {
  name = 'ReturnClosing1763900000720';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE return_line
        ADD COLUMN not_received_quantity integer NOT NULL DEFAULT 0,
        ADD COLUMN not_received_reason text,
        ADD CONSTRAINT return_line_settled_within_quantity CHECK (not_received_quantity >= 0 AND received_quantity + not_received_quantity <= quantity);
      ALTER TABLE returns ADD COLUMN closed_reason text, ADD COLUMN carrier text, ADD COLUMN tracking_number text;

      CREATE TABLE return_event (
        id bigserial PRIMARY KEY,
        return_id uuid NOT NULL REFERENCES returns(id) ON DELETE CASCADE,
        from_status text,
        to_status text NOT NULL,
        actor text NOT NULL,
        reason text,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp()
      );
      CREATE INDEX return_event_return_idx ON return_event (return_id, id);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE return_event;
      ALTER TABLE returns DROP COLUMN closed_reason, DROP COLUMN carrier, DROP COLUMN tracking_number;
      ALTER TABLE return_line DROP CONSTRAINT return_line_settled_within_quantity, DROP COLUMN not_received_quantity, DROP COLUMN not_received_reason;
    `);
  }
}
