import { z } from 'zod';
import { int, setting } from '../setting.js';

export const httpSection = {
  port: setting('PORT', int(3978, 0, 65535)),
  /** Bound to loopback unless bot credentials are configured (see load-config's cross-checks). */
  host: setting('HOST', z.string().optional()),
  /** Largest accepted request body, in bytes. */
  maxBodyBytes: setting('HTTP_MAX_BODY_BYTES', int(256 * 1024, 1024)),
};
