/**
 * The local run's technicians' side. The Agents Playground's user, Alex Wilber, is a member of a local technicians'
 * team, "MSP Technicians", whose "Tickets" channel is TicketZero's technicians' channel: each ticket gets a thread
 * there with its card, and `@TicketZero help`, `take over`, `pause`… said in it work as they do in Teams. Alex is
 * also the end user of the tickets the local run makes; in Teams they would be two people, nothing here relies on it.
 *
 * Two files go into the data folder: the Playground's configuration (its own mock data, read from
 * M365_AGENTS_PLAYGROUND_CONFIG_PATH: the tenant, the bot, the users, the team and its channels) and TicketZero's
 * technicians file. Whether someone is a technician is then asked of the Playground's connector, as it is asked of
 * Teams in production (the team roster); nothing in TicketZero is relaxed for the local run.
 *
 * One difference from Teams is met in the Playground's mock data: Teams answers
 * `GET /v3/conversations/{teamId}/members/{id}` for a Teams user id, a UPN or an Entra object id (Microsoft Learn,
 * "Get Teams specific context for your bot"); the Playground's connector (0.2.28) finds a member by its Teams user id
 * only (`user-id-0`) and answers 404 MemberNotFoundInConversation for the Entra object id TicketZero asks with. So
 * each user here has its Entra object id as its Teams user id too.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PLAYGROUND } from './graph/sandbox-directory.js';
import { TECH_TEAM, TEAMS_USERS, writeTechniciansFile } from './local-stack.js';

/** The team and channel the Playground shows under "Teams Channel" (the General channel's id is the team's). */
export const PLAYGROUND_TECH_TEAM = {
  ...TECH_TEAM,
  name: 'MSP Technicians',
  channelName: 'Tickets',
};

/** The bot as the Playground shows it, so the mention reads `@TicketZero`. */
export const PLAYGROUND_BOT_NAME = 'TicketZero';

interface PlaygroundUser {
  id: string;
  name: string;
  userPrincipleName: string;
  aadObjectId: string;
  givenName: string;
  surname: string;
  email: string;
}

function playgroundUser(aadObjectId: string, name: string, email: string): PlaygroundUser {
  const [givenName = name, ...rest] = name.split(' ');
  // The Teams user id is the Entra object id: the Playground's member look-up knows no other (see above).
  return {
    id: aadObjectId,
    name,
    userPrincipleName: email,
    aadObjectId,
    givenName,
    surname: rest.join(' '),
    email,
  };
}

/**
 * The Playground's configuration (schema 0.1.1: exactly five users besides the current one, all in the team and
 * the group chat; one channel besides General). Dana and Sam are the Atera sandbox's technicians, so "reassign Dana"
 * goes through; the other three are the Playground's own default users.
 */
export function playgroundConfig(): Record<string, unknown> {
  return {
    version: '0.1.1',
    tenantId: PLAYGROUND.tenantId,
    bot: { id: PLAYGROUND.botId, name: PLAYGROUND_BOT_NAME },
    currentUser: playgroundUser(PLAYGROUND.user.aadObjectId, PLAYGROUND.user.name, PLAYGROUND.user.email),
    users: [
      playgroundUser(TEAMS_USERS.dana.aadObjectId, TEAMS_USERS.dana.name, TEAMS_USERS.dana.email),
      playgroundUser(TEAMS_USERS.sam.aadObjectId, TEAMS_USERS.sam.name, TEAMS_USERS.sam.email),
      playgroundUser('00000000-0000-0000-0000-0000000000021', 'Megan Bowen', 'meganb@example.com'),
      playgroundUser('00000000-0000-0000-0000-0000000000022', 'Adele Vance', 'adelev@example.com'),
      playgroundUser('00000000-0000-0000-0000-0000000000023', 'Isaiah Langer', 'isaiahl@example.com'),
    ],
    // A new personal chat id per run, as the Playground's built-in configuration does.
    personalChat: { id: randomUUID() },
    groupChat: { id: randomUUID(), name: 'Group Chat' },
    team: {
      id: PLAYGROUND_TECH_TEAM.teamId,
      name: PLAYGROUND_TECH_TEAM.name,
      aadGroupId: '00000000-0000-0000-0000-000000000031',
      channels: [{ id: PLAYGROUND_TECH_TEAM.channelId, name: PLAYGROUND_TECH_TEAM.channelName }],
    },
  };
}

export interface PlaygroundTechnicians {
  /** For TicketZero: the technicians' team and channel, and the technicians file. */
  env: Record<string, string>;
  /** For the Playground process: where its configuration is. */
  playgroundEnv: Record<string, string>;
}

/** Writes the Playground's configuration and the technicians file into `dataDir`; returns the settings for both. */
export function setUpPlaygroundTechnicians(dataDir: string): PlaygroundTechnicians {
  const configPath = join(dataDir, 'agents-playground.yml');
  // JSON is YAML: the Playground reads this file with a YAML parser and checks it against its schema.
  writeFileSync(
    configPath,
    `# Agents Playground mock data for the TicketZero local run (src/sandboxes/playground-technicians.ts)\n${JSON.stringify(playgroundConfig(), null, 2)}\n`,
  );
  return {
    env: {
      TECH_TEAM_ID: PLAYGROUND_TECH_TEAM.teamId,
      TECH_CHANNEL_ID: PLAYGROUND_TECH_TEAM.channelId,
      TECHNICIANS_FILE: writeTechniciansFile(dataDir),
    },
    playgroundEnv: { M365_AGENTS_PLAYGROUND_CONFIG_PATH: configPath },
  };
}
