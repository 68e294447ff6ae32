import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An outbox event announces itself: a statement that writes any announces `switchyard_outbox` (OUTBOX_CHANNEL), which
 * PostgreSQL delivers when the transaction commits (never when it rolls back, once per transaction however many
 * statements wrote), and every hub process's dispatcher sends at once instead of at its next poll. One trigger for
 * every writer (the order service, the triggers of migrations 400–820, the dispatcher's own stock pushes), per
 * statement, not per row. A statement that wrote nothing (an insert whose rows all conflicted) announces nothing.
 */
export class OutboxNotify1763900000830 implements MigrationInterface {
  name = 'OutboxNotify1763900000830';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION outbox_event_announce() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM written) THEN PERFORM pg_notify('switchyard_outbox', ''); END IF;
        RETURN NULL;
      END $$;
      CREATE TRIGGER outbox_event_announce AFTER INSERT ON outbox_event REFERENCING NEW TABLE AS written
        FOR EACH STATEMENT EXECUTE FUNCTION outbox_event_announce();
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER outbox_event_announce ON outbox_event; DROP FUNCTION outbox_event_announce();`);
  }
}
