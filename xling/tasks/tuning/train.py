"""Fine-tuning with transformers' Trainer: full fine-tuning or LoRA (peft), the model's chat
template, loss on the response tokens only."""
from __future__ import annotations

from pathlib import Path

from ...backends.hfmodel import ensure_pad_token
from ...data import hub
from ...data.hub import quieted
from ...errors import XlingError


def encode_example(tokenizer, instruction: str, response: str, max_length: int) -> dict:
    """input_ids of the chat-formatted (instruction, response), labels -100 on the prompt part."""
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": instruction}], tokenize=False,
                                           add_generation_prompt=True)
    full = tokenizer.apply_chat_template([{"role": "user", "content": instruction},
                                          {"role": "assistant", "content": response}], tokenize=False)
    if not full.startswith(prompt):
        raise XlingError("the chat template renders the prompt differently inside a full conversation; "
                         "cannot mask the prompt tokens")
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    full_ids = tokenizer(full, add_special_tokens=False)["input_ids"]
    if tokenizer.eos_token_id is not None and (not full_ids or full_ids[-1] != tokenizer.eos_token_id):
        full_ids = full_ids + [tokenizer.eos_token_id]
    full_ids = full_ids[:max_length]
    labels = [-100] * min(len(prompt_ids), len(full_ids)) + full_ids[len(prompt_ids):]
    return {"input_ids": full_ids, "labels": labels[:len(full_ids)]}


def check_trainable(encoded: list[dict], max_length: int) -> list[dict]:
    """The encoded examples, refused when any keeps no response token: its prompt fills
    max_length, so it would train on nothing (loss 0) while its language counts as trained."""
    empty = sum(1 for example in encoded if all(label == -100 for label in example["labels"]))
    if empty:
        raise XlingError(f"{empty} of {len(encoded)} training examples keep no response token within "
                         f"max_length {max_length} (their prompts fill it); raise max_length")
    return encoded


@quieted
def fine_tune(model_path: str, examples: list[tuple[str, str]], out_dir: Path, *, epochs: float = 1.0,
              learning_rate: float = 2e-5, batch_size: int = 4, max_length: int = 512,
              lora: bool = False, lora_r: int = 8, seed: int = 0) -> dict:
    """Train on (instruction, response) examples; save the model in out_dir; return the losses."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, DataCollatorForSeq2Seq, Trainer, TrainingArguments

    options = hub.load_options(model_path)   # a hub name from the local cache when offline
    offline = options.pop("local_files_only", False)
    with hub.offline_while(offline):
        tokenizer = AutoTokenizer.from_pretrained(model_path, local_files_only=offline)
    if not getattr(tokenizer, "chat_template", None):
        raise XlingError(f"model {model_path} has no chat template; instruction tuning needs one "
                         "(add one to its tokenizer_config.json)")
    ensure_pad_token(tokenizer)
    data = check_trainable([encode_example(tokenizer, i, r, max_length) for i, r in examples], max_length)
    torch.manual_seed(seed)
    try:
        with hub.offline_while(offline):
            model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32, local_files_only=offline)
    except (OSError, ValueError, RuntimeError) as exc:   # (safetensors' errors are among these)
        raise XlingError(f"cannot load model weights from {model_path!r}: {exc}") from exc
    peft_model = None
    if lora:
        try:
            from peft import LoraConfig, get_peft_model
        except ImportError as exc:
            raise XlingError("LoRA needs the peft package: pip install peft") from exc
        peft_model = get_peft_model(model, LoraConfig(r=lora_r, lora_alpha=2 * lora_r, task_type="CAUSAL_LM",
                                                      target_modules="all-linear"))
    args = TrainingArguments(output_dir=str(out_dir / "trainer"), num_train_epochs=epochs,
                             learning_rate=learning_rate, per_device_train_batch_size=batch_size,
                             logging_steps=1, save_strategy="no", report_to=[], seed=seed,
                             use_cpu=not torch.cuda.is_available(), disable_tqdm=True)
    trainer = Trainer(model=model if peft_model is None else peft_model, args=args, train_dataset=data,
                      data_collator=DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=-100))
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)   # losses are returned, not printed
    trainer.train()
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    if peft_model is not None:
        # peft types merge_and_unload as returning any nn.Module; it is the base model, merged
        model = peft_model.merge_and_unload()  # type: ignore[assignment]
    model.save_pretrained(out_dir / "model")
    tokenizer.save_pretrained(out_dir / "model")
    return {"losses": losses, "steps": trainer.state.global_step}
