// A constraint that reads characters (JSON, regex), read byte by byte, as tokens come: a token may
// end inside a multi-byte character (byte-level BPE pieces), which the next token finishes. A
// character is begun only where some character it may turn out to be is taken (so a begun
// character can always be finished), and handed to the constraint once whole.

/** What a constraint reading characters answers. */
export interface CharStepper<S> {
  /** The state after `char`, or null when it cannot come next. */
  step(state: S, char: string): S | null;
  /** Whether some code point in [lo, hi] can come next. */
  takesSomeIn(state: S, lo: number, hi: number): boolean;
}

/** A character begun but not finished: the constraint's state before it, and the bytes so far. */
export class PartialChar<S> {
  constructor(
    readonly s: S,
    /** The bits of the character so far. */
    readonly cp: number,
    /** Its bytes still due. */
    readonly need: number,
    /** The smallest code point it may be (no overlong forms). */
    readonly min: number,
  ) {}
}

/** A constraint's state read byte by byte: its own (no character begun), or a character begun. */
export type Utf8State<S> = S | PartialChar<S>;

/** The constraint's own state, or null while a character is begun. */
export function whole<S>(u: Utf8State<S>): S | null {
  return u instanceof PartialChar ? null : u;
}

// The code points a character begun with `cp` and `need` bytes still due may turn out to be.
function span(cp: number, need: number, min: number): [number, number] {
  const shift = 6 * need;
  return [Math.max(min, cp * 2 ** shift), Math.min(0x10ffff, cp * 2 ** shift + 2 ** shift - 1)];
}

/** The byte-level step of a constraint that reads characters. */
export function utf8Stepper<S>(inner: CharStepper<S>): (u: Utf8State<S>, byte: number) => Utf8State<S> | null {
  // Surrogate code points are no characters: a begun character must be able to end outside them.
  const takes = (s: S, lo: number, hi: number) =>
    (lo <= Math.min(hi, 0xd7ff) && inner.takesSomeIn(s, lo, Math.min(hi, 0xd7ff))) || (Math.max(lo, 0xe000) <= hi && inner.takesSomeIn(s, Math.max(lo, 0xe000), hi));
  const begin = (s: S, cp: number, need: number, min: number): PartialChar<S> | null => {
    const [lo, hi] = span(cp, need, min);
    return lo <= hi && takes(s, lo, hi) ? new PartialChar(s, cp, need, min) : null;
  };
  return (u, b) => {
    if (!(u instanceof PartialChar)) {
      if (b < 0x80) return inner.step(u, String.fromCharCode(b));
      if (b >= 0xc2 && b <= 0xdf) return begin(u, b & 0x1f, 1, 0x80);
      if (b >= 0xe0 && b <= 0xef) return begin(u, b & 0x0f, 2, 0x800);
      if (b >= 0xf0 && b <= 0xf4) return begin(u, b & 0x07, 3, 0x10000);
      return null;
    }
    if ((b & 0xc0) !== 0x80) return null;
    const cp = u.cp * 64 + (b & 0x3f);
    if (u.need > 1) return begin(u.s, cp, u.need - 1, u.min);
    if (cp < u.min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return null;
    return inner.step(u.s, String.fromCodePoint(cp));
  };
}

/** The state after `bytes` (null: not taken). */
export function feedBytes<S>(stepper: (u: Utf8State<S>, b: number) => Utf8State<S> | null, u: Utf8State<S> | null, bytes: Uint8Array): Utf8State<S> | null {
  for (const b of bytes) {
    if (u === null) return null;
    u = stepper(u, b);
  }
  return u;
}
