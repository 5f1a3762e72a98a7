// 2-D convolutions with constant weights run directly on AVX2 hosts (conv_direct.cpp: panels of 16
// output channels, tiles of 6 pixels, or 8 for a half panel, chunks stored through 8 x 8
// transposes; 17-24 output channels excepted) and as an implicit
// GEMM elsewhere; the kernels-avx2 and kernels-generic projects (vitest.config.ts) run this file with
// HS_GEMM_KERNEL forcing each path on any x86 host. The edges of both: output channels that fill
// part of a panel, pixel counts that are no multiple of 6 or 8, strides, dilations, uneven pads,
// groups, a fused residual and activation, batches and bands, random geometries, against
// onnxruntime-node.
import { existsSync, readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { GraphBuilder, randomFloats } from '../fixtures/onnx-builder';
import { expectCpuMatchesOrt, hs, randomTensor } from '../helpers';

interface ConvCase {
  channels: number;
  outChannels: number;
  height: number;
  width: number;
  kernel: [number, number];
  strides: number[];
  dilations: number[];
  pads: number[];
  group: number;
  /** conv + conv2 -> activation: the builder fuses one convolution with the other's output as its residual */
  residual?: 'Relu' | 'Sigmoid';
  /** an activation on the convolution alone (fused into it) */
  activation?: 'Sigmoid' | 'LeakyRelu';
}

function convModel(c: ConvCase, batch: number): Uint8Array {
  const g = new GraphBuilder('conv-direct');
  const x = g.input('x', 'float32', [batch, c.channels, c.height, c.width]);
  const wDims = [c.outChannels, c.channels / c.group, ...c.kernel];
  const weights = (name: string, seed: number) => g.init(name, randomFloats(wDims.reduce((a, d) => a * d), seed, 0.2), wDims);
  const b = g.init('b', randomFloats(c.outChannels, 4), [c.outChannels]);
  const attrs = { strides: c.strides, dilations: c.dilations, pads: c.pads, group: c.group };
  let y = g.op('Conv', [x, weights('w', 3), b], attrs);
  if (c.residual) y = g.op(c.residual, [g.op('Add', [y, g.op('Conv', [x, weights('w2', 5)], attrs)])]);
  if (c.activation) y = g.op(c.activation, [y]);
  g.output(y, 'float32');
  return g.build();
}

const cases: [string, ConvCase][] = [
  ['24 output channels (the implicit GEMM on every host), 13x11 image', { channels: 8, outChannels: 24, height: 13, width: 11, kernel: [3, 3], strides: [1, 1], dilations: [1, 1], pads: [1, 1, 1, 1], group: 1 }],
  ['8 output channels (half a panel: tiles of 8 pixels x 8 channels), 13x11 image', { channels: 8, outChannels: 8, height: 13, width: 11, kernel: [3, 3], strides: [1, 1], dilations: [1, 1], pads: [1, 1, 1, 1], group: 1 }],
  ['40 output channels (two panels and a half), 2 groups, residual + Relu', { channels: 12, outChannels: 80, height: 19, width: 21, kernel: [3, 3], strides: [1, 1], dilations: [1, 1], pads: [1, 1, 1, 1], group: 2, residual: 'Relu' }],
  ['5x5 stride 2 dilation 2, uneven pads', { channels: 4, outChannels: 20, height: 37, width: 29, kernel: [5, 5], strides: [2, 2], dilations: [2, 2], pads: [4, 3, 2, 1], group: 1 }],
  ['3x3 stride 2x1, 3 groups, residual + Relu', { channels: 24, outChannels: 48, height: 22, width: 23, kernel: [3, 3], strides: [2, 1], dilations: [1, 1], pads: [1, 1, 1, 1], group: 3, residual: 'Relu' }],
  ['1x5 kernel, Sigmoid', { channels: 16, outChannels: 16, height: 9, width: 17, kernel: [1, 5], strides: [1, 1], dilations: [1, 1], pads: [0, 2, 0, 2], group: 1, activation: 'Sigmoid' }],
  ['64 channels at 16x16, residual + Sigmoid', { channels: 64, outChannels: 64, height: 16, width: 16, kernel: [3, 3], strides: [1, 1], dilations: [1, 1], pads: [1, 1, 1, 1], group: 1, residual: 'Sigmoid' }],
  ['one output row (threads split the output channels), residual + Relu', { channels: 64, outChannels: 40, height: 3, width: 200, kernel: [3, 3], strides: [1, 1], dilations: [1, 1], pads: [0, 1, 0, 1], group: 1, residual: 'Relu' }],
  ['a row longer than a chunk (260 pixels), LeakyRelu', { channels: 8, outChannels: 17, height: 3, width: 260, kernel: [3, 3], strides: [1, 1], dilations: [1, 1], pads: [1, 1, 1, 1], group: 1, activation: 'LeakyRelu' }],
];

// The CPU's flags (x86 Linux; elsewhere empty, and the kernel-choice check is skipped).
const cpuFlags = process.arch === 'x64' && existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';

/** A convolution of random geometry; its description says how to rebuild it. */
function randomCase(): ConvCase {
  const pick = (n: number) => Math.floor(Math.random() * n);
  const group = [1, 1, 2, 3][pick(4)];
  const kernel: [number, number] = [1 + pick(5), 1 + pick(5)];
  if (kernel[0] * kernel[1] === 1) kernel[1] = 2;
  const dilations = [1 + pick(2), 1 + pick(2)];
  const pads = [pick(3), pick(3), pick(3), pick(3)];
  const strides = [1 + pick(3), 1 + pick(3)];
  // Big enough that the window fits: (size + pads - dilated kernel) / stride + 1 >= 1 output.
  const fit = (axis: number) => Math.max(1, (kernel[axis] - 1) * dilations[axis] + 1 - pads[axis] - pads[axis + 2]);
  return {
    channels: group * (1 + pick(12)), outChannels: group * (1 + pick(40)), height: fit(0) + pick(30), width: fit(1) + pick(30),
    kernel, strides, dilations, pads, group,
    ...(pick(2) ? { residual: 'Relu' as const } : {}),
  };
}

describe('2-D convolutions match onnxruntime-node', () => {
  it.skipIf(!cpuFlags)('runs the CPU kernels HS_GEMM_KERNEL asks for, else the best this CPU has', () => {
    const best = /\bavx512f\b/.test(cpuFlags) ? 'avx512' : /\bavx2\b/.test(cpuFlags) && /\bfma\b/.test(cpuFlags) ? 'avx2' : 'generic';
    expect(hs.devices().cpuKernels).toBe(process.env.HS_GEMM_KERNEL ?? best);
  });

  it('random geometries', async () => {
    for (let i = 0; i < 6; i++) {
      const c = randomCase();
      const model = convModel(c, 2);
      await expectCpuMatchesOrt(model, { x: randomTensor([2, c.channels, c.height, c.width]) }, [2], `${JSON.stringify(c)}: `);
    }
  });

  it.each(cases)('%s', async (_label, c) => {
    for (const batch of [1, 3]) {
      const model = convModel(c, batch);
      const feeds = { x: randomTensor([batch, c.channels, c.height, c.width]) };
      await expectCpuMatchesOrt(model, feeds, [1, 2, 3], `batch ${batch}: `);
    }
  });
});
