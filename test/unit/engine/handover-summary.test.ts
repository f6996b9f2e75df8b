import { describe, expect, it } from 'vitest';
import { keyStep } from '../../../src/engine/handover-summary.js';

describe('the step an assistant turn asked for', () => {
  it('skips greetings and questions and keeps the instruction', () => {
    expect(
      keyStep(
        'Hello Megan, I am TicketZero. Please close Outlook completely, wait ten seconds and open it again. Does it connect now?',
      ),
    ).toBe('Please close Outlook completely, wait ten seconds and open it again.');
  });

  it('is nothing when the turn only asked a question', () => {
    expect(keyStep('Thanks! Can you confirm that the problem is solved?')).toBeNull();
  });

  it('is shortened when very long', () => {
    expect(keyStep(`Open ${'the settings '.repeat(40)}.`)?.length).toBeLessThanOrEqual(160);
  });
});
