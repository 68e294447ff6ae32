import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * API keys (only a SHA-256 of the key is stored: keys are 192-bit random, so a slow hash adds nothing) and the
 * audit log, which is append-only for everyone: a trigger rejects UPDATE, DELETE and TRUNCATE.
 */
export class Security1763900000300 implements MigrationInterface {
  name = 'Security1763900000300';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE api_key (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
        role text NOT NULL CHECK (role IN ('ADMIN','OPERATOR','INTEGRATION','VIEWER')),
        key_hash text NOT NULL UNIQUE,
        key_prefix text NOT NULL,
        connection_id uuid REFERENCES connection(id),
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz,
        last_used_at timestamptz
      );

      CREATE TABLE audit_log (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT clock_timestamp(),
        actor text NOT NULL,
        role text,
        operation_name text,
        fields text[] NOT NULL,
        variables jsonb NOT NULL DEFAULT '{}',
        outcome text NOT NULL CHECK (outcome IN ('OK','ERROR','REJECTED')),
        error_codes text[] NOT NULL DEFAULT '{}',
        request_id text
      );
      CREATE INDEX audit_log_at_idx ON audit_log (at DESC);
      CREATE INDEX audit_log_actor_idx ON audit_log (actor, at DESC);
      CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION forbid_change();
      CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION forbid_change();
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_log, api_key`);
  }
}
