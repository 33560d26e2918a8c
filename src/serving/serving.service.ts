// The champion answers: chat completions on the audit's runtime (the lineage's ONNX export with the champion's
// adapter, sha256 checked), and the champion's manifest and adapter files for external model servers. The champion
// is read from the database on every call, so a promotion or rollback takes effect on the next request.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { AuditRuntimeError, findExport, Generation } from '../audits/runtime';
import { InputError } from '../common/errors';
import { APP_CONFIG, AppConfig, onnxExportsDir } from '../config/config';
import { ModelLineage, ModelVersion } from '../lineages/domain/lineage';
import { LineagesService } from '../lineages/lineages.service';
import { ModelVersionsService } from '../lineages/model-versions.service';
import { ChampionRuntimes } from './champion-runtimes';
import { ChatRequest, parseChatRequest } from './domain/chat-request';
import { ServedBy } from './domain/chat-response';
import { isServable, SERVABLE_STATUSES } from './domain/servable';
import { ServingError } from './domain/serving-error';

/** The files of a peft adapter directory that a model server loads. */
export const ADAPTER_FILES = ['adapter_model.safetensors', 'adapter_config.json'] as const;
export type AdapterFile = (typeof ADAPTER_FILES)[number];

export interface PreparedAnswer {
  servedBy: ServedBy;
  /** Generates; onText receives the text as it is decoded. */
  run(onText?: (delta: string) => void): Promise<Generation>;
}

function servedBy(lineage: ModelLineage, version: ModelVersion): ServedBy {
  return { lineage: lineage.name, version: version.number, adapterSha256: version.adapterSha256 };
}

async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

@Injectable()
export class ServingService implements OnModuleDestroy {
  private readonly runtimes = new ChampionRuntimes();

  constructor(
    private readonly lineages: LineagesService,
    private readonly versions: ModelVersionsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onModuleDestroy(): Promise<void> {
    await this.runtimes.closeAll();
  }

  /** The lineage's current champion. */
  async champion(name: string, field: string): Promise<{ lineage: ModelLineage; version: ModelVersion }> {
    const lineage = await this.lineages.find(name);
    if (!lineage) throw new ServingError('NOT_FOUND', `no model lineage ${JSON.stringify(name)}`, field);
    const version = lineage.championVersion === null ? null : await this.versions.findVersion(name, lineage.championVersion);
    if (!version) throw new ServingError('CONFLICT', `lineage ${name} has no champion version`, field);
    return { lineage, version };
  }

  /** A lineage as a model, with the version that answers now. */
  async model(name: string): Promise<{ lineage: ModelLineage; servedBy: ServedBy }> {
    const { lineage, version } = await this.champion(name, 'model');
    return { lineage, servedBy: servedBy(lineage, version) };
  }

  async models(): Promise<{ lineage: ModelLineage; servedBy: ServedBy }[]> {
    const out = [];
    for (const lineage of await this.lineages.list()) out.push(await this.model(lineage.name));
    return out;
  }

  /** Checks the request and resolves the champion now; the caller sends its headers before generating (streaming). */
  async prepareChat(body: unknown): Promise<{ request: ChatRequest; answer: PreparedAnswer }> {
    const request = parseChatRequest(body, this.config.chatMaxTokens);
    const { lineage, version } = await this.champion(request.lineage, 'model');
    const exportDir = findExport(onnxExportsDir(this.config.artifactsDir), lineage.baseModel.id, lineage.lora);
    const adapter = version.adapterUri && version.adapterSha256 ? { path: version.adapterUri, sha256: version.adapterSha256 } : null;
    const key = { exportDir, modelDir: lineage.baseModel.path, adapter };
    const options = { maxTokens: request.maxTokens, minTokens: request.minTokens, temperature: request.temperature, topP: request.topP, seed: request.seed, topLogprobs: request.topLogprobs };
    const answer: PreparedAnswer = {
      servedBy: servedBy(lineage, version),
      run: async (onText) => {
        try {
          return await this.runtimes.generate(key, { prompt: request.prompt, images: request.images }, options, onText);
        } catch (e) {
          if (e instanceof AuditRuntimeError && e.reason === 'PROMPT_TOO_LONG') throw new InputError('messages', e.message.replace(/^maxTokens: /, ''));
          throw e;
        }
      },
    };
    return { request, answer };
  }

  /** What an external server needs to follow the champion (docs/serving.md). `baseUrl`: this service as the caller reached it. */
  async championManifest(name: string, baseUrl: string) {
    const { lineage, version } = await this.champion(name, 'lineage');
    const files = version.adapterSha256 ? `${baseUrl}/models/${encodeURIComponent(lineage.name)}/versions/${version.number}` : null;
    return {
      lineage: lineage.name,
      version: version.number,
      baseModelId: lineage.baseModel.id,
      servingKind: lineage.servingKind,
      lora: lineage.lora,
      adapterSha256: version.adapterSha256,
      adapterUrl: files && `${files}/adapter_model.safetensors`,
      adapterConfigUrl: files && `${files}/adapter_config.json`,
    };
  }

  /**
   * A file of a servable version's adapter, with the sha256 of the bytes sent. The weights' sha256 is checked against
   * the version record before anything is sent, so an altered file is refused rather than served. The peft config
   * names the base model by the lineage's model id instead of the server path training wrote into it (paths are for
   * OPERATORs only).
   */
  async adapterFile(name: string, versionNumber: number, file: AdapterFile): Promise<{ path: string | null; bytes: Buffer | null; sha256: string; servedBy: ServedBy }> {
    const lineage = await this.lineages.find(name);
    if (!lineage) throw new ServingError('NOT_FOUND', `no model lineage ${JSON.stringify(name)}`, 'lineage');
    const version = await this.versions.findVersion(name, versionNumber);
    if (!version) throw new ServingError('NOT_FOUND', `lineage ${name} has no version ${versionNumber}`, 'version');
    if (!isServable(version)) {
      throw new ServingError('NOT_FOUND', `version ${versionNumber} is ${version.status}; only ${SERVABLE_STATUSES.join(' and ')} versions are served`, 'version');
    }
    if (!version.adapterUri || !version.adapterSha256) {
      throw new ServingError('NOT_FOUND', `version ${versionNumber} is the base model: it has no adapter`, 'version');
    }
    const target = file === 'adapter_model.safetensors' ? version.adapterUri : path.join(path.dirname(version.adapterUri), file);
    if (!fs.existsSync(target)) throw new ServingError('NOT_FOUND', `the ${file} of version ${versionNumber} is missing on the server`, 'version');
    if (file === 'adapter_config.json') {
      const config = { ...(JSON.parse(fs.readFileSync(target, 'utf8')) as Record<string, unknown>), base_model_name_or_path: lineage.baseModel.id };
      const bytes = Buffer.from(JSON.stringify(config, null, 2));
      return { path: null, bytes, sha256: createHash('sha256').update(bytes).digest('hex'), servedBy: servedBy(lineage, version) };
    }
    const sha256 = await sha256OfFile(target);
    if (sha256 !== version.adapterSha256) {
      throw new ServingError('CONFLICT', `the adapter file of version ${versionNumber} has sha256 ${sha256}, the version record says ${version.adapterSha256}: not served`, 'version');
    }
    return { path: target, bytes: null, sha256, servedBy: servedBy(lineage, version) };
  }
}
