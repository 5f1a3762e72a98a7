#!/usr/bin/env node
// Conv kernels vs onnxruntime-node (MLAS, which runs these in its NCHWc layout) on the
// convolutions of the CNN and PP-OCRv4 det examples, one Conv node per model, same thread count.
// Both sides include their per-run overhead. Prints a markdown table of median ms per run.
// --cpu measures CPU time on one thread instead (robust when other processes load the machine).
//   node bench/kernels/conv.bench.mjs [--threads 2 | --cpu] [--filter regex]
import { randomFloats, singleOpModel, timeBoth } from './single-op.mjs';

const args = process.argv.slice(2);
const opt = (k, d) => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
const cpu = args.includes('--cpu');
const threads = cpu ? 1 : Number(opt('--threads', '2'));
const filter = new RegExp(opt('--filter', '.'));

// [label, batch, in channels, height, width, out channels, kernel, stride, pad, group]
const cases = [
  ['cnn stem 3->16 64x64', 1, 3, 64, 64, 16, 3, 1, 1, 1],
  ['cnn 16->16 64x64', 1, 16, 64, 64, 16, 3, 1, 1, 1],
  ['cnn 16->16 64x64 b8', 8, 16, 64, 64, 16, 3, 1, 1, 1],
  ['cnn 16->32 s2', 1, 16, 64, 64, 32, 3, 2, 1, 1],
  ['cnn 32->32 32x32', 1, 32, 32, 32, 32, 3, 1, 1, 1],
  ['cnn 64->64 16x16', 1, 64, 16, 16, 64, 3, 1, 1, 1],
  ['cnn 64->64 16x16 b8', 8, 64, 16, 16, 64, 3, 1, 1, 1],
  ['cnn 1x1 s2 32->64', 1, 32, 32, 32, 64, 1, 2, 0, 1],
  ['ocr stem 3->16 s2 320', 1, 3, 320, 320, 16, 3, 2, 1, 1],
  ['ocr dw 3x3 16ch 160x160', 1, 16, 160, 160, 16, 3, 1, 1, 16],
  ['ocr dw 3x3 s2 32ch 160', 1, 32, 160, 160, 32, 3, 2, 1, 32],
  ['ocr dw 3x3 s2 96ch 40x40', 1, 96, 40, 40, 96, 3, 2, 1, 96],
  ['ocr dw 5x5 192ch 20x20', 1, 192, 20, 20, 192, 5, 1, 2, 192],
  ['ocr dw 5x5 s2 192ch 20x20', 1, 192, 20, 20, 192, 5, 2, 2, 192],
  ['ocr dw 5x5 384ch 10x10', 1, 384, 10, 10, 384, 5, 1, 2, 384],
  ['ocr 1x1 16->32 160x160', 1, 16, 160, 160, 32, 1, 1, 0, 1],
  ['ocr 1x1 48->96 80x80', 1, 48, 80, 80, 96, 1, 1, 0, 1],
  ['ocr 1x1 192->384 20x20', 1, 192, 20, 20, 384, 1, 1, 0, 1],
  ['ocr 1x1 384->96 10x10', 1, 384, 10, 10, 96, 1, 1, 0, 1],
  ['ocr neck 3x3 96->24 80x80', 1, 96, 80, 80, 24, 3, 1, 1, 1],
  ['ocr neck 3x3 96->24 80x80 b8', 8, 96, 80, 80, 24, 3, 1, 1, 1],
  ['ocr head 3x3 96->24 80x80', 1, 96, 80, 80, 24, 3, 1, 1, 1],
];

const unit = cpu ? 'CPU ms, 1 thread' : `ms, ${threads} threads`;
console.log(`| conv | highservice (${unit}) | onnxruntime (${unit}) | ratio |\n|---|---:|---:|---:|`);
for (const [label, n, c, h, w, m, k, s, p, g] of cases) {
  if (!filter.test(label)) continue;
  const model = singleOpModel({
    op: 'Conv',
    attrs: { kernel_shape: [k, k], strides: [s, s], pads: [p, p, p, p], group: g },
    inputs: [['x', [n, c, h, w]]],
    initializers: [['w', [m, c / g, k, k], randomFloats(m * (c / g) * k * k, 2)], ['b', [m], randomFloats(m, 3)]],
  });
  const { hs, ort } = await timeBoth(model, { x: [[n, c, h, w], randomFloats(n * c * h * w)] }, threads, cpu);
  console.log(`| ${label} | ${hs.toFixed(4)} | ${ort.toFixed(4)} | ${(hs / ort).toFixed(2)} |`);
}
