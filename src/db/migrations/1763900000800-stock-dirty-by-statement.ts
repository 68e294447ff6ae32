import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Stock rows whose ATP may have changed are marked for the stock push once per statement instead of once per row:
 * a page of synced orders reserves a few hundred stock rows in one UPDATE, and the row trigger ran a PL/pgSQL call
 * and an INSERT … ON CONFLICT for each of them. The marks go in (product, location) order, the order every writer
 * locks stock rows in, so two statements marking the same rows cannot deadlock on the marks.
 */
export class StockDirtyByStatement1763900000800 implements MigrationInterface {
  name = 'StockDirtyByStatement1763900000800';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TRIGGER stock_level_mark_dirty ON stock_level;

      CREATE FUNCTION sync_mark_stock_dirty_created() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO stock_push_dirty (product_id, location_id)
        SELECT product_id, location_id FROM new_stock ORDER BY product_id, location_id
        ON CONFLICT (product_id, location_id) DO NOTHING;
        RETURN NULL;
      END $$;
      CREATE TRIGGER stock_level_mark_dirty_created AFTER INSERT ON stock_level REFERENCING NEW TABLE AS new_stock
        FOR EACH STATEMENT EXECUTE FUNCTION sync_mark_stock_dirty_created();

      CREATE FUNCTION sync_mark_stock_dirty_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO stock_push_dirty (product_id, location_id)
        SELECT n.product_id, n.location_id FROM new_stock n JOIN old_stock o USING (product_id, location_id)
         WHERE (n.on_hand, n.reserved, n.safety_stock) IS DISTINCT FROM (o.on_hand, o.reserved, o.safety_stock)
         ORDER BY n.product_id, n.location_id
        ON CONFLICT (product_id, location_id) DO NOTHING;
        RETURN NULL;
      END $$;
      CREATE TRIGGER stock_level_mark_dirty_changed AFTER UPDATE ON stock_level REFERENCING OLD TABLE AS old_stock NEW TABLE AS new_stock
        FOR EACH STATEMENT EXECUTE FUNCTION sync_mark_stock_dirty_changed();
      DROP FUNCTION sync_mark_stock_dirty();`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TRIGGER stock_level_mark_dirty_created ON stock_level;
      DROP TRIGGER stock_level_mark_dirty_changed ON stock_level;
      DROP FUNCTION sync_mark_stock_dirty_created();
      DROP FUNCTION sync_mark_stock_dirty_changed();
      CREATE FUNCTION sync_mark_stock_dirty() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' OR NEW.on_hand <> OLD.on_hand OR NEW.reserved <> OLD.reserved OR NEW.safety_stock <> OLD.safety_stock THEN
          INSERT INTO stock_push_dirty (product_id, location_id) VALUES (NEW.product_id, NEW.location_id)
            ON CONFLICT (product_id, location_id) DO NOTHING;
        END IF;
        RETURN NULL;
      END $$;
      CREATE TRIGGER stock_level_mark_dirty AFTER INSERT OR UPDATE ON stock_level
        FOR EACH ROW EXECUTE FUNCTION sync_mark_stock_dirty();`);
  }
}
