/**
 * Generates the sandbox's demo dataset: simulated dimuon events in the style of the CMS open-data dimuon CSV
 * files (two opposite-sign muons per event and their invariant mass), with J/psi, Upsilon(1S) and Z resonances on
 * top of a falling Drell-Yan-like continuum. Fully deterministic: the same seed always gives the same bytes.
 * `write-files.ts` is the command-line entry that writes them to a folder.
 */

export interface SeedRun {
  run: number;
  /** Centre-of-mass energy in GeV (stored as the free-form `energy` metadata). */
  energy: number;
  events: number;
  seed: number;
}

/** Three runs at the three LHC energies, a few hundred KB in total. */
export const SEED_RUNS: SeedRun[] = [
  { run: 1, energy: 7000, events: 1200, seed: 0x5eed0001 },
  { run: 2, energy: 8000, events: 1400, seed: 0x5eed0002 },
  { run: 3, energy: 13000, events: 1800, seed: 0x5eed0003 },
];

export const CSV_HEADER = "Run,Event,pt1,eta1,phi1,Q1,pt2,eta2,phi2,Q2,M";
const MUON_MASS = 0.1056583755;

/** mulberry32: a tiny, well-distributed 32-bit PRNG, so the output does not depend on the platform's Math.random. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  const v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Samples the parent mass: resonance fractions grow a little with energy, the rest is continuum. */
function sampleMass(rand: () => number, energy: number): number {
  const zFrac = energy >= 13000 ? 0.22 : 0.16;
  const r = rand();
  if (r < 0.18) return 3.0969 + 0.035 * gaussian(rand); // J/psi
  if (r < 0.26) return 9.4603 + 0.09 * gaussian(rand); // Upsilon(1S)
  if (r < 0.26 + zFrac) {
    // Z: Breit-Wigner (Cauchy) smeared by the detector resolution, truncated to a sensible window.
    for (;;) {
      const bw = 91.1876 + (2.4952 / 2) * Math.tan(Math.PI * (rand() - 0.5));
      const m = bw + 1.6 * gaussian(rand);
      if (m > 60 && m < 120) return m;
    }
  }
  // Continuum: falling exponential between 2 and 120 GeV.
  for (;;) {
    const m = 2 - Math.log(Math.max(rand(), 1e-12)) * 14;
    if (m < 120) return m;
  }
}

interface Muon {
  pt: number;
  eta: number;
  phi: number;
  q: number;
}

/** Decays a parent of mass m (isotropic in its rest frame) after boosting it to a random pT and rapidity. */
function decay(rand: () => number, m: number): [Muon, Muon] {
  const p = Math.sqrt(Math.max((m * m) / 4 - MUON_MASS * MUON_MASS, 0));
  const cosT = 2 * rand() - 1;
  const sinT = Math.sqrt(1 - cosT * cosT);
  const phiD = 2 * Math.PI * rand();
  const d = [p * sinT * Math.cos(phiD), p * sinT * Math.sin(phiD), p * cosT];
  const e = m / 2;
  // Parent kinematics.
  const ptP = -Math.log(Math.max(rand(), 1e-12)) * (m > 50 ? 12 : 6);
  const y = (rand() * 2 - 1) * 2.2;
  const phiP = 2 * Math.PI * rand() - Math.PI;
  const mt = Math.sqrt(m * m + ptP * ptP);
  const P = [ptP * Math.cos(phiP), ptP * Math.sin(phiP), mt * Math.sinh(y)];
  const E = mt * Math.cosh(y);
  const b = P.map((x) => x / E);
  const b2 = b[0]! ** 2 + b[1]! ** 2 + b[2]! ** 2;
  const gamma = 1 / Math.sqrt(1 - b2);
  const boost = (v: number[], en: number): number[] => {
    const bp = b[0]! * v[0]! + b[1]! * v[1]! + b[2]! * v[2]!;
    const k = b2 > 0 ? ((gamma - 1) * bp) / b2 + gamma * en : 0;
    return [v[0]! + k * b[0]!, v[1]! + k * b[1]!, v[2]! + k * b[2]!];
  };
  const toMuon = (v: number[], q: number): Muon => {
    const pt = Math.hypot(v[0]!, v[1]!);
    const pz = v[2]!;
    return { pt, eta: Math.asinh(pz / Math.max(pt, 1e-9)), phi: Math.atan2(v[1]!, v[0]!), q };
  };
  const q = rand() < 0.5 ? 1 : -1;
  return [toMuon(boost(d, e), q), toMuon(boost(d.map((x) => -x), e), -q)];
}

function invariantMass(a: Muon, b: Muon): number {
  const four = (m: Muon) => {
    const px = m.pt * Math.cos(m.phi);
    const py = m.pt * Math.sin(m.phi);
    const pz = m.pt * Math.sinh(m.eta);
    return [Math.sqrt(px * px + py * py + pz * pz + MUON_MASS * MUON_MASS), px, py, pz] as const;
  };
  const x = four(a);
  const y = four(b);
  const s = (x[0] + y[0]) ** 2 - (x[1] + y[1]) ** 2 - (x[2] + y[2]) ** 2 - (x[3] + y[3]) ** 2;
  return Math.sqrt(Math.max(s, 0));
}

/** One run's CSV text. Only events with both muons inside |eta| < 2.4 and pT > 1 GeV are kept (the "trigger"). */
export function generateRunCsv(run: SeedRun): string {
  const rand = prng(run.seed);
  const lines = [CSV_HEADER];
  let event = 100000 * run.run;
  let kept = 0;
  while (kept < run.events) {
    event += 1 + Math.floor(rand() * 40);
    const [a, b] = decay(rand, sampleMass(rand, run.energy));
    if (Math.abs(a.eta) > 2.4 || Math.abs(b.eta) > 2.4 || a.pt < 1 || b.pt < 1) continue;
    kept++;
    const f = (x: number, d: number) => x.toFixed(d);
    lines.push(
      [run.run, event, f(a.pt, 4), f(a.eta, 5), f(a.phi, 5), a.q, f(b.pt, 4), f(b.eta, 5), f(b.phi, 5), b.q, f(invariantMass(a, b), 5)].join(","),
    );
  }
  return `${lines.join("\n")}\n`;
}

export function runFileName(run: SeedRun): string {
  return `dimuon_run${String(run.run).padStart(3, "0")}.csv`;
}

export const README_NAME = "README.md";

export function readmeText(): string {
  const rows = SEED_RUNS.map((r) => `| ${runFileName(r)} | ${r.run} | ${r.energy / 1000} TeV | ${r.events} |`).join("\n");
  return `# Simulated dimuon events (vre-ts sandbox demo dataset)

Opposite-sign muon pairs generated deterministically (seeded PRNG) by vre-ts's sandbox seed script, in the
layout of the CMS open-data dimuon CSV files. Not real collision data: a teaching sample with the J/psi
(3.097 GeV), Upsilon(1S) (9.460 GeV) and Z (91.19 GeV) resonances over a falling continuum.

| file | run | sqrt(s) | events |
|---|---|---|---|
${rows}

Columns: \`${CSV_HEADER}\` — run and event numbers; per muon the transverse momentum pt (GeV), pseudorapidity
eta, azimuth phi (rad) and charge Q; M is the dimuon invariant mass (GeV). Selection: |eta| < 2.4 and pt > 1 GeV
for both muons.

Licence: CC0-1.0.
`;
}

export interface GeneratedFile {
  name: string;
  content: Buffer;
  run?: SeedRun;
}

export function generateSeedFiles(): GeneratedFile[] {
  return [
    ...SEED_RUNS.map((run) => ({ name: runFileName(run), content: Buffer.from(generateRunCsv(run)), run })),
    { name: README_NAME, content: Buffer.from(readmeText()) },
  ];
}
