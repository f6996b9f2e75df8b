import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatcherTrusting } from '../../src/adapters/graph/trusted-ca.js';
import { startGraphSandbox, type GraphSandbox } from '../../src/sandboxes/graph/graph-sandbox.js';

let sandbox: GraphSandbox;
let dispatcher: ReturnType<typeof dispatcherTrusting>;

beforeAll(async () => {
  sandbox = await startGraphSandbox();
  dispatcher = dispatcherTrusting(sandbox.caCertificatePem);
});

afterAll(async () => {
  await sandbox.close();
});

async function tokenFor(tenant: string): Promise<string> {
  const { tenantId, clientId, clientSecret } = sandbox.credentials(tenant);
  const metadata = JSON.parse(sandbox.authorityMetadata(tenantId)) as { token_endpoint: string };
  const response = await fetch(metadata.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: clientSecret,
      scope: 'https://graph.microsoft.com/.default',
    }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

async function graph(
  path: string,
  token?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${sandbox.baseUrl}${path}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
    dispatcher,
  } as RequestInit);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('the Graph sandbox', () => {
  it('serves Graph over HTTPS with a certificate only the given CA vouches for', async () => {
    await expect(fetch(`${sandbox.baseUrl}/users`)).rejects.toThrow();
  });

  it('answers 401 without a bearer token and with one it did not issue', async () => {
    const missing = await graph('/users');
    expect(missing.status).toBe(401);
    expect(missing.body).toMatchObject({ error: { code: 'InvalidAuthenticationToken' } });
    expect((await graph('/users', 'made-up')).status).toBe(401);
  });

  it('refuses a wrong client secret the way Entra ID does', async () => {
    const { tenantId, clientId } = sandbox.credentials('contoso');
    const metadata = JSON.parse(sandbox.authorityMetadata(tenantId)) as { token_endpoint: string };
    const response = await fetch(metadata.token_endpoint, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: 'wrong',
        scope: 'https://graph.microsoft.com/.default',
      }),
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('returns accountEnabled only when it is selected, like Graph', async () => {
    const token = await tokenFor('contoso');
    const plain = await graph("/users?$filter=mail eq 'megan.bowen@contoso.example'", token);
    const selected = await graph(
      "/users?$filter=mail eq 'megan.bowen@contoso.example'&$select=id,accountEnabled",
      token,
    );
    const [first] = plain.body.value as Record<string, unknown>[];
    expect(first).toMatchObject({ displayName: 'Megan Bowen' });
    expect(first).not.toHaveProperty('accountEnabled');
    expect(selected.body.value).toEqual([{ id: expect.any(String), accountEnabled: true }]);
  });

  it('rejects a filter with an unescaped single quote with a 400', async () => {
    const token = await tokenFor('contoso');
    const result = await graph(
      `/users?$filter=${encodeURIComponent("mail eq 'liam.o'connor@contoso.example'")}`,
      token,
    );
    expect(result.status).toBe(400);
  });

  it('answers Request_ResourceNotFound for an unknown user id', async () => {
    const result = await graph('/users/99999999-9999-4999-8999-999999999999', await tokenFor('contoso'));
    expect(result.status).toBe(404);
    expect(result.body).toMatchObject({ error: { code: 'Request_ResourceNotFound' } });
  });

  it('answers 403 in Intune’s own error shape where the tenant has not consented to managed devices', async () => {
    const token = await tokenFor('fabrikam');
    const users = await graph("/users?$filter=mail eq 'adele.vance@fabrikam.example'", token);
    const [adele] = users.body.value as { id: string }[];
    const result = await graph(`/users/${adele!.id}/managedDevices`, token);
    expect(result.status).toBe(403);
    const error = result.body.error as { code: string; message: string };
    expect(error.code).toBe('Forbidden');
    expect(JSON.parse(error.message)).toMatchObject({ _version: 3 });
  });

  it('lists the technicians’ group members', async () => {
    const result = await graph('/groups/44444444-4444-4444-8444-444444444444/members', await tokenFor('msp'));
    expect((result.body.value as { displayName: string }[]).map((m) => m.displayName).sort()).toEqual([
      'Dana Tech',
      'Sam Support',
    ]);
  });

  it('throttles on demand with 429 and Retry-After', async () => {
    const token = await tokenFor('contoso');
    sandbox.faults.inject({ kind: '429', retryAfterSeconds: 7 });
    const response = await fetch(`${sandbox.baseUrl}/users`, {
      headers: { authorization: `Bearer ${token}` },
      dispatcher,
    } as RequestInit);
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('7');
  });
});
