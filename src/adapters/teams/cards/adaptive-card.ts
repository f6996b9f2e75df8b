/**
 * The subset of Adaptive Card 1.5 that TicketZero's cards use, typed so a misspelt property does not compile.
 * Every card built from these is checked against the published 1.5 JSON schema in test/unit/cards.
 */

export const ADAPTIVE_CARD_CONTENT_TYPE = 'application/vnd.microsoft.card.adaptive';
export const ADAPTIVE_CARD_VERSION = '1.5';

export type Spacing = 'none' | 'small' | 'default' | 'medium' | 'large' | 'extraLarge' | 'padding';
export type TextColor = 'default' | 'dark' | 'light' | 'accent' | 'good' | 'warning' | 'attention';

export interface TextBlock {
  type: 'TextBlock';
  text: string;
  wrap?: boolean;
  size?: 'small' | 'default' | 'medium' | 'large' | 'extraLarge';
  weight?: 'lighter' | 'default' | 'bolder';
  color?: TextColor;
  isSubtle?: boolean;
  spacing?: Spacing;
  separator?: boolean;
  maxLines?: number;
  style?: 'default' | 'heading';
}

/** Plain text: a TextRun is never parsed as Markdown, the safe home for long user-supplied text. */
export interface TextRun {
  type: 'TextRun';
  text: string;
  weight?: 'lighter' | 'default' | 'bolder';
  isSubtle?: boolean;
  italic?: boolean;
}

export interface RichTextBlock {
  type: 'RichTextBlock';
  inlines: TextRun[];
  spacing?: Spacing;
  separator?: boolean;
}

export interface Fact {
  title: string;
  value: string;
}

export interface FactSet {
  type: 'FactSet';
  facts: Fact[];
  spacing?: Spacing;
  separator?: boolean;
}

export interface Container {
  type: 'Container';
  items: CardElement[];
  style?: 'default' | 'emphasis' | 'good' | 'attention' | 'warning' | 'accent';
  spacing?: Spacing;
  separator?: boolean;
  bleed?: boolean;
}

export interface ActionSet {
  type: 'ActionSet';
  actions: CardAction[];
  spacing?: Spacing;
}

export type CardElement = TextBlock | RichTextBlock | FactSet | Container | ActionSet;

export interface ExecuteAction {
  type: 'Action.Execute';
  title: string;
  verb: string;
  data: Record<string, string | number | boolean>;
  style?: 'default' | 'positive' | 'destructive';
  tooltip?: string;
}

export interface ShowCardAction {
  type: 'Action.ShowCard';
  title: string;
  card: AdaptiveCard;
}

export type CardAction = ExecuteAction | ShowCardAction;

export interface AdaptiveCard {
  type: 'AdaptiveCard';
  /** Required on a top-level card; omitted on a card inside Action.ShowCard. */
  version?: string;
  $schema?: string;
  body: CardElement[];
  actions?: CardAction[];
  refresh?: { action: ExecuteAction; userIds?: string[] };
  fallbackText?: string;
}

export function topLevelCard(parts: Omit<AdaptiveCard, 'type' | 'version' | '$schema'>): AdaptiveCard {
  return {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: ADAPTIVE_CARD_VERSION,
    ...parts,
  };
}
