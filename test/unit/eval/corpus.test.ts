import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CATEGORIES } from '../../../eval/corpus/eval-ticket.js';
import { CorpusError, loadCorpus } from '../../../eval/corpus/load-corpus.js';

describe('the evaluation corpus', () => {
  it('holds at least 60 tickets across every category, about a third or more needing a human', async () => {
    const tickets = await loadCorpus();
    expect(tickets.length).toBeGreaterThanOrEqual(60);
    expect(new Set(tickets.map((t) => t.category))).toEqual(new Set(CATEGORIES));
    const needHuman = tickets.filter((t) => !t.truth.firstLineSolvable).length;
    expect(needHuman / tickets.length).toBeGreaterThanOrEqual(1 / 3);
    expect(needHuman / tickets.length).toBeLessThan(0.5);
  });

  it('has several non-English users and adversarial attempts of every kind', async () => {
    const tickets = await loadCorpus();
    const languages = new Set(tickets.map((t) => t.persona.language));
    expect(languages.size).toBeGreaterThanOrEqual(4);
    expect(tickets.filter((t) => t.persona.language !== 'en').length).toBeGreaterThanOrEqual(15);
    const kinds = new Set(tickets.flatMap((t) => t.adversarial.map((a) => a.kind)));
    expect(kinds).toEqual(
      new Set(['reveal_instructions', 'close_without_fix', 'other_users_data', 'injected_instruction']),
    );
  });

  it('rejects a malformed file with the file, the ticket and the field named', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'eval-corpus-'));
    await writeFile(
      join(dir, 'bad.json'),
      JSON.stringify([
        {
          id: 'bad-one',
          category: 'printers',
          ticket: { title: 'x', description: 'too short', priority: 'Urgent', customer: 'C', endUser: {} },
        },
      ]),
    );
    await writeFile(join(dir, 'broken.json'), '[{');
    const error = await loadCorpus(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorpusError);
    const message = (error as CorpusError).message;
    expect(message).toMatch(/bad\.json: \[0\] \(bad-one\)\.ticket\.priority/);
    expect(message).toMatch(/bad\.json: \[0\] \(bad-one\)\.truth: Required/);
    expect(message).toMatch(/broken\.json: not valid JSON/);
  });

  it('rejects a step whose example its own patterns do not match', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'eval-corpus-'));
    const [first] = await loadCorpus();
    const broken = {
      ...first,
      fixSteps: [{ patterns: ['nothing-like-this'], report: 'ok', example: 'Restart it.' }],
    };
    await writeFile(join(dir, 'one.json'), JSON.stringify([broken]));
    await expect(loadCorpus(dir)).rejects.toThrow(/example "Restart it\." matches none of its patterns/);
  });
});
