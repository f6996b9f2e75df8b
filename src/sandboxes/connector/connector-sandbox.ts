import { once } from 'node:events';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TicketZeroError } from '../../errors.js';
import {
  adaptiveCardActionActivity,
  channelMessageActivity,
  installActivity,
  newPersonalConversationId,
  parseThreadConversationId,
  personalMessageActivity,
  threadConversationId,
  type BotIdentity,
  type InboundActivity,
  type InboundContext,
  type TeamsChannelRef,
  type TeamsUser,
} from './teams-activities.js';
import {
  createTokenIssuer,
  type ChannelTokenClaims,
  type TokenIssuer,
  type TokenTiming,
} from './token-issuer.js';
import {
  deliverInbound,
  TEAMS_INBOUND_TIMEOUT_MS,
  TEAMS_TIMING,
  type DeliveryAttempt,
  type TeamsTiming,
} from './inbound-delivery.js';
import type { ProtocolViolation } from './protocol-violations.js';
import {
  createStreamMonitor,
  TEAMS_STREAM_LIMITS,
  type StreamLimits,
  type StreamView,
} from './stream-monitor.js';

export type { TeamsChannelRef, TeamsUser, BotIdentity, InboundActivity } from './teams-activities.js';
export {
  newPersonalConversationId,
  parseThreadConversationId,
  threadConversationId,
} from './teams-activities.js';
export { createTokenIssuer, signWithKey, type TokenIssuer, type TokenTiming } from './token-issuer.js';
export {
  TEAMS_INBOUND_TIMEOUT_MS,
  TEAMS_TIMING,
  type DeliveryAttempt,
  type TeamsTiming,
} from './inbound-delivery.js';
export type { ProtocolViolation } from './protocol-violations.js';
export { TEAMS_STREAM_LIMITS, type StreamLimits, type StreamView } from './stream-monitor.js';

/**
 * A local Teams / Bot Framework connector, as a bot sees it:
 * - the v3 REST API botbuilder's ConnectorClient calls (create conversation, send, reply, update, delete, members,
 *   teams), with Teams' error shapes, recording every activity the bot sends;
 * - when it has an app id: the Entra ID token endpoint the bot gets its outbound token from, and a bearer check on
 *   every v3 call; and the Bot Framework channel issuer (OpenID metadata + JWKS endorsed for `msteams`) whose key
 *   signs every activity it delivers to the bot;
 * - a driver that plays Teams users and technicians: install, messages, card actions, channel @mentions;
 * - fault switches (429 with Retry-After, 500, 412, slow) for the v3 API;
 * - Teams' timing, when switched on: an inbound POST the bot has not answered in 15 s is abandoned and the same
 *   activity delivered again; every delivery attempt is logged; and Teams' streaming rules are checked on what the
 *   bot sends (45 s between updates, two minutes per stream, nothing after the final message).
 */
export interface ConnectorSandbox {
  /** Base URL, `http://127.0.0.1:<port>` (no trailing slash). */
  readonly url: string;
  /** The `serviceUrl` put on every delivered activity (the base URL with a trailing slash, as Teams does). */
  readonly serviceUrl: string;
  /** The default app (the one `appId` names, or the first of `apps`). */
  readonly appId: string | undefined;
  /** Every bot registration the sandbox knows (the default first). */
  readonly appIds: readonly string[];
  /** The app installed in a tenant: deliveries to its users are signed for it (`tenantApps`, else the default). */
  appForTenant(tenantId: string): string | undefined;
  readonly bot: BotIdentity;
  /** Put this in BOT_OPENID_METADATA_URL. */
  readonly openIdMetadataUrl: string;
  /** Put this in BOT_TOKEN_ISSUER. */
  readonly issuer: string;
  /**
   * Put this in BOT_LOGIN_URL: `<url>/<tenant>`; the token endpoint is `<loginUrl>/oauth2/v2.0/token` (any tenant
   * segment is accepted).
   */
  loginUrl(tenantId?: string): string;
  /** Whether delivered activities carry a signed `Authorization` header. */
  readonly signing: boolean;
  /** Where activities are delivered (the bot's `/api/messages`); may be set after start. */
  botEndpoint: string | undefined;

  /** Every activity the bot sent, in order (updates appended with `updated: true`; deletions flag `deleted`). */
  readonly activities: RecordedActivity[];
  /**
   * Every activity delivered to the bot, once each, with the HTTP status of the attempt that ended its delivery
   * (redeliveries are in `deliveries()`).
   */
  readonly delivered: DeliveredActivity[];
  /** Every v3/token request the connector served. */
  readonly requests: RecordedRequest[];
  readonly faults: FaultSwitch;

  /**
   * Teams' timing for inbound activities, or undefined when off (the default: the sandbox waits for each answer
   * however long it takes and delivers each activity once).
   */
  readonly teamsTiming: Readonly<TeamsTiming> | undefined;
  /**
   * Switches Teams' timing on (`true`: Teams' own values, `TEAMS_TIMING`; an object: those values with the given ones
   * replacing them) or off (`false`). Applies to deliveries that start afterwards.
   */
  setTeamsTiming(timing: boolean | Partial<TeamsTiming>): void;
  /** Every POST of an inbound activity to the bot, redeliveries included, in the order they ended. */
  deliveries(): DeliveryAttempt[];
  /** The POSTs of one inbound activity (by its id), first delivery first. */
  deliveriesOf(activityId: string): DeliveryAttempt[];
  /** The streaming limits checked on what the bot sends (always on; Teams' values unless set). */
  readonly streamLimits: Readonly<StreamLimits>;
  /** Sets the streaming limits: Teams' values (`TEAMS_STREAM_LIMITS`) with the given ones replacing them. */
  setStreamLimits(limits: Partial<StreamLimits>): void;
  /** Every stream the bot started (teams-ai StreamingResponse or the REST streaming protocol). */
  streams(): StreamView[];
  /**
   * What the bot did that Teams does not allow or would not wait for: inbound answers later than the inbound limit
   * (15 s, or `teamsTiming.inboundTimeoutMs`), stream updates too far apart, refused stream updates, and streams
   * still open with no update for longer than the gap limit at the time of the call.
   */
  violations(): ProtocolViolation[];

  installFor(user: TeamsUser): Promise<string>;
  /** `asApp` signs the delivery for another registration than the one installed in the user's tenant. */
  userSays(
    user: TeamsUser,
    text: string,
    options?: { conversationId?: string; asApp?: string },
  ): Promise<DeliveryResult>;
  /**
   * Presses an `Action.Execute` button; `data.verb` is the action's verb. Returns the bot's invoke response body;
   * throws when no delivery attempt got a 2xx answer.
   */
  clickAction(
    user: TeamsUser,
    conversationId: string,
    data: Record<string, unknown> & { verb: string },
    options?: { replyToId?: string },
  ): Promise<unknown>;
  teamMemberSays(
    member: TeamsUser,
    channel: TeamsChannelRef,
    text: string,
    mentions?: Array<Pick<TeamsUser, 'id' | 'name'>>,
  ): Promise<DeliveryResult>;
  addTeam(team: TeamRoster): void;
  /** Makes a user known (members endpoints, createConversation by AAD object id) without installing the bot. */
  addUser(user: TeamsUser): void;
  /** POSTs any body to the bot endpoint with the given headers (no signing unless you pass `authorization`). */
  sendRaw(body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: string }>;
  /** A channel → bot token signed with the sandbox key (defaults: aud = appId, iss = issuer, serviceurl). */
  signChannelToken(
    claims?: Partial<ChannelTokenClaims> & Record<string, unknown>,
    timing?: TokenTiming,
  ): string;
  /** The key id the sandbox publishes (for forging tokens with another key under the same id). */
  readonly signingKeyId: string;

  conversation(id: string): ConversationView | undefined;
  /**
   * Teams no longer knows this conversation (the user deleted the chat or removed the app): sends to it answer 404
   * ConversationNotFound from now on; creating the user's 1:1 conversation again makes a new one.
   */
  forgetConversation(id: string): void;
  /** Resolves with the first recorded activity (already recorded or future) that satisfies the predicate. */
  waitFor(predicate: (a: RecordedActivity) => boolean, timeoutMs?: number): Promise<RecordedActivity>;
  /**
   * Forgets recorded activities, deliveries (and their attempts), requests, faults, streams and violations
   * (conversations, users, teams, Teams timing and stream limits stay).
   */
  clear(): void;
  close(): Promise<void>;
}

export interface ConnectorSandboxOptions {
  port?: number;
  host?: string;
  botEndpoint?: string;
  /** The bot's app id. With one, v3 calls need a bearer token from the sandbox's token endpoint. */
  appId?: string;
  /** When set, the token endpoint also checks the client secret. */
  appPassword?: string;
  /**
   * Further bot registrations (single-tenant bots, one per customer tenant), each with its own secret. Without
   * `appId`, the first of them is the default app.
   */
  apps?: ReadonlyArray<{ appId: string; appPassword?: string }>;
  /**
   * Which app is installed in which tenant (tenant id → app id): activities from that tenant's users are
   * delivered to, and signed for, that app, and v3 calls in that tenant's conversations must carry its token
   * (403 otherwise, as Teams answers a bot that is not in the conversation). Tenants not listed use the default
   * app; without this option any known app may call anywhere.
   */
  tenantApps?: Readonly<Record<string, string>>;
  /**
   * Play Teams' timing for inbound activities (see `ConnectorSandbox.setTeamsTiming`). Off by default.
   */
  teamsTiming?: boolean | Partial<TeamsTiming>;
  /** Streaming limits checked on what the bot sends (default Teams' values, `TEAMS_STREAM_LIMITS`). */
  streamLimits?: Partial<StreamLimits>;
  /** `generate` signs delivered activities (default when an app id is set); `null` sends them unsigned. */
  signingKey?: 'generate' | null;
  botName?: string;
  /**
   * Behave like a tenant where the bot is not installed for everyone: creating a 1:1 conversation with a user
   * who has not installed the bot, or a thread in an unknown channel, answers 403 as Teams does.
   */
  requireInstall?: boolean;
}

export interface TeamRoster {
  teamId: string;
  /** The channel technicians use (the General channel's id is the team id itself). */
  channelId: string;
  name?: string;
  channelName?: string;
  members: TeamsUser[];
}

export interface RecordedActivity {
  seq: number;
  operation: 'create' | 'send' | 'reply' | 'update';
  conversationId: string;
  activityId: string;
  type: string;
  text?: string;
  attachments?: Array<{ contentType: string; content?: unknown; [key: string]: unknown }>;
  replyToId?: string;
  entities?: Array<Record<string, unknown>>;
  channelData?: Record<string, unknown>;
  updated?: boolean;
  deleted?: boolean;
  /** Set for teams-ai StreamingResponse activities. */
  stream?: { id?: string; type: string; sequence?: number };
  /** The activity exactly as the bot sent it. */
  activity: Record<string, unknown>;
  receivedAt: string;
}

export interface DeliveredActivity {
  activity: InboundActivity;
  /** The HTTP status the bot answered to the last attempt; 0 when it got no answer (timed out or broken). */
  status: number;
  /** How many times it was POSTed (more than 1 only with Teams timing). */
  attempts: number;
  signed: boolean;
  /** The app the delivery was addressed to (the token's audience and the activity's recipient). */
  appId: string | undefined;
}

export interface RecordedRequest {
  method: string;
  path: string;
  operation: ConnectorOperation;
  status: number;
  /** Whether the request carried a bearer token the sandbox accepted (always false without an app id). */
  authenticated: boolean;
  /** The app id the accepted bearer token was issued to (the client id at the token endpoint). */
  appId?: string;
  /** The conversation the v3 call was about (created or addressed). */
  conversationId?: string;
}

export type ConnectorOperation =
  | 'createConversation'
  | 'sendToConversation'
  | 'replyToActivity'
  | 'updateActivity'
  | 'deleteActivity'
  | 'getConversationMembers'
  | 'getConversationMember'
  | 'getConversationPagedMembers'
  | 'getTeamDetails'
  | 'getTeamChannels'
  | 'token'
  | 'metadata'
  | 'unknown';

export interface DeliveryResult {
  /**
   * The HTTP status the bot answered to the last attempt (the one that ended the delivery); 0 when that attempt got
   * no answer (with Teams timing: the last redelivery too timed out or its connection broke).
   */
  status: number;
  /** Whether the bot answered 2xx (on the last attempt). */
  accepted: boolean;
  conversationId: string;
  activityId: string;
  /** The bot's response body, if any. */
  body?: unknown;
  /** Every POST of this activity, first delivery first (one unless Teams timing redelivered it). */
  attempts: DeliveryAttempt[];
}

export interface FaultSpec {
  kind: '429' | '500' | '412' | 'slow';
  /** How many v3 requests the fault applies to. */
  times: number;
  /** For 429: the Retry-After header (seconds). Default 1. */
  retryAfterSeconds?: number;
  /** For slow: how long each request is held before it is served. Default 2000. */
  delayMs?: number;
  /** Only requests of this operation (default: any v3 request). */
  operation?: ConnectorOperation;
}

export interface FaultSwitch {
  inject(fault: FaultSpec): void;
  clear(): void;
  /** Faults not yet spent. */
  readonly pending: number;
}

export interface ConversationView {
  id: string;
  kind: 'personal' | 'channel';
  tenantId: string;
  members: TeamsUser[];
  teamId?: string;
  channelId?: string;
  /** Every recorded activity in this conversation, in order. */
  activities: RecordedActivity[];
  /** What a user would see now: the latest version of each message, deleted ones removed, typing left out. */
  messages: RecordedActivity[];
}

/** The sandbox was driven wrongly (no bot endpoint, unknown conversation) or the bot misbehaved. */
export class ConnectorSandboxError extends TicketZeroError {
  readonly code = 'connector_sandbox';
}

interface ConversationRecord {
  id: string;
  kind: 'personal' | 'channel';
  tenantId: string;
  members: TeamsUser[];
  teamId?: string;
  channelId?: string;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const MAX_BODY_BYTES = 1024 * 1024;
/** Teams refuses messages above about 28 KB (text plus attachments). */
const MAX_ACTIVITY_BYTES = 28 * 1024;
const BOT_FRAMEWORK_AUDIENCE = 'https://api.botframework.com';

let sharedEntraId: TokenIssuer | undefined;
/**
 * The Entra ID that issues the bot's outbound tokens is one authority for every connector, as in production: a
 * token fetched from one sandbox's token endpoint is valid at another's v3 API. This matters because botbuilder
 * caches outbound tokens process-wide by app id and scope (AppCredentials.cache), so two sandboxes in one test
 * process with the same app id would otherwise refuse each other's cached tokens. Channel signing keys stay per
 * sandbox.
 */
function entraId(): TokenIssuer {
  sharedEntraId ??= createTokenIssuer({ endorsements: [] });
  return sharedEntraId;
}

export async function startConnectorSandbox(
  options: ConnectorSandboxOptions = {},
): Promise<ConnectorSandbox> {
  const host = options.host ?? '127.0.0.1';
  const apps = new Map<string, { appPassword: string | undefined }>();
  if (options.appId) apps.set(options.appId, { appPassword: options.appPassword });
  for (const app of options.apps ?? []) {
    if (!apps.has(app.appId)) apps.set(app.appId, { appPassword: app.appPassword });
  }
  const appId = options.appId || options.apps?.[0]?.appId || undefined;
  for (const [tenantId, tenantApp] of Object.entries(options.tenantApps ?? {})) {
    if (!apps.has(tenantApp)) {
      throw new ConnectorSandboxError(`tenantApps names ${tenantApp} for ${tenantId}, which is not an app.`);
    }
  }
  const appForTenant = (tenantId: string): string | undefined => options.tenantApps?.[tenantId] ?? appId;
  const signing = options.signingKey === undefined ? Boolean(appId) : options.signingKey === 'generate';
  const issuer: TokenIssuer = createTokenIssuer();
  const bot: BotIdentity = { id: `28:${appId ?? 'ticketzero-local'}`, name: options.botName ?? 'TicketZero' };

  const conversations = new Map<string, ConversationRecord>();
  const users = new Map<string, TeamsUser>();
  const installed = new Set<string>();
  const personalByUser = new Map<string, string>();
  const teams = new Map<string, TeamRoster>();
  const activities: RecordedActivity[] = [];
  const delivered: DeliveredActivity[] = [];
  const requests: RecordedRequest[] = [];
  const faultQueue: FaultSpec[] = [];
  const attempts: DeliveryAttempt[] = [];
  const violations: ProtocolViolation[] = [];
  let teamsTiming = resolveTeamsTiming(options.teamsTiming ?? false);
  let streamLimits = resolveStreamLimits(options.streamLimits ?? {});
  const streamMonitor = createStreamMonitor(
    () => streamLimits,
    (violation) => violations.push(violation),
  );
  const events = new EventEmitter();
  events.setMaxListeners(0);
  let seq = 0;
  let lastActivityId = 0;

  const nextActivityId = (): string => {
    lastActivityId = Math.max(Date.now(), lastActivityId + 1);
    return String(lastActivityId);
  };

  let baseUrl = '';

  const server: Server = createServer((req, res) => {
    void handle(req, res);
  });
  server.listen(options.port ?? 0, host);
  await once(server, 'listening');
  const address = server.address() as AddressInfo;
  baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  const issuerName = baseUrl;

  // ---------------------------------------------------------------------------------------------------------------
  // HTTP

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', baseUrl);
    const rawSegments = url.pathname.split('/').filter((s) => s !== '');
    let segments: string[];
    try {
      segments = rawSegments.map((s) => decodeURIComponent(s));
    } catch {
      sendJson(res, 400, { error: { code: 'BadArgument', message: 'Malformed URL encoding.' } });
      return;
    }
    const method = req.method ?? 'GET';
    const operation = classify(method, segments);
    const record: RecordedRequest = {
      method,
      path: url.pathname,
      operation,
      status: 0,
      authenticated: false,
    };
    requests.push(record);
    try {
      const body = method === 'GET' || method === 'DELETE' ? undefined : await readBody(req);
      const result = await route(method, segments, url, req, body, record);
      record.status = result.status;
      sendJson(res, result.status, result.body, result.headers);
    } catch (error) {
      if (error instanceof HttpError) {
        record.status = error.status;
        const body =
          error.errorCode === 'Unauthorized'
            ? { message: error.message }
            : error.errorCode.startsWith('aad:')
              ? { error: error.errorCode.slice(4), error_description: error.message }
              : { error: { code: error.errorCode, message: error.message } };
        sendJson(res, error.status, body, error.headers);
      } else {
        record.status = 500;
        sendJson(res, 500, {
          error: { code: 'ServiceError', message: 'The sandbox failed to handle the request.' },
        });
      }
    }
  }

  interface RouteResult {
    status: number;
    body?: unknown;
    headers?: Record<string, string>;
  }

  async function route(
    method: string,
    segments: string[],
    url: URL,
    req: IncomingMessage,
    body: string | undefined,
    record: RecordedRequest,
  ): Promise<RouteResult> {
    // Channel issuer (OpenID metadata + keys), and the Entra ID token endpoint.
    if (method === 'GET' && segments.join('/') === 'v1/.well-known/openidconfiguration') {
      return {
        status: 200,
        body: {
          issuer: issuerName,
          authorization_endpoint: `${baseUrl}/v1/authorize`,
          jwks_uri: `${baseUrl}/v1/.well-known/keys`,
          id_token_signing_alg_values_supported: ['RS256'],
          token_endpoint_auth_methods_supported: ['private_key_jwt'],
        },
      };
    }
    if (method === 'GET' && segments.join('/') === 'v1/.well-known/keys') {
      return { status: 200, body: issuer.jwks() };
    }
    if (
      segments.length === 4 &&
      segments[1] === 'oauth2' &&
      segments[2] === 'v2.0' &&
      segments[3] === 'token'
    ) {
      if (method !== 'POST') throw new HttpError(405, 'aad:invalid_request', 'AADSTS900561: POST required.');
      return issueAccessToken(segments[0] ?? '', body ?? '');
    }
    if (
      method === 'GET' &&
      segments.length === 4 &&
      segments.slice(1).join('/') === 'v2.0/.well-known/openid-configuration'
    ) {
      const tenantUrl = `${baseUrl}/${segments[0] ?? ''}`;
      return { status: 200, body: authorityMetadata(tenantUrl) };
    }

    if (segments[0] !== 'v3') throw new HttpError(404, 'NotFound', `No route for ${method} ${url.pathname}.`);

    const caller = checkBearer(req);
    record.authenticated = caller !== undefined;
    if (caller !== undefined) record.appId = caller;
    await applyFault(record.operation);

    const json = body === undefined ? undefined : parseJson(body);
    const [, resource, id, sub, subId, ...rest] = segments;
    if (rest.length > 0) throw new HttpError(404, 'NotFound', `No route for ${method} ${url.pathname}.`);

    if (resource === 'teams' && id && method === 'GET') {
      const team = findTeam(id);
      if (!team) throw new HttpError(404, 'NotFound', 'Team not found or the bot is not installed in it.');
      if (sub === undefined) {
        return {
          status: 200,
          body: { id: team.teamId, name: team.name ?? 'Team', aadGroupId: `group-${team.teamId}` },
        };
      }
      if (sub === 'conversations' && subId === undefined) {
        const channels = [{ id: team.teamId }];
        if (team.channelId !== team.teamId)
          channels.push({ id: team.channelId, name: team.channelName ?? 'Support' } as { id: string });
        return { status: 200, body: { conversations: channels } };
      }
    }

    if (resource !== 'conversations')
      throw new HttpError(404, 'NotFound', `No route for ${method} ${url.pathname}.`);

    if (id !== undefined) record.conversationId = id;
    if (id === undefined && method === 'POST') return createConversation(json, caller, record);
    if (id === undefined)
      throw new HttpError(405, 'BadArgument', 'Listing conversations is not supported by Teams.');

    if (sub === 'activities' && method === 'POST' && subId === undefined) {
      return postActivity(id, json, 'send', undefined, caller);
    }
    if (sub === 'activities' && subId !== undefined && method === 'POST')
      return postActivity(id, json, 'reply', subId, caller);
    if (sub === 'activities' && subId !== undefined && method === 'PUT')
      return updateActivity(id, subId, json, caller);
    if (sub === 'activities' && subId !== undefined && method === 'DELETE')
      return deleteActivity(id, subId, caller);
    if (sub === 'members' && method === 'GET') {
      const members = membersOf(id);
      if (subId === undefined) return { status: 200, body: members.map(memberJson) };
      const member = members.find((m) => m.id === subId || m.aadObjectId === subId);
      if (!member)
        throw new HttpError(
          404,
          'MemberNotFoundInConversation',
          'The member was not found in the conversation.',
        );
      return { status: 200, body: memberJson(member) };
    }
    if (sub === 'pagedmembers' && method === 'GET' && subId === undefined) {
      const members = membersOf(id);
      const pageSize = Math.max(1, Math.min(500, Number(url.searchParams.get('pageSize') ?? '200') || 200));
      const start = Number(url.searchParams.get('continuationToken') ?? '0') || 0;
      const page = members.slice(start, start + pageSize);
      const next = start + pageSize < members.length ? String(start + pageSize) : undefined;
      return {
        status: 200,
        body: { members: page.map(memberJson), ...(next ? { continuationToken: next } : {}) },
      };
    }
    throw new HttpError(404, 'NotFound', `No route for ${method} ${url.pathname}.`);
  }

  function classify(method: string, segments: string[]): ConnectorOperation {
    if (segments[0] === 'v1') return 'metadata';
    if (segments[1] === 'oauth2') return 'token';
    if (segments[1] === 'v2.0') return 'metadata';
    if (segments[0] !== 'v3') return 'unknown';
    if (segments[1] === 'teams')
      return segments[3] === 'conversations' ? 'getTeamChannels' : 'getTeamDetails';
    if (segments[1] !== 'conversations') return 'unknown';
    if (segments.length === 2) return method === 'POST' ? 'createConversation' : 'unknown';
    if (segments[3] === 'activities') {
      if (segments.length === 4) return 'sendToConversation';
      if (method === 'PUT') return 'updateActivity';
      if (method === 'DELETE') return 'deleteActivity';
      return 'replyToActivity';
    }
    if (segments[3] === 'members')
      return segments.length === 4 ? 'getConversationMembers' : 'getConversationMember';
    if (segments[3] === 'pagedmembers') return 'getConversationPagedMembers';
    return 'unknown';
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Outbound auth: token endpoint and bearer check

  function issueAccessToken(tenant: string, body: string): RouteResult {
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== 'client_credentials') {
      throw new HttpError(
        400,
        'aad:unsupported_grant_type',
        'AADSTS70003: The app requested an unsupported grant type.',
      );
    }
    const clientId = form.get('client_id') ?? '';
    const app = apps.get(clientId);
    if (!app) {
      throw new HttpError(
        400,
        'aad:unauthorized_client',
        `AADSTS700016: Application with identifier '${clientId}' was not found in the directory '${tenant}'.`,
      );
    }
    if (app.appPassword !== undefined && form.get('client_secret') !== app.appPassword) {
      throw new HttpError(401, 'aad:invalid_client', 'AADSTS7000215: Invalid client secret provided.');
    }
    const scope = form.get('scope') ?? '';
    const resource = scope.split(' ').find((s) => s.endsWith('/.default'));
    if (!resource)
      throw new HttpError(
        400,
        'aad:invalid_scope',
        'AADSTS1002012: The provided value for scope is not valid.',
      );
    const aud = resource.slice(0, -'/.default'.length);
    const accessToken = entraId().signAccessToken({
      aud,
      iss: `${baseUrl}/${tenant}/`,
      appid: clientId,
      tid: tenant,
    });
    return {
      status: 200,
      body: { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: accessToken },
    };
  }

  /**
   * The app id of a valid token the request carries (undefined when the sandbox has no app); throws 401 when a
   * token is required and missing or invalid.
   */
  function checkBearer(req: IncomingMessage): string | undefined {
    if (apps.size === 0) return undefined;
    const header = req.headers.authorization ?? '';
    const match = /^Bearer (.+)$/.exec(header);
    if (!match?.[1])
      throw new HttpError(401, 'Unauthorized', 'Authorization has been denied for this request.');
    const check = entraId().verifyAccessToken(match[1], {
      audience: BOT_FRAMEWORK_AUDIENCE,
      appId: [...apps.keys()],
    });
    if (!check.ok)
      throw new HttpError(401, 'Unauthorized', 'Authorization has been denied for this request.');
    return check.claims.appid;
  }

  /** With `tenantApps`, only the app installed in a tenant may act in its conversations (Teams answers 403). */
  function requireAppInTenant(tenantId: string, caller: string | undefined): void {
    if (!options.tenantApps || caller === undefined) return;
    if (appForTenant(tenantId) !== caller) {
      throw new HttpError(
        403,
        'BotNotInConversationRoster',
        'The bot is not part of the conversation roster.',
      );
    }
  }

  async function applyFault(operation: ConnectorOperation): Promise<void> {
    const index = faultQueue.findIndex((f) => !f.operation || f.operation === operation);
    if (index < 0) return;
    const fault = faultQueue[index] as FaultSpec;
    fault.times -= 1;
    if (fault.times <= 0) faultQueue.splice(index, 1);
    switch (fault.kind) {
      case '429':
        throw new HttpError(429, 'TooManyRequests', 'Too many requests, retry after the given delay.', {
          'Retry-After': String(fault.retryAfterSeconds ?? 1),
        });
      case '500':
        throw new HttpError(500, 'ServiceError', 'The service failed to process the request.');
      case '412':
        throw new HttpError(412, 'PreconditionFailed', 'The conversation was changed concurrently, retry.');
      case 'slow':
        await new Promise((resolve) => setTimeout(resolve, fault.delayMs ?? 2000));
        return;
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Conversations and activities

  function createConversation(
    json: unknown,
    caller: string | undefined,
    request: RecordedRequest,
  ): RouteResult {
    const params = asObject(json, 'The conversation parameters must be a JSON object.');
    const channelData = (params['channelData'] ?? {}) as Record<string, unknown>;
    const tenantId =
      (typeof params['tenantId'] === 'string' ? params['tenantId'] : undefined) ??
      ((channelData['tenant'] as { id?: unknown } | undefined)?.id as string | undefined);
    const activity =
      params['activity'] === undefined
        ? undefined
        : asObject(params['activity'], 'activity must be an object.');

    const channel = (channelData['channel'] as { id?: unknown } | undefined)?.id;
    if (params['isGroup'] === true || typeof channel === 'string') {
      if (typeof channel !== 'string' || channel === '') {
        throw new HttpError(
          400,
          'BadArgument',
          'channelData.channel.id is required to start a channel conversation.',
        );
      }
      if (!activity)
        throw new HttpError(400, 'BadArgument', 'An activity is required to start a channel conversation.');
      const team = findTeam(channel);
      if (!team && options.requireInstall) {
        throw new HttpError(
          403,
          'BotNotInConversationRoster',
          'The bot is not part of the conversation roster.',
        );
      }
      requireAppInTenant(tenantId ?? team?.members[0]?.tenantId ?? '', caller);
      validateActivity(activity);
      const activityId = nextActivityId();
      const id = threadConversationId(channel, activityId);
      request.conversationId = id;
      conversations.set(id, {
        id,
        kind: 'channel',
        tenantId: tenantId ?? team?.members[0]?.tenantId ?? '',
        members: team?.members ?? [],
        teamId: team?.teamId,
        channelId: channel,
      });
      record('create', id, activityId, activity);
      return { status: 201, body: { id, activityId } };
    }

    const members = params['members'];
    const first = Array.isArray(members) ? (members[0] as { id?: unknown } | undefined) : undefined;
    if (!first || typeof first.id !== 'string' || first.id === '') {
      throw new HttpError(400, 'BadArgument', 'members must name the user to start a 1:1 conversation with.');
    }
    if (!tenantId)
      throw new HttpError(400, 'BadArgument', 'tenantId (or channelData.tenant.id) is required.');
    requireAppInTenant(tenantId, caller);
    const user = findUser(first.id);
    if (options.requireInstall && (!user || !installed.has(user.id))) {
      throw new HttpError(
        403,
        'BotNotInConversationRoster',
        'The bot is not part of the conversation roster.',
      );
    }
    const known = user ?? { id: first.id, aadObjectId: first.id, name: '', tenantId };
    const id = personalConversationFor(known);
    request.conversationId = id;
    if (activity) {
      validateActivity(activity);
      const activityId = nextActivityId();
      record('create', id, activityId, activity);
      return { status: 201, body: { id, activityId } };
    }
    return { status: 201, body: { id } };
  }

  function postActivity(
    conversationId: string,
    json: unknown,
    operation: 'send' | 'reply',
    replyToId: string | undefined,
    caller: string | undefined,
  ): RouteResult {
    const conversation = requireConversation(conversationId);
    requireAppInTenant(conversation.tenantId, caller);
    const activity = asObject(json, 'The activity must be a JSON object.');
    validateActivity(activity);
    const stream = streamInfo(activity);
    if (stream && conversation.kind !== 'personal') {
      throw new HttpError(403, 'ContentStreamNotAllowed', 'Streaming is only supported in 1:1 chats.');
    }
    const activityId = stream?.id ?? nextActivityId();
    if (stream) {
      const refusal = streamMonitor.check(conversationId, activityId, stream.type);
      if (refusal) throw new HttpError(refusal.status, refusal.code, refusal.message);
    }
    record(operation, conversationId, activityId, replyToId ? { replyToId, ...activity } : activity);
    return { status: 201, body: { id: activityId } };
  }

  function updateActivity(
    conversationId: string,
    activityId: string,
    json: unknown,
    caller: string | undefined,
  ): RouteResult {
    requireAppInTenant(requireConversation(conversationId).tenantId, caller);
    const activity = asObject(json, 'The activity must be a JSON object.');
    validateActivity(activity);
    const previous = activities.filter(
      (a) => a.conversationId === conversationId && a.activityId === activityId,
    );
    if (previous.length === 0 || previous.some((a) => a.deleted)) {
      throw new HttpError(404, 'ActivityNotFound', 'The activity to update was not found.');
    }
    record('update', conversationId, activityId, activity);
    return { status: 200, body: { id: activityId } };
  }

  function deleteActivity(
    conversationId: string,
    activityId: string,
    caller: string | undefined,
  ): RouteResult {
    requireAppInTenant(requireConversation(conversationId).tenantId, caller);
    const matching = activities.filter(
      (a) => a.conversationId === conversationId && a.activityId === activityId,
    );
    if (matching.length === 0)
      throw new HttpError(404, 'ActivityNotFound', 'The activity to delete was not found.');
    for (const a of matching) a.deleted = true;
    events.emit('activity');
    return { status: 200 };
  }

  function validateActivity(activity: Record<string, unknown>): void {
    if (typeof activity['type'] !== 'string' || activity['type'] === '') {
      throw new HttpError(400, 'BadArgument', 'Activity type is required.');
    }
    if (Buffer.byteLength(JSON.stringify(activity)) > MAX_ACTIVITY_BYTES) {
      throw new HttpError(413, 'MessageSizeTooBig', 'The activity is larger than Teams accepts.');
    }
    const attachments = activity['attachments'];
    if (attachments !== undefined && attachments !== null) {
      if (!Array.isArray(attachments))
        throw new HttpError(400, 'BadArgument', 'attachments must be an array.');
      for (const attachment of attachments as unknown[]) {
        const a = attachment as { contentType?: unknown; content?: unknown } | null;
        if (!a || typeof a.contentType !== 'string') {
          throw new HttpError(400, 'BadArgument', 'Every attachment needs a contentType.');
        }
        if (a.contentType === 'application/vnd.microsoft.card.adaptive') {
          const content = a.content as { type?: unknown } | undefined;
          if (!content || content.type !== 'AdaptiveCard') {
            throw new HttpError(
              400,
              'BadArgument',
              'An Adaptive Card attachment needs content of type AdaptiveCard.',
            );
          }
        }
      }
    }
    if (
      activity['type'] === 'message' &&
      !activity['text'] &&
      !(Array.isArray(attachments) && attachments.length > 0)
    ) {
      throw new HttpError(400, 'BadArgument', 'A message needs text or attachments.');
    }
  }

  /**
   * teams-ai's StreamingResponse puts the stream fields on a `streaminfo` entity and on channelData; botbuilder's
   * serializer keeps only the entity's `type`, so what arrives is mostly channelData. Read both.
   */
  function streamInfo(activity: Record<string, unknown>): RecordedActivity['stream'] | undefined {
    const channelData = (activity['channelData'] ?? {}) as Record<string, unknown>;
    const entities = Array.isArray(activity['entities'])
      ? (activity['entities'] as Array<Record<string, unknown>>)
      : [];
    const entity = entities.find((e) => e['type'] === 'streaminfo');
    if (!entity && !channelData['streamType']) return undefined;
    const field = (name: string): unknown => entity?.[name] ?? channelData[name];
    const id = field('streamId');
    const sequence = field('streamSequence');
    return {
      ...(typeof id === 'string' ? { id } : {}),
      type: String(field('streamType') ?? 'streaming'),
      ...(typeof sequence === 'number' ? { sequence } : {}),
    };
  }

  function record(
    operation: RecordedActivity['operation'],
    conversationId: string,
    activityId: string,
    activity: Record<string, unknown>,
  ): RecordedActivity {
    const stream = streamInfo(activity);
    const entry: RecordedActivity = {
      seq: ++seq,
      operation,
      conversationId,
      activityId,
      type: String(activity['type']),
      ...(typeof activity['text'] === 'string' ? { text: activity['text'] } : {}),
      ...(Array.isArray(activity['attachments'])
        ? { attachments: activity['attachments'] as RecordedActivity['attachments'] }
        : {}),
      ...(typeof activity['replyToId'] === 'string' ? { replyToId: activity['replyToId'] } : {}),
      ...(Array.isArray(activity['entities'])
        ? { entities: activity['entities'] as RecordedActivity['entities'] }
        : {}),
      ...(activity['channelData'] && typeof activity['channelData'] === 'object'
        ? { channelData: activity['channelData'] as Record<string, unknown> }
        : {}),
      ...(operation === 'update' ? { updated: true } : {}),
      ...(stream ? { stream: stream.id ? stream : { ...stream, id: activityId } } : {}),
      activity,
      receivedAt: new Date().toISOString(),
    };
    activities.push(entry);
    events.emit('activity');
    return entry;
  }

  function requireConversation(id: string): ConversationRecord {
    const conversation = conversations.get(id) ?? implicitChannelConversation(id);
    if (!conversation) throw new HttpError(404, 'ConversationNotFound', 'Conversation not found.');
    return conversation;
  }

  /** A thread or channel the bot learned of from a technician's message, or the channel of a known team. */
  function implicitChannelConversation(id: string): ConversationRecord | undefined {
    const { channelId } = parseThreadConversationId(id);
    const team = findTeam(channelId);
    if (!team) return undefined;
    const conversation: ConversationRecord = {
      id,
      kind: 'channel',
      tenantId: team.members[0]?.tenantId ?? '',
      members: team.members,
      teamId: team.teamId,
      channelId,
    };
    conversations.set(id, conversation);
    return conversation;
  }

  function membersOf(conversationId: string): TeamsUser[] {
    const team = findTeam(parseThreadConversationId(conversationId).channelId);
    if (team) return team.members;
    return requireConversation(conversationId).members;
  }

  function findTeam(id: string): TeamRoster | undefined {
    for (const team of teams.values()) {
      if (team.teamId === id || team.channelId === id) return team;
    }
    return undefined;
  }

  function findUser(id: string): TeamsUser | undefined {
    for (const user of users.values()) {
      if (user.id === id || user.aadObjectId === id) return user;
    }
    return undefined;
  }

  function personalConversationFor(user: TeamsUser): string {
    const existing = personalByUser.get(user.id);
    if (existing) return existing;
    const id = newPersonalConversationId();
    personalByUser.set(user.id, id);
    conversations.set(id, { id, kind: 'personal', tenantId: user.tenantId, members: [user] });
    return id;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Driver: delivering activities to the bot as Teams does

  /** Activities for a registration other than the default name its bot as their recipient. */
  function inboundContext(forApp: string | undefined): InboundContext {
    return {
      serviceUrl: `${baseUrl}/`,
      bot: forApp === appId ? bot : { id: `28:${forApp ?? 'ticketzero-local'}`, name: bot.name },
      activityId: nextActivityId(),
      timestamp: new Date().toISOString(),
    };
  }

  function signChannelToken(
    claims: Partial<ChannelTokenClaims> & Record<string, unknown> = {},
    timing?: TokenTiming,
  ): string {
    return issuer.signChannelToken(
      { aud: appId ?? '', iss: issuerName, serviceurl: `${baseUrl}/`, ...claims },
      timing,
    );
  }

  /**
   * Delivers an activity as Teams does: signed per attempt, and with Teams timing abandoned after the timeout and
   * delivered again (same id, same body). Records each attempt, a late answer as a violation, and the activity once
   * in `delivered`.
   */
  async function deliver(
    activity: InboundActivity,
    forApp: string | undefined,
  ): Promise<{ status: number; body?: unknown; text: string; attempts: DeliveryAttempt[] }> {
    if (!sandbox.botEndpoint) {
      throw new ConnectorSandboxError(
        'The connector sandbox has no bot endpoint; set sandbox.botEndpoint first.',
      );
    }
    const timing = teamsTiming;
    const limitMs = timing?.inboundTimeoutMs ?? TEAMS_INBOUND_TIMEOUT_MS;
    const outcome = await deliverInbound({
      endpoint: sandbox.botEndpoint,
      activity,
      headers: () => ({
        'content-type': 'application/json; charset=utf-8',
        ...(signing ? { authorization: `Bearer ${signChannelToken({ aud: forApp ?? '' })}` } : {}),
      }),
      signed: signing,
      appId: forApp,
      timing,
      onAttempt: (attempt) => {
        attempts.push(attempt);
        if (attempt.status === 'timed_out' || attempt.durationMs > limitMs) {
          const waited = Math.round(attempt.durationMs);
          violations.push({
            kind: 'inbound_timeout',
            at: new Date().toISOString(),
            conversationId: attempt.conversationId,
            activityId: attempt.activityId,
            attempt: attempt.attempt,
            elapsedMs: waited,
            limitMs,
            detail:
              attempt.status === 'timed_out'
                ? `no answer to ${attempt.activityType} ${attempt.activityId} (attempt ${attempt.attempt}) within ${limitMs} ms; abandoned`
                : `answer ${attempt.status} to ${attempt.activityType} ${attempt.activityId} (attempt ${attempt.attempt}) after ${waited} ms (limit ${limitMs} ms)`,
          });
        }
      },
    });
    delivered.push({
      activity,
      status: outcome.status,
      attempts: outcome.attempts.length,
      signed: signing,
      appId: forApp,
    });
    let body: unknown;
    if (outcome.text !== '') {
      try {
        body = JSON.parse(outcome.text);
      } catch {
        body = outcome.text;
      }
    }
    return { status: outcome.status, body, text: outcome.text, attempts: outcome.attempts };
  }

  function remember(user: TeamsUser): void {
    users.set(user.id, user);
  }

  const sandbox: ConnectorSandbox = {
    url: baseUrl,
    serviceUrl: `${baseUrl}/`,
    appId,
    appIds: [...apps.keys()],
    appForTenant,
    bot,
    openIdMetadataUrl: `${baseUrl}/v1/.well-known/openidconfiguration`,
    issuer: issuerName,
    loginUrl: (tenantId = 'botframework.com') => `${baseUrl}/${tenantId}`,
    signing,
    botEndpoint: options.botEndpoint,
    activities,
    delivered,
    requests,
    signingKeyId: issuer.kid,
    faults: {
      inject(fault) {
        if (!Number.isInteger(fault.times) || fault.times < 1) {
          throw new ConnectorSandboxError('A fault needs times >= 1.');
        }
        faultQueue.push({ ...fault });
      },
      clear() {
        faultQueue.length = 0;
      },
      get pending() {
        return faultQueue.reduce((n, f) => n + f.times, 0);
      },
    },

    async installFor(user) {
      remember(user);
      installed.add(user.id);
      const conversationId = personalConversationFor(user);
      const forApp = appForTenant(user.tenantId);
      const result = await deliver(installActivity(inboundContext(forApp), user, conversationId), forApp);
      if (!isSuccess(result.status)) {
        throw new ConnectorSandboxError(
          `The bot answered ${describeAttempts(result.attempts)} to the install conversationUpdate.`,
        );
      }
      return conversationId;
    },

    async userSays(user, text, opts = {}) {
      remember(user);
      const conversationId = opts.conversationId ?? personalConversationFor(user);
      const forApp = opts.asApp ?? appForTenant(user.tenantId);
      const activity = personalMessageActivity(inboundContext(forApp), user, conversationId, text);
      return deliveryResult(await deliver(activity, forApp), conversationId, activity.id);
    },

    async clickAction(user, conversationId, data, opts = {}) {
      remember(user);
      const conversation = conversations.get(conversationId) ?? implicitChannelConversation(conversationId);
      const channel =
        conversation?.kind === 'channel' && conversation.teamId && conversation.channelId
          ? { teamId: conversation.teamId, channelId: conversation.channelId }
          : undefined;
      const forApp = appForTenant(user.tenantId);
      const activity = adaptiveCardActionActivity(
        inboundContext(forApp),
        user,
        { id: conversationId, ...(channel ? { channel } : {}) },
        { verb: data.verb, data },
        opts.replyToId,
      );
      const result = await deliver(activity, forApp);
      if (!isSuccess(result.status)) {
        throw new ConnectorSandboxError(
          `The bot answered ${describeAttempts(result.attempts)} to an adaptiveCard/action invoke.`,
        );
      }
      return result.body;
    },

    async teamMemberSays(member, channel, text, mentions = []) {
      remember(member);
      const forApp = appForTenant(member.tenantId);
      const activity = channelMessageActivity(inboundContext(forApp), member, channel, text, mentions);
      const conversationId = activity.conversation.id;
      if (!conversations.has(conversationId)) {
        const team = findTeam(channel.channelId) ?? findTeam(channel.teamId);
        conversations.set(conversationId, {
          id: conversationId,
          kind: 'channel',
          tenantId: member.tenantId,
          members: team?.members ?? [member],
          teamId: channel.teamId,
          channelId: channel.channelId,
        });
      }
      return deliveryResult(await deliver(activity, forApp), conversationId, activity.id);
    },

    addTeam(team) {
      teams.set(team.teamId, { ...team, members: [...team.members] });
      for (const member of team.members) remember(member);
    },

    addUser(user) {
      remember(user);
    },

    async sendRaw(body, headers = {}) {
      if (!sandbox.botEndpoint) {
        throw new ConnectorSandboxError(
          'The connector sandbox has no bot endpoint; set sandbox.botEndpoint first.',
        );
      }
      const response = await fetch(sandbox.botEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      return { status: response.status, body: await response.text() };
    },

    signChannelToken,

    forgetConversation(id) {
      conversations.delete(id);
      for (const [userId, conversationId] of personalByUser) {
        if (conversationId === id) personalByUser.delete(userId);
      }
    },

    conversation(id) {
      const conversation = conversations.get(id);
      if (!conversation) return undefined;
      const own = activities.filter((a) => a.conversationId === id);
      const latest = new Map<string, RecordedActivity>();
      for (const a of own) {
        if (a.type === 'typing') continue;
        latest.set(a.activityId, a);
      }
      return {
        id,
        kind: conversation.kind,
        tenantId: conversation.tenantId,
        members: [...conversation.members],
        ...(conversation.teamId ? { teamId: conversation.teamId } : {}),
        ...(conversation.channelId ? { channelId: conversation.channelId } : {}),
        activities: own,
        messages: [...latest.values()].filter((a) => !a.deleted).sort((a, b) => a.seq - b.seq),
      };
    },

    waitFor(predicate, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const found = activities.find(predicate);
          if (!found) return false;
          clearTimeout(timer);
          events.off('activity', check);
          resolve(found);
          return true;
        };
        const timer = setTimeout(() => {
          events.off('activity', check);
          const seen = activities
            .map(
              (a) =>
                `#${a.seq} ${a.operation} ${a.type} in ${a.conversationId}: ${(a.text ?? '').slice(0, 60)}`,
            )
            .join('\n  ');
          reject(
            new ConnectorSandboxError(
              `No activity matched within ${timeoutMs} ms. Recorded so far:\n  ${seen || '(none)'}`,
            ),
          );
        }, timeoutMs);
        if (!check()) events.on('activity', check);
      });
    },

    get teamsTiming() {
      return teamsTiming;
    },

    setTeamsTiming(timing) {
      teamsTiming = resolveTeamsTiming(timing);
    },

    deliveries() {
      return [...attempts];
    },

    deliveriesOf(activityId) {
      return attempts.filter((a) => a.activityId === activityId).sort((a, b) => a.attempt - b.attempt);
    },

    get streamLimits() {
      return streamLimits;
    },

    setStreamLimits(limits) {
      streamLimits = resolveStreamLimits(limits);
    },

    streams() {
      return streamMonitor.streams();
    },

    violations() {
      return [...violations, ...streamMonitor.unfinished()];
    },

    clear() {
      activities.length = 0;
      delivered.length = 0;
      requests.length = 0;
      faultQueue.length = 0;
      attempts.length = 0;
      violations.length = 0;
      streamMonitor.clear();
    },

    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
  return sandbox;
}

function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

/** `200`, or `timed_out, timed_out` when no attempt got an answer. */
function describeAttempts(attempts: readonly DeliveryAttempt[]): string {
  return attempts.map((a) => String(a.status)).join(', ');
}

function deliveryResult(
  result: { status: number; body?: unknown; attempts: DeliveryAttempt[] },
  conversationId: string,
  activityId: string,
): DeliveryResult {
  return {
    status: result.status,
    accepted: isSuccess(result.status),
    conversationId,
    activityId,
    ...(result.body === undefined ? {} : { body: result.body }),
    attempts: result.attempts,
  };
}

function resolveTeamsTiming(timing: boolean | Partial<TeamsTiming>): Readonly<TeamsTiming> | undefined {
  if (timing === false) return undefined;
  const resolved = { ...TEAMS_TIMING, ...(timing === true ? {} : definedOnly(timing)) };
  const problems: string[] = [];
  if (!(resolved.inboundTimeoutMs > 0)) problems.push('inboundTimeoutMs must be above 0');
  if (!Number.isInteger(resolved.redeliveries) || resolved.redeliveries < 0)
    problems.push('redeliveries must be a whole number, 0 or more');
  if (!(resolved.redeliveryDelayMs >= 0)) problems.push('redeliveryDelayMs must be 0 or more');
  if (problems.length > 0) throw new ConnectorSandboxError(`Teams timing: ${problems.join('; ')}.`);
  return Object.freeze(resolved);
}

function resolveStreamLimits(limits: Partial<StreamLimits>): Readonly<StreamLimits> {
  const resolved = { ...TEAMS_STREAM_LIMITS, ...definedOnly(limits) };
  if (!(resolved.maxGapMs > 0) || !(resolved.maxDurationMs > 0)) {
    throw new ConnectorSandboxError('Stream limits: maxGapMs and maxDurationMs must be above 0.');
  }
  return Object.freeze(resolved);
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The authority metadata msal-node needs to use a local token endpoint (see src/http/bot-authentication.ts). */
export function authorityMetadata(tenantUrl: string): Record<string, string> {
  return {
    token_endpoint: `${tenantUrl}/oauth2/v2.0/token`,
    authorization_endpoint: `${tenantUrl}/oauth2/v2.0/authorize`,
    issuer: `${tenantUrl}/v2.0`,
    jwks_uri: `${tenantUrl}/discovery/v2.0/keys`,
  };
}

function memberJson(user: TeamsUser): Record<string, unknown> {
  const [givenName, ...rest] = user.name.split(' ');
  return {
    id: user.id,
    name: user.name,
    aadObjectId: user.aadObjectId,
    email: user.email,
    userPrincipalName: user.userPrincipalName ?? user.email,
    givenName,
    surname: rest.join(' ') || undefined,
    tenantId: user.tenantId,
    userRole: 'user',
  };
}

function asObject(value: unknown, message: string): Record<string, unknown> {
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new HttpError(400, 'BadArgument', message);
  return value as Record<string, unknown>;
}

function parseJson(body: string): unknown {
  if (body.trim() === '') return undefined;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    throw new HttpError(400, 'BadSyntax', 'The request body is not valid JSON.');
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES)
      throw new HttpError(413, 'MessageSizeTooBig', 'The request body is too large.');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(
  res: ServerResponse,
  status: number,
  body?: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) return;
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    ...(text ? { 'content-type': 'application/json; charset=utf-8' } : {}),
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
