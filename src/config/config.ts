import * as path from 'node:path';

/** Where the service finds its Postgres: an external URL, or the embedded cluster under the data dir. */
export type DatabaseConfig = { kind: 'external'; url: string } | { kind: 'embedded'; dataDir: string };

export interface AppConfig {
  port: number;
  host: string;
  dataDir: string;
  database: DatabaseConfig;
  /** Unset -> the orchestration starts the Temporal dev server itself. */
  temporalAddress: string | null;
  temporalNamespace: string;
  /** Base64/hex of 32 bytes, or null -> the embedded default key file under the data dir. */
  encryptionKey: Buffer | null;
  encryptionKeyFile: string;
  /** HMAC key of the event chain (32 bytes), or null -> the key file under the data dir. Outside the database on purpose. */
  chainKey: Buffer | null;
  chainKeyFile: string;
  /** Ed25519 private key (PKCS#8 PEM) that signs compliance reports; created on first start. */
  reportSigningKeyFile: string;
  operatorTokenFile: string;
  /** Default model / dataset locations for new lineages (paths or URIs). */
  modelRoot: string | null;
  datasetRoot: string | null;
  /** The only directories lineages may take models / datasets from (LETHE_MODEL_ROOTS / LETHE_DATASET_ROOTS). */
  modelRoots: string[];
  datasetRoots: string[];
  /** Where forget-set files and adapters are written for the worker. */
  artifactsDir: string;
  /** Days a deletion request has to be carried out (GDPR Art. 12(3): one month). */
  dueDays: number;
  /** Chat completions: tokens generated when the caller sets no max_tokens. */
  chatMaxTokens: number;
  /** A request falls "due soon" this many days before its due date: the sweep's notice and the metric's window. */
  dueSoonDays: number;
  webhooks: WebhookDeliveryConfig;
}

/** How a webhook delivery is retried: exponential backoff from `retryInitialMs`, doubling, capped at `retryMaxMs`. */
export interface WebhookDeliveryConfig {
  retryInitialMs: number;
  retryMaxMs: number;
  /** Attempts before a delivery is given up (FAILED); the defaults span about four days. */
  maxAttempts: number;
  /** How long one attempt waits for the receiver's answer. */
  timeoutMs: number;
}

/** Where export_onnx writes the ONNX graphs of a base model + LoRA config: the audits and the chat endpoint read them. */
export function onnxExportsDir(artifactsDir: string): string {
  return path.join(artifactsDir, 'onnx');
}

export const APP_CONFIG = Symbol('APP_CONFIG');

export class ConfigError extends Error {
  constructor(readonly variable: string, problem: string) {
    super(`invalid configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function nonEmpty(env: Env, name: string): string | null {
  const value = env[name];
  return value === undefined || value.trim() === '' ? null : value.trim();
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = nonEmpty(env, name);
  if (raw === null) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be an integer, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

/** Accepts 32 bytes as 64 hex characters or as base64. */
export function parseEncryptionKey(raw: string, variable = 'LETHE_ENCRYPTION_KEY'): Buffer {
  const text = raw.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : /^[A-Za-z0-9+/_-]+={0,2}$/.test(text) ? Buffer.from(text, 'base64') : null;
  if (key === null || key.length !== 32) {
    throw new ConfigError(variable, 'must be 32 bytes encoded as 64 hex characters or base64');
  }
  return key;
}

function databaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('DATABASE_URL', 'is not a URL');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError('DATABASE_URL', `must use postgres:// or postgresql://, got ${url.protocol}`);
  }
  return raw;
}

function temporalAddress(raw: string | null): string | null {
  if (raw === null) return null;
  if (!/^[^\s:/]+:\d{1,5}$/.test(raw)) throw new ConfigError('TEMPORAL_ADDRESS', `must be host:port, got "${raw}"`);
  return raw;
}

/** The tiny-model cache (built by scripts/lib/bootstrap.cjs) provides the default model and dataset. */
function tinyDir(env: Env, sub: 'model' | 'dataset'): string | null {
  const root = nonEmpty(env, 'LETHE_TINY_MODEL_ROOT');
  return root === null ? null : path.join(root, sub);
}

/**
 * A path-delimiter separated list of absolute directories; by default the configured default
 * directory and the tiny model's root (the embedded model and dataset).
 */
function roots(env: Env, name: string, defaults: Array<string | null>): string[] {
  const raw = nonEmpty(env, name);
  if (raw === null) return [...new Set(defaults.filter((d): d is string => d !== null).map((d) => path.resolve(d)))];
  const list = raw.split(path.delimiter).map((d) => d.trim()).filter((d) => d !== '');
  for (const dir of list) if (!path.isAbsolute(dir)) throw new ConfigError(name, `must list absolute directories, got "${dir}"`);
  return list.map((d) => path.resolve(d));
}

/** Validates the environment once, at start. Throws ConfigError naming the variable on the first bad value. */
export function loadConfig(env: Env = process.env, cwd = process.cwd()): AppConfig {
  const dataDir = path.resolve(cwd, nonEmpty(env, 'LETHE_DATA_DIR') ?? '.data');
  const rawUrl = nonEmpty(env, 'DATABASE_URL');
  const host = nonEmpty(env, 'HOST') ?? '127.0.0.1';
  if (!/^[\w.:-]+$/.test(host)) throw new ConfigError('HOST', `is not a host name or address: "${host}"`);
  const rawKey = nonEmpty(env, 'LETHE_ENCRYPTION_KEY');
  const rawChainKey = nonEmpty(env, 'LETHE_CHAIN_KEY');
  const modelRoot = nonEmpty(env, 'LETHE_MODEL_DIR') ?? tinyDir(env, 'model');
  const datasetRoot = nonEmpty(env, 'LETHE_DATASET_DIR') ?? tinyDir(env, 'dataset');
  return {
    port: integer(env, 'PORT', 3000, 0, 65535),
    host,
    dataDir,
    database: rawUrl ? { kind: 'external', url: databaseUrl(rawUrl) } : { kind: 'embedded', dataDir: path.join(dataDir, 'postgres') },
    temporalAddress: temporalAddress(nonEmpty(env, 'TEMPORAL_ADDRESS')),
    temporalNamespace: nonEmpty(env, 'TEMPORAL_NAMESPACE') ?? 'default',
    encryptionKey: rawKey ? parseEncryptionKey(rawKey) : null,
    encryptionKeyFile: path.join(dataDir, 'encryption.key'),
    chainKey: rawChainKey ? parseEncryptionKey(rawChainKey, 'LETHE_CHAIN_KEY') : null,
    chainKeyFile: path.join(dataDir, 'chain.key'),
    reportSigningKeyFile: nonEmpty(env, 'LETHE_REPORT_SIGNING_KEY_FILE') ?? path.join(dataDir, 'report-signing.pem'),
    operatorTokenFile: path.join(dataDir, 'operator.token'),
    modelRoot,
    datasetRoot,
    modelRoots: roots(env, 'LETHE_MODEL_ROOTS', [modelRoot, nonEmpty(env, 'LETHE_TINY_MODEL_ROOT')]),
    datasetRoots: roots(env, 'LETHE_DATASET_ROOTS', [datasetRoot, nonEmpty(env, 'LETHE_TINY_MODEL_ROOT')]),
    artifactsDir: path.resolve(cwd, nonEmpty(env, 'LETHE_ARTIFACTS_DIR') ?? path.join(dataDir, 'artifacts')),
    dueDays: integer(env, 'LETHE_DUE_DAYS', 30, 1, 90),
    chatMaxTokens: integer(env, 'LETHE_CHAT_MAX_TOKENS', 64, 1, 4096),
    dueSoonDays: integer(env, 'LETHE_DUE_SOON_DAYS', 7, 1, 90),
    webhooks: {
      retryInitialMs: integer(env, 'LETHE_WEBHOOK_RETRY_INITIAL_MS', 10_000, 100, 3_600_000),
      retryMaxMs: integer(env, 'LETHE_WEBHOOK_RETRY_MAX_MS', 3_600_000, 100, 86_400_000),
      maxAttempts: integer(env, 'LETHE_WEBHOOK_MAX_ATTEMPTS', 100, 1, 1000),
      timeoutMs: integer(env, 'LETHE_WEBHOOK_TIMEOUT_MS', 10_000, 100, 60_000),
    },
  };
}
