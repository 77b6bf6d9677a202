#!/usr/bin/env python3
"""Writes the W1 and W2 workloads of issue 6 as isms YAML inputs (expected model)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_params import w2_params  # noqa: E402

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)

w1 = """iterations: 1000000
seed: 1
model: expected
risks:
  - name: W1
    lef: {pert: {low: 0.5, mode: 2, high: 8}}
    lm: {pert: {low: 10000, mode: 50000, high: 1000000}}
"""
(out / "w1.yaml").write_text(w1)


lines = ["iterations: 100000", "seed: 1", "model: expected", "risks:"]
for i in range(200):
    (a, b, c), (d, e, f) = w2_params(i)
    lines.append(f"  - name: risk {i}")
    lines.append(f"    lef: {{pert: {{low: {a!r}, mode: {b!r}, high: {c!r}}}}}")
    lines.append(f"    lm: {{pert: {{low: {d!r}, mode: {e!r}, high: {f!r}}}}}")
(out / "w2.yaml").write_text("\n".join(lines) + "\n")
