/**
 * The control block: the one line at the very end of the model's answer that tells the engine how the round
 * ended. Only the model writes it; user text that looks like it is neutralised before it reaches the model, and
 * the parser trusts a block only when it is the last thing in the answer.
 *
 *   [[ticketzero: outcome=needs_human; category=password_mfa; reason=account locked, needs an admin]]
 */

export const CONTROL_LABEL = 'ticketzero';

export type Outcome = 'continue' | 'resolved_pending_confirmation' | 'needs_human';

/** Issue categories the model picks from, kept small so reports can group tickets. */
export const ISSUE_CATEGORIES = [
  'outlook',
  'vpn',
  'printer',
  'wifi',
  'network',
  'password_mfa',
  'onedrive_teams_sync',
  'slow_pc',
  'hardware',
  'software',
  'other',
] as const;

/**
 * A control block anywhere in a text: optional code-fence backticks, `[[`, the label, anything up to `]]`
 * (or to the end of the text when the model was cut off), and backticks closing a fence.
 */
export const CONTROL_BLOCK_PATTERN =
  /`{0,3}\s*\[\[\s*ticketzero(?![a-z0-9_])[^\]]*(?:\]\](?:\s*`{1,3})?|$)/gi;

export function formatControlBlock(block: {
  outcome: Outcome;
  category: string;
  reason?: string | null;
}): string {
  const reason = block.reason ? `; reason=${block.reason}` : '';
  return `[[${CONTROL_LABEL}: outcome=${block.outcome}; category=${block.category}${reason}]]`;
}
