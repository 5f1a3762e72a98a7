// ConvTranspose against onnxruntime-node on fresh inputs: taps that tile the output (kernel = stride,
// no pads or dilation: each output element written once, conv_transpose.cpp place_tiles) in 1, 2 and
// 3 spatial axes, with groups and bias, and the general col2im (pads, output_padding, overlapping
// taps, dilation) beside them.
import { describe, it } from 'vitest';

import { type ConvTransposeCase, convTransposeInputDims, convTransposeModel } from '../fixtures/conv-transpose';
import { expectCpuMatchesOrt, randomTensor } from '../helpers';

const cases: [string, ConvTransposeCase][] = [
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
    await expectCpuMatchesOrt(convTransposeModel(c), { x: randomTensor(convTransposeInputDims(c)) }, [1, 2]);
  });
});
