import { DataSource } from 'typeorm';
import { ENTITIES } from '../model';
import { MIGRATIONS } from './migrations';

export function createDataSource(url: string, options: { poolSize?: number; applicationName?: string } = {}): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migration',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: false,
    extra: {
      max: options.poolSize ?? 20,
      application_name: options.applicationName ?? 'switchyard',
      connectionTimeoutMillis: 10000,
    },
  });
}

/** Applied migration count equals the known migrations: the schema this code expects is in place. */
export async function migrationsApplied(ds: DataSource): Promise<boolean> {
  return !(await ds.showMigrations());
}
