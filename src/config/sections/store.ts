import { z } from 'zod';
import { setting } from '../setting.js';

export const storeSection = {
  kind: setting('STORE', z.enum(['lowdb', 'postgres']).default('lowdb')),
  dataDir: setting('DATA_DIR', z.string().default('./data')),
  databaseUrl: setting('DATABASE_URL', z.string().url('expected a postgres:// URL').optional()),
  /** A name for this instance in claims and leases (defaults to host:pid). */
  instanceId: setting('INSTANCE_ID', z.string().optional()),
};
