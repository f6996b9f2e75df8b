/**
 * TicketZero's Teams bot: teams-ai's Application over botbuilder's CloudAdapter. It turns inbound activities
 * into engine calls (teams-routes.ts) and gives the engine its Teams-side ports: the end user's chat, the
 * technicians' channel, who counts as a technician, and the technicians' directory.
 */
import { Application, type TurnState } from '@microsoft/teams-ai';
import { CloudAdapter, type TurnContext } from 'botbuilder';
import type { BotFrameworkAuthentication } from 'botframework-connector';
import type restify from 'restify';
import type { ChatChannel, TechnicianChannel } from '../../ports/chat.js';
import type { Log } from '../../ports/log.js';
import type { SupportEngine } from '../../ports/support-engine.js';
import type { Technician, TechnicianAuthority, TechnicianDirectory } from '../../ports/technicians.js';
import type { TenantDirectory } from '../../ports/user-directory.js';
import {
  createConnectorCall,
  DEFAULT_CONNECTOR_RETRY,
  type ConnectorRetrySettings,
} from './connector-retry.js';
import { checkInboundActivity } from './inbound-activity.js';
import { createTeamsChatChannel, type ActiveTurn, type AppInstaller } from './teams-chat-channel.js';
import { createTeamsKv, type AdapterKv } from './teams-kv.js';
import { createTeamRoster } from './teams-roster.js';
import type { CircuitReport } from '../resilience/outside-system-policy.js';
import { ReusedConnectorClients } from './reused-connector-clients.js';
import { lateBoundEngine, registerRoutes } from './teams-routes.js';
import { createTeamsTechnicianAuthority, type GroupMembership } from './teams-technician-authority.js';
import { createTeamsTechnicianChannel, resolveTechniciansLocation } from './teams-technician-channel.js';
import { createTechnicianDirectory, readTechniciansFile } from './technician-directory.js';

export type { AppInstaller } from './teams-chat-channel.js';
export type { GroupMembership } from './teams-technician-authority.js';

export interface TeamsBotDeps {
  /** Late-bound with attach() when not given here: the engine needs the channels first. */
  engine?: SupportEngine;
  /** Conversation references, service URLs, known teams and the captured channel live in its key-value space. */
  store: AdapterKv;
  /** For several bot registrations, src/http/bot-registrations.ts's router (it picks one per request). */
  auth: BotFrameworkAuthentication;
  /** The default registration (MICROSOFT_APP_ID): the technicians' channel and tenants without their own bot. */
  appId: string | undefined;
  /**
   * The registration that serves a customer tenant (single-tenant bots: one per tenant); null or absent: `appId`.
   * The end user's 1:1 chat is opened and written as that bot.
   */
  botAppIdFor?: (tenantId: string) => string | null;
  /** Connector base URL for proactive messages before an inbound activity from the tenant told us one. */
  defaultServiceUrl: string;
  appInstaller: AppInstaller;
  technicians: {
    teamId?: string | undefined;
    channelId?: string | undefined;
    /** Entra group whose members count as technicians (checked through `groups`). */
    groupId?: string | undefined;
    /** TECHNICIANS_FILE: JSON list of { name, email, ateraContactId?, aadObjectId? }; read once here. */
    directoryFile?: string | undefined;
  };
  /** The Graph side's group check (structural), for `technicians.groupId`. */
  groups?: GroupMembership;
  /** Maps an activity's tenant id to the tenant the group check runs in. */
  tenants?: Pick<TenantDirectory, 'tenantById'>;
  log: Log;
  /** The connector's resilience policy: retries (429/412/502/504), timeout, breaker; tests shorten the delays. */
  retry?: Partial<ConnectorRetrySettings>;
  /** How long a "is a technician" answer and the team roster are kept (ms). */
  rosterCacheMs?: number;
}

export interface TeamsBot {
  /** restify handler for POST /api/messages. */
  handle(req: restify.Request, res: restify.Response): Promise<void>;
  /** Mounts POST /api/messages on the server. */
  mount(server: restify.Server): void;
  /** Runs one turn on any botbuilder adapter (botbuilder-testing's TestAdapter in unit tests). */
  run(context: TurnContext): Promise<void>;
  adapter: CloudAdapter;
  chat: ChatChannel;
  technicianChannel: TechnicianChannel;
  authority: TechnicianAuthority;
  directory: TechnicianDirectory;
  attach(engine: SupportEngine): void;
  /** The connector's circuit breaker (its resilience policy), for readiness and metrics. */
  connectorCircuit(): CircuitReport;
}

/**
 * teams-ai 1.7's `Application.run()` starts its typing timer on every message turn whatever `startTypingTimer` says
 * (the option is read nowhere): a turn still running after a second sends a typing indicator through the turn,
 * and another every second, beside the one TicketZero sends itself (teams-chat-channel.ts). Its timer is also
 * one for the whole application, shared by every turn in flight. TicketZero's answers go out proactively, never
 * through the turn, so nothing would stop that timer but the end of the turn: here it never starts.
 */
class ApplicationWithoutTypingTimer<TState extends TurnState> extends Application<TState> {
  override startTypingTimer(): void {}
}

export function createTeamsBot(deps: TeamsBotDeps): TeamsBot {
  const log = deps.log.child({ component: 'teams' });
  const kv = createTeamsKv(deps.store);
  const engine = lateBoundEngine();
  if (deps.engine) engine.attach(deps.engine);
  const call = createConnectorCall({ ...DEFAULT_CONNECTOR_RETRY, ...deps.retry }, log);
  // One connector client per (app id, service URL, audience) for all turns and sends, not one per call.
  const adapter = new CloudAdapter(new ReusedConnectorClients(deps.auth));
  const activeTurns = new Map<string, ActiveTurn>();
  const configured = { teamId: deps.technicians.teamId, channelId: deps.technicians.channelId };
  const fromFile = deps.technicians.directoryFile ? readTechniciansFile(deps.technicians.directoryFile) : [];
  const roster = createTeamRoster({ adapter, appId: deps.appId, call });
  const cacheMs = deps.rosterCacheMs ?? 60_000;
  const location = () => resolveTechniciansLocation(kv, configured, deps.defaultServiceUrl);

  let rosterCache: { at: number; members: Technician[] } | null = null;
  async function teamMembers(): Promise<Technician[]> {
    if (rosterCache && Date.now() - rosterCache.at < cacheMs * 5) return rosterCache.members;
    const where = await location();
    if (!where) return [];
    try {
      rosterCache = { at: Date.now(), members: await roster.members(where) };
    } catch (error) {
      // The directory still answers from the file and remembered technicians.
      log.warn({ err: error, teamId: where.teamId }, 'technicians team roster unavailable');
      return rosterCache?.members ?? [];
    }
    return rosterCache.members;
  }

  const directory = createTechnicianDirectory({ fromFile, roster: teamMembers, kv: deps.store });
  async function refreshUserIds(): Promise<string[]> {
    const known = await directory.list();
    return known.flatMap((t) => (t.userId ? [t.userId] : [])).slice(0, 60);
  }

  const chat = createTeamsChatChannel({
    adapter,
    appId: deps.appId,
    ...(deps.botAppIdFor ? { appIdForTenant: deps.botAppIdFor } : {}),
    audience: undefined,
    kv,
    appInstaller: deps.appInstaller,
    defaultServiceUrl: deps.defaultServiceUrl,
    activeTurns,
    call,
    log,
  });
  const technicianChannel = createTeamsTechnicianChannel({
    adapter,
    appId: deps.appId,
    audience: undefined,
    kv,
    configured,
    defaultServiceUrl: deps.defaultServiceUrl,
    refreshUserIds,
    call,
    log,
  });
  const groupId = deps.technicians.groupId;
  const authority = createTeamsTechnicianAuthority({
    location,
    candidateTeam: async (teamId) => {
      const team = await kv.team(teamId);
      return team
        ? {
            teamId: team.teamId,
            channelId: team.teamId,
            tenantId: team.tenantId,
            serviceUrl: team.serviceUrl,
          }
        : null;
    },
    isTeamMember: (where, userId) => roster.isMember(where, userId),
    groupCheck:
      groupId && deps.groups
        ? {
            membership: deps.groups,
            groupId,
            tenantFor: (tenantId) => deps.tenants?.tenantById(tenantId) ?? null,
          }
        : undefined,
    cacheMs,
    log,
  });

  const app = new ApplicationWithoutTypingTimer<TurnState>({
    removeRecipientMention: false,
    startTypingTimer: false,
    longRunningMessages: false,
  });
  registerRoutes(app, { engine: engine.get, kv, activeTurns, refreshUserIds, call, log });

  adapter.onTurnError = async (context, error) => {
    log.error(
      { err: error, conversationId: context.activity.conversation?.id, type: context.activity.type },
      'turn failed',
    );
    // An unanswered turn answers 500, so the channel knows the activity was not handled.
    throw error;
  };

  async function run(context: TurnContext): Promise<void> {
    await app.run(context);
  }

  async function handle(req: restify.Request, res: restify.Response): Promise<void> {
    const body: unknown = req.body;
    const check = checkInboundActivity(body);
    if (!check.ok) {
      log.warn({ reason: check.reason }, 'malformed activity refused');
      res.send(400, { error: { code: 'invalid_activity', message: check.reason } });
      return;
    }
    await adapter.process(req, res, run);
  }

  return {
    handle,
    mount(server) {
      server.post('/api/messages', handle);
    },
    run,
    adapter,
    chat,
    technicianChannel,
    authority,
    directory,
    attach: engine.attach,
    connectorCircuit: () => call.circuit(),
  };
}
