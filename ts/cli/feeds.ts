// Random feeds that fit a model's declared inputs, for `run` and `bench`. Symbolic dimensions take
// values from --dim name=value (or `batch` from --batch), else 1.
import type { ValueInfo } from '../engine/Engine';
import { HsError } from '../errors';
import { Tensor } from '../tensor';

export function parseDims(specs: string[] = []): Record<string, number> {
  const out: Record<string, number> = {};
  for (const spec of specs) {
    const m = /^([^=]+)=(\d+)$/.exec(spec);
    if (!m) throw new HsError('ERR_INVALID_ARGUMENT', `--dim expects name=value, got '${spec}'`);
    out[m[1]] = Number(m[2]);
  }
  return out;
}

export function randomFeeds(inputs: readonly ValueInfo[], dims: Record<string, number>): Record<string, Tensor> {
  const feeds: Record<string, Tensor> = {};
  inputs.forEach((input, i) => {
    const shape = (input.dims ?? []).map((d, axis) => {
      if (typeof d === 'number') return d;
      if (d !== null && dims[d] !== undefined) return dims[d];
      if (axis === 0 && dims.batch !== undefined) return dims.batch;
      return 1;
    });
    const n = shape.reduce((a, b) => a * b, 1);
    switch (input.type) {
      case 'float32': feeds[input.name] = new Tensor('float32', Float32Array.from({ length: n }, () => Math.random() * 2 - 1), shape); break;
      case 'int64': feeds[input.name] = new Tensor('int64', BigInt64Array.from({ length: n }, () => BigInt((Math.random() * 16) | 0)), shape); break;
      case 'int32': feeds[input.name] = new Tensor('int32', Int32Array.from({ length: n }, () => (Math.random() * 16) | 0), shape); break;
      case 'bool': feeds[input.name] = new Tensor('bool', Uint8Array.from({ length: n }, () => (Math.random() < 0.5 ? 1 : 0)), shape); break;
      default: throw new HsError('ERR_TYPE', `input ${i} '${input.name}' has type ${input.type}: give it with --dim or use the API`);
    }
  });
  return feeds;
}
