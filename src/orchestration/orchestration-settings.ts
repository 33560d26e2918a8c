// Orchestration settings from the environment, validated once at start (a bad value names the variable).
import { ConfigError } from '../config/config';

export const DEFAULT_MAX_ATTEMPTS = 3;
export const DEFAULT_REVIEW_TIMEOUT_MS = 7 * 24 * 60 * 60 * 1000;
export const DEFAULT_GPU_HEARTBEAT_TIMEOUT_MS = 2 * 60 * 1000;

export interface OrchestrationSettings {
  /** LETHE_MAX_ATTEMPTS: unlearning attempts per step when the audit asks for a retry. */
  maxAttempts: number;
  /** LETHE_REVIEW_TIMEOUT_SECONDS: how long NEEDS_REVIEW waits for an operator (then rejected). */
  reviewTimeoutMs: number;
  /** LETHE_GPU_HEARTBEAT_SECONDS: a GPU activity silent this long is retried elsewhere. */
  gpuHeartbeatTimeoutMs: number;
  /** LETHE_AUDIT_EXECUTION_PROVIDER: `cpu` (default) or `cuda` (falls back to CPU with a warning when its libraries are missing). */
  auditExecutionProvider: 'cpu' | 'cuda';
}

function executionProvider(env: Record<string, string | undefined>): 'cpu' | 'cuda' {
  const raw = env.LETHE_AUDIT_EXECUTION_PROVIDER?.trim() || 'cpu';
  if (raw !== 'cpu' && raw !== 'cuda') throw new ConfigError('LETHE_AUDIT_EXECUTION_PROVIDER', `must be "cpu" or "cuda", got "${raw}"`);
  return raw;
}

function positiveInteger(env: Record<string, string | undefined>, name: string, fallback: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < 1 || value > max) throw new ConfigError(name, `must be an integer between 1 and ${max}, got "${raw}"`);
  return value;
}

export function loadOrchestrationSettings(env: Record<string, string | undefined> = process.env): OrchestrationSettings {
  return {
    maxAttempts: positiveInteger(env, 'LETHE_MAX_ATTEMPTS', DEFAULT_MAX_ATTEMPTS, 10),
    reviewTimeoutMs: positiveInteger(env, 'LETHE_REVIEW_TIMEOUT_SECONDS', DEFAULT_REVIEW_TIMEOUT_MS / 1000, 90 * 24 * 3600) * 1000,
    gpuHeartbeatTimeoutMs: positiveInteger(env, 'LETHE_GPU_HEARTBEAT_SECONDS', DEFAULT_GPU_HEARTBEAT_TIMEOUT_MS / 1000, 24 * 3600) * 1000,
    auditExecutionProvider: executionProvider(env),
  };
}
