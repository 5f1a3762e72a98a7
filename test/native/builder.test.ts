// The builder's passes through the public Engine. Every case loads a model twice, unoptimised
// (optimizationLevel 0) and built (level 2), runs both on the same fresh random inputs and wants
// the same outputs; then it checks what the builder did (fusions, folded and removed nodes) and,
// as much, what it must not do when the rewrite cannot be proven safe.
import { describe, expect, it } from 'vitest';

import { cnnModel, transformerModel } from '../fixtures/models';
import { float, GraphBuilder, randomFloats } from '../fixtures/onnx-builder';
import { hs, randomTensor, relError } from '../helpers';

type Feeds = Record<string, { type: 'float32'; dims: number[]; data: Float32Array }>;

const count = (fusions: string[], op: string) => fusions.filter((f) => f.startsWith(`${op}(`)).length;
const f32 = (values: number[]) => new Float32Array(values);
const i64 = (values: number[]) => new BigInt64Array(values.map(BigInt));
let seed = 1;
const weights = (n: number, scale = 0.5) => randomFloats(n, 7919 * seed++, scale);

async function compareLevels(model: Uint8Array, feeds: Feeds) {
  const plain = await hs.Engine.load(model, { cacheDir: false, threads: 2, optimizationLevel: 0 });
  const built = await hs.Engine.load(model, { cacheDir: false, threads: 2 });
  const [a, b] = await Promise.all([plain.run(feeds), built.run(feeds)]);
  let error = 0;
  for (const name of plain.outputNames) {
    expect(b[name].dims).toEqual(a[name].dims);
    error = Math.max(error, relError(b[name], a[name]));
  }
  const info = { plain: plain.info, built: built.info, error };
  plain.dispose();
  built.dispose();
  return info;
}

describe('builder on the fixture models', () => {
  it('fuses every Conv of the CNN with its BatchNorm, residual Add and Relu', async () => {
    const { plain, built, error } = await compareLevels(cnnModel({ size: 32 }), { input: randomTensor([2, 3, 32, 32]) });
    console.log(`CNN: ${plain.nodes} -> ${built.nodes} nodes, error ${error.toExponential(2)}`);
    expect(count(built.fusions, 'FusedConv')).toBe(9);
    expect(built.fusions.filter((f: string) => f.includes('Add')).length).toBe(3);
    expect(built.nodes).toBeLessThan(plain.nodes / 2);
    expect(error).toBeLessThan(1e-5);
  });

  it.each([
    [1, 16],
    [2, 37],
  ])('fuses the transformer encoder (batch %i, seq %i)', async (batch, seq) => {
    const mask = new Float32Array(batch * seq).fill(1);
    for (let s = seq - 3; s < seq; s++) mask[(batch - 1) * seq + s] = 0;
    const x = randomTensor([batch, seq, 64]);
    const { plain, built, error } = await compareLevels(transformerModel(), { x, mask: { type: 'float32', dims: [batch, seq], data: mask } });
    console.log(`encoder: ${plain.nodes} -> ${built.nodes} nodes, error ${error.toExponential(2)}`);
    expect(count(built.fusions, 'Attention')).toBe(2);
    expect(count(built.fusions, 'LayerNormalization')).toBe(4);
    expect(count(built.fusions, 'FusedMatMul')).toBe(12);
    expect(built.fusions.filter((f: string) => f.startsWith('FusedMatMul') && f.includes('Erf')).length).toBe(2);
    expect(error).toBeLessThan(1e-5);
  });
});

describe('builder passes', () => {
  it('folds a Shape-Gather-Unsqueeze-Concat chain on a static shape and drops Identity/Dropout', async () => {
    const b = new GraphBuilder('fold');
    const x = b.input('x', 'float32', [2, 3, 4]);
    const shape = b.op('Shape', [b.op('Identity', [x])]);
    const first = b.op('Unsqueeze', [b.op('Gather', [shape, b.init('zero', i64([0]), [])]), b.init('axes', i64([0]), [1])]);
    const target = b.op('Concat', [first, b.init('rest', i64([-1]), [1])], { axis: 0 });
    const y = b.op('Dropout', [b.op('Reshape', [x, target])]);
    b.output(b.op('Identity', [b.op('Relu', [y])]), 'float32', [2, 12]);
    const { built, error } = await compareLevels(b.build(17), { x: randomTensor([2, 3, 4]) });
    expect(built.foldedNodes).toBeGreaterThanOrEqual(4);
    expect(built.nodes).toBe(2); // Reshape (now with a constant target) and Relu
    expect(error).toBe(0);
  });

  it('keeps a symbolic-shape chain computing at run time', async () => {
    const b = new GraphBuilder('symbolic');
    const x = b.input('x', 'float32', ['batch', 3, 4]);
    const batch = b.op('Gather', [b.op('Shape', [x]), b.init('zero', i64([0]), [])]);
    const target = b.op('Concat', [b.op('Unsqueeze', [batch, b.init('axes', i64([0]), [1])]), b.init('rest', i64([12]), [1])], { axis: 0 });
    const tail = b.op('Shape', [x], { start: 1 }); // static even though the batch is not: folds
    b.output(b.op('Reshape', [x, target]), 'float32', ['batch', 12]);
    b.output(b.op('Cast', [tail], { to: 1 }), 'float32', [2]);
    for (const batchSize of [1, 5]) {
      const { built, error } = await compareLevels(b.build(17), { x: randomTensor([batchSize, 3, 4]) });
      expect(built.foldedNodes).toBe(2); // Shape(start=1) and its Cast
      expect(error).toBe(0);
    }
  });

  it('fuses Conv with Silu, HardSwish and Clip(0, 6), and Conv+BN+LeakyRelu', async () => {
    const b = new GraphBuilder('acts');
    const x = b.input('x', 'float32', ['n', 4, 9, 9]);
    const conv = (input: string) => b.op('Conv', [input, b.init(`w${seed}`, weights(4 * 4 * 9), [4, 4, 3, 3]), b.init(`b${seed}`, weights(4), [4])], { pads: [1, 1, 1, 1] });
    const c1 = conv(x);
    const silu = b.op('Mul', [c1, b.op('Sigmoid', [c1])]);
    const swish = b.op('HardSwish', [conv(silu)]);
    const clip = b.op('Clip', [conv(swish), b.init('lo', f32([0]), []), b.init('hi', f32([6]), [])]);
    const bn = b.op('BatchNormalization', [conv(clip), b.init('g', weights(4), [4]), b.init('beta', weights(4), [4]), b.init('m', weights(4), [4]), b.init('v', weights(4).map((v) => 1 + Math.abs(v)), [4])]);
    b.output(b.op('LeakyRelu', [bn], { alpha: float(0.2) }), 'float32', null);
    const { built, error } = await compareLevels(b.build(17), { x: randomTensor([2, 4, 9, 9]) });
    expect(built.fusions).toEqual([
      'FusedConv(Conv_0+Sigmoid_1+Mul_2)', 'FusedConv(Conv_3+HardSwish_4)', 'FusedConv(Conv_5+Clip_6)',
      'FusedConv(Conv_7+BatchNormalization_8+LeakyRelu_9)']);
    expect(built.nodes).toBe(4);
    expect(error).toBeLessThan(1e-5);
  });

  it('folds Mul and Add by per-channel or single constants into the Conv, and fuses HardSwish as exporters write it', async () => {
    const b = new GraphBuilder('affine');
    const x = b.input('x', 'float32', ['n', 4, 7, 7]);
    const conv = (input: string, bias = true) => b.op('Conv', [input, b.init(`w${seed}`, weights(4 * 4 * 9), [4, 4, 3, 3]), ...(bias ? [b.init(`b${seed}`, weights(4), [4])] : [])], { pads: [1, 1, 1, 1] });
    const c = (name: string, dims: number[], values = weights(dims.reduce((p, d) => p * d, 1))) => b.init(name, values, dims);
    // PP-LCNet's learnable affine block, then x * Clip(x + 3, 0, 6) / 6.
    const affine = b.op('Add', [b.op('Mul', [c('s', [1]), conv(x)]), c('t', [1])]);
    const clip = b.op('Clip', [b.op('Add', [affine, c('three', [], f32([3]))]), c('zero', [], f32([0])), c('six', [], f32([6]))]);
    const swish = b.op('Div', [b.op('Mul', [affine, clip]), c('six2', [], f32([6]))]);
    // Per-channel scales [4, 1, 1] and [1, 4, 1, 1] on a Conv without bias, then x * HardSigmoid(x).
    const scaled = b.op('Add', [b.op('Mul', [conv(swish, false), c('s2', [4, 1, 1])]), c('t2', [1, 4, 1, 1])]);
    const hs2 = b.op('Mul', [scaled, b.op('HardSigmoid', [scaled], { alpha: float(1 / 6), beta: float(0.5) })]);
    // BatchNormalization, then a scale (* (1/6) form of the decomposed HardSwish).
    const bn = b.op('BatchNormalization', [conv(hs2), c('g', [4]), c('beta', [4]), c('m', [4]), c('v', [4], weights(4).map((v) => 1 + Math.abs(v)))]);
    const bnScaled = b.op('Mul', [bn, c('s3', [1, 4, 1, 1])]);
    const clip2 = b.op('Clip', [b.op('Add', [c('three2', [], f32([3])), bnScaled]), c('zero2', [], f32([0])), c('six3', [], f32([6]))]);
    b.output(b.op('Mul', [b.op('Mul', [bnScaled, clip2]), c('sixth', [], f32([1 / 6]))]), 'float32', null);
    const { built, error } = await compareLevels(b.build(17), { x: randomTensor([2, 4, 7, 7]) });
    expect(built.fusions).toEqual([
      'FusedConv(Conv_0+Mul_1+Add_2+Add_3+Clip_4+Mul_5+Div_6)', 'FusedConv(Conv_7+Mul_8+Add_9+HardSigmoid_10+Mul_11)',
      'FusedConv(Conv_12+BatchNormalization_13+Mul_14+Add_15+Clip_16+Mul_17+Mul_18)']);
    expect(built.nodes).toBe(3);
    expect(error).toBeLessThan(1e-5);
  });

  it('joins a Mul and an Add by single constants after the activation (CPU builds), not per-channel or rank-raising ones', async () => {
    const b = new GraphBuilder('post-affine');
    const x = b.input('x', 'float32', ['n', 4, 7, 7]);
    const conv = (input: string) => b.op('Conv', [input, b.init(`w${seed}`, weights(4 * 4 * 9), [4, 4, 3, 3]), b.init(`b${seed}`, weights(4), [4])], { pads: [1, 1, 1, 1] });
    // A learnable affine block behind a HardSwish, as PP-LCNet has them.
    const first = b.op('Add', [b.op('Mul', [b.op('HardSwish', [conv(x)]), b.init('s', f32([1.7]), [1])]), b.init('t', f32([-0.3]), [])]);
    const perChannel = b.op('Mul', [b.op('Relu', [conv(first)]), b.init('c', weights(4), [1, 4, 1, 1])]);
    b.output(b.op('Add', [b.op('Sigmoid', [conv(perChannel)]), b.init('r5', f32([0.5]), [1, 1, 1, 1, 1])]), 'float32', null);
    const { built, error } = await compareLevels(b.build(17), { x: randomTensor([2, 4, 7, 7]) });
    expect(built.fusions).toEqual(['FusedConv(Conv_0+HardSwish_1+Mul_2+Add_3)', 'FusedConv(Conv_4+Relu_5)', 'FusedConv(Conv_7+Sigmoid_8)']);
    expect(built.nodes).toBe(5);
    expect(error).toBeLessThan(1e-5);
  });

  it('leaves alone what it cannot prove: shared intermediates, variable BN, broadcasting residuals', async () => {
    const b = new GraphBuilder('negative');
    const x = b.input('x', 'float32', ['n', 4, 6, 6]);
    const mean = b.input('mean', 'float32', [4]);
    const w = b.init('w', weights(4 * 4), [4, 4, 1, 1]);
    const c1 = b.op('Conv', [x, w]);
    const shared = b.op('Relu', [c1]);
    const bn = b.op('BatchNormalization', [b.op('Conv', [x, w]), b.init('g', f32([1, 2, 3, 4]), [4]), b.init('beta', f32([0, 1, 0, 1]), [4]), mean, b.init('v', f32([1, 1, 2, 2]), [4])]);
    // A per-channel Add of a variable (a constant would fold into the bias), and a constant along the last axis.
    const broadcast = b.op('Add', [b.op('Conv', [x, w]), b.input('per_channel', 'float32', [1, 4, 1, 1])]);
    const lastAxis = b.op('Mul', [b.op('Conv', [x, w]), b.init('per_column', weights(6), [6])]);
    b.output(b.op('Add', [shared, c1]), 'float32', null); // c1 read twice: Relu cannot fold into the Conv
    b.output(bn, 'float32', null);
    b.output(broadcast, 'float32', null);
    b.output(lastAxis, 'float32', null);
    const a = b.op('MatMul', [b.input('a', 'float32', ['n', 8]), b.init('mw', weights(8 * 3), [8, 3])]);
    b.output(a, 'float32', null); // a graph output: the bias Add may not swallow it
    b.output(b.op('Add', [a, b.init('mb', weights(3), [3])]), 'float32', null);
    const feeds = { x: randomTensor([2, 4, 6, 6]), mean: randomTensor([4]), a: randomTensor([3, 8]), per_channel: randomTensor([1, 4, 1, 1]) };
    const { built, error } = await compareLevels(b.build(17), feeds);
    expect(built.fusions).toEqual([]);
    expect(error).toBeLessThan(1e-6);
  });

  it('fuses attention with K untransposed, a Div scale, no mask, and a mask that broadcasts a single query', async () => {
    const b = new GraphBuilder('attention');
    const q = b.input('q', 'float32', ['b', 2, 'sq', 8]);
    const k = b.input('k', 'float32', ['b', 2, 'sk', 8]);
    const v = b.input('v', 'float32', ['b', 2, 'sk', 5]);
    const kT = b.op('Transpose', [k], { perm: [0, 1, 3, 2] });
    const scores = b.op('Div', [b.op('MatMul', [q, kT]), b.init('sqrt_d', f32([Math.sqrt(8)]), [])]);
    b.output(b.op('MatMul', [b.op('Softmax', [scores], { axis: 3 }), v]), 'float32', null);
    const q1 = b.input('q1', 'float32', [2, 1, 8]);
    const mask = b.input('mask', 'float32', [2, 3, 'sk']);
    const k1T = b.op('Transpose', [b.input('k1', 'float32', [2, 'sk', 8])], { perm: [0, 2, 1] });
    const masked = b.op('Add', [mask, b.op('MatMul', [q1, k1T])]);
    b.output(b.op('MatMul', [b.op('Softmax', [masked], { axis: -1 }), b.input('v1', 'float32', [2, 'sk', 4])]), 'float32', null);
    const feeds = {
      q: randomTensor([3, 2, 7, 8]), k: randomTensor([3, 2, 11, 8]), v: randomTensor([3, 2, 11, 5]),
      q1: randomTensor([2, 1, 8]), mask: randomTensor([2, 3, 11], 4), k1: randomTensor([2, 11, 8]), v1: randomTensor([2, 11, 4]),
    };
    const { built, error } = await compareLevels(b.build(17), feeds);
    expect(built.fusions).toEqual(['Attention(Transpose_0+MatMul_1+Div_2+Softmax_3+MatMul_4)', 'Attention(Transpose_5+MatMul_6+Add_7+Softmax_8+MatMul_9)']);
    expect(built.nodes).toBe(2);
    expect(error).toBeLessThan(1e-5);
  });

  it('fuses LayerNorm written with Reciprocal and without a shift, and MatMul+bias+Sigmoid', async () => {
    const b = new GraphBuilder('layernorm');
    const x = b.input('x', 'float32', ['n', 16]);
    const mean = b.op('ReduceMean', [x], { axes: [-1] });
    const d = b.op('Sub', [x, mean]);
    const variance = b.op('ReduceMean', [b.op('Mul', [d, d])], { axes: [1] });
    const inv = b.op('Reciprocal', [b.op('Sqrt', [b.op('Add', [variance, b.init('eps', f32([1e-3]), [])])])]);
    const norm = b.op('Mul', [b.init('gamma', weights(16).map((g) => 1 + g), [1, 16]), b.op('Mul', [inv, d])]);
    const h = b.op('Add', [b.op('MatMul', [norm, b.init('w', weights(16 * 8), [16, 8])]), b.init('bias', weights(8), [8])]);
    b.output(b.op('Sigmoid', [h]), 'float32', null);
    const { built, error } = await compareLevels(b.build(17), { x: randomTensor([5, 16], 3) });
    expect(built.fusions).toEqual(['LayerNormalization(ReduceMean_0+Sub_1+Mul_2+ReduceMean_3+Add_4+Sqrt_5+Reciprocal_6+Mul_7+Mul_8)', 'FusedMatMul(MatMul_9+Add_10+Sigmoid_11)']);
    expect(built.nodes).toBe(2);
    expect(error).toBeLessThan(1e-5);
  });

  it('optimises inside If branches and keeps the values they read from outside', async () => {
    const b = new GraphBuilder('if');
    const x = b.input('x', 'float32', [3]);
    const outer = b.op('Identity', [b.op('Mul', [x, b.init('two', f32([2]), [])])]); // read by both branches
    const then = new GraphBuilder('then');
    then.output(then.op('Identity', [then.op('Relu', [then.op('Identity', [outer])])]), 'float32', null);
    const otherwise = new GraphBuilder('else');
    otherwise.output(otherwise.op('Neg', [outer]), 'float32', null);
    const cond = b.op('Greater', [b.op('ReduceSum', [x], { keepdims: 0 }), b.init('zero', f32([0]), [])]);
    b.output(b.op('If', [cond], { then_branch: then.graph(), else_branch: otherwise.graph() }), 'float32', null);
    for (const sign of [1, -1]) {
      const data = randomTensor([3]);
      data.data.forEach((v, i) => (data.data[i] = sign * Math.abs(v)));
      const { built, error } = await compareLevels(b.build(17), { x: data });
      expect(built.removedNodes).toBe(2); // the branch's two Identities; the outer one stays
      expect(error).toBe(0);
    }
  });
});
