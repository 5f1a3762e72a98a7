"""The engine's end-to-end latency against PyTorch eager mode on the same GPU, in one table: reads
what `node bench/gpu/engine-latency.mjs --torch-dir DIR` wrote (each model's graph, input shapes, a
sample with onnxruntime-node's outputs, and the engine's medians), checks that onnx_eager.py computes
the same function as onnxruntime on the sample, then times the models in PyTorch eager at batch 1 and
32 in fp32 and fp16 (all float weights and inputs cast to half: `model.half()`), with
torch.backends.cudnn.benchmark on. Torch is timed on device-resident inputs with CUDA events (median,
L2 flushed before each run); the engine's times are wall clock including host<->device copies, so
the ratio understates the engine. Speedup = torch ms / engine ms.
  python3 bench/gpu/engine_vs_torch.py DIR [--reps 30] [--out table.md] [--check-only]"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from onnx_eager import OnnxEager  # noqa: E402

# Above this the rendering is wrong, not rounded: onnxruntime's own fused and unfused graphs of the
# OCR detector differ by ~1e-2 on random images (test/engine/npm-models.test.ts), the others by ~1e-6.
CHECK_BOUND = 5e-2


def load_bin(folder, entry, dtype=torch.float32):
    with open(os.path.join(folder, entry["file"]), "rb") as f:
        return torch.frombuffer(bytearray(f.read()), dtype=dtype).reshape(entry["dims"])


def check(folder, sample, device):
    """max |torch - onnxruntime| / max |onnxruntime| over the sample's outputs, in fp32."""
    model = OnnxEager(folder, device, torch.float32)
    feeds = {e["name"]: load_bin(folder, e).to(device) for e in sample["sampleInputs"]}
    with torch.inference_mode():
        outs = model.run(feeds)
    worst = 0.0
    for got, entry in zip(outs, sample["sampleOutputs"]):
        ref = load_bin(folder, entry).to(device)
        if list(got.shape) != entry["dims"]:
            return float("inf")
        worst = max(worst, ((got.float() - ref).abs().max() / ref.abs().max().clamp_min(1e-30)).item())
    return worst


def feeds_at(sample, batch, device, dtype):
    feeds = {}
    for e in sample["inputs"]:
        dims = [batch if d == "b" else d for d in e["dims"]]
        t = torch.ones(dims) if e["fill"] == "ones" else torch.rand(dims) * 2 - 1
        feeds[e["name"]] = t.to(device, dtype)
    return feeds


def main():
    p = argparse.ArgumentParser()
    p.add_argument("folder")
    p.add_argument("--reps", type=int, default=30)
    p.add_argument("--out")
    p.add_argument("--check-only", action="store_true", help="only the onnxruntime check (no GPU needed)")
    args = p.parse_args()
    device = "cpu" if args.check_only else "cuda"
    with open(os.path.join(args.folder, "medians.json")) as f:
        medians = json.load(f)
    models = sorted(d for d in os.listdir(args.folder) if os.path.exists(os.path.join(args.folder, d, "sample.json")))
    errors, rows = {}, []
    if not args.check_only:
        from gpu_bench import Timer, emit_table, table_header
        torch.backends.cudnn.benchmark = True
        timer = Timer()
    for slug in models:
        folder = os.path.join(args.folder, slug)
        with open(os.path.join(folder, "sample.json")) as f:
            sample = json.load(f)
        errors[slug] = check(folder, sample, device)
        print(f"{sample['name']}: torch eager vs onnxruntime, relative error {errors[slug]:.2e}", flush=True)
        if args.check_only:
            continue
        engine = medians["models"][sample["name"]]
        for batch in (1, 32):
            torch_ms = {}
            for label, dtype in (("fp32", torch.float32), ("fp16", torch.float16)):
                model = OnnxEager(folder, device, dtype)
                feeds = feeds_at(sample, batch, device, dtype)
                with torch.inference_mode():
                    torch_ms[label] = timer.median_ms(lambda: model.run(feeds), args.reps)
                del model
            e = engine[str(batch)]
            rows.append(f"| {sample['name']} | {batch} | {torch_ms['fp32']:.2f} | {e['cuda']:.2f} | "
                        f"{torch_ms['fp32'] / e['cuda']:.2f}x | {torch_ms['fp16']:.2f} | {e['fp16']:.2f} | "
                        f"{torch_ms['fp16'] / e['fp16']:.2f}x |")
            print(rows[-1], flush=True)
    if not args.check_only:
        lines = table_header("Engine vs PyTorch eager, end to end") + [
            f"engine: {medians['device']}, median of {medians['runs']} runs (wall clock, with copies); torch: median of "
            f"{args.reps} runs (CUDA events, device-resident inputs, cudnn.benchmark); speedup = torch ms / engine ms",
            "",
            "| model | batch | torch fp32 ms | engine fp32 ms | speedup fp32 | torch fp16 ms | engine fp16 ms | speedup fp16 |",
            "|---|---|---|---|---|---|---|---|",
            *rows, "",
            "torch eager vs onnxruntime on a batch-2 sample (fp32, relative error): "
            + ", ".join(f"{k} {v:.1e}" for k, v in errors.items()),
        ]
        emit_table(lines, args.out)
    bad = [k for k, v in errors.items() if not v <= CHECK_BOUND]
    if bad:
        print(f"engine_vs_torch: torch eager does not reproduce onnxruntime for {bad}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
