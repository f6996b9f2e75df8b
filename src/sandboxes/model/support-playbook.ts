/**
 * What the model sandbox's personas know about IT support, and how they read a conversation: the categories and
 * their steps in English, German, French and Spanish, and the one rule that picks the next move (hand over on
 * request, acknowledge a fix, refuse password resets, give the next step, give up when the steps run out). It reads
 * the conversation the way TicketZero's prompt lays it out (ticket in <ticket>, user text in <user_message>, a
 * "Language hint:" line). Each persona words the move its own way; nothing here is a language model.
 */

export type Language = 'en' | 'de' | 'fr' | 'es';
export type Category =
  'password_mfa' | 'outlook' | 'vpn' | 'printer' | 'wifi' | 'onedrive_teams_sync' | 'slow_pc' | 'other';

export interface ChatTurn {
  role: string;
  content: string;
}

const CATEGORY_KEYWORDS: [Category, RegExp][] = [
  [
    'password_mfa',
    /passw|kennwort|mot de passe|contraseña|mfa|2fa|authenticator|locked out|gesperrt|verrouill|bloquead|one-time code|sign-in code/i,
  ],
  ['vpn', /\bvpn\b|forticlient|anyconnect|globalprotect/i],
  ['printer', /print|drucker|drucken|imprim/i],
  ['wifi', /wi-?fi|wlan|wireless|sans fil|inalámbric/i],
  ['onedrive_teams_sync', /onedrive|sharepoint|\bsync|synchroni|teams/i],
  ['outlook', /outlook|e-?mail|mail|postfach|courriel|correo/i],
  ['slow_pc', /slow|langsam|lent|lento|freez|hängt|sluggish/i],
];

const STEPS: Record<Exclude<Category, 'password_mfa'>, Record<Language, string[]>> = {
  outlook: {
    en: [
      'Please close Outlook completely, wait ten seconds and open it again. Does it connect and show new mail now?',
      'Please check the status bar at the bottom of Outlook: does it say "Connected" or "Disconnected"? If there is a yellow banner at the top, tell me what it says.',
      'Let us try Outlook in safe mode: press Windows+R, type outlook.exe /safe and press Enter. Does your mail appear there?',
    ],
    de: [
      'Bitte schließen Sie Outlook vollständig, warten Sie zehn Sekunden und öffnen Sie es wieder. Verbindet es sich jetzt und zeigt neue E-Mails?',
      'Bitte schauen Sie unten in die Statusleiste von Outlook: Steht dort „Verbunden“ oder „Getrennt“? Falls oben ein gelber Hinweis erscheint, nennen Sie mir bitte den Text.',
      'Versuchen wir den abgesicherten Modus: Drücken Sie Windows+R, geben Sie outlook.exe /safe ein und drücken Sie Enter. Erscheinen Ihre E-Mails dort?',
    ],
    fr: [
      'Veuillez fermer complètement Outlook, attendre dix secondes et le rouvrir. Se connecte-t-il et affiche-t-il les nouveaux messages ?',
      "Regardez la barre d'état en bas d'Outlook : indique-t-elle « Connecté » ou « Déconnecté » ? S'il y a un bandeau jaune en haut, dites-moi ce qu'il indique.",
      'Essayons le mode sans échec : appuyez sur Windows+R, tapez outlook.exe /safe puis Entrée. Vos messages apparaissent-ils ?',
    ],
    es: [
      'Cierre Outlook por completo, espere diez segundos y vuelva a abrirlo. ¿Se conecta y muestra el correo nuevo?',
      'Mire la barra de estado en la parte inferior de Outlook: ¿dice «Conectado» o «Desconectado»? Si hay un aviso amarillo arriba, dígame qué dice.',
      'Probemos el modo seguro: pulse Windows+R, escriba outlook.exe /safe y pulse Intro. ¿Aparece su correo ahí?',
    ],
  },
  vpn: {
    en: [
      'First, please check that the internet works without the VPN: can you open a website such as bing.com?',
      'Please disconnect the VPN, quit the VPN app completely (also from the system tray), start it again and connect. What message do you see?',
      'Please restart the computer, then connect to the VPN once more before opening other programs. Does it connect now?',
    ],
    de: [
      'Prüfen Sie bitte zuerst, ob das Internet ohne VPN funktioniert: Können Sie eine Webseite wie bing.com öffnen?',
      'Bitte trennen Sie das VPN, beenden Sie die VPN-App vollständig (auch im Infobereich), starten Sie sie neu und verbinden Sie sich. Welche Meldung sehen Sie?',
      'Bitte starten Sie den Computer neu und verbinden Sie sich dann mit dem VPN, bevor Sie andere Programme öffnen. Klappt die Verbindung jetzt?',
    ],
    fr: [
      "Vérifiez d'abord qu'Internet fonctionne sans le VPN : pouvez-vous ouvrir un site comme bing.com ?",
      "Déconnectez le VPN, quittez complètement l'application VPN (aussi dans la zone de notification), relancez-la et reconnectez-vous. Quel message voyez-vous ?",
      "Redémarrez l'ordinateur, puis connectez-vous au VPN avant d'ouvrir d'autres programmes. La connexion fonctionne-t-elle ?",
    ],
    es: [
      'Primero compruebe que internet funciona sin la VPN: ¿puede abrir una web como bing.com?',
      'Desconecte la VPN, cierre la aplicación VPN por completo (también en la bandeja del sistema), ábrala de nuevo y conéctese. ¿Qué mensaje ve?',
      'Reinicie el equipo y conéctese a la VPN antes de abrir otros programas. ¿Se conecta ahora?',
    ],
  },
  printer: {
    en: [
      'Please check that the printer is switched on and shows no error on its display. Is a paper or toner warning shown?',
      'Please open Settings > Bluetooth & devices > Printers & scanners, select the printer and choose "Open print queue". Are documents stuck there? If so, cancel them and print again.',
      'Please switch the printer off for thirty seconds, switch it on again and print a test page. Does it print?',
    ],
    de: [
      'Bitte prüfen Sie, ob der Drucker eingeschaltet ist und im Display keinen Fehler zeigt. Wird eine Papier- oder Tonerwarnung angezeigt?',
      'Bitte öffnen Sie Einstellungen > Bluetooth und Geräte > Drucker und Scanner, wählen Sie den Drucker und „Druckwarteschlange öffnen“. Hängen dort Dokumente? Wenn ja, brechen Sie sie ab und drucken Sie erneut.',
      'Bitte schalten Sie den Drucker für dreißig Sekunden aus, wieder ein und drucken Sie eine Testseite. Druckt er?',
    ],
    fr: [
      "Vérifiez que l'imprimante est allumée et n'affiche pas d'erreur. Y a-t-il une alerte papier ou toner ?",
      "Ouvrez Paramètres > Bluetooth et appareils > Imprimantes et scanners, sélectionnez l'imprimante puis « Ouvrir la file d'attente ». Des documents sont-ils bloqués ? Si oui, annulez-les et réimprimez.",
      "Éteignez l'imprimante trente secondes, rallumez-la et imprimez une page de test. Est-ce qu'elle imprime ?",
    ],
    es: [
      'Compruebe que la impresora está encendida y no muestra ningún error. ¿Aparece un aviso de papel o tóner?',
      'Abra Configuración > Bluetooth y dispositivos > Impresoras y escáneres, seleccione la impresora y «Abrir cola de impresión». ¿Hay documentos atascados? Si es así, cancélelos e imprima de nuevo.',
      'Apague la impresora treinta segundos, enciéndala de nuevo e imprima una página de prueba. ¿Imprime?',
    ],
  },
  wifi: {
    en: [
      'Please turn Wi-Fi off and on again with the network icon at the bottom right. Does the computer connect to the network?',
      'Please click the network icon, choose the Wi-Fi network, select "Forget" and connect again. What happens?',
      'Please restart the computer. If other devices near you also have no Wi-Fi, tell me so.',
    ],
    de: [
      'Bitte schalten Sie das WLAN über das Netzwerksymbol unten rechts aus und wieder ein. Verbindet sich der Computer mit dem Netzwerk?',
      'Bitte klicken Sie auf das Netzwerksymbol, wählen Sie das WLAN, dann „Nicht speichern“ und verbinden Sie sich neu. Was passiert?',
      'Bitte starten Sie den Computer neu. Falls auch andere Geräte in Ihrer Nähe kein WLAN haben, sagen Sie es mir bitte.',
    ],
    fr: [
      "Désactivez puis réactivez le Wi-Fi avec l'icône réseau en bas à droite. L'ordinateur se connecte-t-il au réseau ?",
      "Cliquez sur l'icône réseau, choisissez le réseau Wi-Fi, sélectionnez « Oublier » puis reconnectez-vous. Que se passe-t-il ?",
      "Redémarrez l'ordinateur. Si d'autres appareils autour de vous n'ont pas de Wi-Fi non plus, dites-le-moi.",
    ],
    es: [
      'Desactive y active el Wi-Fi con el icono de red abajo a la derecha. ¿Se conecta el equipo a la red?',
      'Haga clic en el icono de red, elija la red Wi-Fi, seleccione «Olvidar» y vuelva a conectarse. ¿Qué ocurre?',
      'Reinicie el equipo. Si otros dispositivos cerca de usted tampoco tienen Wi-Fi, dígamelo.',
    ],
  },
  onedrive_teams_sync: {
    en: [
      'Please click the OneDrive cloud icon at the bottom right. Does it show "Up to date", "Paused" or an error?',
      'Please quit OneDrive (cloud icon > gear > Quit OneDrive) and Teams, then start both again. Does syncing resume?',
      'Please check that you are signed in with your work account in OneDrive and Teams (your picture at the top right). Is it the right account?',
    ],
    de: [
      'Bitte klicken Sie unten rechts auf das OneDrive-Wolkensymbol. Steht dort „Aktuell“, „Angehalten“ oder ein Fehler?',
      'Bitte beenden Sie OneDrive (Wolkensymbol > Zahnrad > OneDrive beenden) und Teams und starten Sie beide neu. Läuft die Synchronisierung wieder?',
      'Bitte prüfen Sie, ob Sie in OneDrive und Teams mit Ihrem Arbeitskonto angemeldet sind (Ihr Bild oben rechts). Ist es das richtige Konto?',
    ],
    fr: [
      "Cliquez sur l'icône nuage OneDrive en bas à droite. Indique-t-elle « À jour », « En pause » ou une erreur ?",
      'Quittez OneDrive (icône nuage > roue dentée > Quitter OneDrive) et Teams, puis relancez-les. La synchronisation reprend-elle ?',
      'Vérifiez que vous êtes connecté avec votre compte professionnel dans OneDrive et Teams (votre photo en haut à droite). Est-ce le bon compte ?',
    ],
    es: [
      'Haga clic en el icono de nube de OneDrive abajo a la derecha. ¿Indica «Actualizado», «En pausa» o un error?',
      'Cierre OneDrive (icono de nube > engranaje > Salir de OneDrive) y Teams, y ábralos de nuevo. ¿Se reanuda la sincronización?',
      'Compruebe que ha iniciado sesión con su cuenta de trabajo en OneDrive y Teams (su foto arriba a la derecha). ¿Es la cuenta correcta?',
    ],
  },
  slow_pc: {
    en: [
      'Please save your work and restart the computer (Start > Power > Restart), not just shut the lid. Is it faster afterwards?',
      'Please press Ctrl+Shift+Esc to open Task Manager and sort by CPU and then Memory. Which program is at the top?',
      'Please check free disk space in File Explorer > This PC. How much space is left on drive C:?',
    ],
    de: [
      'Bitte speichern Sie Ihre Arbeit und starten Sie den Computer neu (Start > Ein/Aus > Neu starten), nicht nur den Deckel schließen. Ist er danach schneller?',
      'Bitte öffnen Sie mit Strg+Umschalt+Esc den Task-Manager und sortieren Sie nach CPU und dann nach Arbeitsspeicher. Welches Programm steht oben?',
      'Bitte prüfen Sie den freien Speicher im Explorer unter „Dieser PC“. Wie viel ist auf Laufwerk C: noch frei?',
    ],
    fr: [
      "Enregistrez votre travail et redémarrez l'ordinateur (Démarrer > Marche/Arrêt > Redémarrer), pas seulement fermer le capot. Est-il plus rapide ensuite ?",
      'Appuyez sur Ctrl+Maj+Échap pour ouvrir le Gestionnaire des tâches et triez par processeur puis par mémoire. Quel programme est en tête ?',
      "Vérifiez l'espace libre dans l'Explorateur > Ce PC. Combien d'espace reste-t-il sur le lecteur C: ?",
    ],
    es: [
      'Guarde su trabajo y reinicie el equipo (Inicio > Apagar > Reiniciar), no solo cerrar la tapa. ¿Va más rápido después?',
      'Pulse Ctrl+Mayús+Esc para abrir el Administrador de tareas y ordene por CPU y luego por memoria. ¿Qué programa aparece arriba?',
      'Compruebe el espacio libre en el Explorador > Este equipo. ¿Cuánto espacio queda en la unidad C:?',
    ],
  },
  other: {
    en: [
      'Please restart the computer and try again. Does the problem still happen?',
      'Please tell me exactly what you see when it happens: the full error message, or what you expected instead.',
      'Does the same happen on another computer or for a colleague?',
    ],
    de: [
      'Bitte starten Sie den Computer neu und versuchen Sie es erneut. Tritt das Problem noch auf?',
      'Bitte beschreiben Sie genau, was Sie sehen, wenn es passiert: die vollständige Fehlermeldung oder was Sie stattdessen erwartet haben.',
      'Passiert das Gleiche an einem anderen Computer oder bei einer Kollegin oder einem Kollegen?',
    ],
    fr: [
      "Redémarrez l'ordinateur et réessayez. Le problème se produit-il toujours ?",
      "Décrivez-moi exactement ce que vous voyez : le message d'erreur complet, ou ce que vous attendiez.",
      'La même chose se produit-elle sur un autre ordinateur ou chez un collègue ?',
    ],
    es: [
      'Reinicie el equipo e inténtelo de nuevo. ¿Sigue ocurriendo el problema?',
      'Dígame exactamente lo que ve cuando ocurre: el mensaje de error completo o lo que esperaba.',
      '¿Ocurre lo mismo en otro equipo o con un compañero?',
    ],
  },
};

const LANGUAGE_WORDS: Record<Language, RegExp> = {
  en: /\b(the|is|it|my|not|and|i|you|can|does|doesn't|don't|with|works|please|still|now|yes|thanks|hello|again)\b/gi,
  de: /\b(ich|nicht|und|der|die|das|ist|mein|meine|geht|wieder|kann|mit|es|funktioniert|bitte|jetzt|noch|habe|danke|hallo|ja|nein|immer)\b|[äöüß]/gi,
  fr: /\b(je|ne|pas|le|les|est|mon|ma|et|ça|marche|avec|une|plus|toujours|merci|bonjour|oui|non|fonctionne|encore)\b|[çèêàù]/gi,
  es: /\b(no|el|es|mi|y|que|funciona|con|una|puedo|está|los|gracias|hola|sí|todavía|ahora|sigue|por|favor|tengo|pero|ya)\b|[ñ¿¡]/gi,
};

const SUCCESS =
  /^\s*(fixed|solved)\b|\b(works? now|working now|it works|works again|it's fixed|is fixed|fixed it|solved|all good|that did it)\b|geht wieder|geht jetzt|funktioniert (wieder|jetzt)|klappt (wieder|jetzt)|gelöst|behoben|ça (re)?marche|ca (re)?marche|fonctionne (à nouveau|de nouveau|maintenant)|résolu|réglé|ya funciona|funciona (ya|ahora|de nuevo)|resuelto|solucionado|arreglado/i;
const NEGATION =
  /\b(not|doesn't|don't|still|no longer|nicht|kein|immer noch|pas|toujours|no funciona|sigue|todavía no)\b/i;
const WANTS_HUMAN =
  /\b(technician|human|real person|a person|call me)\b|techniker|mensch|mitarbeiter|rufen sie mich|technicien|humain|une personne|appelez|técnico|tecnico|humano|una persona|llámenme|llamenme/i;
const CONFIRMS = /^(yes|yep|ja|oui|sí|si|confirmed|bestätigt|confirmé|confirmado)\b/i;

/** The next move in a support conversation, before a persona puts it into words. */
export type SupportMove =
  | { kind: 'asked_human' }
  | { kind: 'works_now' }
  | { kind: 'password' }
  | { kind: 'step'; step: string; first: boolean }
  | { kind: 'exhausted' };

export interface SupportSituation {
  move: SupportMove;
  language: Language;
  category: Category;
  /** The user's first name from the prompt, or ''. */
  firstName: string;
  /** Answers the assistant gave before this one (including those folded into the prompt's summary). */
  answersGiven: number;
  /** The `Ticket #…: title` line, or the first user message when there is no ticket: stable for a conversation. */
  conversationKey: string;
  /** This category's steps in the situation's language. */
  steps: readonly string[];
}

export function readSupportConversation(messages: readonly ChatTurn[]): SupportSituation {
  const system = messages
    .filter((m) => m.role === 'system')
    .map((m) => m.content)
    .join('\n');
  const userTexts = messages
    .filter((m) => m.role === 'user')
    .flatMap((m) => taggedData(m.content, 'user_message'));
  const ticket = taggedData(system, 'ticket').join('\n');
  const answersGiven = messages.filter((m) => m.role === 'assistant').length + summarisedAnswers(messages);
  const lastUser = userTexts.at(-1) ?? '';
  const language = detect(lastUser) ?? hint(system) ?? detect(ticket) ?? 'en';
  const category = categorise(`${ticket}\n${userTexts.join('\n')}`);
  const steps = category === 'password_mfa' ? [] : STEPS[category][language];
  const conversationKey =
    /Ticket #[^\n]*/.exec(ticket)?.[0] ?? messages.find((m) => m.role === 'user')?.content ?? '';
  const situation = {
    language,
    category,
    firstName: firstName(system),
    answersGiven,
    conversationKey,
    steps,
  };

  if (lastUser && WANTS_HUMAN.test(lastUser)) return { ...situation, move: { kind: 'asked_human' } };
  if (
    lastUser &&
    ((SUCCESS.test(lastUser) && !NEGATION.test(lastUser)) ||
      (CONFIRMS.test(lastUser.trim()) && askedToConfirm(messages)))
  ) {
    return { ...situation, move: { kind: 'works_now' } };
  }
  if (category === 'password_mfa') return { ...situation, move: { kind: 'password' } };
  const step = steps[answersGiven];
  if (step === undefined) return { ...situation, move: { kind: 'exhausted' } };
  return { ...situation, move: { kind: 'step', step, first: answersGiven === 0 } };
}

/** This category's steps in another language (a persona that drifts out of the user's language). */
export function stepsIn(category: Category, language: Language): readonly string[] {
  return category === 'password_mfa' ? [] : STEPS[category][language];
}

export function taggedData(text: string, tag: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g')))
    out.push((m[1] ?? '').trim());
  return out;
}

function detect(text: string): Language | null {
  let best: Language | null = null;
  let bestScore = 0;
  for (const language of Object.keys(LANGUAGE_WORDS) as Language[]) {
    const score = (text.match(LANGUAGE_WORDS[language]) ?? []).length;
    if (score > bestScore) {
      best = language;
      bestScore = score;
    } else if (score === bestScore) {
      best = null;
    }
  }
  return bestScore > 0 ? best : null;
}

function hint(system: string): Language | null {
  const code = /Language hint:\s*([a-z]{2})\b/i.exec(system)?.[1]?.toLowerCase();
  return code === 'en' || code === 'de' || code === 'fr' || code === 'es' ? code : null;
}

function categorise(text: string): Category {
  for (const [category, pattern] of CATEGORY_KEYWORDS) if (pattern.test(text)) return category;
  return 'other';
}

function firstName(system: string): string {
  const who = /The user \(from the company directory\): ([^,\n]+)/.exec(system)?.[1];
  const reporter = /Reported by: ([^\n]+)/.exec(system)?.[1];
  return (
    (who ?? reporter ?? '')
      .trim()
      .split(/\s+/)[0]
      ?.replace(/^unknown$/, '') ?? ''
  );
}

/** Answers the prompt folded into its "earlier in this chat" summary still count as steps already given. */
function summarisedAnswers(messages: readonly ChatTurn[]): number {
  const earlier = messages.flatMap((m) => taggedData(m.content, 'earlier_chat')).join('\n');
  const listed = (earlier.match(/^- you:/gm) ?? []).length;
  const omitted = Number(/\((\d+) earlier message/.exec(earlier)?.[1] ?? 0);
  return listed + Math.floor(omitted / 2);
}

function askedToConfirm(messages: readonly ChatTurn[]): boolean {
  const last = [...messages].reverse().find((m) => m.role === 'assistant');
  return last ? /confirm|bestätigen|confirmer|confirmar/i.test(last.content) : false;
}
