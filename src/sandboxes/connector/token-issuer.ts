import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';

/**
 * The two token authorities the Bot Framework plays, with one RSA key:
 * - the channel issuer that signs every activity Teams POSTs to the bot (validated by botbuilder through OpenID
 *   metadata + JWKS, the key endorsed for `msteams`);
 * - the Entra ID token endpoint that gives the bot an access token for `https://api.botframework.com`, which the
 *   connector then checks on every v3 call.
 */
export interface TokenIssuer {
  readonly kid: string;
  /** The `keys` document served at the JWKS URL. */
  jwks(): { keys: Jwk[] };
  /** A channel → bot token, as Teams sends in `Authorization: Bearer …`. */
  signChannelToken(claims: ChannelTokenClaims & Record<string, unknown>, timing?: TokenTiming): string;
  /** A bot → channel access token, as Entra ID issues for the client-credentials grant. */
  signAccessToken(claims: AccessTokenClaims, timing?: TokenTiming): string;
  /** Verifies an access token this issuer signed; returns its claims or a reason for refusing it. */
  verifyAccessToken(
    token: string,
    expected: { audience: string; appId: string | readonly string[] },
  ): AccessTokenCheck;
}

export interface Jwk {
  kty: string;
  use: 'sig';
  kid: string;
  n: string;
  e: string;
  x5t: string;
  endorsements: string[];
}

/** When a token is issued (defaults to now) and how long it lives (defaults to an hour). */
export interface TokenTiming {
  lifetimeSeconds?: number;
  nowSeconds?: number;
}

export interface ChannelTokenClaims {
  /** The bot's app id. */
  aud: string;
  iss: string;
  /** The connector base URL the activity names as its `serviceUrl`; botbuilder compares them exactly. */
  serviceurl: string;
}

export interface AccessTokenClaims {
  aud: string;
  iss: string;
  appid: string;
  tid: string;
}

export type AccessTokenCheck =
  | { ok: true; claims: AccessTokenClaims }
  | { ok: false; reason: 'malformed' | 'bad_signature' | 'expired' | 'wrong_audience' | 'wrong_app' };

export function createTokenIssuer(options: { endorsements?: string[] } = {}): TokenIssuer {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomUUID().replace(/-/g, '');
  const jwk = publicKey.export({ format: 'jwk' });
  const endorsements = options.endorsements ?? ['msteams'];

  const sign = (claims: object, timing: TokenTiming = {}): string =>
    signWithKey(privateKey, kid, claims, timing);

  return {
    kid,
    jwks: () => ({
      keys: [
        {
          kty: 'RSA',
          use: 'sig',
          kid,
          n: jwk.n ?? '',
          e: jwk.e ?? '',
          x5t: kid,
          endorsements,
        },
      ],
    }),
    signChannelToken: (claims, timing) => sign(claims, timing),
    signAccessToken: (claims, timing) => sign({ ...claims, ver: '1.0' }, timing),
    verifyAccessToken(token, expected) {
      let payload: jwt.JwtPayload | string;
      try {
        payload = jwt.verify(token, publicKey, { algorithms: ['RS256'] });
      } catch (error) {
        if (error instanceof jwt.TokenExpiredError) return { ok: false, reason: 'expired' };
        if (error instanceof jwt.JsonWebTokenError && /signature/i.test(error.message)) {
          return { ok: false, reason: 'bad_signature' };
        }
        return { ok: false, reason: 'malformed' };
      }
      if (typeof payload === 'string') return { ok: false, reason: 'malformed' };
      if (payload.aud !== expected.audience) return { ok: false, reason: 'wrong_audience' };
      const appIds: readonly string[] =
        typeof expected.appId === 'string' ? [expected.appId] : expected.appId;
      if (!appIds.includes(String(payload['appid']))) return { ok: false, reason: 'wrong_app' };
      return {
        ok: true,
        claims: {
          aud: String(payload.aud),
          iss: String(payload.iss),
          appid: String(payload['appid']),
          tid: String(payload['tid']),
        },
      };
    },
  };
}

/**
 * Signs claims with any RSA key under a given key id. Exported so hostile-input tests can forge tokens signed with
 * a key the sandbox never published (same `kid`, wrong key) and see them refused.
 */
export function signWithKey(
  privateKey: KeyObject,
  kid: string,
  claims: object,
  timing: TokenTiming = {},
): string {
  const now = timing.nowSeconds ?? Math.floor(Date.now() / 1000);
  const lifetime = timing.lifetimeSeconds ?? 3600;
  return jwt.sign({ nbf: now - 60, iat: now - 60, exp: now + lifetime, ...claims }, privateKey, {
    algorithm: 'RS256',
    keyid: kid,
  });
}
