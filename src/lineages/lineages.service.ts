import * as fs from 'node:fs';
import * as path from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditError } from '../audits/domain/audit-error';
import { parseGatePolicy } from '../audits/domain/gate-policy';
import { InputError } from '../common/errors';
import { canSeeEverything, Principal } from '../auth/domain/principal';
import { APP_CONFIG, AppConfig } from '../config/config';
import { EventLog } from '../events/event-log.service';
import { confineToRoots } from './domain/path-roots';
import { DatasetSubject, defaultHyperParameters, Knowledge, KNOWLEDGE, LINEAGE_NAME, LineageError, MAX_SUBJECT_SEARCH_LENGTH, ModelLineage, parseHyperParameters, parseLora, parseMethod, parseProfileRetentionDays, parseReforgetAboveAccuracy, parseReforgetPasses, REQUESTER_SUBJECT_SEARCH, STRATEGIES, Strategy } from './domain/lineage';
import { parseServingKind } from './domain/serving-kind';
import { DatasetSubjectRepository } from './persistence/dataset-subject.repository';
import { LineageRepository } from './persistence/lineage.repository';
import { ModelVersionRepository } from './persistence/model-version.repository';

export interface CreateLineageInput {
  name: string;
  baseModelPath?: string | null;
  baseModelId?: string | null;
  datasetPath?: string | null;
  strategy?: Strategy | null;
  method?: string | null;
  hyperParameters?: unknown;
  lora?: unknown;
  /** The model server its adapters are made for; refused when that server cannot load the LoRA targets. */
  servingKind?: string | null;
  /** Research knobs (maxSteps, ascentObjective, klReference): unsupported, for benchmarks. */
  experimental?: unknown;
  batchingWindowSeconds?: number | null;
  reforgetPasses?: number | null;
  reforgetAboveAccuracy?: number | null;
  profileRetentionDays?: number | null;
  gatePolicy?: unknown;
}

/** The gate policy rules belong to audits; here their errors become input errors naming the field. */
function validGatePolicy(document: unknown, field: string, version: number): Record<string, unknown> {
  try {
    const withoutVersion = document && typeof document === 'object' && !Array.isArray(document) ? { ...(document as object), version } : document;
    return parseGatePolicy(withoutVersion ?? { version }, field) as unknown as Record<string, unknown>;
  } catch (err) {
    if (err instanceof AuditError) throw new InputError(err.field ?? field, err.message.replace(`${err.field}: `, ''));
    throw err;
  }
}

function readDatasetSubjects(datasetPath: string, lineage: string, field: string): DatasetSubject[] {
  const file = path.join(datasetPath, 'lethe', 'subjects.json');
  let doc: unknown;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new InputError(field, `has no readable lethe/subjects.json (${(err as Error).message})`);
  }
  const subjects = (doc as { subjects?: unknown }).subjects;
  if (!Array.isArray(subjects)) throw new InputError(field, 'lethe/subjects.json has no subjects list');
  return subjects.map((s: { id?: unknown; name?: unknown; knowledge?: unknown }, i) => {
    if (typeof s?.id !== 'string' || typeof s.name !== 'string' || !KNOWLEDGE.includes(s.knowledge as Knowledge)) {
      throw new InputError(field, `lethe/subjects.json subject ${i} needs id, name and knowledge ${KNOWLEDGE.join('|')}`);
    }
    return { lineage, id: s.id, name: s.name, knowledge: s.knowledge as Knowledge };
  });
}

@Injectable()
export class LineagesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly lineages: LineageRepository,
    private readonly versions: ModelVersionRepository,
    private readonly subjects: DatasetSubjectRepository,
    private readonly eventLog: EventLog,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** A lineage starts with version 0 = the base model without adapter, as champion. */
  async create(input: CreateLineageInput, actor: string): Promise<ModelLineage> {
    const name = input.name?.trim() ?? '';
    if (!LINEAGE_NAME.test(name)) throw new InputError('input.name', 'must be 1-63 lowercase letters, digits, ".", "_" or "-", starting with a letter or digit');
    const baseModelPath = input.baseModelPath?.trim() || this.config.modelRoot;
    if (!baseModelPath) throw new InputError('input.baseModelPath', 'is required (no LETHE_MODEL_DIR default is configured)');
    confineToRoots(baseModelPath, this.config.modelRoots, 'input.baseModelPath', 'LETHE_MODEL_ROOTS');
    if (!fs.existsSync(baseModelPath)) throw new InputError('input.baseModelPath', `does not exist: ${baseModelPath}`);
    const datasetPath = input.datasetPath?.trim() || this.config.datasetRoot;
    if (!datasetPath) throw new InputError('input.datasetPath', 'is required (no LETHE_DATASET_DIR default is configured)');
    confineToRoots(datasetPath, this.config.datasetRoots, 'input.datasetPath', 'LETHE_DATASET_ROOTS');
    const hasGeneralQuestions = fs.existsSync(path.join(datasetPath, 'lethe', 'train', 'general.jsonl'));
    const strategy = input.strategy ?? 'SEQUENTIAL';
    if (!STRATEGIES.includes(strategy)) throw new InputError('input.strategy', `must be one of ${STRATEGIES.join(', ')}`);
    const window = input.batchingWindowSeconds ?? 0;
    if (!Number.isInteger(window) || window < 0 || window > 86400) throw new InputError('input.batchingWindowSeconds', 'must be an integer from 0 to 86400');
    const reforgetPasses = parseReforgetPasses(input.reforgetPasses, 'input.reforgetPasses');
    const reforgetAboveAccuracy = parseReforgetAboveAccuracy(input.reforgetAboveAccuracy, 'input.reforgetAboveAccuracy');
    const profileRetentionDays = parseProfileRetentionDays(input.profileRetentionDays, 'input.profileRetentionDays');
    const method = parseMethod(input.method, 'input.method');
    const lora = parseLora(input.lora, 'input.lora');
    const servingKind = parseServingKind(input.servingKind, lora, { servingKind: 'input.servingKind', targets: 'input.lora.targets' });
    const lineage: Omit<ModelLineage, 'createdAt'> = {
      name,
      baseModel: { path: path.resolve(baseModelPath), id: input.baseModelId?.trim() || path.basename(path.resolve(baseModelPath)) },
      datasetPath: path.resolve(datasetPath),
      lora,
      servingKind,
      strategy,
      method,
      hyperParameters: parseHyperParameters(input.hyperParameters, input.experimental, defaultHyperParameters(method, hasGeneralQuestions), { hyperParameters: 'input.hyperParameters', experimental: 'input.experimental' }),
      batchingWindowSeconds: window,
      reforgetPasses,
      reforgetAboveAccuracy,
      profileRetentionDays,
      gatePolicy: validGatePolicy(input.gatePolicy, 'input.gatePolicy', 1),
      gatePolicyVersion: 1,
      championVersion: 0,
    };
    const subjects = readDatasetSubjects(lineage.datasetPath, name, 'input.datasetPath');
    if ((lineage.hyperParameters.generalKlWeight ?? 0) > 0 && !hasGeneralQuestions) {
      throw new InputError('input.hyperParameters.generalKlWeight', `is above 0, but dataset ${lineage.datasetPath} has no general training questions (lethe/train/general.jsonl)`);
    }
    await this.dataSource.transaction(async (tx) => {
      if (!(await this.lineages.insertIfAbsent(tx, lineage))) throw new LineageError('CONFLICT', `lineage ${name} already exists`, 'input.name');
      await this.versions.insert(tx, {
        lineage: name,
        number: 0,
        parentNumber: null,
        adapterUri: null,
        adapterSha256: null,
        method: null,
        hyperParameters: null,
        requestIds: [],
        reforgottenSubjectIds: [],
        status: 'PROMOTED',
      });
      await this.subjects.insertMany(tx, subjects);
      await this.eventLog.append(tx, {
        actor,
        type: 'lineage.created',
        entityType: 'lineage',
        entityId: name,
        data: { baseModel: lineage.baseModel, datasetPath: lineage.datasetPath, strategy, method: lineage.method, lora: lineage.lora, servingKind, gatePolicy: lineage.gatePolicy, reforgetPasses, reforgetAboveAccuracy, profileRetentionDays, subjects: subjects.length },
      });
    });
    return (await this.lineages.find(name))!;
  }

  async updateGatePolicy(name: string, document: unknown, reason: string | null, actor: string): Promise<ModelLineage> {
    await this.dataSource.transaction(async (tx) => {
      const lineage = await this.lineages.findForUpdate(tx, name);
      if (!lineage) throw new LineageError('NOT_FOUND', `no lineage ${name}`, 'lineage');
      const version = lineage.gatePolicyVersion + 1;
      const policy = validGatePolicy(document, 'gatePolicy', version);
      await this.lineages.setGatePolicy(tx, name, policy, version);
      await this.eventLog.append(tx, { actor, type: 'lineage.gate_policy_updated', entityType: 'lineage', entityId: name, reason, data: { gatePolicy: policy, version } });
    });
    return (await this.lineages.find(name))!;
  }

  async get(name: string): Promise<ModelLineage> {
    const lineage = await this.lineages.find(name);
    if (!lineage) throw new LineageError('NOT_FOUND', `no lineage ${name}`, 'name');
    return lineage;
  }

  find(name: string): Promise<ModelLineage | null> {
    return this.lineages.find(name);
  }

  list(): Promise<ModelLineage[]> {
    return this.lineages.list();
  }

  /** Every role that may file sees every lineage's name: a REQUESTER may file on any lineage. */
  async page(first: number, afterName: string | null): Promise<{ lineages: ModelLineage[]; totalCount: number; hasNextPage: boolean }> {
    const page = await this.lineages.page(first + 1, afterName);
    return { lineages: page.slice(0, first), totalCount: await this.lineages.count(), hasNextPage: page.length > first };
  }

  /**
   * The dataset's people, by id. AUDITORs and OPERATORs list them all; a REQUESTER only searches
   * (REQUESTER_SUBJECT_SEARCH) among the people the model was trained on or knew before: the names
   * are the dataset's metadata, and a NEVER_SEEN person is no one it could be asked to forget.
   */
  async subjectsPage(
    lineage: string,
    request: { first: number; afterId: string | null; search: string | null },
    principal: Principal,
  ): Promise<{ subjects: DatasetSubject[]; totalCount: number; hasNextPage: boolean }> {
    await this.get(lineage);
    const search = request.search?.trim() || null;
    if (search !== null && search.length > MAX_SUBJECT_SEARCH_LENGTH) throw new InputError('search', `must be at most ${MAX_SUBJECT_SEARCH_LENGTH} characters`);
    const everything = canSeeEverything(principal);
    if (!everything) {
      const { minSearchLength, maxResults } = REQUESTER_SUBJECT_SEARCH;
      if (search === null || search.length < minSearchLength) throw new InputError('search', `a ${principal.role} searches with at least ${minSearchLength} characters`);
      if (request.first > maxResults) throw new InputError('first', `a ${principal.role} gets at most ${maxResults} results`);
    }
    const filter = { search, knowledge: everything ? KNOWLEDGE : KNOWLEDGE.filter((k) => k !== 'NEVER_SEEN') };
    const page = await this.subjects.page(lineage, request.first + 1, request.afterId, filter);
    return { subjects: page.slice(0, request.first), totalCount: await this.subjects.count(lineage, filter), hasNextPage: page.length > request.first };
  }
}
