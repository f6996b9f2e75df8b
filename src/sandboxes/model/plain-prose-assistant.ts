/**
 * The model sandbox's `plain-prose` persona: a small local model at its worst, short of talking nonsense. It gives
 * the same sensible support steps as the scripted persona (the support playbook picks the move) but ignores every
 * format instruction: it never writes a control line, a JSON block or anything in `[[…]]`, so it never tells the
 * engine how a round ended — not when the user says it works, not when a technician is needed. On top of that,
 * as real small models do, it sometimes answers a German, French or Spanish user in English, sometimes wraps its
 * answer in Markdown (bold step headings, numbered lists, a heading), and pads with stock openings and sign-offs.
 *
 * Deterministic: every quirk is drawn from a hash of the conversation (its ticket line) and the answer's number,
 * so the same conversation always gets the same answer and tests are reproducible.
 */
import {
  readSupportConversation,
  stepsIn,
  type ChatTurn,
  type Language,
  type SupportSituation,
} from './support-playbook.js';

interface PlainPhrases {
  hello: (name: string) => string;
  /** Openings of a follow-up answer. */
  acks: readonly string[];
  listIntro: string;
  step: (n: number) => string;
  glad: string;
  human: string;
  password: string;
  giveUp: string;
  again: string;
  signOffs: readonly string[];
}

const PLAIN: Record<Language, PlainPhrases> = {
  en: {
    hello: (name) => `Hi${name ? ` ${name}` : ''}, thanks for reaching out! Sorry to hear about the trouble.`,
    acks: ['Thanks for the update.', 'Okay, understood.', 'I see, thanks for letting me know.'],
    listIntro: 'Here is what you can try:',
    step: (n) => `Step ${n}`,
    glad: "Great, I'm glad to hear it works again! Is there anything else I can help you with?",
    human:
      'I understand that you would like to talk to a technician. Please stay in this chat; someone from your IT support can pick this up.',
    password:
      'Resetting a password or unlocking an account can only be done by an administrator, not by me. Please do not send me any password or code; your IT support team can help you with this.',
    giveUp:
      "I'm sorry that none of these steps helped. At this point it is best to have a technician look at it.",
    again: "Let's go through it once more:",
    signOffs: ['Let me know if you need further assistance!', 'I hope this helps!'],
  },
  de: {
    hello: (name) =>
      `Hallo${name ? ` ${name}` : ''}, danke für Ihre Nachricht! Schade, dass es Probleme gibt.`,
    acks: ['Danke für die Rückmeldung.', 'Okay, verstanden.', 'Alles klar, danke für die Info.'],
    listIntro: 'Folgendes können Sie versuchen:',
    step: (n) => `Schritt ${n}`,
    glad: 'Super, schön dass es wieder funktioniert! Kann ich Ihnen sonst noch helfen?',
    human:
      'Ich verstehe, dass Sie mit einem Techniker sprechen möchten. Bleiben Sie bitte in diesem Chat; jemand aus Ihrem IT-Support kann das übernehmen.',
    password:
      'Ein Passwort zurücksetzen oder ein Konto entsperren kann nur ein Administrator, nicht ich. Bitte senden Sie mir kein Passwort und keinen Code; Ihr IT-Support hilft Ihnen dabei.',
    giveUp:
      'Es tut mir leid, dass keiner dieser Schritte geholfen hat. Am besten schaut sich das jetzt ein Techniker an.',
    again: 'Gehen wir es noch einmal durch:',
    signOffs: ['Melden Sie sich, wenn Sie weitere Hilfe brauchen!', 'Ich hoffe, das hilft!'],
  },
  fr: {
    hello: (name) => `Bonjour${name ? ` ${name}` : ''}, merci pour votre message ! Désolé pour ce problème.`,
    acks: ['Merci pour le retour.', "D'accord, c'est noté.", 'Je vois, merci de me tenir informé.'],
    listIntro: 'Voici ce que vous pouvez essayer :',
    step: (n) => `Étape ${n}`,
    glad: 'Parfait, ravi que cela fonctionne de nouveau ! Puis-je vous aider pour autre chose ?',
    human:
      "Je comprends que vous souhaitez parler à un technicien. Restez dans cette conversation ; quelqu'un de votre support informatique peut prendre le relais.",
    password:
      "Seul un administrateur peut réinitialiser un mot de passe ou débloquer un compte, pas moi. Ne m'envoyez aucun mot de passe ni code ; votre support informatique peut vous aider.",
    giveUp:
      "Je suis désolé qu'aucune de ces étapes n'ait aidé. Le mieux est maintenant qu'un technicien regarde cela.",
    again: 'Reprenons depuis le début :',
    signOffs: ["N'hésitez pas si vous avez besoin d'aide supplémentaire !", "J'espère que cela vous aide !"],
  },
  es: {
    hello: (name) =>
      `Hola${name ? ` ${name}` : ''}, ¡gracias por escribirnos! Siento que tenga este problema.`,
    acks: ['Gracias por la información.', 'De acuerdo, entendido.', 'Entiendo, gracias por avisarme.'],
    listIntro: 'Esto es lo que puede probar:',
    step: (n) => `Paso ${n}`,
    glad: '¡Perfecto, me alegro de que vuelva a funcionar! ¿Puedo ayudarle con algo más?',
    human:
      'Entiendo que quiere hablar con un técnico. Quédese en este chat; alguien de su soporte informático puede encargarse.',
    password:
      'Solo un administrador puede restablecer una contraseña o desbloquear una cuenta, yo no. No me envíe ninguna contraseña ni código; su equipo de soporte informático puede ayudarle.',
    giveUp: 'Siento que ninguno de estos pasos haya servido. Lo mejor ahora es que un técnico lo revise.',
    again: 'Repasémoslo una vez más:',
    signOffs: ['¡Avíseme si necesita más ayuda!', '¡Espero que le sirva!'],
  },
};

/** How often a quirk shows, per answer. */
const ENGLISH_DRIFT = 0.25;
const SIGN_OFF = 0.4;
const REPEAT_WHEN_EXHAUSTED = 0.5;
/** Cumulative shares of the answer styles; the rest is plain prose. */
const STYLES: readonly [Style, number][] = [
  ['bold_step', 0.15],
  ['numbered_list', 0.35],
  ['heading', 0.45],
];
type Style = 'plain' | 'bold_step' | 'numbered_list' | 'heading';

export function plainProseAnswer(messages: readonly ChatTurn[]): string {
  const situation = readSupportConversation(messages);
  const draw = (quirk: string) => chance(situation.conversationKey, situation.answersGiven, quirk);
  const language: Language =
    situation.language !== 'en' && draw('english') < ENGLISH_DRIFT ? 'en' : situation.language;
  const p = PLAIN[language];
  const signOff = draw('sign-off') < SIGN_OFF ? pick(p.signOffs, draw('sign-off-which')) : '';
  const style = STYLES.find(([, upTo]) => draw('style') < upTo)?.[0] ?? 'plain';
  const { move } = situation;

  switch (move.kind) {
    case 'asked_human':
      return p.human;
    case 'works_now':
      return p.glad;
    case 'password':
      return p.password;
    case 'exhausted': {
      const steps = stepsIn(situation.category, language);
      if (steps.length === 0 || draw('repeat') >= REPEAT_WHEN_EXHAUSTED) return join(p.giveUp, signOff);
      const again = steps[situation.answersGiven % steps.length]!;
      return join(p.again, render(again, style, situation, p), signOff);
    }
    case 'step': {
      const step = stepsIn(situation.category, language)[situation.answersGiven] ?? move.step;
      const opening = move.first ? p.hello(situation.firstName) : pick(p.acks, draw('ack'));
      return join(opening, render(step, style, situation, p), signOff);
    }
  }
}

function render(step: string, style: Style, situation: SupportSituation, p: PlainPhrases): string {
  const n = situation.answersGiven + 1;
  switch (style) {
    case 'plain':
      return step;
    case 'bold_step':
      return `**${p.step(n)}:** ${markUp(step)}`;
    case 'heading':
      return `### ${p.step(n)}\n\n${markUp(step)}`;
    case 'numbered_list': {
      const sentences = step.split(/(?<=[.!?])\s+(?=\S)/);
      const actions = sentences.filter((s) => !/[?]\s*$/.test(s));
      const questions = sentences.filter((s) => /[?]\s*$/.test(s));
      if (actions.length === 0) return markUp(step);
      const list = actions.map((s, i) => `${i + 1}. ${markUp(s)}`).join('\n');
      return [p.listIntro, list, questions.join(' ')].filter(Boolean).join('\n\n');
    }
  }
}

/** Markdown the way chat models add it: key combinations in bold, commands as inline code. */
function markUp(text: string): string {
  return text
    .replace(/\b(?:Windows|Ctrl|Strg)(?:\+[\p{L}\p{N}]+)+/gu, (keys) => `**${keys}**`)
    .replace(/\boutlook\.exe \/safe\b/g, '`outlook.exe /safe`');
}

function join(...parts: string[]): string {
  const kept = parts.filter((part) => part !== '');
  return kept.some((part) => part.includes('\n')) ? kept.join('\n\n') : kept.join(' ');
}

function pick<T>(items: readonly T[], at: number): T {
  return items[Math.floor(at * items.length) % items.length]!;
}

/** A number in [0, 1) fixed by the conversation, the answer's number and the quirk: FNV-1a over the three. */
function chance(conversationKey: string, answer: number, quirk: string): number {
  let hash = 0x811c9dc5;
  for (const char of `${conversationKey}\u0000${answer}\u0000${quirk}`) {
    hash ^= char.codePointAt(0)!;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  // FNV's low bits mix poorly for short inputs: fold the high half in before scaling.
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x45d9f3b) >>> 0;
  hash = (hash ^ (hash >>> 16)) >>> 0;
  return hash / 0x1_0000_0000;
}
