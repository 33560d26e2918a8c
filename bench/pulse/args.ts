// Command-line arguments of `npm run pulse`. Pure: parsing only, every error names the flag.
import { UNLEARN_METHODS, type UnlearnMethod } from '../../src/common/gpu-contracts';
import { UNLEARNING_DEFAULTS } from '../../src/lineages/domain/lineage';

export const SETTINGS = ['finetuned', 'pretrained', 'sustainability'] as const;
export type Setting = (typeof SETTINGS)[number];
// The service's methods: the benchmark measures exactly what a lineage can run.
export const METHODS = UNLEARN_METHODS;
export type Method = UnlearnMethod;
export const STRATEGIES = ['sequential', 'cumulative'] as const;
export type Strategy = (typeof STRATEGIES)[number];
export const TARGETS = ['llm', 'projector+llm'] as const;
export type Targets = (typeof TARGETS)[number];

/** A saved report.json to list among earlier runs, labelled with what it tried that its hyperParameters do not say. */
export interface IncludedReport {
  file: string;
  label?: string;
}

export interface PulseArgs {
  /** One setting, or all three (`all`, for regenerating docs/research/pulse-results.md). */
  settings: Setting[];
  methods: Method[];
  /** Sustainability only; both unless --strategy is given (Figure 5 shows them side by side). */
  strategies: Strategy[];
  targets: Targets[];
  seeds: number;
  /** A directory with model/ and dataset/ (default: the tiny LLaVA). */
  modelRoot: string | null;
  outDir: string | null;
  json: boolean;
  /** Write the findings document (docs/pulse-results.md) from this run. */
  docsFile: string | null;
  /** Sustainability: number of sequential operations (PULSE: 5). */
  rounds: number;
  /** Caps people per set (forget and retain), for quick runs; null = the setting's full split. */
  maxPeople: number | null;
  /** Training steps per request's worth of people in an unlearn operation (harness stepBudget): the CPU time budget. */
  maxSteps: number;
  /**
   * Sequential sustainability: after each request, up to this many more unlearn passes on the people
   * forgotten so far whom the audit still finds above reforgetAboveAccuracy (0 = none); a lineage's default there.
   */
  reforgetPasses: number;
  /** A pass takes whoever is above this accuracy in either modality (the service's reforgetAboveAccuracy and its default). */
  reforgetAboveAccuracy: number;
  /** Hyper-parameters merged over the engine's per-method defaults (lethe_worker/config.py). */
  hyperParameters: Record<string, number | string>;
  /** report.json files of earlier runs (e.g. the strategy search) to list in --docs / --out, each with an optional label. */
  include: IncludedReport[];
  /** Render --out / --docs from saved report.json files (merged) instead of running (no setting needed). */
  from: string[];
}

/** The CPU time budget per request's worth of people (15 on the tiny LLaVA; the engine's 2 epochs would take ~150 steps). */
export const DEFAULT_MAX_STEPS = 40;

export class PulseArgsError extends Error {
  constructor(readonly flag: string, message: string) {
    super(`${flag}: ${message}`);
    this.name = 'PulseArgsError';
  }
}

export const USAGE = `usage: npm run pulse -- <finetuned | pretrained | sustainability | all>
    [--method ga|ga_klr|npo|graddiff|neverseen_kd|all] [--strategy sequential|cumulative] [--targets llm|projector+llm|all]
    [--seeds N] [--model DIR] [--out DIR] [--json] [--docs FILE]
    [--rounds N (5)] [--max-people N] [--max-steps N (${DEFAULT_MAX_STEPS})] [--reforget N (${UNLEARNING_DEFAULTS.passes.reforgetPasses} where sequential, else 0)] [--reforget-above X (${UNLEARNING_DEFAULTS.passes.reforgetAboveAccuracy})] [--hyper JSON] [--include REPORT_JSON[=LABEL]]...
       npm run pulse -- --from REPORT_JSON... [--out DIR] [--docs FILE] [--include REPORT_JSON[=LABEL]]...`;

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[], allowAll: boolean): T[] {
  if (allowAll && value === 'all') return [...allowed];
  const parts = value.split(',');
  for (const part of parts) {
    if (!(allowed as readonly string[]).includes(part)) {
      throw new PulseArgsError(flag, `unknown value "${part}"; expected one of ${allowed.join(', ')}${allowAll ? ', all' : ''}`);
    }
  }
  return [...new Set(parts)] as T[];
}

function integerAtLeast(min: 0 | 1, flag: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min) {
    throw new PulseArgsError(flag, `must be a ${min === 1 ? 'positive' : 'non-negative'} integer, got "${value}"`);
  }
  return n;
}

function accuracyBelowOne(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n >= 1) throw new PulseArgsError(flag, `must be a number from 0 up to (not including) 1, got "${value}"`);
  return n;
}

const positiveInt = (flag: string, value: string) => integerAtLeast(1, flag, value);

/** The hyper-parameters that are words among the numbers (contracts/unlearn.input.schema.json). */
const WORD_HYPER_PARAMETERS = ['klReference', 'ascentObjective'];

function hyper(value: string): Record<string, number | string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (e) {
    throw new PulseArgsError('--hyper', `not JSON: ${(e as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new PulseArgsError('--hyper', 'must be a JSON object');
  for (const [k, v] of Object.entries(parsed)) {
    // The worker's contract checks every value; here only whether each is a word or a number.
    const word = WORD_HYPER_PARAMETERS.includes(k);
    if (word ? typeof v !== 'string' : typeof v !== 'number' || !Number.isFinite(v)) {
      throw new PulseArgsError('--hyper', `${k} must be ${word ? 'a string' : 'a finite number'}`);
    }
  }
  return parsed as Record<string, number | string>;
}

function included(value: string): IncludedReport {
  const at = value.indexOf('=');
  if (at < 0) return { file: value };
  const file = value.slice(0, at);
  const label = value.slice(at + 1).trim();
  if (!file || !label) throw new PulseArgsError('--include', `expected REPORT_JSON or REPORT_JSON=LABEL, got "${value}"`);
  return { file, label };
}

export function parsePulseArgs(argv: string[]): PulseArgs {
  const args: PulseArgs = {
    settings: [],
    methods: [...METHODS],
    strategies: [...STRATEGIES],
    targets: [UNLEARNING_DEFAULTS.lora.targets as Targets],
    seeds: 1,
    modelRoot: null,
    outDir: null,
    json: false,
    docsFile: null,
    rounds: 5,
    maxPeople: null,
    maxSteps: DEFAULT_MAX_STEPS,
    reforgetPasses: 0,
    reforgetAboveAccuracy: UNLEARNING_DEFAULTS.passes.reforgetAboveAccuracy,
    hyperParameters: {},
    include: [],
    from: [],
  };
  let reforgetGiven = false;
  const rest = [...argv];
  const valueOf = (flag: string): string => {
    const v = rest.shift();
    if (v === undefined || v.startsWith('--')) throw new PulseArgsError(flag, 'missing value');
    return v;
  };
  while (rest.length > 0) {
    const token = rest.shift()!;
    switch (token) {
      case '--method': args.methods = oneOf('--method', valueOf(token), METHODS, true); break;
      case '--strategy': args.strategies = oneOf('--strategy', valueOf(token), STRATEGIES, true); break;
      case '--targets': args.targets = oneOf('--targets', valueOf(token), TARGETS, true); break;
      case '--seeds': args.seeds = positiveInt(token, valueOf(token)); break;
      case '--model': args.modelRoot = valueOf(token); break;
      case '--out': args.outDir = valueOf(token); break;
      case '--docs': args.docsFile = valueOf(token); break;
      case '--json': args.json = true; break;
      case '--rounds': args.rounds = positiveInt(token, valueOf(token)); break;
      case '--max-people': args.maxPeople = positiveInt(token, valueOf(token)); break;
      case '--max-steps': args.maxSteps = positiveInt(token, valueOf(token)); break;
      case '--reforget': args.reforgetPasses = integerAtLeast(0, token, valueOf(token)); reforgetGiven = true; break;
      case '--reforget-above': args.reforgetAboveAccuracy = accuracyBelowOne(token, valueOf(token)); break;
      case '--hyper': args.hyperParameters = hyper(valueOf(token)); break;
      case '--include': args.include.push(included(valueOf(token))); break;
      case '--from': args.from.push(valueOf(token)); break;
      default:
        if (token.startsWith('--')) throw new PulseArgsError(token, 'unknown option');
        if (args.settings.length > 0) throw new PulseArgsError('setting', `only one setting may be given, got "${args.settings.join(',')}" and "${token}"`);
        args.settings = oneOf('setting', token, SETTINGS, true);
    }
  }
  if (args.settings.length === 0 && args.from.length === 0) throw new PulseArgsError('setting', `missing; expected one of ${SETTINGS.join(', ')}, all`);
  const reforgets = args.settings.includes('sustainability') && args.strategies.includes('sequential');
  if (!reforgetGiven && reforgets) args.reforgetPasses = UNLEARNING_DEFAULTS.passes.reforgetPasses;
  if (args.reforgetPasses > 0 && !reforgets) {
    // A cumulative round already retrains everyone from the base; a one-operation setting has no earlier people.
    throw new PulseArgsError('--reforget', 'only sequential sustainability runs re-forget; give sustainability (or all) without --strategy cumulative');
  }
  return args;
}
