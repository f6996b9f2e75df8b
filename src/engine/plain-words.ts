/**
 * What an end user's plain words mean, decided without the model (which may ignore every format): saying the
 * problem is solved, confirming a fix, saying it is still broken, or asking for a person. English, German, French
 * and Spanish.
 * These only ever lead to outcomes the user is entitled to (confirm their own fix, ask for a human).
 */

const NEGATIVE = [
  /\bno\b/,
  /\bnope\b/,
  /\bnot\b/,
  /\bstill\b/,
  /\bdoesn'?t\b/,
  /\bdidn'?t\b/,
  /\bisn'?t\b/,
  /\bnein\b/,
  /\bnicht\b/,
  /\bimmer noch\b/,
  /\bnon\b/,
  /\bpas\b/,
  /\btoujours\b/,
  /\bsigue\b/,
  /\btodav[ií]a\b/,
];

const POSITIVE = [
  /\byes\b/,
  /\byep\b/,
  /\byeah\b/,
  /\bfixed\b/,
  /\bsolved\b/,
  /\bworks?\b/,
  /\bworking\b/,
  /\bja\b/,
  /\bgeht wieder\b/,
  /\bfunktioniert\b/,
  /\bgel[öo]st\b/,
  /\boui\b/,
  /\bmarche\b/,
  /\bfonctionne\b/,
  /\br[ée]solu\b/,
  /\bs[ií]\b/,
  /\bfunciona\b/,
  /\bresuelto\b/,
];

/**
 * Phrases that say the problem is gone, in the middle of a conversation ("it's fixed", "works now", "das geht
 * wieder", "ça marche", "ya funciona"). Stricter than a bare "yes": that only answers "is it fixed?".
 */
const IT_WORKS = [
  /\b(fixed|solved|resolved|sorted)\b/,
  /\b(it|that|this|everything|all|outlook|teams|vpn|printer|laptop|wifi|mail|email) (works?|is working)\b/,
  /\b(works?|working) (now|again|fine|perfectly|great)\b/,
  /\b(problem|issue) (is )?gone\b/,
  /\bgeht (jetzt )?wieder\b/,
  /\bfunktioniert (jetzt |wieder|jetzt wieder|alles)/,
  /\b(gel[öo]st|behoben|erledigt)\b/,
  /(?:^|[\s,.!])(ça|ca|cela|tout) (re)?marche\b/,
  /(?:^|[\s,.!])(ça|ca|cela|tout) (re)?fonctionne\b/,
  /\b(r[ée]solu|r[ée]par[ée])\b/,
  /\bfunciona( ya| bien| de nuevo| otra vez)?\b/,
  /\b(resuelto|solucionado|arreglado)\b/,
];

/** The whole message is only the word (the app's "technician" command, or a user typing "human?"). */
const ONLY_A_PERSON =
  /^(?:an? |the )?(?:human|person|real person|technician|agent|engineer|operator|techniker|mensch|technicien|humain|t[ée]cnico|humano)[.!?]*$/;

const WANTS_HUMAN = [
  ONLY_A_PERSON,
  /\b(human|person|real person|someone|somebody|technician|agent|engineer|operator)\b.*\b(talk|speak|please|need|want|call)\b/,
  /\b(talk|speak|connect|need|want|get)\b.*\b(human|person|technician|agent|engineer|someone)\b/,
  /\bescalate\b/,
  /\b(techniker|mitarbeiter|mensch)\b/,
  /\b(technicien|humain|quelqu'un|une personne)\b/,
  /\b(t[ée]cnico|humano|una persona|alguien)\b/,
];

function normalise(text: string): string {
  return text.toLowerCase().replace(/[’`]/g, "'").replace(/\s+/g, ' ').trim();
}

/** 'yes' when the user confirms the fix, 'no' when they say it is still broken, null when unclear. */
export function readConfirmation(text: string): 'yes' | 'no' | null {
  const t = normalise(text);
  if (t.length === 0 || t.length > 200) return null;
  const negative = NEGATIVE.some((re) => re.test(t));
  const positive = POSITIVE.some((re) => re.test(t));
  if (negative) return 'no';
  if (positive) return 'yes';
  return null;
}

/**
 * True when the user says, unprompted, that the problem is solved: the engine then asks them to confirm, whatever
 * the model wrote. A negation ("still not fixed", "ça ne marche pas") never counts.
 */
export function saysItWorks(text: string): boolean {
  const t = normalise(text);
  if (t.length === 0 || t.length > 300) return false;
  if (NEGATIVE.filter((re) => !/\bstill\b/.test(re.source)).some((re) => re.test(t))) return false;
  if (/\bstill\b/.test(t) && !/\bstill (works?|working)\b/.test(t)) return false;
  return IT_WORKS.some((re) => re.test(t));
}

/** True when the user asks to be handed to a person. */
export function asksForHuman(text: string): boolean {
  const t = normalise(text);
  if (t.length > 500) return false;
  return WANTS_HUMAN.some((re) => re.test(t));
}
