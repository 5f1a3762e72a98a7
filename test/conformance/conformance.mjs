// The ONNX operator conformance cases (../shared/onnx-conformance, see its README): loads each case
// through the Engine, feeds its inputs and compares with its expected outputs (rtol 1e-3, atol 1e-7,
// NaN where NaN is expected, integers, bools and strings exact; sequences item by item, optionals
// empty or not). Used by run.mjs (CLI) and the vitest suite.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { onnx } = require('onnx-proto');
// onnx-proto (onnx 1.10 without onnx-data.proto) has no SequenceProto / OptionalProto: they are read
// with the protobufjs Reader it is built on.
const { Reader } = createRequire(require.resolve('onnx-proto'))('protobufjs/minimal');
const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '../..');
export const CASES_DIR =
  process.env.HS_CONFORMANCE_DIR ?? path.resolve(ROOT, '../shared/onnx-conformance/node');

// The operator set of the "Engine on CPU" issue.
export const OPERATOR_SET = new Set(
  `Abs Acos Add And ArgMax ArgMin Asin Atan AveragePool BatchNormalization Cast CastLike Ceil Celu Clip Concat
   Constant ConstantOfShape Conv ConvTranspose Cos Cosh CumSum DepthToSpace Div Dropout Einsum Elu Equal Erf Exp
   Expand Flatten Floor GRU Gather GatherElements GatherND Gemm GlobalAveragePool GlobalMaxPool Greater
   GreaterOrEqual HardSigmoid HardSwish Hardmax Identity If InstanceNormalization IsInf IsNaN LRN LSTM
   LayerNormalization LeakyRelu Less LessOrEqual Log LogSoftmax MatMul Max MaxPool Mean Min Mish Mod Mul Neg Not
   OneHot Or PRelu Pad Pow Range Reciprocal ReduceL1 ReduceL2 ReduceLogSumExp ReduceMax ReduceMean ReduceMin
   ReduceProd ReduceSum ReduceSumSquare Relu Reshape Resize Round ScatterElements ScatterND Selu Shape Sigmoid
   Sign Sin Sinh Size Slice Softmax Softplus Softsign SpaceToDepth Split Sqrt Squeeze Sub Sum Tan Tanh
   ThresholdedRelu Tile TopK Transpose Trilu Unsqueeze Where Xor`.split(/\s+/),
);

// Operators beyond that set that the engine also runs: every one of their cases must pass.
export const EXTRA_OPERATORS = new Set(
  `BitShift BlackmanWindow Compress ConvInteger DFT DequantizeLinear Det DynamicQuantizeLinear EyeLike GridSample
   HammingWindow HannWindow MatMulInteger MaxUnpool MeanVarianceNormalization MelWeightMatrix NegativeLogLikelihoodLoss
   NonMaxSuppression NonZero OptionalGetElement OptionalHasElement QLinearConv QLinearMatMul QuantizeLinear
   ReverseSequence RoiAlign STFT SequenceInsert SequenceMap Shrink SoftmaxCrossEntropyLoss StringNormalizer TfIdfVectorizer
   Unique Upsample`.split(/\s+/),
);

// Cases of those operators where we follow onnxruntime rather than the ONNX reference, and why.
export const DIVERGENT_CASES = {
  test_maxunpool_export_with_output_shape: 'indices address the output_shape tensor directly, as onnxruntime reads them (max_unpool.cpp)',
};

const TYPE_NAMES = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string', 9: 'bool',
  10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 16: 'bfloat16',
};
const ARRAYS = {
  float32: Float32Array, uint8: Uint8Array, int8: Int8Array, uint16: Uint16Array, int16: Int16Array,
  int32: Int32Array, int64: BigInt64Array, bool: Uint8Array, float16: Uint16Array, float64: Float64Array,
  uint32: Uint32Array, uint64: BigUint64Array, bfloat16: Uint16Array,
};

function opTypes(graph, out = new Set()) {
  for (const n of graph.node) {
    out.add(n.opType);
    for (const a of n.attribute) if (a.g) opTypes(a.g, out);
  }
  return out;
}

/** Every case: { name, dir, ops (all op types), op (the single node's op, or null), inSet, extra }. */
export function listCases() {
  return fs.readdirSync(CASES_DIR).sort().map((name) => {
    const dir = path.join(CASES_DIR, name);
    const model = onnx.ModelProto.decode(fs.readFileSync(path.join(dir, 'model.onnx')));
    const ops = [...opTypes(model.graph)];
    const op = model.graph.node.length === 1 ? model.graph.node[0].opType : null;
    return { name, dir, ops, op, inSet: op !== null && OPERATOR_SET.has(op), extra: op !== null && EXTRA_OPERATORS.has(op) };
  });
}

// A decoded TensorProto -> { type, dims, data }: data is a TypedArray, or string[] for strings
// (null for element types this runner cannot read).
function tensorOf(t) {
  const type = TYPE_NAMES[t.dataType];
  if (!type) return null;
  const dims = t.dims.map(Number);
  const n = dims.reduce((a, b) => a * b, 1);
  const Arr = ARRAYS[type];
  let data;
  if (type === 'string') data = t.stringData.map((b) => Buffer.from(b).toString('utf8'));
  else if (t.rawData && t.rawData.length) {
    const copy = new Uint8Array(t.rawData); // aligned copy
    data = new Arr(copy.buffer, 0, n);
  } else if (type === 'float32') data = Float32Array.from(t.floatData);
  else if (type === 'float64') data = Float64Array.from(t.doubleData);
  else if (type === 'int64') data = BigInt64Array.from(t.int64Data, (v) => BigInt(v.toString()));
  else if (type === 'uint64' || type === 'uint32') data = type === 'uint64' ? BigUint64Array.from(t.uint64Data, (v) => BigInt(v.toString())) : Uint32Array.from(t.uint64Data, Number);
  else data = Arr.from(t.int32Data);
  if (data.length !== n) return null;
  return { type, dims, data };
}

// The fields of a SequenceProto / OptionalProto (onnx-data.proto) as [field number, bytes] pairs for
// the message-typed fields (3 tensor, 5 sequence, 7 optional) and elem_type (field 2).
function protoFields(bytes) {
  const r = Reader.create(bytes);
  const fields = { elemType: 0, messages: [] };
  while (r.pos < r.len) {
    const tag = r.uint32();
    const field = tag >>> 3;
    if (field === 2 && (tag & 7) === 0) fields.elemType = r.int32();
    else if ((field === 3 || field === 5 || field === 7) && (tag & 7) === 2) fields.messages.push([field, r.bytes()]);
    else r.skipType(tag & 7);
  }
  return fields;
}

const ELEM_TENSOR = 1, ELEM_SEQUENCE = 3, ELEM_OPTIONAL = 5;

// A SequenceProto of tensors -> an array of tensors (undefined when it holds anything else).
function sequenceOf(bytes) {
  const { elemType, messages } = protoFields(bytes);
  if (elemType !== ELEM_TENSOR && messages.length) return undefined;
  const items = messages.filter(([f]) => f === 3).map(([, b]) => tensorOf(onnx.TensorProto.decode(b)));
  return items.some((t) => !t) ? undefined : items;
}

// An OptionalProto -> null when empty, else its tensor or sequence (undefined when unreadable).
function optionalOf(bytes) {
  const { elemType, messages } = protoFields(bytes);
  if (messages.length === 0) return null;
  const [field, inner] = messages[0];
  if (elemType === ELEM_TENSOR && field === 3) return tensorOf(onnx.TensorProto.decode(inner)) ?? undefined;
  if (elemType === ELEM_SEQUENCE && field === 5) return sequenceOf(inner);
  if (elemType === ELEM_OPTIONAL) return undefined;
  return undefined;
}

/** A serialized value of the graph type `type` (a TypeProto): a tensor, an array (sequence) or null
 * (empty optional); undefined when this runner cannot read it. */
export function readValue(file, type) {
  const bytes = fs.readFileSync(file);
  if (type?.sequenceType) return sequenceOf(bytes);
  if (type?.optionalType) return optionalOf(bytes);
  return tensorOf(onnx.TensorProto.decode(bytes)) ?? undefined;
}

function f16(bits) {
  const s = bits & 0x8000 ? -1 : 1, e = (bits >> 10) & 0x1f, m = bits & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}
const bf16 = (bits) => new Float32Array(new Uint32Array([bits << 16]).buffer)[0];

function values(t) {
  if (t.type === 'float16') return Array.from(t.data, f16);
  if (t.type === 'bfloat16') return Array.from(t.data, bf16);
  return Array.from(t.data, (v) => (typeof v === 'bigint' ? v : v));
}

/** null when equal, else a short description of the first difference. */
export function compareTensors(actual, expected, rtol = 1e-3, atol = 1e-7) {
  if (actual.type !== expected.type) return `type ${actual.type} != expected ${expected.type}`;
  if (JSON.stringify([...actual.dims]) !== JSON.stringify([...expected.dims]))
    return `dims ${JSON.stringify([...actual.dims])} != expected ${JSON.stringify([...expected.dims])}`;
  const a = values(actual), e = values(expected);
  const isFloat = ['float32', 'float64', 'float16', 'bfloat16'].includes(actual.type);
  const tol = actual.type === 'float16' || actual.type === 'bfloat16' ? Math.max(rtol, 1e-2) : rtol;
  for (let i = 0; i < e.length; i++) {
    if (!isFloat) {
      if (a[i] !== e[i]) return `element ${i}: ${a[i]} != expected ${e[i]}`;
      continue;
    }
    if (Number.isNaN(e[i])) {
      if (!Number.isNaN(a[i])) return `element ${i}: ${a[i]} != expected NaN`;
      continue;
    }
    if (a[i] === e[i]) continue;
    if (!(Math.abs(a[i] - e[i]) <= atol + tol * Math.abs(e[i]))) return `element ${i}: ${a[i]} != expected ${e[i]}`;
  }
  return null;
}

/** null when equal, else a short description of the first difference; for sequences (arrays) and
 * optionals (null when empty) as well as tensors. */
export function compareValues(actual, expected) {
  if (expected === null) return actual === null ? null : 'expected an empty optional';
  if (actual === null || actual === undefined) return 'got an empty optional';
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return 'expected a sequence';
    if (actual.length !== expected.length) return `sequence of ${actual.length} tensors != expected ${expected.length}`;
    for (let i = 0; i < expected.length; i++) {
      const diff = compareTensors(actual[i], expected[i]);
      if (diff) return `item ${i}: ${diff}`;
    }
    return null;
  }
  if (Array.isArray(actual)) return 'got a sequence, expected a tensor';
  return compareTensors(actual, expected);
}

// numpy has no bfloat16, so the ONNX generators store bfloat16 data as uint16 bit patterns: read them
// as the bfloat16 the graph declares.
function asDeclared(t, valueInfo) {
  const declared = TYPE_NAMES[valueInfo.type?.tensorType?.elemType];
  return t && t.type === 'uint16' && declared === 'bfloat16' ? { ...t, type: 'bfloat16' } : t;
}

/** Runs one case; resolves { ok, error }. */
export async function runCase(Engine, c) {
  let engine;
  try {
    const modelPath = path.join(c.dir, 'model.onnx');
    const model = onnx.ModelProto.decode(fs.readFileSync(modelPath));
    const inits = new Set(model.graph.initializer.map((t) => t.name));
    const graphInputs = model.graph.input.filter((v) => !inits.has(v.name));
    const inputNames = graphInputs.map((v) => v.name);
    const outputNames = model.graph.output.map((v) => v.name);
    const dataDir = path.join(c.dir, 'test_data_set_0');
    const feeds = {};
    for (let i = 0; i < inputNames.length; i++) {
      const f = path.join(dataDir, `input_${i}.pb`);
      if (!fs.existsSync(f)) continue;
      const t = readValue(f, graphInputs[i].type);
      if (t === undefined) return { ok: false, error: `input ${i} is not a value this runner can read` };
      feeds[inputNames[i]] = asDeclared(t, graphInputs[i]);
    }
    engine = await Engine.load(modelPath, { cacheDir: false, threads: 1 });
    const out = await engine.run(feeds);
    for (let i = 0; i < outputNames.length; i++) {
      const f = path.join(dataDir, `output_${i}.pb`);
      if (!fs.existsSync(f)) continue;
      const expected = readValue(f, model.graph.output[i].type);
      if (expected === undefined) return { ok: false, error: `output ${i} is not a value this runner can read` };
      const diff = compareValues(out[outputNames[i]], asDeclared(expected, model.graph.output[i]));
      if (diff) return { ok: false, error: `output '${outputNames[i]}': ${diff}` };
    }
    return { ok: true, error: null };
  } catch (e) {
    return { ok: false, error: `${e.code ?? e.name}: ${e.message}` };
  } finally {
    engine?.dispose();
  }
}
