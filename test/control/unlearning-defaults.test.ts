import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contractValidator, describeSchemaError } from '../../src/audits/runtime/contract-schemas';
import { defaultHyperParameters, DEFAULT_LORA, DEFAULT_METHOD, DEFAULT_REFORGET_ABOVE_ACCURACY, DEFAULT_REFORGET_PASSES, MAX_REFORGET_PASSES, parseHyperParameters, UNLEARNING_DEFAULTS } from '../../src/lineages/domain/lineage';

// The same values gpu-worker/tests/test_config.py expects of the Python worker.
const GA_KLR = { learningRate: 0.001, epochs: 12, batchSize: 4, ascentFloor: 0.05, klReference: 'base', holdForgottenWeight: 1 };
const NPO = { learningRate: 0.001, epochs: 2, batchSize: 8, npoBeta: 0.1 };
const LORA = { rank: 8, alpha: 16, dropout: 0, targets: 'projector+llm' };
const FIELDS = { hyperParameters: 'hp', experimental: 'x' };

describe('unlearning defaults (contracts/unlearning-defaults.json)', () => {
  it('the document matches its schema, and the schema refuses a research knob among a method\'s defaults', () => {
    const validate = contractValidator('unlearning-defaults.schema.json');
    assert.ok(validate(UNLEARNING_DEFAULTS), JSON.stringify(describeSchemaError(validate.errors)));
    const broken = structuredClone(UNLEARNING_DEFAULTS) as unknown as { methods: { ga: Record<string, unknown> } };
    broken.methods.ga.maxSteps = 10;
    assert.equal(validate(broken), false);
  });

  it('the profile values the worker reads too', () => {
    assert.equal(DEFAULT_METHOD, 'ga_klr');
    assert.deepEqual(defaultHyperParameters('ga_klr', false), GA_KLR);
    assert.deepEqual(defaultHyperParameters('npo', false), NPO);
    assert.deepEqual(DEFAULT_LORA, LORA);
    assert.deepEqual([DEFAULT_REFORGET_PASSES, DEFAULT_REFORGET_ABOVE_ACCURACY, MAX_REFORGET_PASSES], [3, 0.2, 5]);
  });

  it('a dataset with general training questions turns the general KL on for every method', () => {
    assert.deepEqual(defaultHyperParameters('ga_klr', true), { ...GA_KLR, generalKlWeight: 1 });
    assert.deepEqual(defaultHyperParameters('npo', true), { ...NPO, generalKlWeight: 1 });
    assert.deepEqual(defaultHyperParameters('npo', false), NPO, 'the document itself is not changed');
  });

  it('given values merge over the method\'s defaults; an error names the input it came from', () => {
    assert.deepEqual(parseHyperParameters({ epochs: 5, npoBeta: null }, { maxSteps: 9 }, defaultHyperParameters('npo', false), FIELDS), { ...NPO, epochs: 5, maxSteps: 9 });
    assert.throws(() => parseHyperParameters({ epochs: 101 }, null, NPO, FIELDS), { field: 'hp.epochs' });
    assert.throws(() => parseHyperParameters(null, { maxSteps: 0 }, NPO, FIELDS), { field: 'x.maxSteps' });
    assert.throws(() => parseHyperParameters({ maxSteps: 3 }, null, NPO, FIELDS), { field: 'hp.maxSteps' });
  });
});
