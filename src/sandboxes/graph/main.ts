/**
 * `npm run sandbox:graph -- [--port N] [--host H] [--ca-file PATH] [--tenant contoso]`
 * Starts the Graph sandbox (HTTPS Graph + local token endpoint, the multi-tenant fixture) and prints the settings
 * that point TicketZero at it. The throwaway certificate is written to --ca-file for GRAPH_CA_FILE.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startGraphSandbox } from './graph-sandbox.js';
import { SANDBOX_TEAMS_APP_ID } from './sandbox-directory.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    'ca-file': { type: 'string', default: join(tmpdir(), 'ticketzero-graph-sandbox-ca.pem') },
    tenant: { type: 'string', default: 'contoso' },
  },
});

const port = Number.parseInt(values.port ?? '0', 10);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`--port must be a port number, got ${values.port}`);
  process.exit(2);
}

const sandbox = await startGraphSandbox({ port, host: values.host });
const caFile = values['ca-file'] ?? join(tmpdir(), 'ticketzero-graph-sandbox-ca.pem');
writeFileSync(caFile, sandbox.caCertificatePem);

let single;
try {
  single = sandbox.credentials(values.tenant ?? 'contoso');
} catch (error) {
  console.error((error as Error).message);
  await sandbox.close();
  process.exit(2);
}

console.log(
  `Graph sandbox listening on ${sandbox.authorityHost} (token endpoint over plain http on the same port)`,
);
console.log('Settings for a single tenant:');
console.log(`  GRAPH_BASE_URL=${sandbox.baseUrl}`);
console.log(`  GRAPH_AUTHORITY_HOST=${sandbox.authorityHost}`);
console.log(`  GRAPH_AUTHORITY_METADATA='${sandbox.authorityMetadata()}'`);
console.log(`  GRAPH_CA_FILE=${caFile}`);
console.log(`  GRAPH_TENANT_ID=${single.tenantId}`);
console.log(`  GRAPH_CLIENT_ID=${single.clientId}`);
console.log(`  GRAPH_CLIENT_SECRET=${single.clientSecret}`);
console.log(`  TEAMS_APP_ID=${SANDBOX_TEAMS_APP_ID}`);
console.log('All tenants (TENANTS_FILE=test/fixtures/graph/tenants.sandbox.json, secrets by variable):');
for (const tenant of sandbox.tenants) {
  console.log(
    `  ${tenant.key.padEnd(10)} ${tenant.tenantId}  ${tenant.key.toUpperCase()}_GRAPH_SECRET=${tenant.clientSecret}`,
  );
}
console.log(
  `Requests: ${sandbox.authorityHost}/_sandbox/requests   Installs: ${sandbox.authorityHost}/_sandbox/installs`,
);

const stop = () => {
  void sandbox.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
