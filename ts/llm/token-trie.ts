// The vocabulary as a trie of token bytes (tokens without bytes left out: special tokens), walked
// with the state of a constraint (JSON, regex, choice) so that tokens sharing a rejected prefix are
// rejected together. Inside a JSON string most tokens are plain text (no quote, backslash or
// control byte; well-formed UTF-8, maybe ending inside a character) and always allowed: they are
// flagged apart, and a walk may take only the others.

interface TrieNode {
  children: Map<number, TrieNode>;
  ids: number[];
}

function insert(root: TrieNode, bytes: Uint8Array, id: number): void {
  let node = root;
  for (const b of bytes) {
    let next = node.children.get(b);
    if (!next) node.children.set(b, (next = { children: new Map(), ids: [] }));
    node = next;
  }
  node.ids.push(id);
}

// The characters plain text begins (its UTF-8 lead bytes), or 0 when it is not plain: a quote,
// backslash or control byte, a continuation byte first, or a malformed sequence (overlong forms,
// surrogates and code points past U+10FFFF included, as utf8-step.ts refuses them).
function plainChars(bytes: Uint8Array): number {
  let chars = 0, due = 0, lead = 0;
  for (const b of bytes) {
    if (due > 0) {
      if ((b & 0xc0) !== 0x80) return 0;
      // The second byte of E0, ED, F0 and F4 sequences has a narrower range.
      if ((lead === 0xe0 && b < 0xa0) || (lead === 0xed && b >= 0xa0) || (lead === 0xf0 && b < 0x90) || (lead === 0xf4 && b >= 0x90)) return 0;
      lead = 0;
      due--;
    } else if (b === 0x22 || b === 0x5c || b < 0x20 || (b >= 0x80 && b < 0xc2) || b > 0xf4) {
      return 0;
    } else {
      chars++;
      lead = b;
      due = b < 0x80 ? 0 : b < 0xe0 ? 1 : b < 0xf0 ? 2 : 3;
    }
  }
  return chars;
}

export class TokenTrie {
  private readonly tries = {
    all: { children: new Map(), ids: [] } as TrieNode,
    plain: { children: new Map(), ids: [] } as TrieNode,
    special: { children: new Map(), ids: [] } as TrieNode,
  };
  /** At the ids of plain tokens: the characters they begin (at least 1); 0 elsewhere. */
  private readonly plainLength: Uint32Array;
  /** The longest token, in bytes. */
  readonly maxLength: number;

  /** `tokens`: each id's bytes (text: its UTF-8), or null. */
  constructor(tokens: readonly (Uint8Array | string | null)[]) {
    this.plainLength = new Uint32Array(tokens.length);
    const encoder = new TextEncoder();
    let maxLength = 0;
    tokens.forEach((token, id) => {
      const bytes = typeof token === 'string' ? encoder.encode(token) : token;
      if (!bytes || bytes.length === 0) return;
      maxLength = Math.max(maxLength, bytes.length);
      insert(this.tries.all, bytes, id);
      const chars = plainChars(bytes);
      if (chars === 0) insert(this.tries.special, bytes, id);
      else {
        insert(this.tries.plain, bytes, id);
        this.plainLength[id] = chars;
      }
    });
    this.maxLength = maxLength;
  }

  /**
   * Ids of the tokens (all, the plain ones or the others) whose whole bytes `step` takes from
   * `start` (a null step rejects).
   */
  walk<S>(start: S, step: (s: S, byte: number) => S | null, among: 'all' | 'plain' | 'special' = 'all'): number[] {
    const out: number[] = [];
    const visit = (node: TrieNode, state: S) => {
      for (const id of node.ids) out.push(id);
      for (const [b, child] of node.children) {
        const next = step(state, b);
        if (next !== null) visit(child, next);
      }
    };
    for (const [b, child] of this.tries[among].children) {
      const next = step(start, b);
      if (next !== null) visit(child, next);
    }
    return out;
  }

  /** `row` into `out` at the plain tokens that begin at most `room` characters, -infinity elsewhere. */
  copyPlain(row: Float32Array, out: Float32Array, room = Infinity): void {
    const length = this.plainLength;
    for (let i = 0; i < row.length; i++) {
      const n = length[i];
      out[i] = n > 0 && n <= room ? row[i] : -Infinity;
    }
  }

  /** Ids of the tokens whose whole bytes begin `bytes`. */
  prefixesOf(bytes: Uint8Array): number[] {
    const out: number[] = [];
    let node: TrieNode | undefined = this.tries.all;
    for (const b of bytes) {
      node = node.children.get(b);
      if (!node) break;
      out.push(...node.ids);
    }
    return out;
  }
}
