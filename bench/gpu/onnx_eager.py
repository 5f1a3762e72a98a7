"""An ONNX graph run in PyTorch eager mode, node by node with torch's own operators (cuDNN
convolutions, cuBLAS matmuls, one kernel launch or more per node): the baseline the engine's
end-to-end latency is compared with. Reads the graph.json + weights.bin that
bench/gpu/export-graph.mjs writes (no `onnx` package needed). Covers the operators of the example
models and PP-OCRv4's detector; any other raises NotImplementedError naming it."""
import json
import math
import os

import torch
import torch.nn.functional as F

# ONNX TensorProto data types -> torch
# Inputs an operator reads as values, not as data (Resize's roi, scales and sizes): constant ones are
# read from their host copy, so a run does not wait for the device to hand them back.
HOST_INPUTS = {"Resize": (1, 2, 3)}
DTYPES = {1: torch.float32, 2: torch.uint8, 3: torch.int8, 6: torch.int32, 7: torch.int64, 9: torch.bool,
          10: torch.float16, 11: torch.float64, 16: torch.bfloat16}


class OnnxEager:
    def __init__(self, folder, device="cuda", dtype=torch.float32):
        with open(os.path.join(folder, "graph.json")) as f:
            self.graph = json.load(f)
        with open(os.path.join(folder, "weights.bin"), "rb") as f:
            self.blob = bytearray(f.read())
        self.device, self.dtype = device, dtype
        self.opset = self.graph["opsets"].get("", 1)
        # Constants (initializers and Constant nodes, made once here), on the host as stored and where
        # the run reads them: floats on the device in the run's dtype, integers (shapes, axes) on the host.
        self.host = {name: self.stored(ref) for name, ref in self.graph["initializers"].items()}
        self.nodes = []
        for node in self.graph["nodes"]:
            if node["op"] == "Constant":
                self.host[node["outputs"][0]] = self.stored(node["attrs"]["value"]["tensor"])
            elif not hasattr(self, "op_" + node["op"]):
                raise NotImplementedError(f"onnx_eager: no torch rendering of {node['op']}")
            else:
                self.nodes.append(node)
        self.values = {name: t.to(device, dtype) if t.is_floating_point() else t for name, t in self.host.items()}

    def stored(self, ref):
        count = math.prod(ref["dims"])
        t = (torch.frombuffer(self.blob, dtype=DTYPES[ref["type"]], count=count, offset=ref["offset"]).clone()
             if count else torch.empty(0, dtype=DTYPES[ref["type"]]))
        return t.reshape(ref["dims"])

    def run(self, feeds):
        env = dict(self.values)
        env.update(feeds)
        for node in self.nodes:
            host_inputs = HOST_INPUTS.get(node["op"], ())
            args = [None if not name else self.host[name] if i in host_inputs and name in self.host else env[name]
                    for i, name in enumerate(node["inputs"])]
            out = getattr(self, "op_" + node["op"])(node["attrs"], *args)
            outs = out if isinstance(out, tuple) else (out,)
            for name, value in zip(node["outputs"], outs):
                env[name] = value
        return [env[name] for name in self.graph["outputs"]]

    # --- operators -------------------------------------------------------------------------------
    @staticmethod
    def ints(t):
        return [int(v) for v in t.tolist()]

    def op_Conv(self, a, x, w, b=None):
        spatial = w.dim() - 2
        if a.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
            raise NotImplementedError("onnx_eager: Conv auto_pad SAME_*")
        pads = a.get("pads", [0] * 2 * spatial)
        if pads[:spatial] != pads[spatial:]:  # asymmetric: pad first (F.pad takes the last axis first)
            x = F.pad(x, [p for i in reversed(range(spatial)) for p in (pads[i], pads[spatial + i])])
            pads = [0] * 2 * spatial
        conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[spatial]
        return conv(x, w, b, stride=a.get("strides", 1), padding=pads[:spatial], dilation=a.get("dilations", 1),
                    groups=a.get("group", 1))

    def op_ConvTranspose(self, a, x, w, b=None):
        spatial = w.dim() - 2
        pads = a.get("pads", [0] * 2 * spatial)
        if pads[:spatial] != pads[spatial:] or "output_shape" in a or a.get("auto_pad", "NOTSET") != "NOTSET":
            raise NotImplementedError("onnx_eager: ConvTranspose with asymmetric pads, output_shape or auto_pad")
        conv = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[spatial]
        return conv(x, w, b, stride=a.get("strides", 1), padding=pads[:spatial],
                    output_padding=a.get("output_padding", 0), groups=a.get("group", 1), dilation=a.get("dilations", 1))

    def op_BatchNormalization(self, a, x, scale, bias, mean, var):
        return F.batch_norm(x, mean, var, scale, bias, training=False, eps=a.get("epsilon", 1e-5))

    def op_Gemm(self, a, A, B, C=None):
        A = A.t() if a.get("transA", 0) else A
        B = B.t() if a.get("transB", 0) else B
        y = a.get("alpha", 1.0) * (A @ B)
        return y if C is None else y + a.get("beta", 1.0) * C

    def op_MatMul(self, a, x, y):
        return torch.matmul(x, y)

    def op_Add(self, a, x, y):
        return x + y

    def op_Sub(self, a, x, y):
        return x - y

    def op_Mul(self, a, x, y):
        return x * y

    def op_Div(self, a, x, y):
        return x / y

    def op_Pow(self, a, x, y):
        return torch.pow(x, y)

    def op_Sqrt(self, a, x):
        return torch.sqrt(x)

    def op_Erf(self, a, x):
        return torch.erf(x)

    def op_Relu(self, a, x):
        return torch.relu(x)

    def op_Sigmoid(self, a, x):
        return torch.sigmoid(x)

    def op_HardSigmoid(self, a, x):
        return torch.clamp(a.get("alpha", 0.2) * x + a.get("beta", 0.5), 0.0, 1.0)

    def op_Clip(self, a, x, lo=None, hi=None):
        if self.opset < 11:
            lo, hi = a.get("min"), a.get("max")
        return torch.clamp(x, lo, hi)

    def op_Softmax(self, a, x):
        if self.opset < 13 and x.dim() > 1:
            raise NotImplementedError("onnx_eager: Softmax before opset 13 (flattening semantics)")
        return torch.softmax(x, a.get("axis", -1))

    def op_ReduceMean(self, a, x, axes=None):
        dims = a.get("axes") if axes is None else self.ints(axes)
        return x.mean(dim=dims, keepdim=bool(a.get("keepdims", 1))) if dims else x.mean()

    def op_GlobalAveragePool(self, a, x):
        return x.mean(dim=list(range(2, x.dim())), keepdim=True)

    def op_Flatten(self, a, x):
        axis = a.get("axis", 1)
        return x.reshape(math.prod(x.shape[:axis]), -1)

    def op_Reshape(self, a, x, shape):
        dims = [x.shape[i] if d == 0 and not a.get("allowzero", 0) else d for i, d in enumerate(self.ints(shape))]
        return x.reshape(dims)

    def op_Transpose(self, a, x):
        return x.permute(a.get("perm", list(reversed(range(x.dim())))))

    def op_Concat(self, a, *xs):
        return torch.cat(xs, dim=a["axis"])

    def op_Resize(self, a, x, roi=None, scales=None, sizes=None):
        mode = a.get("mode", "nearest")
        coord = a.get("coordinate_transformation_mode", "half_pixel" if self.opset >= 11 else "asymmetric")
        spatial = x.dim() - 2
        if scales is not None and scales.numel() > 0:
            s = [float(v) for v in scales.tolist()]
            if s[:2] != [1.0, 1.0]:
                raise NotImplementedError("onnx_eager: Resize of the batch or channel axis")
            size = [int(math.floor(x.shape[2 + i] * s[2 + i])) for i in range(spatial)]
        else:
            size = self.ints(sizes)[2:]
        if mode == "nearest" and coord == "asymmetric" and a.get("nearest_mode", "round_prefer_floor") == "floor":
            return F.interpolate(x, size=size, mode="nearest")
        if mode == "linear" and coord in ("half_pixel", "pytorch_half_pixel", "align_corners"):
            kind = {1: "linear", 2: "bilinear", 3: "trilinear"}[spatial]
            return F.interpolate(x, size=size, mode=kind, align_corners=coord == "align_corners")
        raise NotImplementedError(f"onnx_eager: Resize mode={mode}, coordinate_transformation_mode={coord}")
