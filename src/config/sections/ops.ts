import { z } from 'zod';
import { bool, int, secret, setting } from '../setting.js';

export const opsSection = {
  logLevel: setting(
    'LOG_LEVEL',
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ),
  logPretty: setting('LOG_PRETTY', bool(false)),
  /** /metrics needs this bearer token when the server listens beyond loopback. */
  metricsToken: secret('METRICS_TOKEN', z.string().min(16).optional()),
  /** The dashboard is off unless a token is set. */
  dashboardToken: secret('DASHBOARD_TOKEN', z.string().min(16).optional()),
  minutesSavedPerTicket: setting('MINUTES_SAVED_PER_TICKET', int(15, 0)),
};
