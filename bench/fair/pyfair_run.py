#!/usr/bin/env python3
"""The same workloads in pyfair 0.1a13: `pyfair_run.py w1` or `pyfair_run.py w2`."""
import sys
import warnings

warnings.filterwarnings("ignore")
sys.path.insert(0, __import__("os").path.dirname(__file__))
from gen_params import w2_params  # noqa: E402
from pyfair import FairMetaModel, FairModel  # noqa: E402


def quantiles(series):
    q = series.quantile([0.1, 0.5, 0.9, 0.95, 0.99]).tolist()
    return f"mean {series.mean():.0f} p10 {q[0]:.0f} p50 {q[1]:.0f} p90 {q[2]:.0f} p95 {q[3]:.0f} p99 {q[4]:.0f}"


which = sys.argv[1]
if which == "w1":
    m = FairModel(name="W1", n_simulations=1_000_000, random_seed=1)
    m.input_data("Loss Event Frequency", low=0.5, mode=2, high=8)
    m.input_data("Loss Magnitude", low=10000, mode=50000, high=1000000)
    m.calculate_all()
    print("W1", quantiles(m.export_results()["Risk"]))
else:
    models = []
    for i in range(200):
        (a, b, c), (d, e, f) = w2_params(i)
        m = FairModel(name=f"risk {i}", n_simulations=100_000, random_seed=i + 1)
        m.input_data("Loss Event Frequency", low=a, mode=b, high=c)
        m.input_data("Loss Magnitude", low=d, mode=e, high=f)
        m.calculate_all()
        models.append(m)
    meta = FairMetaModel(name="Portfolio", models=models)
    meta.calculate_all()
    res = meta.export_results()
    print("W2 portfolio", quantiles(res["Risk"]))
