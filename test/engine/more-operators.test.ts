// Operators beyond the "Engine on CPU" set that exported models use (Gelu and GroupNormalization
// of recent opsets, Upsample of old ones, GridSample, RoiAlign, NonMaxSuppression, MaxUnpool, NonZero, Unique, Compress, EyeLike, Det, Shrink,
// BitShift, MeanVarianceNormalization, ReverseSequence, the signal operators: windows, DFT,
// STFT, MelWeightMatrix, the losses of evaluation graphs, and StringNormalizer / TfIdfVectorizer)
// against onnxruntime-node on fresh random inputs.
import { describe, expect, it } from 'vitest';

import { GraphBuilder, float, floats } from '../fixtures/onnx-builder';
import { hs, ortRun, randomTensor, relError } from '../helpers';

type Feed = { type: string; dims: number[]; data: ArrayLike<number> | ArrayLike<bigint> };

async function compare(model: Uint8Array, feeds: Record<string, Feed>, tolerance: number | 'exact') {
  const engine = await hs.Engine.load(model, { cacheDir: false, threads: 2 });
  const [ours, ref] = await Promise.all([engine.run(feeds as never), ortRun(model, feeds as never)]);
  engine.dispose();
  for (const name of Object.keys(ref)) {
    expect(ours[name].dims, name).toEqual(ref[name].dims);
    expect(ours[name].type, name).toBe(ref[name].type);
    if (tolerance === 'exact') expect(Array.from(ours[name].data as never), name).toEqual(Array.from(ref[name].data as never));
    else expect(relError(ours[name], ref[name]), name).toBeLessThan(tolerance);
  }
}

function oneNode(op: string, inputs: [string, 'float32' | 'int64' | 'uint8' | 'bool', number[]][], attrs: Record<string, unknown>,
  outType: 'float32' | 'int64' | 'uint8' | 'int32', opset: number) {
  const b = new GraphBuilder(op);
  const names = inputs.map(([name, type, dims]) => b.input(name, type, dims));
  b.output(b.op(op, names, attrs as never), outType);
  return b.build(opset);
}

const randomInts = (n: number, hi: number) => Array.from({ length: n }, () => Math.floor(Math.random() * hi));

describe('more operators against onnxruntime-node', () => {
  it.each(['none', 'tanh'])('Gelu (opset 20), approximate=%s', async (approximate) => {
    const model = oneNode('Gelu', [['x', 'float32', [3, 50]]], { approximate }, 'float32', 20);
    await compare(model, { x: randomTensor([3, 50], 4) }, 1e-6);
  });

  it.each([18, 21])('GroupNormalization (opset %i): 8 channels in 4 groups', async (opset) => {
    const params = opset >= 21 ? 8 : 4;
    const model = oneNode('GroupNormalization', [['x', 'float32', [2, 8, 5, 3]], ['s', 'float32', [params]], ['b', 'float32', [params]]],
      { num_groups: 4, epsilon: float(1e-3) }, 'float32', opset);
    await compare(model, { x: randomTensor([2, 8, 5, 3], 3), s: randomTensor([params]), b: randomTensor([params]) }, 1e-5);
  });

  it.each([
    ['nearest', 9],
    ['linear', 9],
    ['nearest', 7],
  ] as const)('Upsample, mode %s (opset %i)', async (mode, opset) => {
    const b = new GraphBuilder('up');
    const x = b.input('x', 'float32', [1, 2, 3, 4]);
    const scales = Float32Array.of(1, 1, 2, 3);
    const y = opset >= 9 ? b.op('Upsample', [x, b.init('scales', scales, [4])], { mode }) : b.op('Upsample', [x], { mode, scales: floats(Array.from(scales)) });
    b.output(y, 'float32');
    await compare(b.build(opset), { x: randomTensor([1, 2, 3, 4]) }, 1e-6);
  });

  it('NonZero of a float tensor with zeros', async () => {
    const x = randomTensor([3, 4, 5]);
    for (let i = 0; i < x.data.length; i += 2) x.data[i] = 0;
    await compare(oneNode('NonZero', [['x', 'float32', [3, 4, 5]]], {}, 'int64', 13), { x }, 'exact');
  });

  it.each([{}, { axis: 1 }, { axis: -1 }])('Compress %o', async (attrs) => {
    const condition = { type: 'bool', dims: [3], data: Uint8Array.from(randomInts(3, 2)) };
    const model = oneNode('Compress', [['x', 'float32', [4, 3, 3]], ['c', 'bool', [3]]], attrs, 'float32', 11);
    await compare(model, { x: randomTensor([4, 3, 3]), c: condition }, 'exact');
  });

  it.each([{ k: 0 }, { k: 2 }, { k: -1, dtype: 7 }])('EyeLike %o', async (attrs) => {
    const model = oneNode('EyeLike', [['x', 'float32', [4, 6]]], attrs, attrs.dtype === 7 ? 'int64' : 'float32', 9);
    await compare(model, { x: randomTensor([4, 6]) }, 'exact');
  });

  it('Shrink', async () => {
    const model = oneNode('Shrink', [['x', 'float32', [40]]], { lambd: float(0.7), bias: float(0.2) }, 'float32', 9);
    await compare(model, { x: randomTensor([40], 2) }, 1e-7);
  });

  it.each(['LEFT', 'RIGHT'])('BitShift %s on uint8', async (direction) => {
    const model = oneNode('BitShift', [['x', 'uint8', [12]], ['s', 'uint8', [12]]], { direction }, 'uint8', 11);
    const feeds = { x: { type: 'uint8', dims: [12], data: Uint8Array.from(randomInts(12, 256)) }, s: { type: 'uint8', dims: [12], data: Uint8Array.from(randomInts(12, 8)) } };
    await compare(model, feeds, 'exact');
  });

  it.each([{}, { axes: [1, 3] }])('MeanVarianceNormalization %o', async (attrs) => {
    const model = oneNode('MeanVarianceNormalization', [['x', 'float32', [2, 3, 4, 5]]], attrs, 'float32', 13);
    await compare(model, { x: randomTensor([2, 3, 4, 5], 3) }, 1e-5);
  });

  it.each([[1, 0], [0, 1]])('ReverseSequence, batch_axis %i, time_axis %i', async (batchAxis, timeAxis) => {
    const dims = batchAxis === 0 ? [3, 5, 2] : [5, 3, 2];
    const model = oneNode('ReverseSequence', [['x', 'float32', dims], ['lens', 'int64', [3]]], { batch_axis: batchAxis, time_axis: timeAxis }, 'float32', 10);
    const lens = { type: 'int64', dims: [3], data: BigInt64Array.from(randomInts(3, 6).map(BigInt)) };
    await compare(model, { x: randomTensor(dims), lens }, 'exact');
  });

  it.each([0, 1])('NonMaxSuppression, center_point_box %i, 2 images x 3 classes x 60 boxes', async (center) => {
    const b = new GraphBuilder('nms');
    const inputs = [b.input('boxes', 'float32', [2, 60, 4]), b.input('scores', 'float32', [2, 3, 60]),
      b.init('max', BigInt64Array.of(7n), [1]), b.init('iou', Float32Array.of(0.3), [1]), b.init('score', Float32Array.of(0.2), [1])];
    b.output(b.op('NonMaxSuppression', inputs, { center_point_box: center }), 'int64');
    // Corners in either order (center 0) or centres and positive sizes (center 1), overlapping often.
    const boxes = Float32Array.from({ length: 480 }, (_, i) => (center && i % 4 >= 2 ? 0.5 + Math.random() : Math.random() * 3));
    const scores = Float32Array.from({ length: 360 }, () => Math.random());
    await compare(b.build(11), { boxes: { type: 'float32', dims: [2, 60, 4], data: boxes }, scores: { type: 'float32', dims: [2, 3, 60], data: scores } }, 'exact');
  });

  const gridCases = ['bilinear', 'nearest', 'bicubic'].flatMap((mode) =>
    ['zeros', 'border', 'reflection'].flatMap((padding) => [0, 1].map((align) => [mode, padding, align] as const)));
  it.each(gridCases)('GridSample, mode %s, padding %s, align_corners %i', async (mode, padding, align) => {
    const model = oneNode('GridSample', [['x', 'float32', [2, 3, 5, 7]], ['grid', 'float32', [2, 4, 6, 2]]],
      { mode, padding_mode: padding, align_corners: align }, 'float32', 16);
    // Grid points inside and up to 1.5x outside the image, to exercise the padding.
    await compare(model, { x: randomTensor([2, 3, 5, 7]), grid: randomTensor([2, 4, 6, 2], 1.5) }, 1e-5);
  });

  it.each([
    ['avg', 'half_pixel', 0],
    ['avg', 'output_half_pixel', 2],
    ['max', 'half_pixel', 2],
    ['max', 'output_half_pixel', 0],
  ] as const)('RoiAlign, mode %s, %s, sampling_ratio %i', async (mode, coord, sampling) => {
    const b = new GraphBuilder('roi');
    const inputs = [b.input('x', 'float32', [2, 3, 12, 10]), b.input('rois', 'float32', [5, 4]), b.input('idx', 'int64', [5])];
    b.output(b.op('RoiAlign', inputs, { mode, coordinate_transformation_mode: coord, sampling_ratio: sampling,
      output_height: 3, output_width: 4, spatial_scale: float(0.5) }), 'float32');
    // Corners in image coordinates at scale 2 (x up to 20, y up to 24), some past the edges.
    const rois = Float32Array.from({ length: 20 }, (_, i) => (i % 4 < 2 ? -2 + Math.random() * 14 : 10 + Math.random() * 16));
    const idx = { type: 'int64', dims: [5], data: BigInt64Array.from(randomInts(5, 2).map(BigInt)) };
    await compare(b.build(16), { x: randomTensor([2, 3, 12, 10]), rois: { type: 'float32', dims: [5, 4], data: rois }, idx }, 1e-5);
  });

  it.each([{}, { sorted: 0 }, { axis: 1 }, { axis: 0, sorted: 0 }])('Unique %o: all four outputs', async (attrs) => {
    const b = new GraphBuilder('unique');
    const outs = b.node('Unique', [b.input('x', 'int64', [4, 6])], attrs as never, 4);
    b.output(outs[0], 'int64');
    for (const o of outs.slice(1)) b.output(o, 'int64');
    // Few distinct values, and repeated rows and columns, so that slices repeat too.
    const base = randomInts(6, 3);
    const data = BigInt64Array.from({ length: 24 }, (_, i) => BigInt(base[(Math.floor(i / 6) % 2) * 3 + (i % 6) % 3]));
    await compare(b.build(11), { x: { type: 'int64', dims: [4, 6], data } }, 'exact');
  });

  it('Det of a batch of 4x4 matrices', async () => {
    const model = oneNode('Det', [['x', 'float32', [3, 2, 4, 4]]], {}, 'float32', 11);
    await compare(model, { x: randomTensor([3, 2, 4, 4], 2) }, 1e-5);
  });

  it.each([
    ['HannWindow', 1], ['HammingWindow', 0], ['BlackmanWindow', 1],
  ] as const)('%s, periodic %i', async (op, periodic) => {
    const b = new GraphBuilder('window');
    b.output(b.op(op, [b.init('size', BigInt64Array.of(10n), [])], { periodic }), 'float32');
    await compare(b.build(17), {}, 1e-6);
  });

  it.each([
    ['real, 16 points (FFT), opset 17 axis 1', 17, [2, 16, 3, 1], {}, null],
    ['real, onesided, padded to 20, opset 17 axis 2', 17, [2, 5, 12, 1], { axis: 2, onesided: 1 }, 20],
    ['complex, inverse, cut to 7, opset 20 default axis', 20, [3, 9, 2], { inverse: 1 }, 7],
  ] as const)('DFT, %s', async (_, opset, dims, attrs, length) => {
    const b = new GraphBuilder('dft');
    const inputs = [b.input('x', 'float32', [...dims])];
    if (length !== null) inputs.push(b.init('n', BigInt64Array.of(BigInt(length)), []));
    b.output(b.op('DFT', inputs, attrs), 'float32');
    await compare(b.build(opset), { x: randomTensor([...dims]) }, 1e-5);
  });

  it.each([[true, 1], [false, 0]] as const)('STFT, window %s, onesided %i', async (window, onesided) => {
    const b = new GraphBuilder('stft');
    const frame = 12;
    const inputs = [b.input('x', 'float32', [2, 100, 1]), b.init('step', BigInt64Array.of(5n), [])];
    inputs.push(window ? b.init('w', Float32Array.from({ length: frame }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / frame)), [frame]) : '');
    inputs.push(b.init('len', BigInt64Array.of(BigInt(frame)), []));
    b.output(b.op('STFT', inputs, { onesided }), 'float32');
    await compare(b.build(17), { x: randomTensor([2, 100, 1]) }, 1e-5);
  });

  it('MelWeightMatrix: 40 mel bins of a 400-point DFT at 16 kHz, 20 Hz to 8 kHz', async () => {
    const b = new GraphBuilder('mel');
    const ints = (name: string, v: number) => b.init(name, BigInt64Array.of(BigInt(v)), []);
    const inputs = [ints('mels', 40), ints('dft', 400), ints('rate', 16000), b.init('lo', Float32Array.of(20), []), b.init('hi', Float32Array.of(8000), [])];
    b.output(b.op('MelWeightMatrix', inputs), 'float32');
    await compare(b.build(17), {}, 1e-6);
  });

  it.each([false, true])('MaxPool with Indices then MaxUnpool, output_shape given: %s', async (withShape) => {
    const b = new GraphBuilder('unpool');
    const [pooled, indices] = b.node('MaxPool', [b.input('x', 'float32', [2, 3, 6, 8])], { kernel_shape: [2, 2], strides: [2, 2] }, 2);
    const inputs = [pooled, indices];
    if (withShape) inputs.push(b.init('shape', BigInt64Array.of(2n, 3n, 7n, 9n), [4]));
    b.output(b.op('MaxUnpool', inputs, { kernel_shape: [2, 2], strides: [2, 2] }), 'float32');
    await compare(b.build(11), { x: randomTensor([2, 3, 6, 8]) }, 'exact');
  });

  it.each([
    ['NegativeLogLikelihoodLoss', 'mean', true],
    ['NegativeLogLikelihoodLoss', 'none', false],
    ['SoftmaxCrossEntropyLoss', 'sum', true],
    ['SoftmaxCrossEntropyLoss', 'mean', false],
  ] as const)('%s, reduction %s, weights %s, an ignored class', async (op, reduction, weighted) => {
    const b = new GraphBuilder('loss');
    const inputs = [b.input('x', 'float32', [3, 5, 4]), b.input('t', 'int64', [3, 4])];
    if (weighted) inputs.push(b.init('w', Float32Array.from({ length: 5 }, () => 0.5 + Math.random()), [5]));
    const outs = b.node(op, inputs, { reduction, ignore_index: 2 }, op === 'SoftmaxCrossEntropyLoss' ? 2 : 1);
    for (const o of outs) b.output(o, 'float32');
    const targets = { type: 'int64', dims: [3, 4], data: BigInt64Array.from(randomInts(12, 5).map(BigInt)) };
    await compare(b.build(13), { x: randomTensor([3, 5, 4], 2), t: targets }, 1e-5);
  });

  it.each([['LOWER', 0], ['UPPER', 1], ['NONE', 0]] as const)('StringNormalizer, %s, case sensitive %i', async (action, sensitive) => {
    const b = new GraphBuilder('strings');
    b.output(b.op('StringNormalizer', [b.input('x', 'string', [1, 6])], { case_change_action: action, is_case_sensitive: sensitive,
      stopwords: ['the', 'And'], locale: 'C' }), 'string');
    const words = ['The', 'cat', 'AND', 'the', 'Dog', 'and'].sort(() => Math.random() - 0.5);
    await compare(b.build(10), { x: { type: 'string', dims: [1, 6], data: words as never } }, 'exact');
  });

  it.each(['TF', 'IDF', 'TFIDF'])('TfIdfVectorizer, mode %s, 1- to 3-grams up to 2 apart', async (mode) => {
    const b = new GraphBuilder('tfidf');
    // Pool: 1-grams 1..4, 2-grams (1,2) (2,3) (4,4), 3-gram (1,2,3).
    const pool = [1, 2, 3, 4, 1, 2, 2, 3, 4, 4, 1, 2, 3];
    b.output(b.op('TfIdfVectorizer', [b.input('x', 'int64', [3, 12])], {
      mode, min_gram_length: 1, max_gram_length: 3, max_skip_count: 2, ngram_counts: [0, 4, 10], ngram_indexes: [0, 1, 2, 3, 4, 5, 6, 7],
      pool_int64s: pool, weights: floats([0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4]) }), 'float32');
    const x = { type: 'int64', dims: [3, 12], data: BigInt64Array.from(randomInts(36, 5).map(BigInt)) };
    await compare(b.build(9), { x }, 1e-6);
  });
});
