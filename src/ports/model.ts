/**
 * Language models as the engine sees them. One provider is one endpoint (LM Studio, Azure OpenAI, OpenAI…);
 * the chain tries providers in the configured order and fails over on `status`, it never throws for a
 * provider's failure.
 */

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface CompletionRequest {
  messages: ChatMessage[];
  /** Upper bound on the answer's length. */
  maxTokens?: number;
  /**
   * Called with each piece of text as it streams in. `restart` is true on the first piece from a provider that
   * took over after another failed mid-answer: whatever was shown before must be replaced.
   */
  onText?: (piece: string, info: { provider: string; restart: boolean }) => void;
  signal?: AbortSignal;
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

export type ProviderFailureStatus =
  'rate_limited' | 'unavailable' | 'timeout' | 'invalid' | 'circuit_open' | 'error';

export interface CompletionSuccess {
  status: 'ok';
  text: string;
  provider: string;
  model: string;
  usage: TokenUsage | null;
  latencyMs: number;
}

export interface ProviderFailure {
  status: ProviderFailureStatus;
  provider: string;
  /** A short human-readable reason; never contains keys or tokens. */
  error: string;
}

export type ProviderResult = CompletionSuccess | ProviderFailure;

export interface ModelProvider {
  readonly name: string;
  complete(request: CompletionRequest): Promise<ProviderResult>;
}

export type ChainResult = CompletionSuccess | { status: 'all_failed'; failures: ProviderFailure[] };

export interface ModelChain {
  /** Provider names in the order they are tried. */
  readonly providers: readonly string[];
  complete(request: CompletionRequest): Promise<ChainResult>;
}
