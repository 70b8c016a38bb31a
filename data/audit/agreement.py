#!/usr/bin/env python3
"""How far a corpus's section labels are from what its texts say, and where a classifier stands on both.

Usage:
  imgate eval -i CORPUS.jsonl --split holdout --model M --lexicon ... --scores /tmp/scores.jsonl
  python3 data/audit/agreement.py data/audit/AUDIT.content.jsonl /tmp/scores.jsonl

AUDIT has one line per audited record: {"id", "section_political": bool, "content_political": "yes"|"no"|"unsure"}
(labelled by reading the text only, by data/audit/GUIDE.md). The audited records are a sample of the evaluated
part, drawn per section label, so every figure is weighted back to the part's own section counts (taken from
the scores file). Prints, against the section labels and against the content labels:
  - a reader who follows the guide exactly (unsure read as "no", then as "yes");
  - the classifier whose verdicts the scores file holds.
Standard library only.
"""
import json
import sys


def load_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def estimate(audit, weight, predicted, truth):
    tp = fp = fn = tn = 0.0
    for r in audit:
        t = truth(r)
        if t is None:
            continue
        p = predicted(r)
        w = weight[r["section_political"]]
        if t and p:
            tp += w
        elif t:
            fn += w
        elif p:
            fp += w
        else:
            tn += w
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    fpr = fp / (fp + tn) if fp + tn else 0.0
    return f"F1 {f1:.3f}  precision {precision:.3f}  recall {recall:.3f}  FPR {fpr:.4f}"


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    audit = load_jsonl(sys.argv[1])
    scores = {r["id"]: r for r in load_jsonl(sys.argv[2]) if not r.get("obfuscated")}
    missing = [r["id"] for r in audit if r["id"] not in scores]
    if missing:
        sys.exit(f"{len(missing)} audited ids are not in the scores file (first: {missing[0]}): "
                 "evaluate the part the audit was drawn from")
    for r in audit:
        if scores[r["id"]]["label"] != r["section_political"]:
            sys.exit(f"{r['id']}: the scores file's label is not the audit's section label")
    part = {True: 0, False: 0}
    for r in scores.values():
        part[r["label"]] += 1
    sample = {True: 0, False: 0}
    for r in audit:
        sample[r["section_political"]] += 1
    weight = {k: part[k] / sample[k] if sample[k] else 0.0 for k in part}
    counts = {}
    for r in audit:
        k = (r["section_political"], r["content_political"])
        counts[k] = counts.get(k, 0) + 1
    print(f"evaluated part: {part[True]} political-section, {part[False]} other; audited: {sample[True]} / "
          f"{sample[False]} (weights {weight[True]:.2f} / {weight[False]:.2f})")
    for section in (True, False):
        row = ", ".join(f"{c} {counts.get((section, c), 0)}" for c in ("yes", "no", "unsure"))
        print(f"  section {'political' if section else 'other'}: content {row}")
    section = lambda r: r["section_political"]
    content = lambda r: None if r["content_political"] == "unsure" else r["content_political"] == "yes"
    verdict = lambda r: scores[r["id"]]["matched"]
    print("against the section labels:")
    print("  reader following the guide, unsure = no :", estimate(audit, weight, lambda r: r["content_political"] == "yes", section))
    print("  reader following the guide, unsure = yes:", estimate(audit, weight, lambda r: r["content_political"] != "no", section))
    print("  classifier                               :", estimate(audit, weight, verdict, section))
    print("against the content labels (unsure left out):")
    print("  section labels                           :", estimate(audit, weight, section, content))
    print("  classifier                               :", estimate(audit, weight, verdict, content))


if __name__ == "__main__":
    main()
