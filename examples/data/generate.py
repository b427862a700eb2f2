#!/usr/bin/env python3
"""Regenerates events.jsonl: deterministic sample events for the examples."""
import json
import random

rng = random.Random(20261121)
levels = ["debug", "info", "info", "info", "warn", "error"]
services = ["checkout", "search", "auth", "billing", "gateway"]
names = ["ann", "bob", "chen", "dana", "eli", "fatima", "gus", "hana"]
domains = ["example.com", "mail.example.org", "corp.example.net"]

with open("events.jsonl", "w") as out:
    for i in range(3000):
        user = rng.choice(names)
        event = {
            "id": i + 1,
            "ts": 1_763_700_000 + i * 3,
            "level": rng.choice(levels),
            "service": rng.choice(services),
            "user": f"{user}.{rng.randint(1, 99)}@{rng.choice(domains)}",
            "latency_ms": round(rng.expovariate(1 / 40), 2),
        }
        if rng.random() < 0.3:
            groups = [f"{rng.randint(0, 9999):04d}" for _ in range(4)]
            event["card"] = rng.choice([" ", "-", ""]).join(groups)
        if rng.random() < 0.2:
            event["note"] = f"contact {rng.choice(names)}@{rng.choice(domains)} about order {rng.randint(1000, 9999)}"
        out.write(json.dumps(event, separators=(",", ":")) + "\n")
