// The vocabulary as a trie of token texts (empty texts and special tokens left out), walked with the
// state of a constraint (JSON, regex, choice) so that tokens sharing a rejected prefix are rejected
// together. Inside a JSON string most tokens are plain text (no quote, backslash or control
// character) and always allowed: they are flagged apart, and a walk may take only the others.

interface TrieNode {
  children: Map<string, TrieNode>;
  ids: number[];
}

function insert(root: TrieNode, text: string, id: number): void {
  let node = root;
  for (const c of text) {
    let next = node.children.get(c);
    if (!next) node.children.set(c, (next = { children: new Map(), ids: [] }));
    node = next;
  }
  node.ids.push(id);
}

export class TokenTrie {
  private readonly tries = {
    all: { children: new Map(), ids: [] } as TrieNode,
    plain: { children: new Map(), ids: [] } as TrieNode,
    special: { children: new Map(), ids: [] } as TrieNode,
  };
  /** The longest token text, in code points. */
  readonly maxLength: number;
  /** At the ids of plain tokens: their length in code points (at least 1); 0 elsewhere. */
  private readonly plainLength: Uint32Array;
  /** At the ids of plain tokens: how many of their code points are U+FFFD (a character cut by the token's end). */
  private readonly plainReplacements: Uint32Array;

  constructor(texts: readonly (string | null)[]) {
    this.plainLength = new Uint32Array(texts.length);
    this.plainReplacements = new Uint32Array(texts.length);
    let maxLength = 0;
    texts.forEach((text, id) => {
      if (!text) return;
      const chars = [...text];
      maxLength = Math.max(maxLength, chars.length);
      insert(this.tries.all, text, id);
      if (/["\\\u0000-\u001f]/.test(text)) insert(this.tries.special, text, id);
      else {
        insert(this.tries.plain, text, id);
        this.plainLength[id] = chars.length;
        this.plainReplacements[id] = chars.filter((c) => c === '\uFFFD').length;
      }
    });
    this.maxLength = maxLength;
  }

  /**
   * Ids of the tokens (all, the plain ones or the others) whose whole text `step` takes, char by
   * char, from `start` (a null step rejects).
   */
  walk<S>(start: S, step: (s: S, c: string) => S | null, among: 'all' | 'plain' | 'special' = 'all'): number[] {
    const out: number[] = [];
    const visit = (node: TrieNode, state: S) => {
      for (const id of node.ids) out.push(id);
      for (const [c, child] of node.children) {
        const next = step(state, c);
        if (next !== null) visit(child, next);
      }
    };
    for (const [c, child] of this.tries[among].children) {
      const next = step(start, c);
      if (next !== null) visit(child, next);
    }
    return out;
  }

  /**
   * `row` into `out` at the plain tokens of at most `room` code points, of which at most
   * `replacementRoom` are U+FFFD; -infinity elsewhere.
   */
  copyPlain(row: Float32Array, out: Float32Array, room = Infinity, replacementRoom = Infinity): void {
    const length = this.plainLength, replacements = this.plainReplacements;
    for (let i = 0; i < row.length; i++) {
      const n = length[i];
      out[i] = n > 0 && n <= room && replacements[i] <= replacementRoom ? row[i] : -Infinity;
    }
  }

  /** Ids of the tokens whose whole text begins `text`. */
  prefixesOf(text: string): number[] {
    const out: number[] = [];
    let node: TrieNode | undefined = this.tries.all;
    for (const c of text) {
      node = node.children.get(c);
      if (!node) break;
      out.push(...node.ids);
    }
    return out;
  }
}
