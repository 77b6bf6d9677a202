#!/usr/bin/env python3
"""Writes the risk benchmark's CSV: N risks over A assets (deterministic)."""
import csv, random, sys

out, n_risks, n_assets = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(27001)
threats = ["ransomware", "phishing", "insider misuse", "supplier breach", "power loss", "flood",
           "credential stuffing", "lost laptop", "misconfiguration", "denial of service",
           "unpatched software", "data leak", "fraud", "theft", "fire", "espionage"]
places = ["crm", "payroll", "backup", "office", "cloud tenant", "web shop", "mail", "warehouse",
          "data centre", "dev pipeline", "hr portal", "finance"]
controls = ["5.15", "5.23", "5.30", "6.3", "7.4", "8.7", "8.8", "8.13", "8.15", "8.16", "8.24", "8.32"]
treatments = ["modify", "modify", "modify", "retain", "share", "avoid"]
assets = [f"asset-{i:05d}" for i in range(n_assets)]
with open(out, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["title", "description", "assets", "likelihood", "impact", "treatment",
                "annex_a_controls", "residual_likelihood", "residual_impact", "owner"])
    for i in range(n_risks):
        t, p = rng.choice(threats), rng.choice(places)
        l, im = rng.randint(1, 5), rng.randint(1, 5)
        # Every asset named at least once; one to three per risk.
        named = {assets[i % n_assets]} | set(rng.sample(assets, rng.randint(0, 2)))
        w.writerow([f"{t} at {p} #{i}", f"{t.capitalize()} affecting the {p} (scenario {i})",
                    ";".join(sorted(named)), l, im, rng.choice(treatments),
                    ";".join(sorted(set(rng.sample(controls, rng.randint(0, 3))))),
                    max(1, l - rng.randint(0, 2)), max(1, im - rng.randint(0, 2)), ""])
