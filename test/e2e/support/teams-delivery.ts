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
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  const failures: string[] = [];
  for (let attempt = 1; ; attempt += 1) {
    try {
      const result = await connector.sendRaw(activity, {
        authorization: `Bearer ${connector.signChannelToken()}`,
      });
      if (result.status >= 200 && result.status < 300)
        return { status: result.status, attempts: attempt, failures };
      if (result.status < 500) {
        throw new Error(`the bot refused activity ${activity.id} with ${result.status}: ${result.body}`);
      }
      failures.push(String(result.status));
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('the bot refused')) throw error;
      failures.push(
        error instanceof Error
          ? ((error.cause as Error | undefined)?.message ?? error.message)
          : String(error),
      );
    }
    if (Date.now() > deadline) {
      throw new Error(
        `activity ${activity.id} was not accepted after ${attempt} attempts: ${failures.join(', ')}`,
      );
    }
    await new Promise((r) => setTimeout(r, options.retryDelayMs ?? 100));
  }
}
