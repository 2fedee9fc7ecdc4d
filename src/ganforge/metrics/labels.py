"""How `ganforge eval` and the model cards name each metric key (the key itself when absent)."""

LABELS = {"kid": "KID", "is": "IS", "precision": "precision (k=3)", "recall": "recall (k=3)",
          "label_acc": "label accuracy", "accuracy": "accuracy", "loss": "loss", "fid_class_mean": "per-class FID (mean)",
          "code_purity": "code purity", "code_classes": "classes the codes cover",
          "identity": "identity (frames, generated)", "identity_real": "identity (frames, real)",
          "motion": "motion (generated)", "motion_real": "motion (real)", "motion_ratio": "motion ratio (gen / real)"}
