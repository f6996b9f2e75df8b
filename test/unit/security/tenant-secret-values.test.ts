import { describe, expect, it } from 'vitest';
import { tenantSecretValues } from '../../../src/security/secret-values.js';

describe('secrets from the tenants file', () => {
  it('include every tenant’s Graph client secret and bot password, so logs and AI answers never carry them', () => {
    const tenants = [
      { key: 'contoso', tenantId: 't1' },
      { key: 'fabrikam', tenantId: 't2' },
    ];
    const values = tenantSecretValues({
      tenants: tenants as never,
      graphCredentials: (t) => ({ clientId: 'c', clientSecret: `${t.key}-graph-secret-value` }),
      botFor: (t) => (t.key === 'contoso' ? { appId: 'a', appPassword: 'contoso-bot-password' } : null),
    });
    expect(values).toEqual([
      'contoso-graph-secret-value',
      'contoso-bot-password',
      'fabrikam-graph-secret-value',
    ]);
  });
});
