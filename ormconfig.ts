// For the TypeORM CLI (e.g. `npx typeorm migration:show -d dist/ormconfig.js`); the hub itself uses createDataSource().
import 'reflect-metadata';
import { createDataSource } from './src/db/data-source';

if (!process.env.DATABASE_URL) throw new Error('ormconfig: set DATABASE_URL (the embedded server is managed by `npx switchyard serve`)');
export default createDataSource(process.env.DATABASE_URL);
