// Whether the PULSE paper's four findings hold in a set of benchmark reports. Pure; every verdict
// carries the numbers it was decided on, and "not measurable" when the runs cannot decide it.
import type { ModalityAccuracy } from './harness';
import type { SettingReport } from './report';

export type Verdict = 'holds' | 'does not hold' | 'partly holds' | 'not measurable';

export interface Finding {
  id: 1 | 2 | 3 | 4;
  claim: string;
  verdict: Verdict;
  evidence: string[];
}

/** Below this, a baseline forget accuracy is within reach of chance (0.25) and leaves nothing to forget. */
export const MIN_KNOWN_ACCURACY = 0.4;
/** Differences smaller than this (in fractions of version 0) are read as "no change". */
export const MEANINGFUL_DIFFERENCE = 0.05;

const ratio = (a: number | null, b: number | null) => (a === null || b === null || b === 0 ? null : a / b);
const mean2 = (m: ModalityAccuracy) => (m.multimodal === null || m.text === null ? null : (m.multimodal + m.text) / 2);
const p = (v: number | null) => (v === null ? 'n/a' : `${Math.round(v * 100)}%`);

function last(r: SettingReport) {
  return r.rounds[r.rounds.length - 1];
}

/** Fraction forgotten of what version 0 knew, per modality (PULSE Figure 4). */
export function forgotten(r: SettingReport): ModalityAccuracy {
  const f = (m: keyof ModalityAccuracy) => {
    const kept = ratio(last(r).cumulativeForget[m], r.baseline.forget[m]);
    return kept === null ? null : 1 - kept;
  };
  return { multimodal: f('multimodal'), text: f('text') };
}

export function generalKept(r: SettingReport): number | null {
  return ratio(last(r).general, r.baseline.general);
}

function knows(r: SettingReport): boolean {
  const b = mean2(r.baseline.forget);
  return b !== null && b >= MIN_KNOWN_ACCURACY;
}

function tally(results: boolean[]): Verdict {
  if (results.length === 0) return 'not measurable';
  const yes = results.filter(Boolean).length;
  return yes === results.length ? 'holds' : yes === 0 ? 'does not hold' : 'partly holds';
}

function find(reports: SettingReport[], setting: string, method: string, extra: (r: SettingReport) => boolean = () => true) {
  return reports.find((r) => r.setting === setting && r.method === method && r.targets === 'llm' && extra(r));
}

export function evaluateFindings(reports: SettingReport[]): Finding[] {
  const methods = [...new Set(reports.map((r) => r.method))];
  const unknown = (r: SettingReport) => `${r.setting} ${r.method}${r.targets !== 'llm' ? ` (${r.targets})` : ''}: version 0 answers the forget set at ${p(mean2(r.baseline.forget))} (< ${p(MIN_KNOWN_ACCURACY)}), nothing to forget`;
  const noGeneral = (r: SettingReport) => `${r.setting} ${r.method}: version 0 answers the general set at ${p(r.baseline.general)} (< ${p(MIN_KNOWN_ACCURACY)}), no general ability to erode`;

  // (1) pre-trained knowledge: less forgotten, more general ability lost, than fine-tuned.
  const f1: boolean[] = [];
  const e1: string[] = [];
  for (const m of methods) {
    const ft = find(reports, 'finetuned', m);
    const pt = find(reports, 'pretrained', m);
    if (!ft || !pt) continue;
    if (!knows(ft) || !knows(pt)) {
      e1.push(unknown(knows(ft) ? pt : ft));
      continue;
    }
    const fF = mean2(forgotten(ft));
    const fP = mean2(forgotten(pt));
    const gF = generalKept(ft);
    const gP = generalKept(pt);
    if (fF === null || fP === null || gF === null || gP === null) continue;
    f1.push(fP < fF && gP < gF);
    e1.push(`${m}: forgotten ${p(fF)} fine-tuned vs ${p(fP)} pre-trained; general kept ${p(gF)} vs ${p(gP)}`);
  }

  // (2) sequential operations erode general ability more than one batch of the same people.
  const f2: boolean[] = [];
  const e2: string[] = [];
  for (const m of methods) {
    const one = find(reports, 'finetuned', m);
    const seq = find(reports, 'sustainability', m, (r) => r.strategy === 'sequential');
    if (!one || !seq) continue;
    if ((one.baseline.general ?? 0) < MIN_KNOWN_ACCURACY) {
      e2.push(noGeneral(one));
      continue;
    }
    const g1 = generalKept(one);
    const gS = generalKept(seq);
    const rOne = mean2({ multimodal: ratio(last(one).retain.multimodal, one.baseline.retain.multimodal), text: ratio(last(one).retain.text, one.baseline.retain.text) });
    const rSeq = mean2({ multimodal: ratio(last(seq).retain.multimodal, seq.baseline.retain.multimodal), text: ratio(last(seq).retain.text, seq.baseline.retain.text) });
    if (g1 === null || gS === null) continue;
    f2.push(gS < g1 - MEANINGFUL_DIFFERENCE);
    e2.push(`${m}: general kept ${p(g1)} after one batch vs ${p(gS)} after ${seq.rounds.length} sequential operations; retain kept ${p(rOne)} vs ${p(rSeq)}`);
  }

  // (3) text-only questions resist forgetting more than multimodal ones.
  const f3: boolean[] = [];
  const e3: string[] = [];
  for (const r of reports.filter((x) => x.setting !== 'sustainability' || x.strategy === 'sequential')) {
    const name = `${r.setting} ${r.method}${r.targets !== 'llm' ? ` (${r.targets})` : ''}`;
    if (!knows(r)) {
      e3.push(unknown(r));
      continue;
    }
    const f = forgotten(r);
    if (f.multimodal === null || f.text === null) continue;
    f3.push(f.text < f.multimodal);
    e3.push(`${name}: forgotten ${p(f.multimodal)} multimodal vs ${p(f.text)} text-only`);
  }

  // (4) the update target (LLM only vs projector + LLM) changes the forget/general trade-off.
  const f4: boolean[] = [];
  const e4: string[] = [];
  for (const r of reports.filter((x) => x.targets === 'projector+llm')) {
    const llm = reports.find((x) => x.setting === r.setting && x.method === r.method && x.strategy === r.strategy && x.targets === 'llm');
    if (!llm) continue;
    if (!knows(r)) {
      e4.push(unknown(r));
      continue;
    }
    const dG = (generalKept(r) ?? 0) - (generalKept(llm) ?? 0);
    const fm = forgotten(r);
    const fl = forgotten(llm);
    const dMM = (fm.multimodal ?? 0) - (fl.multimodal ?? 0);
    const dText = (fm.text ?? 0) - (fl.text ?? 0);
    f4.push([dG, dMM, dText].some((d) => Math.abs(d) >= MEANINGFUL_DIFFERENCE));
    e4.push(`${r.setting} ${r.method}: projector+llm minus llm: general kept ${signed(dG)}, forgotten multimodal ${signed(dMM)}, text ${signed(dText)}`);
  }

  return [
    { id: 1, claim: 'Pre-trained knowledge is harder to remove than fine-tuned knowledge, at a larger cost to general ability.', verdict: tally(f1), evidence: e1 },
    { id: 2, claim: 'Sequential unlearning erodes general ability more than one batch of the same people.', verdict: tally(f2), evidence: e2 },
    { id: 3, claim: 'Text-only questions resist forgetting more than multimodal ones.', verdict: tally(f3), evidence: e3 },
    { id: 4, claim: 'The update target (LLM only vs projector + LLM) changes the trade-off.', verdict: tally(f4), evidence: e4 },
  ];
}

function signed(d: number): string {
  return `${d >= 0 ? '+' : ''}${Math.round(d * 100)} points`;
}
