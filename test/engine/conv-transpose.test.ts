// ConvTranspose against onnxruntime-node on fresh inputs: taps that tile the output (kernel = stride,
// no pads or dilation: each output element written once, conv_transpose.cpp place_tiles) in 1, 2 and
// 3 spatial axes, with groups and bias, and the general col2im (pads, output_padding, overlapping
// taps, dilation) beside them.
import { describe, expect, it } from 'vitest';

import { GraphBuilder, randomFloats } from '../fixtures/onnx-builder';
import { expectCpuMatchesOrt, randomTensor } from '../helpers';

interface Case {
  channels: number;
  outPerGroup: number;
  group: number;
  size: number[];
  kernel: number[];
  attrs: Record<string, number[]>;
  bias: boolean;
}

function model(c: Case): Uint8Array {
  const g = new GraphBuilder('conv-transpose');
  const x = g.input('x', 'float32', [2, c.channels, ...c.size]);
  const wDims = [c.channels, c.outPerGroup, ...c.kernel];
  const inputs = [x, g.init('w', randomFloats(wDims.reduce((a, d) => a * d), 3, 0.3), wDims)];
  if (c.bias) inputs.push(g.init('b', randomFloats(c.outPerGroup * c.group, 4), [c.outPerGroup * c.group]));
  g.output(g.op('ConvTranspose', inputs, { ...c.attrs, group: c.group, kernel_shape: c.kernel }), 'float32');
  return g.build();
}

const cases: [string, Case][] = [
  ['2x2 stride 2 (tiles), bias, 13x11', { channels: 24, outPerGroup: 24, group: 1, size: [13, 11], kernel: [2, 2], attrs: { strides: [2, 2] }, bias: true }],
  ['3x3 stride 3 (tiles), 2 groups, bias', { channels: 6, outPerGroup: 5, group: 2, size: [7, 9], kernel: [3, 3], attrs: { strides: [3, 3] }, bias: true }],
  ['1-D kernel 2 stride 2 (tiles)', { channels: 8, outPerGroup: 3, group: 1, size: [17], kernel: [2], attrs: { strides: [2] }, bias: true }],
  ['3-D 2x2x2 stride 2 (tiles)', { channels: 4, outPerGroup: 2, group: 1, size: [3, 5, 4], kernel: [2, 2, 2], attrs: { strides: [2, 2, 2] }, bias: false }],
  ['2x2 stride 2 with pads (col2im)', { channels: 8, outPerGroup: 4, group: 1, size: [9, 9], kernel: [2, 2], attrs: { strides: [2, 2], pads: [1, 0, 1, 0] }, bias: true }],
  ['2x2 stride 2 with output_padding (col2im)', { channels: 8, outPerGroup: 4, group: 1, size: [9, 9], kernel: [2, 2], attrs: { strides: [2, 2], output_padding: [1, 1] }, bias: true }],
  ['4x4 stride 2, dilation 2 (overlapping taps)', { channels: 5, outPerGroup: 3, group: 1, size: [8, 6], kernel: [4, 4], attrs: { strides: [2, 2], dilations: [2, 2] }, bias: true }],
];

describe('ConvTranspose matches onnxruntime-node', () => {
  it.each(cases)('%s', async (_label, c) => {
    const onnx = model(c);
    const feeds = { x: randomTensor([2, c.channels, ...c.size]) };
    await expectCpuMatchesOrt(onnx, feeds, [1, 2]);
  });
});
