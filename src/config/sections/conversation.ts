import { int, setting } from '../setting.js';

export const conversationSection = {
  maxRounds: setting('CONVERSATION_MAX_ROUNDS', int(10, 1, 100)),
  maxMinutes: setting('CONVERSATION_MAX_MINUTES', int(30, 1, 24 * 60)),
  /** The bot says the limit is near when this many rounds (or minutes/3) are left. */
  warnRoundsLeft: setting('CONVERSATION_WARN_ROUNDS_LEFT', int(2, 0, 100)),
};
