#!/usr/bin/env python3
# Turns bench samples (JSON lines from bench/run.sh) into a table on stdout and results.json:
# medians per image and tool, ratios run by run (3tofu / skopeo, 3tofu / floor; also until a
# `sync` after each tool has put its output on disk, for information), the targets
# from DESIGN.md checked, and the scaling figures (MiB/s, peak RSS by image size).
# Usage: report.py SAMPLES.jsonl META.json RESULTS.json
import json, statistics, sys

samples_path, meta_path, results_path = sys.argv[1:4]
samples = [json.loads(line) for line in open(samples_path) if line.strip()]
meta = json.load(open(meta_path))

TARGETS = {"tofu-default": 0.4, "tofu-every": 1.0}
RSS_LIMIT_MIB = 64
FLOOR_FACTOR = 2.0


def median(values):
    return statistics.median(values) if values else None


def ok(image, tool):
    return [s for s in samples if s["image"] == image and s["tool"] == tool and s["status"] == 0]


images = list(dict.fromkeys(s["image"] for s in samples))
summary = {}
for image in images:
    summary[image] = {}
    for tool in dict.fromkeys(s["tool"] for s in samples if s["image"] == image):
        good = ok(image, tool)
        failed = [s for s in samples if s["image"] == image and s["tool"] == tool and s["status"] != 0]
        summary[image][tool] = {
            "runs": len(good), "failed": len(failed),
            "wallMedian": median([s["wall"] for s in good]),
            "wallMin": min((s["wall"] for s in good), default=None),
            "wallMax": max((s["wall"] for s in good), default=None),
            "wallSyncedMedian": median([s["wallSynced"] for s in good if "wallSynced" in s]),
            "cpuMedian": median([s["user"] + s["sys"] for s in good]),
            "maxRSSMiB": max((s["maxRSSKiB"] / 1024 for s in good), default=None),
            "outputBytes": good[0]["outputBytes"] if good else None,
            "errors": [s.get("error", "")[-300:] for s in failed],
        }


def ratios(image, numerator, denominator, key="wall"):
    """numerator / denominator for each run where both succeeded."""
    by_run = {s["run"]: s[key] for s in ok(image, denominator) if key in s}
    return [{"run": s["run"], "ratio": s[key] / by_run[s["run"]]} for s in ok(image, numerator) if s["run"] in by_run and key in s]


ratio_table = {}
for image in images:
    ratio_table[image] = {}
    for numerator in ("tofu-default", "tofu-every", "base-default", "base-every", "occystrap", "routes"):
        for denominator in ("skopeo", "floor", "routes"):
            if numerator == denominator:
                continue
            r = ratios(image, numerator, denominator)
            if r:
                ratio_table[image][f"{numerator}/{denominator}"] = {
                    "byRun": [round(x["ratio"], 3) for x in r], "median": round(median([x["ratio"] for x in r]), 3)}
        # The same until the output is on disk (a `sync` after each tool): informational, not a target.
        for denominator in ("skopeo", "floor"):
            r = ratios(image, numerator, denominator, key="wallSynced")
            if r and numerator != denominator:
                ratio_table[image][f"{numerator}/{denominator} synced"] = {
                    "byRun": [round(x["ratio"], 3) for x in r], "median": round(median([x["ratio"] for x in r]), 3)}

checks = []
main = ratio_table.get("main", {})
for tool, limit in TARGETS.items():
    key = f"{tool}/skopeo"
    if key in main:
        value = main[key]["median"]
        checks.append({"target": f"{tool} <= {limit} x skopeo", "value": value, "met": value <= limit})
    key = f"{tool}/floor"
    if key in main:
        value = main[key]["median"]
        checks.append({"target": f"{tool} <= {FLOOR_FACTOR} x floor", "value": value, "met": value <= FLOOR_FACTOR})
# WAN scenarios: 3tofu against skopeo over the best route (direct: the fastest route in every
# scenario but wan-slow-local, where it is the route the target names) and against the limit.
WAN_TARGETS = {"wan-large": 0.6, "wan-slow-local": 0.15, "wan-medium": 1.0}
wan = {}
for name, scenario in meta.get("wan", {}).items():
    shaping = [float(x) for x in scenario["shaping"].split()]
    scale = float(scenario.get("scale", 1))
    bandwidths = [shaping[0], shaping[2], shaping[4]]
    rtts = [shaping[1], shaping[3], shaping[5]]
    if len(shaping) > 6 and shaping[6] > 0:
        bandwidths = bandwidths[:2]  # the route that dies carries (almost) nothing
    limit = scenario["bytes"] / (sum(bandwidths) * scale * 1e6) + 3 * max(rtts) / 1000
    entry = {"bytes": scenario["bytes"], "limit": round(limit, 2), "shaping": scenario["shaping"], "scale": scale}
    for tool in ("tofu-default", "base-default", "skopeo"):
        good = ok(name, tool)
        if good:
            entry[tool] = round(median([s["wall"] for s in good]), 2)
            entry[f"{tool}/limit"] = round(median([s["wall"] for s in good]) / limit, 2)
    carried = [s["routeBytes"] for s in ok(name, "tofu-default") if "routeBytes" in s]
    if carried:
        entry["tofuRouteBytes"] = carried[-1]
    wan[name] = entry
    r = ratio_table.get(name, {}).get("tofu-default/skopeo")
    if r and name in WAN_TARGETS:
        checks.append({"target": f"{name}: tofu-default <= {WAN_TARGETS[name]} x skopeo over the direct route",
                       "value": r["median"], "met": r["median"] <= WAN_TARGETS[name]})
    base = ratio_table.get(name, {}).get("base-default/skopeo")
    if r and base and name == "wan-small-layers":
        checks.append({"target": f"{name}: tofu-default no worse than the baseline (x skopeo)",
                       "value": r["median"], "met": r["median"] <= base["median"] * 1.05, "where": f"baseline {base['median']}"})

tofu_rss = [(s["image"], s["tool"], s["maxRSSKiB"] / 1024) for s in samples if s["tool"].startswith("tofu") and s["status"] == 0]
if tofu_rss:
    worst = max(tofu_rss, key=lambda x: x[2])
    checks.append({"target": f"3tofu peak RSS <= {RSS_LIMIT_MIB} MiB", "value": round(worst[2], 1),
                   "met": worst[2] <= RSS_LIMIT_MIB, "where": f"{worst[0]} / {worst[1]}"})

# Scaling: the main image and the scale* images have the same shape (8 layers, same proportions).
sizes = {"main": meta["sizeMiB"]}
for image in images:
    if image.startswith("scale"):
        sizes[image] = int(image[5:])
scaling = []
for image, mib in sorted(sizes.items(), key=lambda x: x[1]):
    for tool in ("tofu-default", "tofu-every", "base-default", "base-every", "skopeo"):
        entry = summary.get(image, {}).get(tool)
        if entry and entry["wallMedian"]:
            scaling.append({"sizeMiB": mib, "tool": tool, "wall": round(entry["wallMedian"], 2),
                            "MiBps": round(mib / entry["wallMedian"], 1), "maxRSSMiB": round(entry["maxRSSMiB"], 1)})

results = {"schema": "3tofu.bench/v1", "meta": meta, "summary": summary, "ratios": ratio_table,
           "checks": checks, "wan": wan, "scaling": scaling, "samples": samples}
with open(results_path, "w") as f:
    json.dump(results, f, indent=2)


def fmt(value, pattern):
    return pattern.format(value) if value is not None else "-"


m = meta["machine"]
print(f"\nmachine: {m['nproc']} CPUs ({m['cpu']}, SHA-NI {'yes' if m['shaNI'] else 'no'}), {m['memory']} RAM, "
      f"{m['filesystem']}; load {meta['loadBefore']} -> {meta['loadAfter']}")
for image in images:
    label = {"main": f"main image ({meta['sizeMiB']} MiB, 8 layers)", "small": "many small layers (100 x 100 KB)"}.get(
        image, f"scaling image ({image[5:]} MiB, 8 layers)")
    if image in wan:
        w = wan[image]
        label = (f"{image}: {w['bytes'] / 1e6:.1f} MB; routes MB/s ms (direct, http-proxy, socks) {w['shaping']}"
                 + (f" x{w['scale']:g} bandwidth" if w["scale"] != 1 else "") + f"; limit {w['limit']:.2f} s")
    print(f"\n{label}")
    print(f"  {'tool':<14}{'runs':>5}{'median s':>10}{'min s':>8}{'max s':>8}{'cpu s':>8}{'peak RSS MiB':>14}{'x skopeo':>10}{'x floor':>9}{'x routes':>10}{'synced s':>10}")
    for tool, entry in summary[image].items():
        to_skopeo = ratio_table[image].get(f"{tool}/skopeo", {}).get("median")
        to_floor = ratio_table[image].get(f"{tool}/floor", {}).get("median")
        to_routes = ratio_table[image].get(f"{tool}/routes", {}).get("median")
        runs = f"{entry['runs']}" + (f"+{entry['failed']}!" if entry["failed"] else "")
        print(f"  {tool:<14}{runs:>5}{fmt(entry['wallMedian'], '{:.2f}'):>10}{fmt(entry['wallMin'], '{:.2f}'):>8}"
              f"{fmt(entry['wallMax'], '{:.2f}'):>8}{fmt(entry['cpuMedian'], '{:.2f}'):>8}{fmt(entry['maxRSSMiB'], '{:.1f}'):>14}"
              f"{fmt(to_skopeo, '{:.2f}'):>10}{fmt(to_floor, '{:.2f}'):>9}{fmt(to_routes, '{:.2f}'):>10}"
              f"{fmt(entry['wallSyncedMedian'], '{:.2f}'):>10}")
    for key, r in ratio_table[image].items():
        if key.startswith(("tofu", "base", "routes/skopeo")):
            print(f"    {key:<29} run by run: {', '.join(f'{x:.2f}' for x in r['byRun'])}  (median {r['median']:.2f})")
    if image in wan:
        w = wan[image]
        for tool in ("tofu-default", "base-default", "skopeo"):
            if f"{tool}/limit" in w:
                print(f"    {tool + '/limit':<29} {w[f'{tool}/limit']:.2f}")
        if "tofuRouteBytes" in w:
            print(f"    tofu-default bytes by route:  " + ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in w["tofuRouteBytes"].items()))
    for tool, entry in summary[image].items():
        for error in entry["errors"][:1]:
            print(f"    {tool} failed: {error.strip().splitlines()[-1] if error.strip() else '(no message)'}")
if scaling:
    print("\nscaling (same shape, growing size)")
    print(f"  {'MiB':>6}  {'tool':<14}{'wall s':>8}{'MiB/s':>8}{'peak RSS MiB':>14}")
    for row in scaling:
        print(f"  {row['sizeMiB']:>6}  {row['tool']:<14}{row['wall']:>8.2f}{row['MiBps']:>8.1f}{row['maxRSSMiB']:>14.1f}")
print("\ntargets")
for check in checks:
    print(f"  {'met    ' if check['met'] else 'NOT MET'}  {check['target']}: {check['value']}" + (f" ({check['where']})" if "where" in check else ""))
for note in meta.get("notes", []):
    print(f"note: {note}")
print(f"\nwrote {results_path}")
