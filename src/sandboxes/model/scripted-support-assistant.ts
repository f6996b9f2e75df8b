/**
 * The model sandbox's default persona (model `ticketzero-sandbox`): a scripted IT-support assistant that follows
 * TicketZero's reply format to the letter. It is not a language model: it picks the next move with the support
 * playbook (category steps one answer at a time, hand-overs, password refusals) and ends each answer with the
 * control line the prompt asks for. Deterministic: the same conversation always gets the same answer.
 */
import { readSupportConversation, type Category, type ChatTurn, type Language } from './support-playbook.js';

export type { ChatTurn } from './support-playbook.js';

const PHRASES: Record<
  Language,
  {
    hello: (name: string) => string;
    thanks: string;
    resolved: string;
    askedHuman: string;
    password: string;
    exhausted: string;
  }
> = {
  en: {
    hello: (name) =>
      `Hello${name ? ` ${name}` : ''}, I am TicketZero, the support assistant for your ticket. Let's look at it together.`,
    thanks: 'Thanks for checking.',
    resolved:
      'Great, glad to hear it works again! Can you confirm that the problem is solved, so I can close the ticket?',
    askedHuman: 'Of course. I have passed your ticket to a technician, who will follow up with you.',
    password:
      'Resetting a password or unlocking an account or MFA needs an administrator, so I am passing this to a technician, who will follow up with you. Please do not send me any password or code.',
    exhausted:
      'We have tried the usual steps without success. A technician will take over and follow up with you.',
  },
  de: {
    hello: (name) =>
      `Hallo${name ? ` ${name}` : ''}, ich bin TicketZero, der Support-Assistent für Ihr Ticket. Schauen wir uns das gemeinsam an.`,
    thanks: 'Danke fürs Prüfen.',
    resolved:
      'Prima, schön dass es wieder geht! Können Sie bestätigen, dass das Problem gelöst ist, damit ich das Ticket schließen kann?',
    askedHuman: 'Gern. Ich habe Ihr Ticket an einen Techniker übergeben, der sich bei Ihnen meldet.',
    password:
      'Ein Passwort zurücksetzen oder ein Konto bzw. MFA entsperren kann nur ein Administrator. Ich übergebe das an einen Techniker, der sich bei Ihnen meldet. Bitte senden Sie mir kein Passwort und keinen Code.',
    exhausted:
      'Wir haben die üblichen Schritte ohne Erfolg versucht. Ein Techniker übernimmt und meldet sich bei Ihnen.',
  },
  fr: {
    hello: (name) =>
      `Bonjour${name ? ` ${name}` : ''}, je suis TicketZero, l'assistant de support pour votre ticket. Regardons cela ensemble.`,
    thanks: 'Merci pour la vérification.',
    resolved:
      'Parfait, ravi que cela fonctionne de nouveau ! Pouvez-vous confirmer que le problème est résolu, pour que je puisse fermer le ticket ?',
    askedHuman: "Bien sûr. J'ai transmis votre ticket à un technicien qui vous recontactera.",
    password:
      "La réinitialisation d'un mot de passe ou le déblocage d'un compte ou de la MFA nécessite un administrateur : je transmets à un technicien qui vous recontactera. Ne m'envoyez aucun mot de passe ni code.",
    exhausted:
      'Nous avons essayé les étapes habituelles sans succès. Un technicien va prendre le relais et vous recontacter.',
  },
  es: {
    hello: (name) =>
      `Hola${name ? ` ${name}` : ''}, soy TicketZero, el asistente de soporte para su ticket. Veámoslo juntos.`,
    thanks: 'Gracias por comprobarlo.',
    resolved:
      '¡Perfecto, me alegro de que vuelva a funcionar! ¿Puede confirmar que el problema está resuelto para que pueda cerrar el ticket?',
    askedHuman: 'Por supuesto. He pasado su ticket a un técnico, que se pondrá en contacto con usted.',
    password:
      'Restablecer una contraseña o desbloquear una cuenta o la MFA requiere un administrador, así que lo paso a un técnico, que se pondrá en contacto con usted. No me envíe ninguna contraseña ni código.',
    exhausted:
      'Hemos probado los pasos habituales sin éxito. Un técnico se hará cargo y se pondrá en contacto con usted.',
  },
};

export function scriptedSupportAnswer(messages: readonly ChatTurn[]): string {
  const { move, language, category, firstName, answersGiven } = readSupportConversation(messages);
  const phrases = PHRASES[language];
  switch (move.kind) {
    case 'asked_human':
      return answer(phrases.askedHuman, 'needs_human', category, 'the user asked for a technician');
    case 'works_now':
      return answer(phrases.resolved, 'resolved_pending_confirmation', category);
    case 'password':
      return answer(
        phrases.password,
        'needs_human',
        category,
        'password or MFA reset needs an administrator',
      );
    case 'exhausted':
      return answer(
        phrases.exhausted,
        'needs_human',
        category,
        'the usual troubleshooting steps did not help',
      );
    case 'step': {
      const opening = answersGiven === 0 ? phrases.hello(firstName) : phrases.thanks;
      return answer(`${opening} ${move.step}`, 'continue', category);
    }
  }
}

function answer(text: string, outcome: string, category: Category, reason?: string): string {
  return `${text}\n[[ticketzero: outcome=${outcome}; category=${category}${reason ? `; reason=${reason}` : ''}]]`;
}
