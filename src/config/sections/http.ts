import { z } from 'zod';
import { int, setting } from '../setting.js';

export const httpSection = {
  port: setting('PORT', int(3978, 0, 65535)),
  /**
   * Interface to listen on. Without MICROSOFT_APP_ID only loopback is allowed (local mode, default 127.0.0.1);
   * with one the default is 0.0.0.0. Decided at start-up by resolveBindHost in src/http/server.ts.
   */
  host: setting('HOST', z.string().optional()),
  /** Largest accepted request body, in bytes. */
  maxBodyBytes: setting('HTTP_MAX_BODY_BYTES', int(256 * 1024, 1024)),
};
