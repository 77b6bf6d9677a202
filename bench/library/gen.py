#!/usr/bin/env python3
"""Writes a synthetic library collection in the CISO Assistant layout (issue 16 bench):
frameworks whose ref ids repeat under different parents, nodes without names, translations,
and mapping libraries between them. Nothing here is copied from a published library.

Usage: gen.py DIR [FRAMEWORKS] [MAPPINGS] [NODES]
"""
import os
import random
import sys

out = sys.argv[1]
frameworks = int(sys.argv[2]) if len(sys.argv) > 2 else 200
mapping_libs = int(sys.argv[3]) if len(sys.argv) > 3 else 50
nodes = int(sys.argv[4]) if len(sys.argv) > 4 else 900
rnd = random.Random(16)
words = ("access control logging backup supplier review incident asset policy risk "
         "training network encryption key monitoring change capacity physical data "
         "retention identity privilege audit continuity test secure development").split()
os.makedirs(out, exist_ok=True)


def sentence(n):
    return " ".join(rnd.choice(words) for _ in range(n)).capitalize() + "."


def framework(i):
    fw = f"bench-fw-{i:03d}"
    lines = [
        f"urn: urn:bench:risk:library:{fw}",
        f"ref_id: {fw}",
        f"name: Bench framework {i}",
        "version: 1",
        "provider: bench",
        "translations:",
        "  fr:",
        f"    name: Référentiel {i}",
        "objects:",
        "  framework:",
        f"    urn: urn:bench:risk:framework:{fw}",
        f"    ref_id: {fw}",
        f"    name: Bench framework {i}",
        "    requirement_nodes:",
    ]
    urns = []
    n = 0
    chapter = 0
    while n < nodes:
        chapter += 1
        c_urn = f"urn:bench:risk:req_node:{fw}:{chapter}"
        lines += [f"    - urn: {c_urn}", f"      ref_id: '{chapter}'",
                  f"      name: Chapter {chapter}", "      assessable: false"]
        n += 1
        for s in range(1, 6):
            s_urn = f"{c_urn}.{s}"
            lines += [f"    - urn: {s_urn}", f"      parent_urn: {c_urn}",
                      f"      ref_id: '{chapter}.{s}'", f"      name: {sentence(4)}"]
            n += 1
            # Items "1", "2", "3" repeat under every section, as in ENS or FINMA.
            for k in range(1, 4):
                urn = f"{s_urn}:{k}"
                lines += [f"    - urn: {urn}", f"      parent_urn: {s_urn}",
                          f"      ref_id: '{k}'", "      assessable: true",
                          f"      description: {sentence(18)} {sentence(12)}",
                          "      translations:", "        fr:",
                          f"          description: {sentence(10)}"]
                urns.append(urn)
                n += 1
    with open(os.path.join(out, f"{fw}.yaml"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return fw, urns


made = [framework(i) for i in range(frameworks)]
for j in range(mapping_libs):
    (a, ua), (b, ub) = rnd.sample(made, 2)
    lines = [
        f"urn: urn:bench:risk:library:map-{j:03d}",
        f"name: Mapping {a} to {b}",
        "version: 1",
        "objects:",
        "  requirement_mapping_sets:",
        f"  - urn: urn:bench:risk:req_mapping_set:{a}-{b}",
        f"    source_framework_urn: urn:bench:risk:framework:{a}",
        f"    target_framework_urn: urn:bench:risk:framework:{b}",
        "    requirement_mappings:",
    ]
    for s in rnd.sample(ua, min(len(ua), 600)):
        lines += [f"    - source_requirement_urn: {s}",
                  f"      target_requirement_urn: {rnd.choice(ub)}",
                  f"      relationship: {rnd.choice(['equal', 'subset', 'superset', 'intersect'])}"]
    with open(os.path.join(out, f"map-{j:03d}.yaml"), "w") as f:
        f.write("\n".join(lines) + "\n")
