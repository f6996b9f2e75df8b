import { z } from 'zod';
import { setting } from '../setting.js';

export const techniciansSection = {
  /** The technicians' team and channel (or captured with "@TicketZero use this channel"). */
  teamId: setting('TECH_TEAM_ID', z.string().optional()),
  channelId: setting('TECH_CHANNEL_ID', z.string().optional()),
  /** An Entra group whose members count as technicians. */
  groupId: setting('TECH_GROUP_ID', z.string().optional()),
  /** JSON file listing technicians: [{ "name", "email", "ateraContactId"?, "aadObjectId"? }]. */
  directoryFile: setting('TECHNICIANS_FILE', z.string().optional()),
  /** Priority and status set on escalation. */
  escalationPriority: setting(
    'ESCALATION_PRIORITY',
    z.enum(['Low', 'Medium', 'High', 'Critical']).optional(),
  ),
  escalationStatus: setting('ESCALATION_STATUS', z.string().default('Open')),
};
