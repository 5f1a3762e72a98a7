// Writes an ONNX model as graph.json + weights.bin for bench/gpu/onnx_eager.py, which runs it in
// PyTorch eager mode on a host with no `onnx` Python package: the nodes (op, inputs, outputs,
// attributes) and the inputs in JSON, every initializer and tensor attribute as little-endian
// bytes in weights.bin, referenced by { type (ONNX data type), dims, offset, bytes }.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { decodeModel } = require(path.join(root, 'lib/onnx/decode.js'));

export async function exportGraph(modelFile, outDir) {
  const graph = await decodeModel(fs.readFileSync(modelFile), { baseDir: path.dirname(modelFile) });
  const chunks = [];
  let offset = 0;
  const tensor = (t) => {
    if (!(t.data instanceof Uint8Array)) throw new Error(`tensor '${t.name}': string tensors are not exported`);
    const ref = { type: t.type, dims: t.dims, offset, bytes: t.data.byteLength };
    chunks.push(t.data);
    offset += t.data.byteLength;
    return ref;
  };
  const attrValue = (a) => {
    if (a.kind === 't') return { tensor: tensor(a.value) };
    if (a.kind === 'g' || a.kind === 'tp') throw new Error(`attribute '${a.name}': subgraphs and types are not exported`);
    return a.value;
  };
  const json = {
    opsets: graph.opsets,
    inputs: graph.inputs.map((v) => ({ name: v.name, type: v.type, dims: v.dims })),
    outputs: graph.outputs.map((v) => v.name),
    initializers: Object.fromEntries(graph.initializers.map((t) => [t.name, tensor(t)])),
    nodes: graph.nodes.map((n) => ({
      op: n.domain ? `${n.domain}:${n.opType}` : n.opType,
      inputs: n.inputs,
      outputs: n.outputs,
      attrs: Object.fromEntries(n.attrs.map((a) => [a.name, attrValue(a)])),
    })),
  };
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'graph.json'), JSON.stringify(json));
  fs.writeFileSync(path.join(outDir, 'weights.bin'), Buffer.concat(chunks));
}
