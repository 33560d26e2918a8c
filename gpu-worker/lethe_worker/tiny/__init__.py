"""The tiny LLaVA and its synthetic world (build: python -m lethe_worker.tiny.build --out DIR --seed N)."""
