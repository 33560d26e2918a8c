// The `audit` activity (queue `audit`): score a candidate version with the runtime's scorer,
// compute PULSE metrics, relate them to version 0 and the parent, and apply the gate.
// Fails closed: any error after the input is understood yields REVIEW with the error, never PASS.
import { AuditInput, AuditResult } from '../domain/audit-activity';
import { parseAuditInput } from '../domain/audit-input';
import { decideGate, GateOutcome } from '../domain/decision';
import { AdapterRef, EvalItem, McScorer, ScoredItem } from '../domain/eval-item';
import { FREE_FORM_MAX_TOKENS, FreeFormAnswer, freeFormMetrics, freeFormNotAsked, freeFormQuestions } from '../domain/free-form';
import { GatePolicy, parseGatePolicy } from '../domain/gate-policy';
import { AuditMetrics, AuditScope, computeRawMetrics, itemsToScore, metricsForScope, otherFormatItems, relateMetrics, withScoresOf } from '../domain/metrics';
import { buildProbeSet, ProbeItem, ProbeProfile, profileSubjectId, ProbeWorld } from '../domain/profile-probes';
import { AuditError } from '../domain/audit-error';
import { noKnowledgeFound } from '../domain/forgetting-rules';

export interface ScorerOptions {
  exportDir: string;
  modelDir: string;
  adapter: AdapterRef | null;
}

export interface AuditDeps {
  /** src/audits/runtime's openScorer: verifies the adapter's sha256 and loads the graphs. */
  openScorer(options: ScorerOptions): Promise<McScorer> | McScorer;
  /** src/audits/runtime's loadEvalItems: every eval item of the dataset's lethe/ view. */
  loadEvalItems(datasetDir: string): Promise<EvalItem[]> | EvalItem[];
  /** src/audits/runtime's loadProbeWorld: the dataset's eval items and subjects, to probe inline profiles. */
  loadProbeWorld?(datasetDir: string): Promise<ProbeWorld> | ProbeWorld;
  /** src/audits/runtime's loadInlineProfiles: the requests' inline profiles from the step's forget-set file. */
  loadInlineProfiles?(forgetSetFile: string, requestIds: string[]): Promise<ProbeProfile[]> | ProbeProfile[];
  /** Called between scoring batches (the Temporal heartbeat in the worker). */
  heartbeat?(progress: { scored: number; total: number }): void;
  log?(message: string): void;
  /** Version-0 metrics per lineage/export/dataset; shared across calls of one worker. */
  baselineCache?: Map<string, Promise<AuditMetrics>>;
  /** Questions per scorer call: bounds memory and sets the heartbeat rate. */
  batchSize?: number;
}

export interface AuditActivityImplementations {
  audit(input: AuditInput): Promise<AuditResult>;
}

const DEFAULT_BATCH_SIZE = 64;
/** Free-form questions per heartbeat: each is up to FREE_FORM_MAX_TOKENS decoder runs. */
const FREE_FORM_BATCH = 16;

/** What only a candidate is asked, beyond the eval set in the default format. */
interface CandidateProbes {
  freeForm: boolean;
}

export function createAuditActivities(deps: AuditDeps): AuditActivityImplementations {
  const baselineCache = deps.baselineCache ?? new Map<string, Promise<AuditMetrics>>();
  const batchSize = deps.batchSize ?? DEFAULT_BATCH_SIZE;
  const log = deps.log ?? (() => {});
  // Probe scores of version 0 for a handful of steps (one profile request's are a few hundred numbers), the oldest dropped first.
  const probeCache = new Map<string, Promise<ScoredItem[]>>();
  const PROBE_CACHE_ENTRIES = 8;

  async function withScorer<T>(input: AuditInput, adapter: AdapterRef | null, use: (scorer: McScorer) => Promise<T>): Promise<T> {
    const scorer = await deps.openScorer({ exportDir: input.exportDir, modelDir: input.modelDir, adapter });
    try {
      return await use(scorer);
    } finally {
      await scorer.close();
    }
  }

  async function scoreWith(scorer: McScorer, toScore: EvalItem[]): Promise<ScoredItem[]> {
    const scores: ScoredItem[] = [];
    for (let start = 0; start < toScore.length; start += batchSize) {
      scores.push(...(await scorer.score(toScore.slice(start, start + batchSize))));
      deps.heartbeat?.({ scored: scores.length, total: toScore.length });
    }
    return scores;
  }

  function score(input: AuditInput, adapter: AdapterRef | null, toScore: EvalItem[]): Promise<ScoredItem[]> {
    return withScorer(input, adapter, (scorer) => scoreWith(scorer, toScore));
  }

  /**
   * The free-form probe (free-form.ts) on an open scorer. A scorer that cannot generate leaves the numbers missing,
   * which the gate does not pass.
   */
  async function answerFreely(scorer: McScorer, metrics: AuditMetrics, asked: EvalItem[], scope: AuditScope): Promise<AuditMetrics> {
    if (!scorer.answerFreely) return { ...metrics, freeForm: freeFormNotAsked('this audit runtime cannot generate answers') };
    const questions = freeFormQuestions(asked, scope);
    const answers: FreeFormAnswer[] = [];
    for (let start = 0; start < questions.length; start += FREE_FORM_BATCH) {
      answers.push(...(await scorer.answerFreely(questions.slice(start, start + FREE_FORM_BATCH), FREE_FORM_MAX_TOKENS)));
      deps.heartbeat?.({ scored: answers.length, total: questions.length });
    }
    return { ...metrics, freeForm: freeFormMetrics(questions, answers, scope, metrics.neverSeenSubjectIds ?? []) };
  }

  /**
   * Scores one version over every eval item (and the probes of inline profiles, if any); the per-subject
   * tallies let any scope be cut later. A candidate's forgetting is also asked in the prompt formats no unlearning
   * example uses, and, when the policy asks, without options (the free-form probe).
   */
  async function scoreVersion(input: AuditInput, adapter: AdapterRef | null, scope: AuditScope, probes: ProbeItem[] = [], candidate: CandidateProbes | null = null): Promise<AuditMetrics> {
    const asked = [...(await deps.loadEvalItems(input.datasetDir)), ...probes];
    const items = candidate ? [...asked, ...otherFormatItems(asked, scope)] : asked;
    const toScore = itemsToScore(items, scope.circularEval);
    return withScorer(input, adapter, async (scorer) => {
      const metrics = computeRawMetrics(items, toScore, await scoreWith(scorer, toScore), scope);
      return candidate?.freeForm ? answerFreely(scorer, metrics, asked, scope) : metrics;
    });
  }

  /**
   * The probes of the request's inline profiles and of their never-seen reference; none without profiles.
   * A profile that yields no question cannot be audited: that fails closed (REVIEW) with the reason.
   */
  async function probesOf(input: AuditInput): Promise<ProbeItem[]> {
    const ref = input.inlineProfiles;
    if (!ref) return [];
    if (!deps.loadProbeWorld || !deps.loadInlineProfiles) {
      throw new AuditError('PROFILE_NOT_PROBED', 'this audit worker cannot probe inline profiles (no probe sources configured)', 'inlineProfiles');
    }
    const profiles = await deps.loadInlineProfiles(ref.forgetSetFile, ref.requestIds);
    const set = buildProbeSet(profiles, await deps.loadProbeWorld(input.datasetDir));
    for (const profile of profiles) {
      const asked = set.items.filter((item) => item.subjectId === profile.subjectId).length;
      const skipped = set.skippedFacts[profile.subjectId] ?? 0;
      if (asked === 0) {
        throw new AuditError('PROFILE_NOT_PROBED', `${profile.subjectId}: no probe question could be built (${profile.images.length} images; ${skipped} of ${profile.facts.length} facts without three answers of their kind to draw distractors from)`, 'inlineProfiles');
      }
      log(`audit ${input.lineage}: ${asked} probe questions for ${profile.subjectId}${skipped ? ` (${skipped} facts without distractors of their kind left out)` : ''}`);
    }
    return [...set.items, ...set.reference];
  }

  /** Version 0's scores of probe questions; kept per lineage and item set, as a step's attempts ask the same. */
  function versionZeroProbeScores(input: AuditInput, probes: ProbeItem[]): Promise<ScoredItem[]> {
    const key = JSON.stringify([input.lineage, input.exportDir, input.modelDir, input.datasetDir, probes.map((p) => p.id)]);
    let cached = probeCache.get(key);
    if (!cached) {
      log(`audit ${input.lineage}: scoring ${probes.length} probe questions on version 0`);
      cached = score(input, null, probes);
      cached.catch(() => probeCache.delete(key));
      probeCache.set(key, cached);
      for (const old of probeCache.keys()) if (probeCache.size > PROBE_CACHE_ENTRIES) probeCache.delete(old);
    }
    return cached;
  }

  /** Version 0 audited as the candidate (a step completing without training): its cached scores plus what only candidates are asked. */
  async function asCandidate(input: AuditInput, baseline: AuditMetrics, probes: ProbeItem[], scope: AuditScope, candidate: CandidateProbes): Promise<AuditMetrics> {
    const asked = [...(await deps.loadEvalItems(input.datasetDir)), ...probes];
    const others = otherFormatItems(asked, scope);
    return withScorer(input, null, async (scorer) => {
      const metrics = withScoresOf(baseline, others, await scoreWith(scorer, others));
      return candidate.freeForm ? answerFreely(scorer, metrics, asked, scope) : metrics;
    });
  }

  function versionZero(input: AuditInput, scope: AuditScope): Promise<AuditMetrics> {
    const key = JSON.stringify([input.lineage, input.exportDir, input.modelDir, input.datasetDir, scope.circularEval]);
    let cached = baselineCache.get(key);
    if (!cached) {
      log(`audit ${input.lineage}: scoring version 0 (cached for later audits)`);
      cached = scoreVersion(input, null, scope);
      // A failed scoring must not poison the cache for the next attempt.
      cached.catch(() => baselineCache.delete(key));
      baselineCache.set(key, cached);
    }
    return cached.then((m) => metricsForScope(m, scope)!);
  }

  async function measure(input: AuditInput, policy: GatePolicy): Promise<{ metrics: AuditMetrics; baseline: AuditMetrics }> {
    const probes = await probesOf(input);
    // An inline profile is a forgotten subject like a dataset person, scored on its probes.
    const forgetSubjectIds = [...input.forgetSubjectIds, ...(input.inlineProfiles?.requestIds ?? []).map(profileSubjectId)];
    const scope: AuditScope = {
      forgetSubjectIds,
      cumulativeForgetSubjectIds: [...new Set([...input.cumulativeForgetSubjectIds, ...forgetSubjectIds])],
      retainSubjectIds: input.retainSubjectIds ?? null,
      circularEval: policy.general.circularEval,
    };
    const given = input.baseline && metricsForScope(input.baseline, scope);
    let baseline = given ?? (await versionZero(input, scope));
    if (probes.length > 0) baseline = withScoresOf(baseline, probes, await versionZeroProbeScores(input, probes));
    // The candidate's forgetting is also asked in the prompt formats no unlearning example uses (gated on the worst) and
    // without options; version 0's cached scores are the reference for the default format only.
    const candidate: CandidateProbes = { freeForm: policy.forget.freeFormProbe };
    const raw = input.versionNumber === 0 ? await asCandidate(input, baseline, probes, scope, candidate) : await scoreVersion(input, input.adapter, scope, probes, candidate);
    return { metrics: relateMetrics(raw, baseline, input.parentMetrics), baseline: relateMetrics(baseline, baseline, null) };
  }

  return {
    async audit(rawInput: AuditInput): Promise<AuditResult> {
      const startedAt = new Date().toISOString();
      // A malformed input is a caller bug: it throws (naming the field) instead of being audited.
      const { input, ignored } = parseAuditInput(rawInput);
      for (const field of ignored) log(`audit ${input.lineage} v${input.versionNumber}: ${field} is not a metrics document; ignored`);

      let policy: GatePolicy | null = null;
      let measured: { metrics: AuditMetrics; baseline: AuditMetrics } | null = null;
      let auditError: AuditResult['auditError'] = null;
      try {
        policy = parseGatePolicy(input.gatePolicy);
        measured = await measure(input, policy);
      } catch (e) {
        // AuditError and the runtime's AuditRuntimeError both carry a typed `reason` code.
        const err = e as Error & { reason?: unknown };
        auditError = { reason: typeof err.reason === 'string' ? err.reason : err.name || 'Error', message: err.message ?? String(e) };
        log(`audit ${input.lineage} v${input.versionNumber} failed closed: ${auditError.message}`);
      }
      const outcome: GateOutcome = decideGate({
        metrics: measured?.metrics ?? null,
        policy,
        ...(auditError ? { auditError: `${auditError.reason}: ${auditError.message}` } : {}),
      });
      return {
        lineage: input.lineage,
        versionNumber: input.versionNumber,
        adapterSha256: input.adapter?.sha256 ?? null,
        metrics: measured?.metrics ?? null,
        baseline: measured?.baseline ?? null,
        decision: outcome.decision,
        reasons: outcome.reasons,
        checks: outcome.checks,
        ...(outcome.escalation ? { escalation: outcome.escalation } : {}),
        noKnowledgeFound: noKnowledgeFound(measured?.baseline ?? null, policy),
        gatePolicy: policy,
        auditError,
        startedAt,
        finishedAt: new Date().toISOString(),
      };
    },
  };
}
