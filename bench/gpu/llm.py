"""Last-token logits of the CUDA LLM engine against Hugging Face transformers on the same files.

Three random-weight checkpoints in Hugging Face layout:
  llama-bf16-hd64:   bench/llm's 'tiny' Llama written by the package's own generator (node; bf16,
                     tied embeddings, 6 layers, head_dim 64, GQA 4);
  qwen2-bf16-hd64:   Qwen2ForCausalLM built here from a config (random q/k/v biases, tied embeddings,
                     GQA 4), saved by transformers in bf16;
  llama-f16-hd128:   LlamaForCausalLM built here (head_dim 128, GQA 4, llama3 rope scaling, untied),
                     saved in fp16.
For each, prompts of 7, 130 and 700 token ids (700 spans two 512-token split-K partitions of the
decode kernel) run through the engine (bench/gpu/llm-logits.mjs: once as one prefill, once as a
prefill then a decode step) and through transformers on cuda in float32 (the reference: the stored
16-bit weights upcast exactly) and in the checkpoint's 16-bit type (transformers' own rounding).
Error = max |logits - reference| / max |reference|. A row passes when ours is within
3 x transformers' 16-bit error + 2u (u = 2^-8 bf16, 2^-11 fp16): the engine may round differently
but not much worse than the 16-bit PyTorch forward. Writes a markdown table to --out.
"""
import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile

import torch


def log(*a):
    print(*a, flush=True)


def normalise_config(model_dir):
    """transformers 5 may write rope settings only as `rope_parameters`: add the 4.x keys the engine
    reads. The package's generator writes no model_type, which AutoConfig wants: add it."""
    path = os.path.join(model_dir, "config.json")
    with open(path) as f:
        c = json.load(f)
    if "model_type" not in c:
        c["model_type"] = {"LlamaForCausalLM": "llama", "Qwen2ForCausalLM": "qwen2"}[c["architectures"][0]]
    rp = c.get("rope_parameters")
    if isinstance(rp, dict):
        if "rope_theta" not in c and "rope_theta" in rp:
            c["rope_theta"] = rp["rope_theta"]
        if rp.get("rope_type", "default") != "default" and not c.get("rope_scaling"):
            c["rope_scaling"] = {k: v for k, v in rp.items() if k != "rope_theta"}
    with open(path, "w") as f:
        json.dump(c, f, indent=2)


def build_models(root):
    from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

    models = []
    llama = os.path.join(root, "llama-bf16-hd64")
    subprocess.run(["node", "-e", "require('./lib/llm/bench/randomLlama').writeRandomLlama(process.argv[1], 'tiny')", llama],
                   check=True)
    normalise_config(llama)
    models.append(("llama-bf16-hd64", llama, torch.bfloat16))

    torch.manual_seed(0)
    qwen = os.path.join(root, "qwen2-bf16-hd64")
    cfg = Qwen2Config(vocab_size=8192, hidden_size=512, intermediate_size=1024, num_hidden_layers=4, num_attention_heads=8,
                      num_key_value_heads=2, max_position_embeddings=4096, rope_theta=1e6, rms_norm_eps=1e-6,
                      tie_word_embeddings=True, initializer_range=0.05, eos_token_id=2, bos_token_id=1)
    m = Qwen2ForCausalLM(cfg)
    with torch.no_grad():
        for layer in m.model.layers:
            for proj in (layer.self_attn.q_proj, layer.self_attn.k_proj, layer.self_attn.v_proj):
                proj.bias.normal_(0.0, 0.5)
            for norm in (layer.input_layernorm, layer.post_attention_layernorm):
                norm.weight.uniform_(0.5, 1.5)
    m.to(torch.bfloat16).save_pretrained(qwen, safe_serialization=True)
    models.append(("qwen2-bf16-hd64", qwen, torch.bfloat16))

    torch.manual_seed(1)
    llama128 = os.path.join(root, "llama-f16-hd128")
    cfg = LlamaConfig(vocab_size=8192, hidden_size=1024, intermediate_size=2048, num_hidden_layers=3, num_attention_heads=8,
                      num_key_value_heads=2, max_position_embeddings=4096, rope_theta=500000.0, rms_norm_eps=1e-5,
                      tie_word_embeddings=False, initializer_range=0.05, eos_token_id=2, bos_token_id=1,
                      rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                    "original_max_position_embeddings": 512})
    LlamaForCausalLM(cfg).to(torch.float16).save_pretrained(llama128, safe_serialization=True)
    models.append(("llama-f16-hd128", llama128, torch.float16))

    # The engine needs a tokenizer.json; the generator's byte-level one fits every vocabulary here.
    for _, d, _ in models[1:]:
        normalise_config(d)
        for f in ("tokenizer.json", "tokenizer_config.json"):
            shutil.copy(os.path.join(llama, f), os.path.join(d, f))
    return models


def ours(model_dir, prompts, root):
    path = os.path.join(root, "prompts.json")
    with open(path, "w") as f:
        json.dump(prompts, f)
    out = subprocess.run(["node", "bench/gpu/llm-logits.mjs", model_dir, path, "cuda"], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"llm-logits.mjs exited with {out.returncode}: {out.stderr.strip()[-2000:]}")
    return json.loads(out.stdout)


@torch.no_grad()
def hf_last_logits(model_dir, prompts, dtype):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(model_dir, torch_dtype=dtype).cuda().eval()
    rows = []
    for p in prompts:
        ids = torch.tensor([p], device="cuda")
        rows.append(model(ids).logits[0, -1].float().cpu())
    del model
    torch.cuda.empty_cache()
    return rows


def rel_err(a, ref):
    return float((a - ref).abs().max() / ref.abs().max())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="bench/results/tmp/llm-hf-compare.md")
    args = ap.parse_args()
    try:
        import transformers
    except ImportError as e:
        log(f"llm.py: transformers is not importable here ({e}); the Hugging Face comparison did not run")
        return 2
    log(f"torch {torch.__version__}, transformers {transformers.__version__}, {torch.cuda.get_device_name()}")
    gen = torch.Generator().manual_seed(5)
    prompts = [torch.randint(3, 8192, (n,), generator=gen).tolist() for n in (7, 130, 700)]
    root = tempfile.mkdtemp(prefix="hs-llm-hf-")
    lines = [
        "| model | prompt tokens | ours prefill err | ours decode err | transformers 16-bit err | bound | argmax ours / hf32 / hf16 | |",
        "|---|---|---|---|---|---|---|---|",
    ]
    failed = 0
    try:
        for name, model_dir, dtype in build_models(root):
            try:
                got = ours(model_dir, prompts, root)
            except Exception as e:  # one model's failure must not hide the others' results
                failed += 1
                lines.append(f"| {name} | - | - | - | - | - | - | FAIL: {str(e).splitlines()[0][:200]} |")
                log(f"{name}: {e}")
                continue
            ref32 = hf_last_logits(model_dir, prompts, torch.float32)
            ref16 = hf_last_logits(model_dir, prompts, dtype)
            u = 2.0 ** -8 if dtype == torch.bfloat16 else 2.0 ** -11
            for p, r, a32, a16 in zip(prompts, got["results"], ref32, ref16):
                pre, dec = torch.tensor(r["prefill"]), torch.tensor(r["decode"])
                e_pre, e_dec, e16 = rel_err(pre, a32), rel_err(dec, a32), rel_err(a16, a32)
                bound = 3 * e16 + 2 * u
                ok = e_pre <= bound and e_dec <= bound and bool(torch.isfinite(pre).all() and torch.isfinite(dec).all())
                failed += not ok
                am = f"{int(pre.argmax())} / {int(a32.argmax())} / {int(a16.argmax())}"
                row = (f"| {name} ({got['weightType']}) | {len(p)} | {e_pre:.2e} | {e_dec:.2e} | {e16:.2e} | {bound:.2e} | {am} | "
                       f"{'ok' if ok else 'FAIL'} |")
                lines.append(row)
                log(row)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    header = [
        f"## LLM logits: highservice CUDA forward vs transformers ({datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')})",
        "",
        f"device: {torch.cuda.get_device_name()}; commit {os.environ.get('HS_COMMIT', 'unknown')}; torch {torch.__version__}, "
        f"transformers {transformers.__version__}. Error: max |x - hf32| / max |hf32| of the last token's logits, hf32 = "
        "transformers in float32 on the same 16-bit files.",
        "",
    ]
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as f:
        f.write("\n".join(header + lines) + "\n")
    log(f"llm.py: {failed} row(s) out of bounds; table in {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
