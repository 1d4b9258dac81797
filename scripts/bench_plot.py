#!/usr/bin/python3
"""Draws scripts/bench.py's results (DIR/results.json) as PNG plots in DIR,
with matplotlib (Debian: python3-matplotlib):
  frame-size.png  by frame size, in Mpps and in Gbit/s of frames (with
                  their FCS, without preamble and gap): vqswitch's datapaths
                  (the direct one when bench.py ran with --direct) against
                  testpmd io-forward and, when it was measured, OVS-DPDK
  guests.png      Mpps against the number of connected guests (two busy)
Each point is the median of the runs, the bar their range."""
import json
import os
import statistics
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def point(runs):
    mpps = [r[0] for r in runs]
    med = statistics.median(mpps)
    return med, med - min(mpps), max(mpps) - med


def draw(xs, series, xlabel, title, path, log_x=False, gbps=False):
    """One panel of Mpps against xs; gbps: a second one beside it of the
    same runs in Gbit/s, xs being frame sizes in bytes."""
    panels = [("Mpps (both directions)", lambda x, v: v)]
    if gbps:
        panels.append(("Gbit/s of frames (both directions)", lambda x, v: v * x * 8 / 1000))
    fig, axes = plt.subplots(1, len(panels), figsize=(6.4 * len(panels), 4.0), dpi=100, squeeze=False)
    for ax, (ylabel, scale) in zip(axes[0], panels):
        for label, runs in series:
            # A size where a switch moved nothing (OVS-DPDK at 9000 bytes,
            # its MTU) is left out, not drawn as zero.
            kept = [(x, r) for x, r in zip(xs, runs) if point(r)[0] > 0]
            pts = [[scale(x, v) for v in point(r)] for x, r in kept]
            ax.errorbar([x for x, _ in kept], [p[0] for p in pts],
                        yerr=[[p[1] for p in pts], [p[2] for p in pts]], marker="o", capsize=4, label=label)
        if log_x:
            ax.set_xscale("log", base=2)
            ax.set_xticks(xs)
            ax.set_xticklabels([str(x) for x in xs])
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0)
        ax.set_title(title)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    print("plot: %s" % path)


def main(out):
    with open(os.path.join(out, "results.json")) as f:
        r = json.load(f)
    sizes = sorted(r["frame_sizes"], key=int)
    if sizes:
        labels = {"vqswitch": "vqswitch --datapath=library", "baseline": "testpmd io-forward (no lookup)",
                  "ovs": "OVS-DPDK %s (NORMAL: learning)" % r.get("ovs_version", ""),
                  "direct": "vqswitch (default: direct)"}
        kinds = [k for k in ("vqswitch", "direct", "baseline", "ovs") if k in r["frame_sizes"][sizes[0]]]
        draw([int(s) for s in sizes],
             [(labels[k], [r["frame_sizes"][s][k] for s in sizes]) for k in kinds],
             "frame size (bytes, with FCS)", "VM to VM, one PMD core", os.path.join(out, "frame-size.png"),
             gbps=True)
    guests = sorted(r["guests"], key=int)
    if guests:
        draw([int(n) for n in guests], [("vqswitch (direct), two guests busy", [r["guests"][n] for n in guests])],
             "connected guests", "%s-byte frames, one PMD core" % r["guests_frame_bytes"],
             os.path.join(out, "guests.png"), log_x=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "build/bench")
