"""AutoBatch Studio's PyTorch trainer: one training job per process, driven by the host over a
line-delimited JSON protocol (fd 3 out, stdin in). Standard library and torch only: it runs in
the user's own Python environment and bundles nothing."""
