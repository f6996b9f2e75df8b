/**
 * Delivering a user's message the way Teams does: one activity with a fixed id, POSTed to the bot's endpoint
 * with a signed channel token, and POSTed again, with the same id, while the bot answers with a 5xx or cannot
 * be reached (Teams retries undelivered activities). A 4xx is the bot refusing the activity: not retried.
 */
import type { ConnectorSandbox, TeamsUser } from '../../../src/sandboxes/connector/connector-sandbox.js';
import {
  personalMessageActivity,
  type InboundActivity,
} from '../../../src/sandboxes/connector/teams-activities.js';
import { until } from '../../support/waiting.js';

export function userMessageActivity(
  connector: ConnectorSandbox,
  user: TeamsUser,
  conversationId: string,
  text: string,
  activityId: string,
): InboundActivity {
  return personalMessageActivity(
    { serviceUrl: connector.serviceUrl, bot: connector.bot, activityId, timestamp: new Date().toISOString() },
    user,
    conversationId,
    text,
  );
}

export interface DeliveryOutcome {
  /** The status of the accepted delivery. */
  status: number;
  /** Deliveries tried, the accepted one included. */
  attempts: number;
  /** Why the earlier attempts failed (status or network error). */
  failures: string[];
}

/** POSTs `activity` until the bot accepts it (2xx); throws on a 4xx or when `timeoutMs` passes. */
export async function deliverUntilAccepted(
  connector: ConnectorSandbox,
  activity: InboundActivity,
  options: { timeoutMs?: number; retryDelayMs?: number } = {},
): Promise<DeliveryOutcome> {
  const failures: string[] = [];
  let attempts = 0;
  const outcome = await until(
    `the bot to accept activity ${activity.id}`,
    async (): Promise<DeliveryOutcome | { refused: string } | undefined> => {
      attempts += 1;
      try {
        const result = await connector.sendRaw(activity, {
          authorization: `Bearer ${connector.signChannelToken()}`,
        });
        if (result.status >= 200 && result.status < 300) return { status: result.status, attempts, failures };
        if (result.status < 500) {
          return { refused: `the bot refused activity ${activity.id} with ${result.status}: ${result.body}` };
        }
        failures.push(String(result.status));
      } catch (error) {
        failures.push(
          error instanceof Error
            ? ((error.cause as Error | undefined)?.message ?? error.message)
            : String(error),
        );
      }
      return undefined;
    },
    { timeoutMs: options.timeoutMs ?? 30_000, intervalMs: options.retryDelayMs ?? 100 },
  ).catch(() => {
    throw new Error(
      `activity ${activity.id} was not accepted after ${attempts} attempts: ${failures.join(', ')}`,
    );
  });
  if ('refused' in outcome) throw new Error(outcome.refused);
  return outcome;
}
