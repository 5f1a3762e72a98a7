// Bounded numbers of JSON Schema (minimum, maximum, exclusiveMinimum, exclusiveMaximum) as the
// patterns JSON mode generates them by (ranges written by to-regex-range): integers with any
// integer bounds; other numbers when the lower bound is a non-negative integer and the upper bound
// (if any) an integer, e.g. a probability in [0, 1]. Generated without exponents or leading zeros.
import toRegexRange from 'to-regex-range';

export interface NumberBounds {
  minimum?: unknown;
  maximum?: unknown;
  exclusiveMinimum?: unknown;
  exclusiveMaximum?: unknown;
}

const FRACTION = '(?:\\.\\d+)?';

const range = (lo: number, hi: number) => `(?:${toRegexRange(lo, hi, { capture: false })})`;

// Integers >= lo (lo >= 0): those with as many digits as lo, and all longer ones.
function atLeast(lo: number): string {
  const digits = String(lo).length;
  return `(?:${range(lo, 10 ** digits - 1)}|[1-9]\\d{${digits},})`;
}

// Integers in [lo, hi], either end possibly infinite (lo <= hi).
function integers(lo: number, hi: number): string {
  if (Number.isFinite(lo) && Number.isFinite(hi)) return range(lo, hi);
  if (Number.isFinite(lo)) return lo >= 0 ? atLeast(lo) : `(?:-${range(1, -lo)}|${atLeast(0)})`;
  return hi >= 0 ? `(?:${range(0, hi)}|-${atLeast(1)})` : `-${atLeast(-hi)}`;
}

/**
 * The pattern of the numbers within the bounds (null: no bounds), or why the bounds cannot be
 * generated.
 */
export function boundedNumberPattern(bounds: NumberBounds, integer: boolean): { pattern: string | null } | { error: string } {
  const read = (key: keyof NumberBounds) => {
    const v = bounds[key];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v))) return NaN;
    return v as number | undefined;
  };
  const min = read('minimum'), max = read('maximum'), exMin = read('exclusiveMinimum'), exMax = read('exclusiveMaximum');
  if ([min, max, exMin, exMax].some((v) => Number.isNaN(v))) return { error: 'bounds must be finite numbers' };
  if ([min, max, exMin, exMax].every((v) => v === undefined)) return { pattern: null };
  if ([min, max, exMin, exMax].some((v) => v !== undefined && Math.abs(v) > Number.MAX_SAFE_INTEGER)) return { error: 'bounds beyond 2^53 are not supported' };
  if (integer) {
    const lo = Math.max(min === undefined ? -Infinity : Math.ceil(min), exMin === undefined ? -Infinity : Math.floor(exMin) + 1);
    const hi = Math.min(max === undefined ? Infinity : Math.floor(max), exMax === undefined ? Infinity : Math.ceil(exMax) - 1);
    if (lo > hi) return { error: 'no integer lies within the bounds' };
    return { pattern: integers(lo, hi) };
  }
  if ((min !== undefined && exMin !== undefined) || (max !== undefined && exMax !== undefined))
    return { error: 'a number with both an inclusive and an exclusive bound on one side is not supported' };
  const a = min ?? exMin, bUpper = max ?? exMax;
  if (a === undefined || a < 0 || !Number.isInteger(a) || (bUpper !== undefined && !Number.isInteger(bUpper)))
    return { error: 'bounds of a non-integer number are supported as a non-negative integer lower bound and an integer upper bound' };
  const b = bUpper ?? Infinity;
  const parts: string[] = [];
  // Exclusive lower bound a: a itself only with a fraction that is not zero.
  const start = exMin !== undefined ? a + 1 : a;
  if (exMin !== undefined && a < b) parts.push(`${a}\\.\\d*[1-9]\\d*`);
  // Integer parts below the upper bound take any fraction.
  if (start <= b - 1) parts.push(`${integers(start, b - 1)}${FRACTION}`);
  // An inclusive upper bound b: b itself, with zeros after the point at most.
  if (max !== undefined && b >= start) parts.push(`${b}(?:\\.0+)?`);
  if (parts.length === 0) return { error: 'no number lies within the bounds' };
  return { pattern: `(?:${parts.join('|')})` };
}
