// One request inside the engine: its tokens, how many of them have KV in the cache, its blocks,
// and where its output goes.
import type { BlockOwner } from './block-manager';
import type { ResolvedSampling, TokenLogprobs } from '../sampling';

export type FinishReason = 'stop' | 'length' | 'abort' | 'error';

/** Constrained output (JSON or choice mode): what it may take next, advanced by each token. */
export interface OutputConstraint {
  /** `row` with the tokens not allowed next at -infinity; `mayEnd`: end-of-sequence may end it now. */
  mask(row: Float32Array, mayEnd: boolean): Float32Array;
  advance(token: number): void;
}

/** One generated token as the engine reports it. */
export interface TokenEvent {
  tokenId: number;
  logprobs: TokenLogprobs | null;
}

export interface SequenceSink {
  /** A generated token; returns true when it completed a stop string (the sequence then ends). */
  onToken(event: TokenEvent): boolean;
  onFinish(reason: FinishReason): void;
  onError(error: Error): void;
}

export class Sequence implements BlockOwner {
  readonly tokens: number[];
  readonly promptLength: number;
  blockTable: number[] = [];
  blockHashes: string[] = [];
  /** Tokens whose KV is in the cache. */
  numComputed = 0;
  /** Tokens whose KV is in the draft model's cache (speculative decoding with a draft model). */
  draftComputed = 0;
  status: 'waiting' | 'running' | 'finished' = 'waiting';
  /** Prompt tokens served from the prefix cache at the last admission. */
  cachedPromptTokens = 0;
  preemptions = 0;

  constructor(
    readonly id: number,
    prompt: readonly number[],
    readonly sampling: ResolvedSampling,
    readonly random: () => number,
    readonly arrival: number,
    readonly sink: SequenceSink,
    /** Filled in prompt order when sampling.promptLogprobs is set: entry i for prompt token i (0: null). */
    readonly promptLogprobs: (TokenLogprobs | null)[] | null = null,
    /** JSON or choice mode: the tokens the output may take next (advanced by each appended token). */
    readonly constraint: OutputConstraint | null = null,
  ) {
    this.tokens = [...prompt];
    this.promptLength = prompt.length;
  }

  get outputLength(): number {
    return this.tokens.length - this.promptLength;
  }
  get promptTokens(): readonly number[] {
    return this.tokens.slice(0, this.promptLength);
  }
  get outputTokens(): readonly number[] {
    return this.tokens.slice(this.promptLength);
  }
  /** Prompt tokens whose log-probabilities are wanted and not computed yet. */
  get promptLogprobsPending(): boolean {
    return this.promptLogprobs !== null && this.promptLogprobs.length < this.promptLength;
  }
  /** Tokens still to run through the model before the next token can be sampled. */
  get pendingTokens(): number {
    return this.tokens.length - this.numComputed;
  }
}

/** Runs first: lower priority value, then earlier arrival. */
export function compareSequences(a: Sequence, b: Sequence): number {
  return a.sampling.priority - b.sampling.priority || a.arrival - b.arrival || a.id - b.id;
}
