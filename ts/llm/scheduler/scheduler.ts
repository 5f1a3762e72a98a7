// Iteration-level (continuous) batching: every step builds one forward from
//   1. running sequences in priority order: a decode token (plus room for speculative drafts) or
//      the next chunk of an unfinished prefill, within a token budget; when blocks run out the
//      lowest-priority running sequence is preempted (its blocks freed, recomputed later);
//   2. waiting sequences in priority order, admitted with their cached prefix while the token
//      budget, the sequence limit and free blocks allow (not in a step that had to preempt).
// N-gram drafts (greedy requests) are proposed while planning; draft-model drafts (any request)
// are filled in by the engine between schedule() and buildBatch(), within the room planned here.
// A request that wants prompt log-probabilities gets logits rows for its prompt positions and
// skips the prefix cache until it has them all (cached tokens are never run through the model).
import type { NativeLlmBatch } from '../native';
import { isGreedy } from '../sampling';
import { proposeNgramDrafts, type NgramOptions } from '../spec-decode';
import type { BlockManager } from './block-manager';
import { nativeBatch } from './native-batch';
import { compareSequences, type Sequence } from './sequence';

/** How drafts are proposed: n-gram prompt lookup, or a draft model (see draft-model.ts). */
export type SpeculativeConfig = ({ method: 'ngram' } & NgramOptions) | { method: 'draft'; numSpeculativeTokens: number };

export interface SchedulerOptions {
  maxNumSeqs: number;
  maxNumBatchedTokens: number;
  maxModelLen: number;
  speculative: SpeculativeConfig | null;
}

export interface ScheduledSequence {
  seq: Sequence;
  /** Tokens of the sequence (without drafts) run in this step. */
  numTokens: number;
  /** This step runs the last pending token, so it yields logits and a new token (not mid-prefill). */
  producesToken: boolean;
  /** Draft tokens the target verifies after the sequence's tokens. */
  drafts: number[];
  /** Drafts this step has room for (KV blocks and token budget); drafts.length never exceeds it. */
  maxDrafts: number;
  /** Draft model, sampling: the draft distribution q each draft was drawn from (null: greedy or n-gram). */
  draftProbs: Float64Array[] | null;
  /** Draft model: the leading drafts whose draft-model KV was written (valid if they are accepted). */
  draftKv: number;
  /** Logits rows that score prompt tokens (they come first; see promptLogprobRows). */
  promptRows: number;
}

/** Logits rows the forward returns for an item: prompt-scoring rows, then 1 + drafts if it samples. */
export function logitsRows(it: ScheduledSequence): number {
  return it.promptRows + (it.producesToken ? 1 + it.drafts.length : 0);
}

/**
 * Rows of a chunk of `numTokens` from seq.numComputed whose logits score prompt tokens not scored
 * yet: position p scores token p + 1, up to the prompt's last token (the row at the prompt's last
 * position samples the first output token instead). They are the chunk's last positions but one
 * when it ends the prompt, else its last ones.
 */
function promptLogprobRows(seq: Sequence, numTokens: number): number {
  if (!seq.promptLogprobsPending) return 0;
  const first = Math.max(seq.numComputed, seq.promptLogprobs!.length - 1);
  const end = Math.min(seq.numComputed + numTokens, seq.promptLength - 1);
  return Math.max(0, end - first);
}

export interface ScheduledBatch {
  items: ScheduledSequence[];
  native: NativeLlmBatch;
  numTokens: number;
}

export class Scheduler {
  private waiting: Sequence[] = [];
  private running: Sequence[] = [];
  preemptions = 0;

  constructor(
    readonly blocks: BlockManager,
    private readonly options: SchedulerOptions,
  ) {}

  get numWaiting(): number {
    return this.waiting.length;
  }
  get numRunning(): number {
    return this.running.length;
  }
  hasWork(): boolean {
    return this.waiting.length > 0 || this.running.length > 0;
  }

  add(seq: Sequence): void {
    seq.status = 'waiting';
    this.insertWaiting(seq);
  }

  /** Removes the sequence wherever it is and frees its blocks. */
  finish(seq: Sequence): void {
    this.waiting = this.waiting.filter((s) => s !== seq);
    this.running = this.running.filter((s) => s !== seq);
    this.blocks.release(seq);
    seq.status = 'finished';
  }

  /** The sequences of the next step and what each runs (drafts may still be filled in); null when idle. */
  schedule(): ScheduledSequence[] | null {
    let budget = this.options.maxNumBatchedTokens;
    const items: ScheduledSequence[] = [];
    let preempted = false;
    this.running.sort(compareSequences);
    for (let i = 0; i < this.running.length && budget > 0; i++) {
      const seq = this.running[i];
      const item = this.plan(seq, budget);
      while (!this.blocks.ensure(seq, seq.numComputed + item.numTokens + item.maxDrafts)) {
        const victim = this.running[this.running.length - 1];
        this.preempt(victim);
        preempted = true;
        if (victim === seq) break;
      }
      if (seq.status !== 'running') break;
      items.push(item);
      budget -= item.numTokens + item.maxDrafts;
    }
    // A step that preempted admits nobody (the freed blocks go to running sequences first),
    // unless it preempted every running sequence and would otherwise be empty.
    while ((!preempted || items.length === 0) && budget > 0 && this.waiting.length > 0 && this.running.length < this.options.maxNumSeqs) {
      const seq = this.waiting[0];
      seq.numComputed = seq.draftComputed = seq.promptLogprobsPending ? 0 : this.blocks.attachCachedPrefix(seq);
      const item = this.plan(seq, budget);
      if (!this.blocks.ensure(seq, seq.numComputed + item.numTokens + item.maxDrafts)) {
        this.blocks.release(seq);
        seq.numComputed = seq.draftComputed = 0;
        break;
      }
      if (seq.preemptions === 0) this.blocks.recordLookup(seq.promptLength, seq.numComputed);
      seq.cachedPromptTokens = seq.numComputed;
      this.waiting.shift();
      seq.status = 'running';
      this.running.push(seq);
      items.push(item);
      budget -= item.numTokens + item.maxDrafts;
    }
    return items.length === 0 ? null : items;
  }

  /** What `seq` runs this step within `budget` tokens. */
  private plan(seq: Sequence, budget: number): ScheduledSequence {
    const pending = seq.pendingTokens;
    const spec = this.options.speculative;
    const plain = { seq, drafts: [], maxDrafts: 0, draftProbs: null, draftKv: 0, promptRows: 0 };
    if (pending > 1 || !spec || (spec.method === 'ngram' && !isGreedy(seq.sampling))) {
      const numTokens = Math.min(pending, budget);
      return { ...plain, numTokens, producesToken: numTokens === pending, promptRows: promptLogprobRows(seq, numTokens) };
    }
    const limit = Math.max(0, Math.min(
      spec.numSpeculativeTokens,
      budget - 1,
      seq.sampling.maxTokens - seq.outputLength - 1,
      this.options.maxModelLen - seq.tokens.length - 1,
    ));
    if (spec.method === 'draft') return { ...plain, numTokens: 1, producesToken: true, maxDrafts: limit };
    const drafts = proposeNgramDrafts(seq.tokens, spec, limit);
    return { ...plain, numTokens: 1, producesToken: true, drafts, maxDrafts: drafts.length };
  }

  private preempt(seq: Sequence): void {
    this.running = this.running.filter((s) => s !== seq);
    this.blocks.release(seq);
    seq.numComputed = seq.draftComputed = 0;
    seq.preemptions++;
    this.preemptions++;
    seq.status = 'waiting';
    this.insertWaiting(seq);
  }

  private insertWaiting(seq: Sequence): void {
    const at = this.waiting.findIndex((s) => compareSequences(seq, s) < 0);
    if (at === -1) this.waiting.push(seq);
    else this.waiting.splice(at, 0, seq);
  }
}

/** The target's forward for a step's items: each sequence's uncomputed tokens, then its drafts. */
export function buildBatch(items: ScheduledSequence[]): ScheduledBatch {
  const native = nativeBatch(items.map((it) => ({
    tokens: [...it.seq.tokens.slice(it.seq.numComputed, it.seq.numComputed + it.numTokens), ...it.drafts],
    start: it.seq.numComputed,
    blockTable: it.seq.blockTable,
    logits: logitsRows(it),
  })));
  return { items, numTokens: native.tokens.length, native };
}
