#!/usr/bin/env python3
"""Dimuon invariant-mass analysis of the sandbox demo dataset (CMS open-data style CSV files).

Three steps, each a sub-command, using only the Python standard library:

  select    read every dimuon_*.csv file of a folder, keep opposite-sign pairs passing the muon cuts,
            write the selected events and the per-run cut flow
  spectrum  histogram the invariant mass on a log scale and measure the J/psi, Upsilon(1S) and Z peaks
            (sideband-subtracted mean and width in a window around each resonance)
  plot      draw the spectrum with the measured peaks as an SVG figure

Columns of the input files: Run,Event,pt1,eta1,phi1,Q1,pt2,eta2,phi2,Q2,M
"""

import argparse
import csv
import glob
import json
import math
import os
import sys

RESONANCES = [
    # name, PDG mass (GeV), analysis window (GeV), sideband width (GeV)
    ("J/psi", 3.0969, (2.95, 3.25), 0.15),
    ("Upsilon(1S)", 9.4603, (9.15, 9.80), 0.30),
    ("Z", 91.1876, (81.0, 101.0), 8.0),
]


def ensure_parent(path):
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)


def write_atomic(path, text):
    ensure_parent(path)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def cmd_select(args):
    files = sorted(glob.glob(os.path.join(args.data_dir, "dimuon_*.csv")))
    if not files:
        sys.exit("no dimuon_*.csv files in %s: download the dataset into that folder first" % args.data_dir)
    selected = []
    cutflow = {}
    for path in files:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = [line for line in handle if not line.startswith("#")]
        reader = csv.DictReader(rows)
        name = os.path.basename(path)
        flow = {"file": name, "events": 0, "opposite_sign": 0, "pt_cut": 0, "eta_cut": 0, "mass_window": 0}
        for row in reader:
            flow["events"] += 1
            if int(row["Q1"]) + int(row["Q2"]) != 0:
                continue
            flow["opposite_sign"] += 1
            if min(float(row["pt1"]), float(row["pt2"])) < args.min_pt:
                continue
            flow["pt_cut"] += 1
            if max(abs(float(row["eta1"])), abs(float(row["eta2"]))) > args.max_eta:
                continue
            flow["eta_cut"] += 1
            mass = float(row["M"])
            if not args.mass_min <= mass <= args.mass_max:
                continue
            flow["mass_window"] += 1
            selected.append((int(row["Run"]), int(row["Event"]), mass))
        cutflow[name] = flow
        print("%s: %d events, %d selected" % (name, flow["events"], flow["mass_window"]))
    lines = ["Run,Event,M"] + ["%d,%d,%.5f" % item for item in selected]
    write_atomic(args.output, "\n".join(lines) + "\n")
    write_atomic(
        args.cutflow,
        json.dumps(
            {
                "cuts": {"min_pt": args.min_pt, "max_eta": args.max_eta, "mass_min": args.mass_min, "mass_max": args.mass_max},
                "files": list(cutflow.values()),
                "selected": len(selected),
            },
            indent=2,
        )
        + "\n",
    )
    print("selected %d dimuon candidates from %d file(s)" % (len(selected), len(files)))


def read_masses(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return [float(row["M"]) for row in csv.DictReader(handle)]


def log_histogram(masses, lo, hi, bins):
    edges = [lo * (hi / lo) ** (i / bins) for i in range(bins + 1)]
    counts = [0] * bins
    step = math.log(hi / lo) / bins
    for m in masses:
        if lo <= m < hi:
            counts[min(int(math.log(m / lo) / step), bins - 1)] += 1
    return edges, counts


def measure_peak(masses, name, pdg, window, side):
    lo, hi = window
    inside = [m for m in masses if lo <= m <= hi]
    left = [m for m in masses if lo - side <= m < lo]
    right = [m for m in masses if hi < m <= hi + side]
    # Linear background from the two sidebands, scaled to the window width.
    density = (len(left) + len(right)) / (2.0 * side)
    background = density * (hi - lo)
    signal = len(inside) - background
    result = {
        "name": name,
        "pdg_mass_gev": pdg,
        "window_gev": [lo, hi],
        "candidates": len(inside),
        "background_estimate": round(background, 1),
        "signal_estimate": round(signal, 1),
    }
    if signal <= 5 or not inside:
        result.update({"observed": False, "mass_gev": None, "width_gev": None, "mass_error_gev": None})
        return result
    # Sideband-subtracted mean and RMS: subtract the flat background's first and second moments.
    mid = (lo + hi) / 2.0
    s1 = sum(inside) - background * mid
    s2 = sum(m * m for m in inside) - background * (mid * mid + (hi - lo) ** 2 / 12.0)
    mean = s1 / signal
    var = max(s2 / signal - mean * mean, 0.0)
    width = math.sqrt(var)
    result.update(
        {
            "observed": True,
            "mass_gev": round(mean, 4),
            "width_gev": round(width, 4),
            "mass_error_gev": round(width / math.sqrt(signal), 4),
            "significance": round(signal / math.sqrt(max(len(inside), 1)), 1),
        }
    )
    return result


def cmd_spectrum(args):
    masses = read_masses(args.input)
    if not masses:
        sys.exit("no selected events in %s" % args.input)
    edges, counts = log_histogram(masses, args.mass_min, args.mass_max, args.bins)
    peaks = [measure_peak(masses, *res) for res in RESONANCES]
    results = {
        "analysis": "dimuon invariant mass spectrum",
        "events": len(masses),
        "histogram": {"scale": "log", "edges_gev": [round(e, 5) for e in edges], "counts": counts},
        "resonances": peaks,
    }
    write_atomic(args.output, json.dumps(results, indent=2) + "\n")
    table = [
        "# Dimuon resonances",
        "",
        "%d selected opposite-sign dimuon candidates." % len(masses),
        "",
        "| resonance | PDG mass (GeV) | measured mass (GeV) | width (GeV) | signal | background |",
        "|---|---|---|---|---|---|",
    ]
    for p in peaks:
        measured = "%.4f +- %.4f" % (p["mass_gev"], p["mass_error_gev"]) if p["observed"] else "not observed"
        width = "%.4f" % p["width_gev"] if p["observed"] else "-"
        table.append(
            "| %s | %.4f | %s | %s | %.0f | %.0f |"
            % (p["name"], p["pdg_mass_gev"], measured, width, p["signal_estimate"], p["background_estimate"])
        )
    write_atomic(args.table, "\n".join(table) + "\n")
    print("\n".join(table))


def cmd_plot(args):
    with open(args.input, encoding="utf-8") as handle:
        results = json.load(handle)
    edges = results["histogram"]["edges_gev"]
    counts = results["histogram"]["counts"]
    width, height, left, right, top, bottom = 720, 420, 70, 20, 30, 50
    plot_w, plot_h = width - left - right, height - top - bottom
    lo, hi = edges[0], edges[-1]
    ymax = max(max(counts), 1) * 2  # headroom above the highest peak

    def x_of(m):
        return left + plot_w * math.log(m / lo) / math.log(hi / lo)

    def y_of(c):
        return top + plot_h * (1 - math.log10(1 + c) / math.log10(1 + ymax))

    parts = [
        # No background and currentColor for axes and text: shown inline (HTML), the plot takes the page's text
        # colour, so it reads in light and dark themes; it scales down to narrow outputs.
        '<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif"'
        ' font-size="12" fill="currentColor" style="max-width:100%%;height:auto">' % (width, height, width, height),
        '<text x="%d" y="18" font-size="14">Dimuon invariant mass (%d events)</text>' % (left, results["events"]),
    ]
    path = ["M %.1f %.1f" % (x_of(edges[0]), y_of(0))]
    for i, c in enumerate(counts):
        path.append("L %.1f %.1f L %.1f %.1f" % (x_of(edges[i]), y_of(c), x_of(edges[i + 1]), y_of(c)))
    path.append("L %.1f %.1f Z" % (x_of(edges[-1]), y_of(0)))
    parts.append('<path d="%s" fill="#9ecae1" stroke="#3182bd" stroke-width="1"/>' % " ".join(path))
    parts.append(
        '<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="currentColor"/>' % (left, top, plot_w, plot_h)
    )
    for tick in [2, 3, 5, 10, 20, 50, 100]:
        if lo <= tick <= hi:
            x = x_of(tick)
            parts.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="currentColor"/>' % (x, top + plot_h, x, top + plot_h + 5))
            parts.append('<text x="%.1f" y="%d" text-anchor="middle">%g</text>' % (x, top + plot_h + 18, tick))
    for tick in [1, 10, 100, 1000, 10000]:
        if tick <= ymax:
            y = y_of(tick)
            parts.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="currentColor"/>' % (left - 5, y, left, y))
            parts.append('<text x="%d" y="%.1f" text-anchor="end">%d</text>' % (left - 8, y + 4, tick))
    parts.append('<text x="%d" y="%d" text-anchor="middle">m(mu mu) [GeV]</text>' % (left + plot_w / 2, height - 8))
    parts.append(
        '<text x="16" y="%d" text-anchor="middle" transform="rotate(-90 16 %d)">events / bin</text>'
        % (top + plot_h / 2, top + plot_h / 2)
    )
    for p in results["resonances"]:
        if not p["observed"]:
            continue
        x = x_of(p["mass_gev"])
        parts.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#d62728" stroke-dasharray="4 3"/>' % (x, top, x, top + plot_h))
        near_right = x > left + 0.75 * plot_w
        parts.append(
            '<text x="%.1f" y="%d" fill="#d62728" text-anchor="%s">%s %.3f GeV</text>'
            % (x - 4 if near_right else x + 4, top + 14, "end" if near_right else "start", p["name"], p["mass_gev"])
        )
    parts.append("</svg>")
    write_atomic(args.output, "\n".join(parts) + "\n")
    print("wrote %s" % args.output)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sel = sub.add_parser("select", help="select opposite-sign dimuon candidates")
    sel.add_argument("--data-dir", required=True)
    sel.add_argument("--output", required=True)
    sel.add_argument("--cutflow", required=True)
    sel.add_argument("--min-pt", type=float, default=1.0)
    sel.add_argument("--max-eta", type=float, default=2.4)
    sel.add_argument("--mass-min", type=float, default=2.0)
    sel.add_argument("--mass-max", type=float, default=120.0)
    sel.set_defaults(run=cmd_select)
    spec = sub.add_parser("spectrum", help="histogram the mass and measure the resonances")
    spec.add_argument("--input", required=True)
    spec.add_argument("--output", required=True)
    spec.add_argument("--table", required=True)
    spec.add_argument("--bins", type=int, default=120)
    spec.add_argument("--mass-min", type=float, default=2.0)
    spec.add_argument("--mass-max", type=float, default=120.0)
    spec.set_defaults(run=cmd_spectrum)
    plot = sub.add_parser("plot", help="draw the spectrum as SVG")
    plot.add_argument("--input", required=True)
    plot.add_argument("--output", required=True)
    plot.set_defaults(run=cmd_plot)
    args = parser.parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    main()
