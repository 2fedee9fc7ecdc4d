"""Use a trained checkpoint: load, sample, translate, upscale, forecast, export, import, serve.

Above tasks and engine in the layers; below commands and the CLI. Each module is imported on
demand (serve needs gradio, export onnx/safetensors)."""
