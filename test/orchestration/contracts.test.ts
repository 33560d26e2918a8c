// Orchestration settings, and the hand-written TypeScript contract types (src/common/gpu-contracts.ts) against the JSON
// Schemas in contracts/: typed values must validate, and what the workflow changes between
// attempts (escalation) must keep `unlearn` inputs valid.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import Ajv2020 from 'ajv/dist/2020';
import type { ExportOnnxInput, ExportOnnxOutput, ForgetSetFile, UnlearnInput, UnlearnOutput } from '../../src/common/gpu-contracts';
import { GPU_NON_RETRYABLE_ERROR_TYPES, UNLEARN_METHODS } from '../../src/common/gpu-contracts';
import { escalate } from '../../workflows/escalation';
import { lineageWorkflow } from '../../workflows/lineage.workflow';
import { LINEAGE_WORKFLOW_TYPE } from '../../workflows/messages';
import { loadOrchestrationSettings } from '../../src/orchestration/orchestration-settings';

const CONTRACTS = path.resolve(__dirname, '../../../contracts');
const ajv = new Ajv2020({ allErrors: true, strict: false });
for (const file of fs.readdirSync(CONTRACTS).filter((f) => f.endsWith('.schema.json'))) {
  ajv.addSchema(JSON.parse(fs.readFileSync(path.join(CONTRACTS, file), 'utf8')));
}
function errors(schema: string, value: unknown): string[] {
  const validate = ajv.getSchema(schema)!;
  return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
}

const sha = 'ab'.repeat(32);
const unlearnInput: UnlearnInput = {
  baseModel: { path: '/models/tiny', id: 'tiny-llava' },
  dataset: { path: '/datasets/tiny' },
  parentAdapter: { path: '/artifacts/a/adapter_model.safetensors', sha256: sha },
  forgetSet: { path: '/artifacts/forget-sets/step-1/forget-set.json', sha256: sha },
  excludeFromRetain: ['s1'],
  forgottenBy: [{ adapter: { path: '/artifacts/a/adapter_model.safetensors', sha256: sha }, datasetSubjectIds: ['s1'] }],
  method: 'ga_klr',
  hyperParameters: { learningRate: 2e-4, epochs: 3, batchSize: 4, klWeight: 1 },
  lora: { rank: 8, alpha: 16, dropout: 0, targets: 'projector+llm' },
  seed: 1234,
  outputRoot: '/artifacts/adapters/default',
};

describe('contracts between the workflow and the Python worker', () => {
  it('typed unlearn / export_onnx / forget-set values validate against the schemas', () => {
    const unlearnOutput: UnlearnOutput = { adapter: { path: '/a/adapter_model.safetensors', sha256: sha }, manifestPath: '/a/manifest.json', lossCurve: [2, 1], steps: 2, wallSeconds: 1.5, tokensPerSecond: 900, reused: false };
    const exportInput: ExportOnnxInput = { baseModel: unlearnInput.baseModel, lora: { rank: 4, alpha: 8, dropout: 0.05, targets: ['q_proj', 'v_proj'] }, outputRoot: '/onnx' };
    const exportOutput: ExportOnnxOutput = { dir: '/onnx/x', manifestPath: '/onnx/x/manifest.json', reused: true };
    const forgetSet: ForgetSetFile = { subjects: [{ requestId: 'r1', name: 'Ada', datasetSubjectId: null, images: ['/tmp/a.png'], facts: [{ question: 'q', answer: 'a' }] }] };
    assert.deepEqual(errors('unlearn.input.schema.json', unlearnInput), []);
    assert.deepEqual(errors('unlearn.input.schema.json', { ...unlearnInput, parentAdapter: null }), []);
    const { forgottenBy: _, ...withoutForgottenBy } = unlearnInput;
    assert.deepEqual(errors('unlearn.input.schema.json', withoutForgottenBy), [], 'forgottenBy is optional');
    assert.deepEqual(errors('unlearn.output.schema.json', unlearnOutput), []);
    assert.deepEqual(errors('export_onnx.input.schema.json', exportInput), []);
    assert.deepEqual(errors('export_onnx.output.schema.json', exportOutput), []);
    assert.deepEqual(errors('forget-set.schema.json', forgetSet), []);
  });

  it('every method the TypeScript side can send is one the schema accepts, and no other', () => {
    const schema = JSON.parse(fs.readFileSync(path.join(CONTRACTS, 'unlearn.input.schema.json'), 'utf8'));
    assert.deepEqual([...UNLEARN_METHODS].sort(), [...schema.properties.method.enum].sort());
  });

  it('the schemas reject what the types forbid, naming the field', () => {
    assert.match(errors('unlearn.input.schema.json', { ...unlearnInput, method: 'sgd' }).join(), /\/method/);
    const noPeople = { ...unlearnInput, forgottenBy: [{ adapter: { path: '/a', sha256: sha }, datasetSubjectIds: [] }] };
    assert.match(errors('unlearn.input.schema.json', noPeople).join(), /\/forgottenBy\/0\/datasetSubjectIds/);
    assert.match(errors('unlearn.input.schema.json', { ...unlearnInput, hyperParameters: { learningRate: 0, epochs: 1, batchSize: 1 } }).join(), /\/hyperParameters\/learningRate/);
    const { seed: _seed, ...withoutSeed } = unlearnInput;
    assert.match(errors('unlearn.input.schema.json', withoutSeed).join(), /seed/);
  });

  it('escalated attempts stay valid unlearn inputs', () => {
    let settings = { method: unlearnInput.method, hyperParameters: unlearnInput.hyperParameters };
    const suggestions = [
      { direction: 'STRENGTHEN_FORGETTING' as const, learningRateFactor: 2, epochsFactor: 1.5, suggestion: 'stronger' },
      { direction: 'PROTECT_UTILITY' as const, method: 'npo' as const, learningRateFactor: 0.5, epochsFactor: 0.1, suggestion: 'gentler' },
    ];
    for (const suggestion of suggestions) {
      settings = escalate(settings, suggestion);
      assert.deepEqual(errors('unlearn.input.schema.json', { ...unlearnInput, ...settings }), [], JSON.stringify(settings));
    }
    assert.equal(settings.method, 'npo');
    assert.equal(settings.hyperParameters.epochs, 1, 'epochs never drop below 1');
  });

  it('the non-retryable error types match the Python worker', () => {
    const errorsPy = fs.readFileSync(path.resolve(__dirname, '../../../gpu-worker/lethe_worker/errors.py'), 'utf8');
    const pythonCodes = [...errorsPy.matchAll(/^\s+([A-Z_]+) = "([A-Z_]+)"$/gm)].map((m) => m[2]).sort();
    assert.deepEqual([...GPU_NON_RETRYABLE_ERROR_TYPES].sort(), pythonCodes);
  });
});

describe('workflow registration', () => {
  it('clients start the workflow under the name the worker registers', () => {
    assert.equal(lineageWorkflow.name, LINEAGE_WORKFLOW_TYPE);
  });
});

describe('orchestration settings', () => {
  it('defaults, parses, and names the variable of a bad value', () => {
    assert.deepEqual(loadOrchestrationSettings({}), { maxAttempts: 3, reviewTimeoutMs: 7 * 24 * 3600 * 1000, gpuHeartbeatTimeoutMs: 120_000, auditExecutionProvider: 'cpu' });
    assert.deepEqual(
      loadOrchestrationSettings({ LETHE_MAX_ATTEMPTS: '5', LETHE_REVIEW_TIMEOUT_SECONDS: '60', LETHE_GPU_HEARTBEAT_SECONDS: '15', LETHE_AUDIT_EXECUTION_PROVIDER: 'cuda' }),
      { maxAttempts: 5, reviewTimeoutMs: 60_000, gpuHeartbeatTimeoutMs: 15_000, auditExecutionProvider: 'cuda' },
    );
    assert.throws(() => loadOrchestrationSettings({ LETHE_AUDIT_EXECUTION_PROVIDER: 'tpu' }), /LETHE_AUDIT_EXECUTION_PROVIDER/);
    assert.throws(() => loadOrchestrationSettings({ LETHE_MAX_ATTEMPTS: '0' }), /LETHE_MAX_ATTEMPTS/);
    assert.throws(() => loadOrchestrationSettings({ LETHE_GPU_HEARTBEAT_SECONDS: 'soon' }), /LETHE_GPU_HEARTBEAT_SECONDS/);
  });
});
