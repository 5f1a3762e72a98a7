// RNN, GRU and LSTM on device 'cuda' against onnxruntime-node on fresh random inputs and weights:
// every direction, biases, initial states, per-entry sequence lengths, clip, custom activations,
// peepholes, input_forget, GRU's linear_before_reset, the batch-first layout (against onnxruntime
// running the same layer in layout 0 on transposed tensors) and precision fp16; each model first
// checked to place wholly on the device. A sequence length out of range rejects the run with a
// clear error and the engine runs again.
import { describe, expect, it } from 'vitest';

import { GraphBuilder } from '../fixtures/onnx-builder';
import { hs, ortRun, randomTensor } from '../helpers';
import { cuda, expectMatchesOrt, loadCuda, relErrorNaN } from './cuda-helpers';

const withDevice = cuda.available ? describe : describe.skip;

type Op = 'RNN' | 'GRU' | 'LSTM';
const gatesOf = { RNN: 1, GRU: 3, LSTM: 4 } as const;

interface Layer {
  op: Op;
  seq: number;
  batch: number;
  input: number;
  hidden: number;
  direction?: 'forward' | 'reverse' | 'bidirectional';
  layout?: 0 | 1;
  attrs?: Record<string, number | string[] | number[]>;
  bias?: boolean;
  initial?: boolean;  // initial_h (and initial_c)
  peephole?: boolean;
  lengths?: number[];  // sequence_lens, int32
}

const count = (dims: number[]) => dims.reduce((a, d) => a * d, 1);
const weights = (dims: number[]) => randomTensor(dims, 0.5).data;

interface Weights { w: Float32Array; r: Float32Array; b: Float32Array; p: Float32Array }

function layerWeights(l: Layer): Weights {
  const D = l.direction === 'bidirectional' ? 2 : 1, G = gatesOf[l.op], H = l.hidden;
  return { w: weights([D, G * H, l.input]), r: weights([D, G * H, H]), b: weights([D, 2 * G * H]), p: weights([D, 3 * H]) };
}

// The layer as a model with constant weights; X, sequence_lens and the initial states are inputs.
function layerModel(l: Layer, wts = layerWeights(l)) {
  const D = l.direction === 'bidirectional' ? 2 : 1, G = gatesOf[l.op], H = l.hidden;
  const batchFirst = l.layout === 1;
  const g = new GraphBuilder(l.op.toLowerCase());
  const x = g.input('x', 'float32', batchFirst ? [l.batch, l.seq, l.input] : [l.seq, l.batch, l.input]);
  const stateDims = batchFirst ? [l.batch, D, H] : [D, l.batch, H];
  const inputs = [x, g.init('w', wts.w, [D, G * H, l.input]), g.init('r', wts.r, [D, G * H, H])];
  inputs.push(l.bias ? g.init('b', wts.b, [D, 2 * G * H]) : '');
  inputs.push(l.lengths ? g.input('lens', 'int32', [l.batch]) : '');
  inputs.push(l.initial ? g.input('h0', 'float32', stateDims) : '');
  if (l.op === 'LSTM') {
    inputs.push(l.initial ? g.input('c0', 'float32', stateDims) : '');
    inputs.push(l.peephole ? g.init('p', wts.p, [D, 3 * H]) : '');
  }
  while (inputs[inputs.length - 1] === '') inputs.pop();
  const outs = g.node(l.op, inputs, { hidden_size: H, direction: l.direction ?? 'forward', ...(l.layout ? { layout: 1 } : {}), ...l.attrs },
    l.op === 'LSTM' ? 3 : 2);
  outs.forEach((o) => g.output(o, 'float32'));
  return g.build(l.layout ? 14 : 13);
}

function layerFeeds(l: Layer): Record<string, hs.TensorLike> {
  const D = l.direction === 'bidirectional' ? 2 : 1;
  const batchFirst = l.layout === 1;
  const feeds: Record<string, hs.TensorLike> = { x: randomTensor(batchFirst ? [l.batch, l.seq, l.input] : [l.seq, l.batch, l.input]) };
  const stateDims = batchFirst ? [l.batch, D, l.hidden] : [D, l.batch, l.hidden];
  if (l.lengths) feeds.lens = { type: 'int32', dims: [l.batch], data: Int32Array.from(l.lengths) };
  if (l.initial) {
    feeds.h0 = randomTensor(stateDims);
    if (l.op === 'LSTM') feeds.c0 = randomTensor(stateDims);
  }
  return feeds;
}

async function expectLayerOnDevice(l: Layer, bound = 1e-5) {
  const model = layerModel(l);
  expect((await hs.cudaPlacement(model)).cpuNodes, l.op).toEqual([]);
  await expectMatchesOrt(model, layerFeeds(l), bound, l.op);
}

// Swaps the first two axes of a float32 tensor (batch-first <-> time-first).
function swap01(t: { dims: number[]; data: Float32Array }) {
  const [a, b, ...rest] = t.dims, inner = count(rest);
  const out = new Float32Array(t.data.length);
  for (let i = 0; i < a; i++)
    for (let j = 0; j < b; j++) out.set(t.data.subarray((i * b + j) * inner, (i * b + j + 1) * inner), (j * a + i) * inner);
  return { type: 'float32' as const, dims: [b, a, ...rest], data: out };
}

withDevice('recurrent layers on CUDA vs onnxruntime-node', () => {
  it.each<[string, Layer]>([
    ['RNN forward, bias and initial state', { op: 'RNN', seq: 5, batch: 3, input: 4, hidden: 6, bias: true, initial: true }],
    ['RNN bidirectional, lengths, Relu / LeakyRelu', {
      op: 'RNN', seq: 6, batch: 4, input: 3, hidden: 5, direction: 'bidirectional', bias: true, lengths: [6, 2, 1, 4],
      attrs: { activations: ['Relu', 'LeakyRelu'], activation_alpha: [0.1] },
    }],
    ['GRU forward, lengths and initial state', { op: 'GRU', seq: 7, batch: 3, input: 5, hidden: 8, bias: true, initial: true, lengths: [7, 3, 5] }],
    ['GRU reverse, linear_before_reset', { op: 'GRU', seq: 5, batch: 2, input: 4, hidden: 6, direction: 'reverse', bias: true, initial: true, attrs: { linear_before_reset: 1 } }],
    ['GRU bidirectional, clip, no bias', { op: 'GRU', seq: 6, batch: 3, input: 4, hidden: 5, direction: 'bidirectional', attrs: { clip: 0.7 } }],
    ['LSTM forward, peepholes, initial states', { op: 'LSTM', seq: 6, batch: 3, input: 5, hidden: 7, bias: true, initial: true, peephole: true }],
    ['LSTM bidirectional, lengths, peepholes', {
      op: 'LSTM', seq: 5, batch: 4, input: 3, hidden: 6, direction: 'bidirectional', bias: true, initial: true, peephole: true, lengths: [5, 1, 3, 4],
    }],
    ['LSTM reverse, input_forget, HardSigmoid / Tanh / Softsign', {
      op: 'LSTM', seq: 4, batch: 2, input: 3, hidden: 4, direction: 'reverse', bias: true,
      attrs: { input_forget: 1, activations: ['HardSigmoid', 'Tanh', 'Softsign'], activation_alpha: [0.3], activation_beta: [0.4] },
    }],
  ])('%s', async (_, layer) => {
    await expectLayerOnDevice(layer);
  });

  it.each<Op>(['GRU', 'LSTM'])('%s in the batch-first layout equals onnxruntime in layout 0 on transposed tensors', async (op) => {
    const l: Layer = { op, seq: 5, batch: 3, input: 4, hidden: 6, direction: 'bidirectional', bias: true, initial: true, layout: 1 };
    const wts = layerWeights(l);
    const model = layerModel(l, wts);
    expect((await hs.cudaPlacement(model)).cpuNodes).toEqual([]);
    const feeds = layerFeeds(l) as Record<string, { type: 'float32'; dims: number[]; data: Float32Array }>;
    const timeFirst = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, swap01(v)]));
    const reference = await ortRun(layerModel({ ...l, layout: 0 }, wts), timeFirst);
    const engine = await loadCuda(model);
    try {
      const ours = await engine.run(feeds);
      engine.outputNames.forEach((name, i) => {
        const ref = reference[name] as { dims: number[]; data: Float32Array };
        // Y: [seq, D, batch, H] -> [batch, seq, D, H]; the states: [D, batch, H] -> [batch, D, H].
        const want = i === 0 ? toBatchFirstY(ref) : swap01(ref);
        const got = ours[name] as hs.Tensor;
        expect(got.dims, name).toEqual(want.dims);
        expect(relErrorNaN(got, want), name).toBeLessThan(1e-5);
      });
    } finally {
      engine.dispose();
    }
  });

  it('runs in precision fp16 within fp16 rounding', async () => {
    const l: Layer = { op: 'LSTM', seq: 8, batch: 4, input: 16, hidden: 32, bias: true, initial: true };
    const model = layerModel(l);
    const feeds = layerFeeds(l);
    const engine = await loadCuda(model, { precision: 'fp16' });
    try {
      const [ours, ref] = await Promise.all([engine.run(feeds), ortRun(model, feeds)]);
      for (const name of engine.outputNames) expect(relErrorNaN(ours[name] as hs.Tensor, ref[name]), name).toBeLessThan(2e-2);
    } finally {
      engine.dispose();
    }
  });

  it('a sequence length out of range rejects the run, and the engine runs again', async () => {
    const l: Layer = { op: 'GRU', seq: 4, batch: 2, input: 3, hidden: 4, bias: true, lengths: [4, 2] };
    const model = layerModel(l);
    const engine = await loadCuda(model);
    try {
      const bad = { ...layerFeeds(l), lens: { type: 'int32' as const, dims: [2], data: Int32Array.from([4, 9]) } };
      await expect(engine.run(bad)).rejects.toMatchObject({ code: expect.stringMatching(/^ERR_/) });
      const feeds = layerFeeds(l);
      const [ours, ref] = await Promise.all([engine.run(feeds), ortRun(model, feeds)]);
      for (const name of engine.outputNames) expect(relErrorNaN(ours[name] as hs.Tensor, ref[name]), name).toBeLessThan(1e-5);
    } finally {
      engine.dispose();
    }
  });
});

function toBatchFirstY(y: { dims: number[]; data: Float32Array }) {
  const [S, D, B, H] = y.dims;
  const out = new Float32Array(y.data.length);
  for (let t = 0; t < S; t++)
    for (let d = 0; d < D; d++)
      for (let b = 0; b < B; b++)
        out.set(y.data.subarray(((t * D + d) * B + b) * H, ((t * D + d) * B + b + 1) * H), ((b * S + t) * D + d) * H);
  return { type: 'float32' as const, dims: [B, S, D, H], data: out };
}
