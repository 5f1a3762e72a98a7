// Depthwise convolutions (group = channels, one filter each) against onnxruntime-node on fresh
// inputs: small planes go 8 channels per vector on AVX2 hosts (conv_depthwise_blocked.cpp: a channel
// count that leaves a part block, strides, dilations, uneven pads, rows of fewer than 8 pixels, a
// fused residual and activation, batches), larger ones plane by plane (conv_depthwise.cpp).
import { describe, expect, it } from 'vitest';

import { GraphBuilder, randomFloats } from '../fixtures/onnx-builder';
import { expectCpuMatchesOrt, randomTensor } from '../helpers';

interface Case {
  channels: number;
  size: [number, number];
  kernel: number;
  strides: number[];
  dilations: number[];
  pads: number[];
  residual?: boolean;
}

function model(c: Case, batch: number): Uint8Array {
  const g = new GraphBuilder('depthwise');
  const x = g.input('x', 'float32', [batch, c.channels, ...c.size]);
  const w = g.init('w', randomFloats(c.channels * c.kernel * c.kernel, 3, 0.3), [c.channels, 1, c.kernel, c.kernel]);
  const b = g.init('b', randomFloats(c.channels, 4), [c.channels]);
  const attrs = { strides: c.strides, dilations: c.dilations, pads: c.pads, group: c.channels };
  let y = g.op('Conv', [x, w, b], attrs);
  // The builder fuses the Add into the convolution as its residual, and the Relu as its activation.
  if (c.residual) y = g.op('Relu', [g.op('Add', [y, g.op('Conv', [x, w], attrs)])]);
  g.output(y, 'float32');
  return g.build();
}

const cases: [string, Case][] = [
  ['5x5 on 10x10, 13 channels (a part block)', { channels: 13, size: [10, 10], kernel: 5, strides: [1, 1], dilations: [1, 1], pads: [2, 2, 2, 2] }],
  ['3x3 stride 2 on 41x37, uneven pads, residual + Relu', { channels: 24, size: [41, 37], kernel: 3, strides: [2, 2], dilations: [1, 1], pads: [1, 0, 0, 1], residual: true }],
  ['3x3 dilation 2 on 7x5 (rows under 8 pixels)', { channels: 9, size: [7, 5], kernel: 3, strides: [1, 1], dilations: [2, 2], pads: [2, 2, 2, 2] }],
  ['5x5 stride 2x1 on 20x20', { channels: 40, size: [20, 20], kernel: 5, strides: [2, 1], dilations: [1, 1], pads: [2, 2, 2, 2] }],
  ['3x3 on 64x64 (plane by plane), residual + Relu', { channels: 10, size: [64, 64], kernel: 3, strides: [1, 1], dilations: [1, 1], pads: [1, 1, 1, 1], residual: true }],
];

describe('depthwise convolutions match onnxruntime-node', () => {
  it.each(cases)('%s', async (_label, c) => {
    for (const batch of [1, 2]) {
      const onnx = model(c, batch);
      const feeds = { x: randomTensor([batch, c.channels, ...c.size]) };
      await expectCpuMatchesOrt(onnx, feeds, [1, 2], `batch ${batch}: `);
    }
  });
});
