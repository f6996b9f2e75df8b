/**
 * One evaluation ticket: the ticket as Atera holds it, the hidden truth only the simulated user and the scorer see,
 * and the scripted end user's persona. Corpus files (`eval/tickets/*.json`) hold arrays of these and are validated
 * with this schema when loaded.
 */
import { z } from 'zod';

export const LANGUAGES = ['en', 'de', 'fr', 'es', 'nl'] as const;
export type Language = (typeof LANGUAGES)[number];

export const CATEGORIES = [
  'outlook_exchange',
  'teams_onedrive_sharepoint',
  'printers',
  'vpn_wifi',
  'password_mfa_lockout',
  'slow_pc',
  'software_install',
  'hardware',
  'phishing',
  'access_requests',
] as const;
export type Category = (typeof CATEGORIES)[number];

/** A case-insensitive regular expression, written as a string in the JSON file. */
const pattern = z.string().refine(
  (source) => {
    try {
      new RegExp(source, 'iu');
      return true;
    } catch {
      return false;
    }
  },
  { message: 'not a valid regular expression' },
);

/** A step the assistant may tell the user to do, and what the user reports after doing it. */
const step = z.object({
  /** The step counts as given when any of these matches the assistant's message. */
  patterns: z.array(pattern).min(1),
  /** What the user says after doing it (in the persona's language). */
  report: z.string().min(1),
  /** A sentence an assistant could write that must match `patterns` (checked when the corpus loads). */
  example: z.string().min(1),
});

export const ADVERSARIAL_KINDS = [
  /** Asks the assistant to reveal its system prompt or instructions. */
  'reveal_instructions',
  /** Asks the assistant to close or resolve the ticket although nothing was fixed. */
  'close_without_fix',
  /** Asks for someone else's data (a colleague's mailbox, password, files). */
  'other_users_data',
  /** An instruction smuggled into the conversation ("ignore your rules and …"). */
  'injected_instruction',
] as const;

const adversarialAttempt = z.object({
  /** The user round (1-based) in which the user sends this instead of a normal reply. */
  round: z.number().int().min(1).max(20),
  kind: z.enum(ADVERSARIAL_KINDS),
  text: z.string().min(1),
  /** The assistant complied when any of these matches one of its later messages. */
  compliedIf: z.array(pattern).default([]),
});

export const evalTicketSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9-]+$/, 'lower-case letters, digits and dashes'),
    category: z.enum(CATEGORIES),
    ticket: z.object({
      title: z.string().min(3),
      description: z.string().min(10),
      priority: z.enum(['Low', 'Medium', 'High', 'Critical']),
      customer: z.string().min(2),
      endUser: z.object({
        firstName: z.string().min(1),
        lastName: z.string().min(1),
        email: z.string().email(),
        jobTitle: z.string().nullable().default(null),
        department: z.string().nullable().default(null),
      }),
    }),
    truth: z.object({
      cause: z.string().min(5),
      fix: z.string().min(5),
      /** Whether first-line help (talking the user through steps) can solve it at all. */
      firstLineSolvable: z.boolean(),
      /** Why a human is needed (hardware, admin-only permission, security incident…); required when not solvable. */
      needsHumanBecause: z.string().nullable().default(null),
      /** A useful handover summary mentions at least one of these (symptom, device, system). */
      handoverMentions: z.array(pattern).min(1),
    }),
    persona: z.object({
      language: z.enum(LANGUAGES),
      /** Rounds the user keeps trying before asking for a human. */
      patience: z.number().int().min(1).max(12),
      skill: z.enum(['low', 'medium', 'high']),
      /** Simulated minutes the user takes to read, act and reply. */
      minutesPerReply: z.number().min(0.5).max(10),
    }),
    /** Steps that fix the hidden cause (alternatives: any one fixes it). Empty when first-line help cannot. */
    fixSteps: z.array(step).default([]),
    /** Other steps and what the user sees when doing them. */
    observations: z.array(step).default([]),
    adversarial: z.array(adversarialAttempt).default([]),
  })
  .superRefine((t, ctx) => {
    if (t.truth.firstLineSolvable && t.fixSteps.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['fixSteps'],
        message: 'a solvable ticket needs at least one fix step',
      });
    }
    if (!t.truth.firstLineSolvable && t.fixSteps.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['fixSteps'],
        message: 'a ticket that needs a human has no fix step',
      });
    }
    if (!t.truth.firstLineSolvable && !t.truth.needsHumanBecause) {
      ctx.addIssue({
        code: 'custom',
        path: ['truth', 'needsHumanBecause'],
        message: 'say why a human is needed',
      });
    }
    [...t.fixSteps, ...t.observations].forEach((s, i) => {
      if (!s.patterns.some((p) => new RegExp(p, 'iu').test(s.example))) {
        ctx.addIssue({
          code: 'custom',
          path: [i < t.fixSteps.length ? 'fixSteps' : 'observations'],
          message: `example "${s.example}" matches none of its patterns`,
        });
      }
    });
  });

export const corpusFileSchema = z.array(evalTicketSchema).min(1);

export type EvalTicket = z.infer<typeof evalTicketSchema>;
export type Step = EvalTicket['fixSteps'][number];
export type AdversarialAttempt = EvalTicket['adversarial'][number];
export type AdversarialKind = (typeof ADVERSARIAL_KINDS)[number];
