// Large convolutions at batch 1 run as bands of output rows on separate threads, each with its
// own slice of the padded input (conv.cpp, conv2d_row_band). Band edges meet strides, dilations,
// uneven pads, groups and a fused residual here, against onnxruntime-node on fresh inputs. 1x1
// convolutions split as GEMMs instead (by output channels or pixels), checked here as well.
import { describe, expect, it } from 'vitest';

import { GraphBuilder, randomFloats } from '../fixtures/onnx-builder';
import { expectCpuMatchesOrt, randomTensor } from '../helpers';

interface ConvCase {
  channels: number;
  outChannels: number;
  size: number;
  kernel: number;
  strides: number[];
  dilations: number[];
  pads: number[];
  group: number;
  residual: boolean;
}

function convModel(c: ConvCase): Uint8Array {
  const g = new GraphBuilder('conv-bands');
  const x = g.input('x', 'float32', [1, c.channels, c.size, c.size]);
  const wDims = [c.outChannels, c.channels / c.group, c.kernel, c.kernel];
  const weights = (name: string, seed: number) => g.init(name, randomFloats(wDims.reduce((a, d) => a * d), seed, 0.2), wDims);
  const b = g.init('b', randomFloats(c.outChannels, 4), [c.outChannels]);
  const attrs = { strides: c.strides, dilations: c.dilations, pads: c.pads, group: c.group };
  let y = g.op('Conv', [x, weights('w', 3), b], attrs);
  // conv + conv2 -> Relu: the builder fuses one convolution with the other's output as its residual.
  if (c.residual) y = g.op('Relu', [g.op('Add', [y, g.op('Conv', [x, weights('w2', 5)], attrs)])]);
  g.output(y, 'float32');
  return g.build();
}

const cases: [string, ConvCase][] = [
  ['3x3, uneven pads', { channels: 16, outChannels: 24, size: 61, kernel: 3, strides: [1, 1], dilations: [1, 1], pads: [2, 0, 1, 1], group: 1, residual: false }],
  ['5x5 stride 2 dilation 2', { channels: 8, outChannels: 32, size: 67, kernel: 5, strides: [2, 2], dilations: [2, 2], pads: [4, 3, 4, 3], group: 1, residual: false }],
  ['3x3 stride 2, 2 groups, residual', { channels: 32, outChannels: 32, size: 48, kernel: 3, strides: [2, 1], dilations: [1, 1], pads: [1, 1, 1, 1], group: 2, residual: true }],
  ['1x1 pointwise (the GEMM splits itself)', { channels: 32, outChannels: 64, size: 40, kernel: 1, strides: [1, 1], dilations: [1, 1], pads: [0, 0, 0, 0], group: 1, residual: false }],
  ['1x1 pointwise on a small image, residual', { channels: 96, outChannels: 96, size: 10, kernel: 1, strides: [1, 1], dilations: [1, 1], pads: [0, 0, 0, 0], group: 1, residual: true }],
];

describe('banded convolutions at batch 1 match onnxruntime-node', () => {
  it.each(cases)('%s', async (_label, c) => {
    const model = convModel(c);
    await expectCpuMatchesOrt(model, { x: randomTensor([1, c.channels, c.size, c.size]) }, [2, 3]);
  });
});
