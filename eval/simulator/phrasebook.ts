/**
 * What a scripted end user says when the ticket's script has nothing specific: confirming, denying, asking for a
 * person, not understanding. One entry per corpus language, written as an ordinary office worker would type it.
 */
import type { Language } from '../corpus/eval-ticket.js';

export interface Phrases {
  confirmFixed: string;
  stillBroken: string;
  worksNow: string;
  askHuman: string;
  askHumanAgain: string;
  alreadyDone: string;
  didItNoChange: string;
  confusedLowSkill: string;
  confusedHighSkill: string;
}

export const PHRASEBOOK: Record<Language, Phrases> = {
  en: {
    confirmFixed: "Yes, it's fixed. Thank you!",
    stillBroken: 'No, it is still broken.',
    worksNow: "It's working now, thanks.",
    askHuman: "This isn't getting anywhere. Can I please talk to a technician?",
    askHumanAgain: 'Please, I need a real person to help me.',
    alreadyDone: 'I already did that, same result as before.',
    didItNoChange: 'I did that. Nothing changed, the problem is the same.',
    confusedLowSkill: "Sorry, I don't understand. What exactly should I do?",
    confusedHighSkill: "That doesn't give me anything to try. What should I check next?",
  },
  de: {
    confirmFixed: 'Ja, es funktioniert wieder. Danke!',
    stillBroken: 'Nein, das Problem besteht weiterhin.',
    worksNow: 'Es funktioniert jetzt, danke.',
    askHuman: 'So kommen wir nicht weiter. Kann ich bitte mit einem Techniker sprechen?',
    askHumanAgain: 'Bitte, ich brauche einen Menschen, der mir hilft.',
    alreadyDone: 'Das habe ich schon gemacht, gleiches Ergebnis wie vorher.',
    didItNoChange: 'Habe ich gemacht. Es hat sich nichts geändert, das Problem ist dasselbe.',
    confusedLowSkill: 'Entschuldigung, das verstehe ich nicht. Was genau soll ich machen?',
    confusedHighSkill: 'Damit kann ich nichts ausprobieren. Was soll ich als Nächstes prüfen?',
  },
  fr: {
    confirmFixed: 'Oui, ça fonctionne. Merci !',
    stillBroken: 'Non, le problème est toujours là.',
    worksNow: 'Ça fonctionne maintenant, merci.',
    askHuman: "On n'avance pas. Est-ce que je peux parler à un technicien, s'il vous plaît ?",
    askHumanAgain: "S'il vous plaît, j'ai besoin d'une personne pour m'aider.",
    alreadyDone: "Je l'ai déjà fait, même résultat qu'avant.",
    didItNoChange: "C'est fait. Rien n'a changé, le problème est le même.",
    confusedLowSkill: 'Désolée, je ne comprends pas. Que dois-je faire exactement ?',
    confusedHighSkill: 'Cela ne me donne rien à essayer. Que dois-je vérifier ensuite ?',
  },
  es: {
    confirmFixed: 'Sí, ya funciona. ¡Gracias!',
    stillBroken: 'No, el problema sigue igual.',
    worksNow: 'Ya funciona, gracias.',
    askHuman: 'Así no avanzamos. ¿Puedo hablar con un técnico, por favor?',
    askHumanAgain: 'Por favor, necesito que me ayude una persona.',
    alreadyDone: 'Eso ya lo he hecho, el mismo resultado que antes.',
    didItNoChange: 'Hecho. No ha cambiado nada, el problema es el mismo.',
    confusedLowSkill: 'Perdone, no lo entiendo. ¿Qué tengo que hacer exactamente?',
    confusedHighSkill: 'Con eso no tengo nada que probar. ¿Qué compruebo ahora?',
  },
  nl: {
    confirmFixed: 'Ja, het werkt weer. Bedankt!',
    stillBroken: 'Nee, het probleem is er nog steeds.',
    worksNow: 'Het werkt nu, bedankt.',
    askHuman: 'Zo komen we er niet uit. Kan ik alstublieft een technicus spreken?',
    askHumanAgain: 'Alstublieft, ik heb een echt persoon nodig om me te helpen.',
    alreadyDone: 'Dat heb ik al gedaan, zelfde resultaat als eerst.',
    didItNoChange: 'Gedaan. Er is niets veranderd, het probleem is hetzelfde.',
    confusedLowSkill: 'Sorry, dat begrijp ik niet. Wat moet ik precies doen?',
    confusedHighSkill: 'Daar kan ik niets mee proberen. Wat moet ik nu controleren?',
  },
};

/** The assistant asking whether the problem is gone ("is it working now?"), in the corpus languages. */
export const ASKS_IF_FIXED =
  /(is|does) (it|that|everything|outlook|teams|the \w+) (work|working|fixed|solved|ok)|fixed now|working now|problem (solved|gone)|funktioniert (es|alles|das)|(ist|wurde) das problem (gelöst|behoben)|(ça|cela|tout) (fonctionne|marche)|probl[eè]me (est )?r[ée]solu|(ya )?funciona (ahora|ya|bien)|se ha resuelto|werkt het|is het (probleem )?opgelost/iu;

/** The assistant gives a step to do (imperative or polite request), in the corpus languages. */
export const GIVES_A_STEP =
  /\b(please|try|open|close|click|restart|reboot|press|select|choose|go to|check|type|run|sign (in|out)|bitte|öffnen|schließen|klicken|starten|drücken|wählen|prüfen|gehen sie|versuchen|veuillez|ouvrez|fermez|cliquez|redémarrez|appuyez|choisissez|vérifiez|allez|essayez|abra|cierre|haga clic|reinicie|pulse|elija|compruebe|vaya|pruebe|open|sluit|klik|herstart|druk|kies|controleer|ga naar|probeer)\b/iu;
