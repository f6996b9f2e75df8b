import { z } from 'zod';
import { setting } from '../setting.js';

export const storeSection = {
  kind: setting('STORE', z.enum(['lowdb', 'postgres']).default('lowdb')),
  dataDir: setting('DATA_DIR', z.string().default('./data')),
  databaseUrl: setting('DATABASE_URL', z.string().url('expected a postgres:// URL').optional()),
  /**
   * PostgreSQL schema of TicketZero's tables (created when missing). Default: the role's search_path (usually
   * `public`). Lets several TicketZero deployments, or test runs, share one database.
   */
  databaseSchema: setting(
    'DATABASE_SCHEMA',
    z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'expected a plain lower-case SQL identifier')
      .optional(),
  ),
  /** A name for this instance in claims and leases (defaults to host:pid). */
  instanceId: setting('INSTANCE_ID', z.string().optional()),
};
