import { describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/load-config.js';
import { botSection } from '../../../src/config/sections/bot.js';
import { ConfigError } from '../../../src/errors.js';
import { createBotFrameworkAuthentication } from '../../../src/http/bot-authentication.js';

const unset: Config['bot'] = {
  appId: undefined,
  appPassword: undefined,
  appTenantId: undefined,
  appType: 'SingleTenant',
  teamsAppId: undefined,
  serviceUrl: 'https://smba.trafficmanager.net/teams',
  openIdMetadataUrl: undefined,
  tokenIssuer: undefined,
  loginUrl: undefined,
};
const registered: Config['bot'] = {
  ...unset,
  appId: '00000000-0000-4000-8000-00000000b07a',
  appPassword: 'secret',
  appTenantId: '00000000-0000-4000-8000-0000000000aa',
};
const message = {
  type: 'message',
  channelId: 'msteams',
  serviceUrl: 'https://smba.trafficmanager.net/teams/',
  conversation: { id: 'a:1', isGroup: false, name: '', conversationType: 'personal' },
};

describe('Bot Framework authentication settings', () => {
  it('lets every request through anonymously when no app id is configured (local mode)', async () => {
    const auth = createBotFrameworkAuthentication(unset);

    const result = await auth.authenticateRequest(message as never, '');

    expect(result.claimsIdentity.isAuthenticated).toBe(true);
    expect(result.claimsIdentity.claims).toEqual([]);
  });

  it('refuses a request without a token once an app id is configured', async () => {
    const auth = createBotFrameworkAuthentication(registered);

    await expect(auth.authenticateRequest(message as never, '')).rejects.toMatchObject({ statusCode: 401 });
  });

  it('refuses a plain-http token endpoint on a non-loopback host (it would carry the app secret in the clear)', () => {
    expect(() =>
      createBotFrameworkAuthentication({ ...registered, loginUrl: 'http://login.example.net/tenant' }),
    ).toThrow(ConfigError);
  });

  it('rejects such a BOT_LOGIN_URL already when settings are read, and accepts loopback and https ones', () => {
    const accepts = (v: string) => botSection.loginUrl.schema.safeParse(v).success;

    expect(accepts('http://login.example.net/tenant')).toBe(false);
    expect(accepts('http://127.0.0.1:4010/tenant')).toBe(true);
    expect(accepts('https://login.microsoftonline.us/tenant')).toBe(true);
  });

  it('reports a SingleTenant registration without a tenant id as a settings problem', () => {
    expect(() => createBotFrameworkAuthentication({ ...registered, appTenantId: undefined })).toThrow(
      ConfigError,
    );
  });
});
