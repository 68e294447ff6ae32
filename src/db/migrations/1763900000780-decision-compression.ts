import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Routing decisions (a few kB of trace per order, written with every order) are compressed with lz4 where the
 * server has it: pglz took as long as the rest of the page's decision insert. On servers built without lz4 (the
 * embedded binaries are) they are stored uncompressed, out of line: about 4.5 kB a decision on disk instead of 2,
 * for ~12 % more order intake (sync-throughput 804 → 921-928 orders/s on the embedded server).
 */
export class DecisionCompression1763900000780 implements MigrationInterface {
  name = 'DecisionCompression1763900000780';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      DO $$ BEGIN
        ALTER TABLE routing_decision ALTER COLUMN decision SET COMPRESSION lz4;
      EXCEPTION WHEN feature_not_supported THEN ALTER TABLE routing_decision ALTER COLUMN decision SET STORAGE EXTERNAL;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE routing_decision ALTER COLUMN decision SET COMPRESSION DEFAULT, ALTER COLUMN decision SET STORAGE EXTENDED`);
  }
}
