import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { HyperParameters, LoraConfig, UnlearnMethod } from '../../common/gpu-contracts';
import { Db, one, sql } from '../../database/sql';
import { ModelLineage, ServingKind, Strategy } from '../domain/lineage';

interface LineageRow {
  name: string;
  base_model: { path: string; id: string };
  dataset_path: string;
  lora_config: LoraConfig;
  serving_kind: ServingKind;
  strategy: Strategy;
  method: UnlearnMethod;
  hyper_parameters: HyperParameters;
  batching_window_seconds: number;
  reforget_passes: number;
  reforget_above_accuracy: number;
  profile_retention_days: number;
  gate_policy: Record<string, unknown>;
  gate_policy_version: number;
  champion_version: number | null;
  created_at: Date;
}

function toLineage(row: LineageRow): ModelLineage {
  return {
    name: row.name,
    baseModel: row.base_model,
    datasetPath: row.dataset_path,
    lora: row.lora_config,
    servingKind: row.serving_kind,
    strategy: row.strategy,
    method: row.method,
    hyperParameters: row.hyper_parameters,
    batchingWindowSeconds: row.batching_window_seconds,
    reforgetPasses: row.reforget_passes,
    reforgetAboveAccuracy: row.reforget_above_accuracy,
    profileRetentionDays: row.profile_retention_days,
    gatePolicy: row.gate_policy,
    gatePolicyVersion: row.gate_policy_version,
    championVersion: row.champion_version,
    createdAt: row.created_at,
  };
}

@Injectable()
export class LineageRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** false when the name is taken. */
  async insertIfAbsent(tx: Db, lineage: Omit<ModelLineage, 'createdAt'>): Promise<boolean> {
    const { count } = await sql(
      tx,
      `INSERT INTO model_lineages (name, base_model, dataset_path, lora_config, strategy, method, hyper_parameters, batching_window_seconds, reforget_passes, reforget_above_accuracy, profile_retention_days, gate_policy, gate_policy_version, champion_version, serving_kind)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) ON CONFLICT (name) DO NOTHING`,
      [
        lineage.name,
        JSON.stringify(lineage.baseModel),
        lineage.datasetPath,
        JSON.stringify(lineage.lora),
        lineage.strategy,
        lineage.method,
        JSON.stringify(lineage.hyperParameters),
        lineage.batchingWindowSeconds,
        lineage.reforgetPasses,
        lineage.reforgetAboveAccuracy,
        lineage.profileRetentionDays,
        JSON.stringify(lineage.gatePolicy),
        lineage.gatePolicyVersion,
        lineage.championVersion,
        lineage.servingKind,
      ],
    );
    return count === 1;
  }

  async find(name: string, db: Db = this.dataSource.manager): Promise<ModelLineage | null> {
    const row = await one<LineageRow>(db, 'SELECT * FROM model_lineages WHERE name = $1', [name]);
    return row ? toLineage(row) : null;
  }

  async list(db: Db = this.dataSource.manager): Promise<ModelLineage[]> {
    const { rows } = await sql<LineageRow>(db, 'SELECT * FROM model_lineages ORDER BY name');
    return rows.map(toLineage);
  }

  /** Keyset page ordered by name. */
  async page(first: number, afterName: string | null, db: Db = this.dataSource.manager): Promise<ModelLineage[]> {
    const { rows } = await sql<LineageRow>(db, 'SELECT * FROM model_lineages WHERE $1::text IS NULL OR name > $1 ORDER BY name LIMIT $2', [afterName, first]);
    return rows.map(toLineage);
  }

  async count(db: Db = this.dataSource.manager): Promise<number> {
    const row = await one<{ n: string }>(db, 'SELECT count(*) AS n FROM model_lineages');
    return Number(row!.n);
  }

  /** Serialises version changes of one lineage (promotion, rollback, numbering). */
  async findForUpdate(tx: Db, name: string): Promise<ModelLineage | null> {
    const row = await one<LineageRow>(tx, 'SELECT * FROM model_lineages WHERE name = $1 FOR UPDATE', [name]);
    return row ? toLineage(row) : null;
  }

  async setChampion(tx: Db, name: string, championVersion: number): Promise<void> {
    await sql(tx, 'UPDATE model_lineages SET champion_version = $2 WHERE name = $1', [name, championVersion]);
  }

  async setGatePolicy(tx: Db, name: string, policy: Record<string, unknown>, version: number): Promise<void> {
    await sql(tx, 'UPDATE model_lineages SET gate_policy = $2, gate_policy_version = $3 WHERE name = $1', [name, JSON.stringify(policy), version]);
  }
}
