/**
 * Checks that an inbound request body is a Bot Framework activity TicketZero can route, before botbuilder or the
 * engine see it. A body that fails gets a 400 with the reason; it never reaches the engine.
 */
import { z } from 'zod';
import { classifyOutboundUrl } from '../../security/outbound-url-policy.js';

const account = z.object({
  id: z.string().min(1),
  name: z.string().optional(),
  aadObjectId: z.string().optional(),
});

const entity = z.object({ type: z.string() }).passthrough();

const Activity = z
  .object({
    type: z.string().min(1, 'type must not be empty'),
    id: z.string().optional(),
    channelId: z.string().min(1),
    // The bot sends its access token to this URL when it replies: https only (plain http on loopback: sandboxes).
    serviceUrl: z
      .string()
      .url()
      .refine(
        (v) => ['https', 'loopback_http'].includes(classifyOutboundUrl(v)),
        'serviceUrl must be an https URL (plain http only on loopback)',
      ),
    from: account,
    recipient: account,
    conversation: z
      .object({
        id: z.string().min(1),
        conversationType: z.string().optional(),
        tenantId: z.string().optional(),
        isGroup: z.boolean().optional(),
      })
      .passthrough(),
    text: z.string().optional(),
    name: z.string().optional(),
    attachments: z.array(z.object({ contentType: z.string() }).passthrough()).optional(),
    entities: z.array(entity).optional(),
    membersAdded: z.array(account).optional(),
    membersRemoved: z.array(account).optional(),
    channelData: z.record(z.unknown()).optional(),
    value: z.unknown().optional(),
  })
  .passthrough();

export type InboundCheck = { ok: true } | { ok: false; reason: string };

export function checkInboundActivity(body: unknown): InboundCheck {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, reason: 'the request body must be a JSON object (a Bot Framework activity)' };
  }
  const parsed = Activity.safeParse(body);
  if (parsed.success) return { ok: true };
  const problems = parsed.error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || '(activity)'}: ${issue.message}`);
  return { ok: false, reason: `not a valid activity: ${problems.join('; ')}` };
}
