"""Where and how a run computes: device, precision, loss scaling, DDP, torch.compile, and the
few collectives a training loop needs. Every task goes through one Runtime, so no objective calls
.backward() or opt.step() itself, and one code path serves a CPU, a GPU, or N GPUs on M machines.

    rt = Runtime.create(device="auto", precision="auto")    # reads RANK / LOCAL_RANK / WORLD_SIZE
    net = rt.prepare(net)                                   # to the device (SyncBN if asked)
    train_net = rt.wrap(net)                                # DDP (and torch.compile) for training
    with rt.autocast():
        loss = criterion(train_net(rt.to(x)))
    rt.update(opt, loss)                                    # zero_grad, (scaled) backward, step
    if rt.any(not math.isfinite(loss.item())): ...          # every rank decides alike

Under torchrun each process takes cuda:LOCAL_RANK (NCCL), or the CPU (gloo).
"""
from __future__ import annotations

import contextlib
import datetime
import os
import sys

import torch

from ..errors import UserError

AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def use_threads(n: int = 0, env=None) -> int:
    """Set this process's CPU threads (torch's intra-op pool, which the GRU kernel shares) by the
    rule of --threads; returns the count in use. n > 0: n. n == 0: a single process keeps torch's
    default ($OMP_NUM_THREADS, else the physical cores); under torchrun the CPUs this process may run
    on are shared out over the LOCAL_WORLD_SIZE processes of the machine (torchrun alone gives each 1)."""
    env = os.environ if env is None else env
    local = int(env.get("LOCAL_WORLD_SIZE") or 1)
    if n <= 0 and local > 1:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        n = max(1, cpus // local)
    if n > 0 and torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return torch.get_num_threads()


def native_bf16() -> bool:
    """Whether this CPU computes bf16 natively (AVX-512 BF16 or AMX). Without it oneDNN emulates
    bf16 and autocast makes conv nets several times slower than fp32 (measured 5x on AVX2)."""
    cpu = torch.cpu
    return any(getattr(cpu, f, lambda: False)() for f in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"))


def resolve_device(name: str, local_rank: int = 0, distributed: bool = False) -> torch.device:
    """--device to a torch.device; under torchrun 'cuda' and 'auto' mean cuda:LOCAL_RANK."""
    if name == "auto":
        if torch.cuda.is_available():
            name = "cuda"
        elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available() and not distributed:
            name = "mps"
        else:
            name = "cpu"
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise UserError(f"--device {name}: this machine has no CUDA GPU that torch {torch.__version__} can use "
                            "(use --device cpu or auto)")
        index = int(name[5:]) if name.startswith("cuda:") else (local_rank if distributed else 0)
        if index >= torch.cuda.device_count():
            raise UserError(f"--device cuda:{index}: this machine has {torch.cuda.device_count()} CUDA device(s)")
        return torch.device("cuda", index)
    if name == "mps" and not (getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()):
        raise UserError("--device mps: Apple's Metal backend is not available here (use --device cpu or auto)")
    return torch.device(name)


def cpu_bf16_path() -> str | None:
    """How this CPU computes bf16: "amx" (AMX tiles), "avx512_bf16" (the vector instructions alone)
    or None (emulated). The two native paths round differently (see config.precision)."""
    if getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)():
        return "amx"
    return "avx512_bf16" if native_bf16() else None


def resolve_precision(precision: str, device: torch.device, log=None, cpu_rule=None) -> str:
    """--precision auto to what `device` runs best (bf16 where native, fp16 on older GPUs, else
    fp32); warns when bf16 would be emulated on this CPU.

    cpu_rule: path -> (allowed, why), a family's measured verdict (config.precision): on a CPU,
    auto picks bf16 only where it allows it."""
    log = log or (lambda msg: print(msg, file=sys.stderr))
    if device.type == "cuda":
        if precision == "auto":
            precision = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
            log(f"precision auto: {precision} on {torch.cuda.get_device_name(device)}")
        return precision
    if device.type == "mps":
        return "fp16" if precision == "auto" else precision
    if precision == "auto" and cpu_rule is not None and native_bf16():
        ok, why = cpu_rule(cpu_bf16_path())
        precision = "bf16" if ok else "fp32"
        log(f"precision auto: {precision} ({why})")
    elif precision == "auto":
        precision = "bf16" if native_bf16() else "fp32"
        log(f"precision auto: {precision} ({'' if precision == 'bf16' else 'no '}native bf16 on this CPU)")
    elif precision == "bf16" and not native_bf16():
        log("warning: this CPU has no native bf16 (AVX-512 BF16 or AMX): bf16 autocast is emulated and "
            "usually several times slower than --precision fp32")
    return precision


class Runtime:
    """One process's view of the run: device, precision, rank and world, loss scalers."""

    def __init__(self, device: torch.device, precision: str, rank: int = 0, local_rank: int = 0, world: int = 1,
                 compile: bool = False, sync_bn: bool = False):
        self.device, self.precision = device, precision
        self.rank, self.local_rank, self.world = rank, local_rank, world
        self.compile, self.sync_bn = compile, sync_bn
        self._scalers: dict[int, torch.amp.GradScaler] = {}

    # ------------------------------------------------------------------ construction
    @classmethod
    def create(cls, device: str = "auto", precision: str = "auto", compile: bool = False, sync_bn: bool = False,
               env=None, cpu_rule=None) -> "Runtime":
        """From flags and the torchrun environment; joins the process group when WORLD_SIZE > 1."""
        env = os.environ if env is None else env
        world = int(env.get("WORLD_SIZE", "1"))
        rank, local_rank = int(env.get("RANK", "0")), int(env.get("LOCAL_RANK", "0"))
        dev = resolve_device(device, local_rank, distributed=world > 1)
        if world > 1 and not torch.distributed.is_initialized():
            if dev.type == "cuda":
                torch.cuda.set_device(dev)
            backend = "nccl" if dev.type == "cuda" else "gloo"
            torch.distributed.init_process_group(backend, timeout=datetime.timedelta(minutes=10),
                                                 **({"device_id": dev} if dev.type == "cuda" else {}))
        if sync_bn and world > 1 and dev.type != "cuda":
            raise UserError("--sync-bn needs CUDA devices (torch's SyncBatchNorm does not run on the CPU)")
        log = (lambda msg: print(msg, file=sys.stderr)) if rank == 0 else (lambda msg: None)
        return cls(dev, resolve_precision(precision, dev, log, cpu_rule), rank, local_rank, world, compile, sync_bn)

    @classmethod
    def from_config(cls, cfg) -> "Runtime":
        use_threads(cfg.threads)
        return cls.create(cfg.device, cfg.precision, cfg.compile, cfg.sync_bn,
                          cpu_rule=getattr(cfg, "cpu_bf16_allowed", None))

    @property
    def distributed(self) -> bool:
        return self.world > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def describe(self) -> dict:
        """What the run actually used, for config.yaml / stats (device and precision may change on resume)."""
        name = torch.cuda.get_device_name(self.device) if self.device.type == "cuda" else self.device.type
        return {"device": str(self.device), "device_name": name, "precision": self.precision, "world": self.world,
                "threads": torch.get_num_threads()}

    # ------------------------------------------------------------------ nets and tensors
    def prepare(self, net: torch.nn.Module) -> torch.nn.Module:
        """The plain module on this device (SyncBatchNorm with --sync-bn under torchrun). Build
        optimisers from its parameters; save and evaluate this module, not wrap()'s result."""
        if self.sync_bn and self.distributed:
            net = torch.nn.SyncBatchNorm.convert_sync_batchnorm(net)
        return net.to(self.device)

    def wrap(self, net: torch.nn.Module) -> torch.nn.Module:
        """The training view of a prepared net: DDP under torchrun, torch.compile with --compile.
        It shares parameters with `net`; call it only where every rank calls it too."""
        out = net
        if self.distributed and any(p.requires_grad for p in net.parameters()):
            ids = [self.device.index] if self.device.type == "cuda" else None
            out = torch.nn.parallel.DistributedDataParallel(net, device_ids=ids)
        if self.compile:
            out = torch.compile(out)
        return out

    @staticmethod
    def eager(view: torch.nn.Module) -> torch.nn.Module:
        """wrap()'s view without torch.compile (DDP kept): for a double backward (R1, R2), which
        compiled graphs do not support."""
        return getattr(view, "_orig_mod", view)

    def to(self, x: torch.Tensor) -> torch.Tensor:
        """A batch to the device (pinned + non-blocking from host memory to a GPU)."""
        if x.device == self.device:
            return x
        if self.device.type == "cuda" and x.device.type == "cpu":
            return x.pin_memory().to(self.device, non_blocking=True)
        return x.to(self.device)

    def place(self, data: torch.Tensor, share: float = 0.5) -> torch.Tensor:
        """An in-memory dataset onto the GPU once when it takes under `share` of the free memory (all
        of MNIST and CIFAR-10 do), so a step does no host-to-device copy; else it stays on the host.
        Streaming and packed images (data.lazy) stay where they are: their batches are read per step."""
        if not isinstance(data, torch.Tensor) or self.device.type != "cuda" or data.device == self.device:
            return data
        free, _ = torch.cuda.mem_get_info(self.device)
        return data.to(self.device) if data.numel() * data.element_size() < share * free else data

    def generator(self, seed: int) -> torch.Generator:
        """A seeded generator on this device (for noise drawn directly on it)."""
        return torch.Generator(self.device).manual_seed(seed)

    # ------------------------------------------------------------------ precision and updates
    def autocast(self):
        dtype = AUTOCAST_DTYPES.get(self.precision)
        if dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=dtype)

    def scaler(self, opt: torch.optim.Optimizer) -> torch.amp.GradScaler | None:
        """The loss scaler of `opt` under fp16 (one per optimiser, so each update skips alone)."""
        if self.precision != "fp16":
            return None
        if id(opt) not in self._scalers:
            self._scalers[id(opt)] = torch.amp.GradScaler(self.device.type)
        return self._scalers[id(opt)]

    def update(self, opt: torch.optim.Optimizer, loss: torch.Tensor) -> bool:
        """zero_grad, backward, step; under fp16 the loss is scaled, gradients unscaled, and a step
        whose gradients hold inf/NaN is skipped (the scale then halves). Returns whether it stepped."""
        opt.zero_grad(set_to_none=True)
        scaler = self.scaler(opt)
        if scaler is None:
            loss.backward()
            opt.step()
            return True
        scaler.scale(loss).backward()
        before = scaler.get_scale()
        scaler.step(opt)
        scaler.update()
        return scaler.get_scale() >= before   # the scale backs off only when the step was skipped

    def scaler_states(self, optimizers: dict) -> dict:
        return {k: s.state_dict() for k, o in optimizers.items() if (s := self.scaler(o)) is not None}

    def load_scaler_states(self, optimizers: dict, states: dict) -> None:
        for k, o in optimizers.items():
            s = self.scaler(o)
            if s is not None and k in states:   # a run resumed in another precision starts a fresh scale
                s.load_state_dict(states[k])

    # ------------------------------------------------------------------ random state
    def rng_state(self) -> dict:
        """RNG state of every device in use (CPU, and this process's GPU)."""
        state = {"torch": torch.get_rng_state()}
        if self.device.type == "cuda":
            state["cuda"] = torch.cuda.get_rng_state(self.device)
        return state

    def set_rng_state(self, state: dict, step: int = 0) -> None:
        """Restore rank 0's saved state; other ranks then draw their own stream from it."""
        torch.set_rng_state(state["torch"])
        if self.device.type == "cuda" and "cuda" in state:
            torch.cuda.set_rng_state(state["cuda"], self.device)
        if self.rank:
            self.seed_rank(int(torch.randint(0, 2**31 - 1, (1,))) + step)

    def seed_rank(self, seed: int) -> None:
        """Seed every device; each rank gets its own stream (rank 0 keeps exactly `seed`), so noise
        and augmentation differ across processes while a single process stays as it was."""
        torch.manual_seed(seed + 7919 * self.rank)

    # ------------------------------------------------------------------ collectives
    def any(self, flag: bool) -> bool:
        """True on every rank when `flag` is true on any rank."""
        if not self.distributed:
            return bool(flag)
        t = torch.tensor([1.0 if flag else 0.0], device=self._comm_device)
        torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.MAX)
        return bool(t.item())

    def broadcast(self, obj):
        """Rank 0's `obj` on every rank (a small picklable value: metrics, a path, an error text)."""
        if not self.distributed:
            return obj
        box = [obj]
        torch.distributed.broadcast_object_list(box, src=0, device=self._comm_device)
        return box[0]

    def mean(self, values: dict[str, float]) -> dict[str, float]:
        """Per-key mean over ranks (for logged stats)."""
        if not self.distributed or not values:
            return values
        t = torch.tensor(list(values.values()), dtype=torch.float64, device=self._comm_device)
        torch.distributed.all_reduce(t)
        return dict(zip(values, (t / self.world).tolist()))

    def barrier(self) -> None:
        if self.distributed:
            torch.distributed.barrier(**({"device_ids": [self.device.index]} if self.device.type == "cuda" else {}))

    @property
    def _comm_device(self) -> torch.device:
        return self.device if self.device.type == "cuda" else torch.device("cpu")

    def close(self, clean: bool = True) -> None:
        """Leave the process group. clean: every rank got here (a barrier first: destroying right
        after the last collective sometimes aborts a rank at exit). After an error that only this
        rank may have hit, no collective is attempted: the launcher stops the others."""
        if self.distributed and torch.distributed.is_initialized():
            if clean:
                try:
                    self.barrier()
                finally:
                    torch.distributed.destroy_process_group()
