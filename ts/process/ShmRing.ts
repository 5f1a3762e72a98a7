// A ring allocator over one region of a shared-memory segment, for messages that one process
// writes (the owner: it allocates) and another reads (the reader: it releases). Each block starts
// with a 16-byte header in shared memory: [state: i32, size: i32, 8 spare bytes]. The reader
// releases a block by storing RELEASED into its header, so no message travels back; the owner
// reclaims released blocks lazily from the tail before allocating. Blocks may be released out of
// order; the tail then waits for the oldest one. A block that does not fit before the end of the
// region leaves a released filler block there and starts again at offset 0.
import { HsError } from '../errors';

const HEADER_BYTES = 16;
const ALIGN = 64;
const STATE_USED = 1;
const STATE_RELEASED = 2;

const alignUp = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

export class ShmRing {
  private readonly words: Int32Array;
  private head = 0; // next allocation, relative to `base`
  private tail = 0; // oldest block not reclaimed yet
  private used = 0; // bytes between tail and head, fillers included
  /** Sizes of the blocks from tail to head, in order (kept here, not read back from shared memory). */
  private readonly sizes: number[] = [];

  /** `base` and `size` must be multiples of 64 inside `buffer`. */
  constructor(readonly buffer: ArrayBuffer, readonly base: number, readonly size: number) {
    if (base % ALIGN || size % ALIGN || base + size > buffer.byteLength || size < 2 * ALIGN)
      throw new HsError('ERR_INVALID_ARGUMENT', `ShmRing: region [${base}, ${base + size}) must be 64-byte aligned, >= 128 bytes and inside the ${buffer.byteLength}-byte buffer`);
    this.words = new Int32Array(buffer);
  }

  /** Allocates `bytes` of payload; returns the payload's absolute offset, or null when the ring is full now. */
  alloc(bytes: number): number | null {
    const need = alignUp(HEADER_BYTES + Math.max(0, bytes));
    if (need > this.size) return null;
    this.reclaim();
    if (this.used === 0) this.head = this.tail = 0;
    let at: number;
    if (this.head >= this.tail && this.used < this.size) {
      if (this.head + need <= this.size) at = this.head;
      else if (need <= this.tail) {
        const filler = this.size - this.head;
        this.writeHeader(this.head, STATE_RELEASED, filler);
        this.sizes.push(filler);
        this.used += filler;
        at = 0;
      } else return null;
    } else if (this.head < this.tail && this.head + need <= this.tail) at = this.head;
    else return null;
    this.writeHeader(at, STATE_USED, need);
    this.sizes.push(need);
    this.head = (at + need) % this.size;
    this.used += need;
    return this.base + at + HEADER_BYTES;
  }

  /** Marks the block of a payload offset released (either process may call it). */
  static release(buffer: ArrayBuffer, payloadOffset: number): void {
    Atomics.store(new Int32Array(buffer, payloadOffset - HEADER_BYTES, 1), 0, STATE_RELEASED);
  }

  release(payloadOffset: number): void {
    ShmRing.release(this.buffer, payloadOffset);
  }

  /** Bytes held by blocks not reclaimed yet. */
  get usedBytes(): number {
    this.reclaim();
    return this.used;
  }

  private writeHeader(at: number, state: number, size: number): void {
    const word = (this.base + at) / 4;
    this.words[word + 1] = size;
    Atomics.store(this.words, word, state);
  }

  private reclaim(): void {
    while (this.used > 0) {
      if (Atomics.load(this.words, (this.base + this.tail) / 4) !== STATE_RELEASED) return;
      const size = this.sizes.shift()!;
      this.used -= size;
      this.tail = (this.tail + size) % this.size;
    }
  }
}
