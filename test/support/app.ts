// Boots the real Nest app on a free loopback port against a test Postgres.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DynamicModule, INestApplication, Type } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { createApp } from '../../src/app.module';
import { AppConfig, loadConfig } from '../../src/config/config';
import { GqlClient } from './gql';
import { startTestPostgres, TestPostgres } from './postgres';

export interface TestApp {
  app: INestApplication;
  config: AppConfig;
  baseUrl: string;
  /** Client with the bootstrap operator token. */
  operator: GqlClient;
  /** Client without a token. */
  anonymous: GqlClient;
  dataSource: DataSource;
  postgres: TestPostgres;
  stop(): Promise<void>;
}

export async function startTestApp(options: { orchestration?: Type | DynamicModule; env?: Record<string, string> } = {}): Promise<TestApp> {
  const postgres = await startTestPostgres();
  // Tests write their model and dataset stand-ins under the test's temp dir; the tiny model's root stays allowed.
  const roots = [postgres.dir, process.env.LETHE_TINY_MODEL_ROOT].filter(Boolean).join(path.delimiter);
  const config = loadConfig(
    { PORT: '0', DATABASE_URL: postgres.url, LETHE_DATA_DIR: path.join(postgres.dir, 'data'), LETHE_MODEL_ROOTS: roots, LETHE_DATASET_ROOTS: roots, ...options.env },
    postgres.dir,
  );
  let app: INestApplication;
  try {
    app = await createApp(config, { orchestration: options.orchestration, logger: ['error'] });
    await app.listen(0, '127.0.0.1');
  } catch (err) {
    await postgres.stop();
    throw err;
  }
  const baseUrl = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  const token = fs.readFileSync(config.operatorTokenFile, 'utf8').trim();
  return {
    app,
    config,
    baseUrl,
    operator: new GqlClient(baseUrl, token),
    anonymous: new GqlClient(baseUrl, null),
    dataSource: app.get(DataSource),
    postgres,
    async stop() {
      await app.close();
      await postgres.stop();
    },
  };
}

/** A dataset directory in the canonical layout (contracts/dataset.schema.json) with these people. */
export function writeDataset(dir: string, subjects: Array<{ id: string; name: string; knowledge: 'FINETUNED' | 'PRETRAINED' | 'NEVER_SEEN' }>): string {
  fs.mkdirSync(path.join(dir, 'lethe'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'lethe', 'subjects.json'), JSON.stringify({ datasetId: 'test', subjects }));
  return dir;
}

/** A model directory stand-in: the control plane only records its path. */
export function writeModelDir(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.json'), '{}');
  return dir;
}
