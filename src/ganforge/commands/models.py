"""ganforge models: list the registered models (and their parameter counts)."""
from __future__ import annotations


def register(sub) -> None:
    from ..cli import add_command

    p = add_command(sub, "models", "list the registered models", "ganforge models --params")
    p.add_argument("--params", action="store_true", help="also count parameters (at each model's example size)")
    p.add_argument("--kind", help="only models of this kind (gan, classifier, translator, ...)")
    p.set_defaults(func=_models)


def _models(args) -> int:
    from .. import models

    rows = models.entries(args.kind)
    if not rows:
        from ..errors import UserError

        raise UserError(f"no models of kind {args.kind!r}; kinds: {', '.join(sorted({e.kind for e in models.entries()}))}")
    for e in rows:
        extra = ""
        if args.params:
            built = e.build(**e.example)
            shape = e.example.get("image_shape")
            extra = f"{models.count_params(built):>12,d}  " + (f"at {'x'.join(map(str, shape))}  " if shape else "")
        print(f"{e.name:<14} {e.kind:<14} {extra}{e.summary}")
    return 0
