import { MigrationInterface, QueryRunner } from 'typeorm';

/** Rule sets as versioned data (DRAFT → PUBLISHED), and every routing decision with its trace. */
export class Routing1763900000200 implements MigrationInterface {
  name = 'Routing1763900000200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE routing_rule_set (
        id text NOT NULL CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
        version integer NOT NULL CHECK (version >= 1),
        name text NOT NULL,
        status text NOT NULL DEFAULT 'DRAFT' CHECK (status IN ('DRAFT','PUBLISHED','RETIRED')),
        definition jsonb NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        published_by text,
        published_at timestamptz,
        PRIMARY KEY (id, version),
        CHECK ((status = 'DRAFT') = (published_at IS NULL) OR status = 'RETIRED')
      );
      -- At most one published version per rule set id.
      CREATE UNIQUE INDEX routing_rule_set_one_published ON routing_rule_set (id) WHERE status = 'PUBLISHED';

      CREATE TABLE routing_decision (
        id bigserial PRIMARY KEY,
        order_id uuid NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
        rule_set_id text NOT NULL,
        rule_set_version integer NOT NULL,
        status text NOT NULL CHECK (status IN ('ROUTED','PARTIAL','BACKORDERED')),
        excluded_locations text[] NOT NULL DEFAULT '{}',
        decision jsonb NOT NULL,
        actor text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX routing_decision_order_idx ON routing_decision (order_id, id DESC);
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE routing_decision, routing_rule_set`);
  }
}
