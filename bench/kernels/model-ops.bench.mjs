#!/usr/bin/env node
// The dense operators of a real model, one at a time: every Conv, ConvTranspose, MatMul, Gemm and
// pool node of the model is cut out into a one-node model with its real input shape (found by
// running the model once in onnxruntime with those inputs exposed as outputs) and its real
// attributes and weight shapes, then timed in highservice and in onnxruntime-node. Prints each
// node and the totals, so a model-level gap can be traced to the operators behind it.
//   node bench/kernels/model-ops.bench.mjs MODEL.onnx --shape 1x3x320x320 [--cpu | --threads 2] [--ops Conv,MatMul]
import fs from 'node:fs';
import { createRequire } from 'node:module';

import { randomFloats, timeBoth } from './single-op.mjs';

const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node');
const { onnx } = require('onnx-proto');

const args = process.argv.slice(2);
const opt = (k, d) => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
const cpu = args.includes('--cpu');
const threads = cpu ? 1 : Number(opt('--threads', '2'));
const ops = new Set(opt('--ops', 'Conv,ConvTranspose,MatMul,Gemm,MaxPool,AveragePool,GlobalAveragePool').split(','));
const dims = opt('--shape', '1x3x320x320').split('x').map(Number);
const model = onnx.ModelProto.decode(fs.readFileSync(args[0]));
const graph = model.graph;

// Constant nodes and initializers: name -> dims (weights of the cut-out nodes).
const constDims = new Map(graph.initializer.map((t) => [t.name, t.dims.map(Number)]));
for (const n of graph.node)
  if (n.opType === 'Constant') constDims.set(n.output[0], n.attribute.find((a) => a.name === 'value').t.dims.map(Number));

const targets = graph.node.filter((n) => ops.has(n.opType) && (n.domain ?? '') === '');
const probe = onnx.ModelProto.decode(onnx.ModelProto.encode(model).finish());
const exposed = [...new Set(targets.flatMap((n) => n.input.filter((i) => i && !constDims.has(i))))];
for (const name of exposed) probe.graph.output.push({ name });
const session = await ort.InferenceSession.create(onnx.ModelProto.encode(probe).finish(), { graphOptimizationLevel: 'disabled', logSeverityLevel: 3 });
const feeds = {};
for (const [i, name] of session.inputNames.entries())
  feeds[name] = new ort.Tensor('float32', randomFloats(i === 0 ? dims.reduce((a, b) => a * b) : dims[0] * dims[1], 5), i === 0 ? dims : dims.slice(0, 2));
const values = await session.run(feeds);

const opset = model.opsetImport.find((o) => !o.domain)?.version ?? 13;
const unit = cpu ? 'CPU ms, 1 thread' : `ms, ${threads} threads`;
console.log(`| # | node | input shapes | highservice (${unit}) | onnxruntime (${unit}) | ratio |\n|---|---|---|---:|---:|---:|`);
const totals = { hs: 0, ort: 0 };
for (const [index, node] of targets.entries()) {
  const inputs = [], initializers = [], feedsOne = {};
  const names = node.input.map((name, i) => {
    if (!name) return '';
    const n = `i${i}`;
    if (constDims.has(name)) initializers.push({ name: n, dataType: 1, dims: constDims.get(name), rawData: new Uint8Array(randomFloats(constDims.get(name).reduce((a, b) => a * b, 1), 7 + i).buffer) });
    else {
      const d = values[name].dims.map(Number);
      inputs.push({ name: n, type: { tensorType: { elemType: 1, shape: { dim: d.map((v) => ({ dimValue: v })) } } } });
      feedsOne[n] = [d, randomFloats(d.reduce((a, b) => a * b, 1), 11 + i)];
    }
    return n;
  });
  const one = onnx.ModelProto.encode(onnx.ModelProto.create({
    irVersion: 8, opsetImport: [{ domain: '', version: opset }],
    graph: { name: node.opType, node: [{ ...node, input: names, output: ['y'] }], input: inputs, output: [{ name: 'y' }], initializer: initializers },
  })).finish();
  const { hs, ort: ortMs } = await timeBoth(one, feedsOne, threads, cpu);
  totals.hs += hs;
  totals.ort += ortMs;
  const shapes = node.input.filter(Boolean).map((n) => (constDims.get(n) ?? values[n].dims).join('x')).join(' ');
  console.log(`| ${index} | ${node.opType} ${node.name} | ${shapes} | ${hs.toFixed(4)} | ${ortMs.toFixed(4)} | ${(hs / ortMs).toFixed(2)} |`);
}
console.log(`| | total | | ${totals.hs.toFixed(3)} | ${totals.ort.toFixed(3)} | ${(totals.hs / totals.ort).toFixed(2)} |`);
