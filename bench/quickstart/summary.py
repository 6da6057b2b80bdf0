"""Prints the quickstart benchmark's table from a finished run directory (bench/quickstart/run.sh)."""
import argparse
import json
import os
import tomllib


def setting(config, table, key):
    return config.get(table, {}).get(key)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--run", required=True)
    p.add_argument("--data-seconds", type=float, default=0)
    p.add_argument("--check-seconds", type=float, default=0)
    p.add_argument("--run-seconds", type=float, default=0)
    a = p.parse_args()
    with open(os.path.join(a.run, "config.toml"), "rb") as f:
        config = tomllib.load(f)
    with open(os.path.join(a.run, "results.json")) as f:
        results = json.load(f)
    with open(os.path.join(a.run, "statistics.json")) as f:
        images = json.load(f)["num_images"]
    with open(os.path.join(a.run, "teachers", "manifest.json")) as f:
        teachers = len(json.load(f))
    cores = os.cpu_count()
    threads = setting(config, "runtime", "threads")
    workers = setting(config, "data", "workers")
    epochs = setting(config, "train", "epochs")
    teacher_epochs = setting(config, "teachers", "epochs") or epochs
    student_epochs = setting(config, "distill", "epochs") or epochs
    # Images each stage reads: the training split once per epoch (the teachers share one
    # decoded stream), plus validation of every model and its EMA per epoch.
    per_stage = {"baseline": images * epochs, "teachers": images * teacher_epochs,
                 "student": images * student_epochs}
    # 0 means one per core for both (core/src/runtime.cpp, core/src/data/loader.cpp).
    print(f"cpsd quickstart: {images} training images, {cores} cores; runtime.threads = {threads} "
          f"({threads or cores} intra-op threads), data.workers = {workers} ({workers or cores} decoding threads), "
          f"OMP_WAIT_POLICY = {os.environ.get('OMP_WAIT_POLICY', 'unset')}, "
          f"runtime.channels_last = {str(bool(setting(config, 'runtime', 'channels_last'))).lower()}")
    students = [r for r in results["results"] if not r.get("baseline")]
    models = {"baseline": 1, "teachers": teachers, "student": len(students)}
    # images/s: of the decoded training stream; model-img/s: times the models trained on it.
    print(f"{'stage':<40} {'seconds':>8} {'images/s':>9} {'models':>6} {'model-img/s':>11}")
    if a.data_seconds:
        print(f"{'make fashion-scenes':<40} {a.data_seconds:8.1f}")
    print(f"{'data check':<40} {a.check_seconds:8.1f}")
    total = 0.0
    for s in results["stages"]:
        name, seconds = s["stage"], s["seconds"]
        total += seconds
        key = "student" if name.startswith("student") else name
        if key not in per_stage or seconds <= 0:
            print(f"{name:<40} {seconds:8.1f}")
            continue
        rate = per_stage[key] / seconds
        print(f"{name:<40} {seconds:8.1f} {rate:9.1f} {models[key]:6d} {rate * models[key]:11.1f}")
    print(f"{'cpsd run (all stages)':<40} {a.run_seconds:8.1f}   (stages {total:.1f} s; the rest is start-up and results)")
    rows = {r["method"]: r["map"] for r in results["results"]}
    if "baseline" in rows and "cpsd" in rows:
        print(f"mAP: baseline {rows['baseline']:.2f}, cpsd {rows['cpsd']:.2f} ({rows['cpsd'] - rows['baseline']:+.2f})")


if __name__ == "__main__":
    main()
