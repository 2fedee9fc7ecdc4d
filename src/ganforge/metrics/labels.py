"""How `ganforge eval` and the model cards name each metric key (the key itself when absent)."""

LABELS = {"kid": "KID", "is": "IS", "precision": "precision (k=3)", "recall": "recall (k=3)",
          "label_acc": "label accuracy", "accuracy": "accuracy", "loss": "loss", "fid_class_mean": "per-class FID (mean)",
          "code_purity": "code purity", "code_classes": "classes the codes cover",
          "identity": "identity (frames, generated)", "identity_real": "identity (frames, real)",
          "motion": "motion (generated)", "motion_real": "motion (real)", "motion_ratio": "motion ratio (gen / real)",
          "clip_fd_net": "clip-FD features", "clip_fd": "clip-FD (generated)", "clip_fd_real": "clip-FD (held-out real)",
          "clip_fd_static": "clip-FD (static: first frame repeated)",
          "clip_fd_shuffled": "clip-FD (shuffled frames)"}
