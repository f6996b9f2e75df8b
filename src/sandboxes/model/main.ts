/**
 * `npm run sandbox:model -- --port 4011 [--host 127.0.0.1] [--answer-delay-ms 0] [--first-token-delay-ms 0]
 * [--api-key KEY]`
 * Starts the model sandbox until interrupted. Model names: `ticketzero-sandbox` (follows the reply format),
 * `plain-prose` (ignores it), either with `@first-token-40s` to stall before the first token.
 */
import { parseArgs } from 'node:util';
import { startModelSandbox } from './model-sandbox.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '4011' },
    host: { type: 'string', default: '127.0.0.1' },
    'answer-delay-ms': { type: 'string', default: '0' },
    'first-token-delay-ms': { type: 'string', default: '0' },
    'api-key': { type: 'string' },
  },
});

const port = Number(values.port);
const answerDelayMs = Number(values['answer-delay-ms']);
const firstTokenDelayMs = Number(values['first-token-delay-ms']);
if (
  !Number.isInteger(port) ||
  port < 0 ||
  port > 65535 ||
  !Number.isFinite(answerDelayMs) ||
  answerDelayMs < 0 ||
  !Number.isFinite(firstTokenDelayMs) ||
  firstTokenDelayMs < 0
) {
  console.error(
    'usage: npm run sandbox:model -- --port N [--host H] [--answer-delay-ms N] [--first-token-delay-ms N] [--api-key KEY]',
  );
  process.exit(2);
}

const sandbox = await startModelSandbox({
  port,
  host: values.host,
  answerDelayMs,
  firstTokenDelayMs,
  ...(values['api-key'] ? { apiKey: values['api-key'] } : {}),
});
console.log(
  `model sandbox (scripted personas, not an AI model) listening: OpenAI base URL ${sandbox.baseUrl}, Azure endpoint ${sandbox.azureEndpoint}`,
);
console.log(
  'models: ticketzero-sandbox (follows the reply format), plain-prose (ignores it); add @first-token-40s to stall before the first token',
);
console.log(
  'fault switches: POST /_sandbox/faults {"kind":"500","times":2}, DELETE /_sandbox/faults, POST /_sandbox/answer-delay {"ms":200}, POST /_sandbox/first-token-delay {"ms":40000}',
);

const stop = () => {
  sandbox.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
