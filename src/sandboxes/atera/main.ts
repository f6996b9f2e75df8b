/**
 * `npm run sandbox:atera -- --port N --api-key K [--latency-ms M] [--empty] [--clock-offset-seconds S]`
 * Starts the Atera sandbox beside the bot and prints its base URL. Create a ticket ("a new ticket arrives") with:
 *   curl -X POST <origin>/_sandbox/tickets -H 'content-type: application/json' \
 *        -d '{"title":"VPN down","description":"…","endUserEmail":"megan.bowen@contoso.example"}'
 * A technician's reply (or, with `"internal": true`, a note) and the end user's e-mail reply on a ticket:
 *   curl -X POST <origin>/_sandbox/tickets/1003/technician-replies -H 'content-type: application/json' -d '{"text":"…"}'
 *   curl -X POST <origin>/_sandbox/tickets/1003/end-user-replies -H 'content-type: application/json' -d '{"text":"…"}'
 * `--clock-offset-seconds` runs Atera's clock that far from this host's (positive: ahead; write a negative value as
 * `--clock-offset-seconds=-300`); `PUT <origin>/_sandbox/clock {"offsetSeconds": S}` moves it while running.
 */
import { parseArgs } from 'node:util';
import { startAteraSandbox } from './atera-sandbox.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    'api-key': { type: 'string' },
    'latency-ms': { type: 'string' },
    empty: { type: 'boolean', default: false },
    'clock-offset-seconds': { type: 'string', default: '0' },
  },
});

const port = Number.parseInt(values.port ?? '0', 10);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`--port must be a port number, got ${values.port}`);
  process.exit(2);
}

const offsetSeconds = Number(values['clock-offset-seconds']);
if (!Number.isFinite(offsetSeconds) || Math.abs(offsetSeconds) > 366 * 24 * 3600) {
  console.error(
    `--clock-offset-seconds must be a number of seconds within a year, got ${values['clock-offset-seconds']}`,
  );
  process.exit(2);
}

const sandbox = await startAteraSandbox({
  port,
  host: values.host,
  apiKey: values['api-key'],
  seed: !values.empty,
  latencyMs: values['latency-ms'] ? Number(values['latency-ms']) : undefined,
  clockOffsetMs: offsetSeconds * 1000,
});
const origin = sandbox.baseUrl.replace(/\/api\/v3$/, '');
console.log(`Atera sandbox listening: ATERA_BASE_URL=${sandbox.baseUrl}`);
console.log(`New ticket: curl -X POST ${origin}/_sandbox/tickets -H 'content-type: application/json' \\`);
console.log(
  `  -d '{"title":"Printer offline","description":"It says offline","endUserEmail":"megan.bowen@contoso.example"}'`,
);
console.log(
  `Replies: POST ${origin}/_sandbox/tickets/<id>/technician-replies {"text","internal"?} · /end-user-replies {"text","quotePrevious"?}`,
);
console.log(`State: ${origin}/_sandbox/state   Requests: ${origin}/_sandbox/requests`);
console.log(
  `Clock: ${origin}/_sandbox/clock — Atera's time is ${sandbox.now().toISOString()} (${offsetSeconds} s from this host's)`,
);

const shutdown = () => {
  sandbox.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
