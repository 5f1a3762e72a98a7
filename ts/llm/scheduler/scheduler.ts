// Iteration-level (continuous) batching: every step builds one forward from
//   1. running sequences in priority order: a decode token (plus n-gram drafts for greedy ones) or
//      the next chunk of an unfinished prefill, within a token budget; when blocks run out the
//      lowest-priority running sequence is preempted (its blocks freed, recomputed later);
//   2. waiting sequences in priority order, admitted with their cached prefix while the token
//      budget, the sequence limit and free blocks allow (not in a step that had to preempt).
import type { NativeLlmBatch } from '../native';
import { isGreedy } from '../sampling';
import { proposeNgramDrafts, type NgramOptions } from '../spec-decode';
import type { BlockManager } from './block-manager';
import { compareSequences, type Sequence } from './sequence';

export interface SchedulerOptions {
  maxNumSeqs: number;
  maxNumBatchedTokens: number;
  maxModelLen: number;
  speculative: NgramOptions | null;
}

export interface ScheduledSequence {
  seq: Sequence;
  /** Tokens of the sequence (without drafts) run in this step. */
  numTokens: number;
  drafts: number[];
  /** Logits rows returned for it: 0 mid-prefill, else 1 + drafts. */
  numLogits: number;
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

  schedule(): ScheduledBatch | null {
    let budget = this.options.maxNumBatchedTokens;
    const items: ScheduledSequence[] = [];
    let preempted = false;
    this.running.sort(compareSequences);
    for (let i = 0; i < this.running.length && budget > 0; i++) {
      const seq = this.running[i];
      const item = this.plan(seq, budget);
      while (!this.blocks.ensure(seq, seq.numComputed + item.numTokens + item.drafts.length)) {
        const victim = this.running[this.running.length - 1];
        this.preempt(victim);
        preempted = true;
        if (victim === seq) break;
      }
      if (seq.status !== 'running') break;
      items.push(item);
      budget -= item.numTokens + item.drafts.length;
    }
    // A step that preempted admits nobody (the freed blocks go to running sequences first),
    // unless it preempted every running sequence and would otherwise be empty.
    while ((!preempted || items.length === 0) && budget > 0 && this.waiting.length > 0 && this.running.length < this.options.maxNumSeqs) {
      const seq = this.waiting[0];
      seq.numComputed = this.blocks.attachCachedPrefix(seq);
      const item = this.plan(seq, budget);
      if (!this.blocks.ensure(seq, seq.numComputed + item.numTokens + item.drafts.length)) {
        this.blocks.release(seq);
        seq.numComputed = 0;
        break;
      }
      if (seq.preemptions === 0) this.blocks.recordLookup(seq.promptLength, seq.numComputed);
      seq.cachedPromptTokens = seq.numComputed;
      this.waiting.shift();
      seq.status = 'running';
      this.running.push(seq);
      items.push(item);
      budget -= item.numTokens + item.drafts.length;
    }
    if (items.length === 0) return null;
    return this.toNative(items);
  }

  /** What `seq` runs this step within `budget` tokens. */
  private plan(seq: Sequence, budget: number): ScheduledSequence {
    const pending = seq.pendingTokens;
    if (pending > 1 || !this.options.speculative || !isGreedy(seq.sampling)) {
      const numTokens = Math.min(pending, budget);
      return { seq, numTokens, drafts: [], numLogits: numTokens === pending ? 1 : 0 };
    }
    const limit = Math.min(
      budget - 1,
      seq.sampling.maxTokens - seq.outputLength - 1,
      this.options.maxModelLen - seq.tokens.length - 1,
    );
    const drafts = proposeNgramDrafts(seq.tokens, this.options.speculative, limit);
    return { seq, numTokens: 1, drafts, numLogits: 1 + drafts.length };
  }

  private preempt(seq: Sequence): void {
    this.running = this.running.filter((s) => s !== seq);
    this.blocks.release(seq);
    seq.numComputed = 0;
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

  private toNative(items: ScheduledSequence[]): ScheduledBatch {
    const numTokens = items.reduce((n, it) => n + it.numTokens + it.drafts.length, 0);
    const maxBlocks = Math.max(...items.map((it) => it.seq.blockTable.length));
    const tokens = new Int32Array(numTokens), positions = new Int32Array(numTokens);
    const queryLens = new Int32Array(items.length), logitsPerSeq = new Int32Array(items.length);
    const blockTables = new Int32Array(items.length * maxBlocks).fill(-1);
    let t = 0;
    items.forEach((it, s) => {
      const { seq } = it;
      const ids = [...seq.tokens.slice(seq.numComputed, seq.numComputed + it.numTokens), ...it.drafts];
      ids.forEach((id, i) => {
        tokens[t] = id;
        positions[t++] = seq.numComputed + i;
      });
      queryLens[s] = ids.length;
      logitsPerSeq[s] = it.numLogits;
      blockTables.set(seq.blockTable, s * maxBlocks);
    });
    return { items, numTokens, native: { tokens, positions, queryLens, blockTables, maxBlocks, logitsPerSeq } };
  }
}
