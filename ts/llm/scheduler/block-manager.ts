// The KV-cache block manager: which native cache blocks each sequence owns, and automatic prefix
// caching. A full block is named by a hash chained over its tokens and its predecessor's hash,
// so equal prefixes share blocks. A block whose last owner leaves keeps its hash and joins an
// LRU list; allocation takes never-hashed free blocks first, then evicts the least recently
// freed cached block.
import { createHash } from 'node:crypto';

export interface PrefixCacheStats {
  /** Prompt tokens looked up in the prefix cache. */
  queries: number;
  /** Of those, tokens found (their KV was reused). */
  hits: number;
}

/** What the block manager needs from a sequence. */
export interface BlockOwner {
  readonly tokens: readonly number[];
  blockTable: number[];
  /** Hashes of the owner's full blocks, in order (grows as blocks fill). */
  blockHashes: string[];
}

export class BlockManager {
  private readonly refCount: Int32Array;
  private readonly hashOf: (string | null)[];
  private readonly cached = new Map<string, number>();
  /** Never-hashed free blocks (a stack). */
  private readonly free: number[] = [];
  /** Hashed blocks with no owner, least recently freed first (Map keeps insertion order). */
  private readonly evictable = new Map<number, true>();
  readonly stats: PrefixCacheStats = { queries: 0, hits: 0 };

  constructor(
    readonly numBlocks: number,
    readonly blockSize: number,
    readonly prefixCaching: boolean,
  ) {
    this.refCount = new Int32Array(numBlocks);
    this.hashOf = new Array<string | null>(numBlocks).fill(null);
    for (let b = numBlocks - 1; b >= 0; b--) this.free.push(b);
  }

  /** Blocks that can be handed out now. */
  get freeBlocks(): number {
    return this.free.length + this.evictable.size;
  }

  /** Fraction of blocks owned by sequences. */
  get usage(): number {
    return 1 - this.freeBlocks / this.numBlocks;
  }

  blocksFor(tokens: number): number {
    return Math.ceil(tokens / this.blockSize);
  }

  /**
   * Gives a new (or preempted) owner the cached blocks of its longest cached prefix; at least one
   * token is always left to compute so that the forward produces logits. Returns the number of
   * tokens whose KV is already in the cache.
   */
  attachCachedPrefix(owner: BlockOwner): number {
    owner.blockTable = [];
    owner.blockHashes = [];
    if (!this.prefixCaching) return 0;
    const usable = Math.floor((owner.tokens.length - 1) / this.blockSize);
    let parent = '';
    for (let i = 0; i < usable; i++) {
      const hash = this.hashBlock(parent, owner.tokens, i);
      const block = this.cached.get(hash);
      if (block === undefined) break;
      if (this.refCount[block] === 0) this.evictable.delete(block);
      this.refCount[block]++;
      owner.blockTable.push(block);
      owner.blockHashes.push(hash);
      parent = hash;
    }
    return owner.blockTable.length * this.blockSize;
  }

  /** Counts an admitted prompt of `tokens` tokens of which `hits` came from the cache. */
  recordLookup(tokens: number, hits: number): void {
    this.stats.queries += tokens;
    this.stats.hits += hits;
  }

  /** Grows the owner's table to hold `tokens` tokens; false (and nothing taken) if blocks run out. */
  ensure(owner: BlockOwner, tokens: number): boolean {
    const missing = this.blocksFor(tokens) - owner.blockTable.length;
    if (missing <= 0) return true;
    if (missing > this.freeBlocks) return false;
    for (let i = 0; i < missing; i++) owner.blockTable.push(this.take());
    return true;
  }

  /** Names the owner's blocks that became full with `computed` tokens of KV, for later reuse. */
  commitFullBlocks(owner: BlockOwner, computed: number): void {
    if (!this.prefixCaching) return;
    const full = Math.floor(computed / this.blockSize);
    for (let i = owner.blockHashes.length; i < full; i++) {
      const hash = this.hashBlock(owner.blockHashes[i - 1] ?? '', owner.tokens, i);
      owner.blockHashes.push(hash);
      const block = owner.blockTable[i];
      if (!this.cached.has(hash) && this.hashOf[block] === null) {
        this.cached.set(hash, block);
        this.hashOf[block] = hash;
      }
    }
  }

  /** Returns all of the owner's blocks; the last blocks are evicted first. */
  release(owner: BlockOwner): void {
    for (let i = owner.blockTable.length - 1; i >= 0; i--) {
      const block = owner.blockTable[i];
      if (--this.refCount[block] > 0) continue;
      if (this.hashOf[block] !== null) this.evictable.set(block, true);
      else this.free.push(block);
    }
    owner.blockTable = [];
    owner.blockHashes = [];
  }

  private take(): number {
    let block = this.free.pop();
    if (block === undefined) {
      block = this.evictable.keys().next().value as number;
      this.evictable.delete(block);
      this.cached.delete(this.hashOf[block]!);
      this.hashOf[block] = null;
    }
    this.refCount[block] = 1;
    return block;
  }

  private hashBlock(parent: string, tokens: readonly number[], index: number): string {
    const block = Int32Array.from(tokens.slice(index * this.blockSize, (index + 1) * this.blockSize));
    return createHash('sha256').update(parent).update(new Uint8Array(block.buffer)).digest('base64');
  }
}
