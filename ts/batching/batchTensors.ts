// Concatenating requests along the batch dimension (dim 0) and splitting the outputs back.
// Requests batch together only when their inputs agree in names, element types and every
// dimension but the first; the signature string below captures exactly that.
import type { TensorData, TensorType } from '../binding';
import { HsError } from '../errors';
import { Tensor, type TensorLike } from '../tensor';

export type Feeds = Record<string, TensorLike>;
export type Outputs = Record<string, Tensor>;

/** Rows (dim 0) a request contributes to a batch, or null when its inputs have no shared dim 0. */
export function batchRowsOf(feeds: Feeds): number | null {
  let rows: number | null = null;
  for (const t of Object.values(feeds)) {
    if (t.dims.length === 0) return null;
    if (rows === null) rows = t.dims[0];
    else if (rows !== t.dims[0]) return null;
  }
  return rows;
}

/** Requests with equal signatures can be concatenated along dim 0. */
export function batchSignatureOf(feeds: Feeds): string {
  return Object.keys(feeds)
    .sort()
    .map((name) => `${name}:${feeds[name].type}:${feeds[name].dims.slice(1).join('x')}`)
    .join('|');
}

function concatData(parts: TensorLike[], type: TensorType): TensorData {
  const first = parts[0].data as TensorData;
  const total = parts.reduce((n, t) => n + (t.data as TensorData).length, 0);
  const Ctor = first.constructor as new (n: number) => TensorData;
  const out = new Ctor(total);
  let at = 0;
  for (const t of parts) {
    const data = t.data as TensorData;
    if (data.constructor !== Ctor)
      throw new HsError('ERR_TYPE', `cannot batch ${type} tensors held in ${data.constructor.name} and ${Ctor.name}`);
    (out as unknown as { set(a: TensorData, at: number): void }).set(data, at);
    at += data.length;
  }
  return out;
}

/** One feed per input name, concatenated along dim 0 in request order. */
export function concatFeeds(requests: Feeds[]): Feeds {
  if (requests.length === 1) return requests[0];
  const merged: Feeds = {};
  for (const name of Object.keys(requests[0])) {
    const parts = requests.map((r) => r[name]);
    const type = parts[0].type as TensorType;
    const rows = parts.reduce((n, t) => n + t.dims[0], 0);
    merged[name] = new Tensor(type, concatData(parts, type), [rows, ...parts[0].dims.slice(1)]);
  }
  return merged;
}

/** Splits every output along dim 0 into pieces of `rows[i]` (zero-copy views). */
export function splitOutputs(outputs: Outputs, rows: number[]): Outputs[] {
  if (rows.length === 1) return [outputs];
  const total = rows.reduce((a, b) => a + b, 0);
  const pieces: Outputs[] = rows.map(() => ({}));
  for (const [name, t] of Object.entries(outputs)) {
    if (t.dims.length === 0 || t.dims[0] !== total)
      throw new HsError('ERR_SHAPE', `output '${name}' has dims ${JSON.stringify(t.dims)}; a batch of ${total} rows needs dim 0 = ${total}`);
    const rowSize = t.data.length / total;
    let row = 0;
    rows.forEach((n, i) => {
      const [begin, end] = [row * rowSize, (row + n) * rowSize];
      const view = Array.isArray(t.data) ? t.data.slice(begin, end) : (t.data.subarray(begin, end) as TensorData);
      pieces[i][name] = new Tensor(t.type, view, [n, ...t.dims.slice(1)]);
      row += n;
    });
  }
  return pieces;
}
