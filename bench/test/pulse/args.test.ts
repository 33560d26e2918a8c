import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_MAX_STEPS, METHODS, parsePulseArgs, PulseArgsError } from '../../pulse/args';

function rejects(argv: string[], flag: string, pattern: RegExp) {
  assert.throws(() => parsePulseArgs(argv), (e: unknown) => {
    assert.ok(e instanceof PulseArgsError, `expected PulseArgsError, got ${e}`);
    assert.equal(e.flag, flag);
    assert.match(e.message, pattern);
    return true;
  });
}

describe('pulse arguments', () => {
  it('parses a full command line', () => {
    const a = parsePulseArgs(['sustainability', '--method', 'npo', '--strategy', 'cumulative', '--targets', 'projector+llm', '--seeds', '3', '--model', '/m', '--out', '/o', '--json', '--rounds', '2', '--max-steps', '7', '--hyper', '{"learningRate":0.0001}']);
    assert.deepEqual(a.settings, ['sustainability']);
    assert.deepEqual(a.methods, ['npo']);
    assert.deepEqual(a.strategies, ['cumulative']);
    assert.deepEqual(a.targets, ['projector+llm']);
    assert.equal(a.seeds, 3);
    assert.equal(a.modelRoot, '/m');
    assert.equal(a.outDir, '/o');
    assert.equal(a.json, true);
    assert.equal(a.rounds, 2);
    assert.equal(a.maxSteps, 7);
    assert.deepEqual(a.hyperParameters, { learningRate: 0.0001 });
  });

  it('defaults: every method, both strategies, the service\'s LoRA targets, one seed, 5 rounds, the CPU step budget', () => {
    const a = parsePulseArgs(['finetuned']);
    assert.deepEqual(a.methods, [...METHODS]);
    assert.deepEqual(a.strategies, ['sequential', 'cumulative']);
    assert.deepEqual(a.targets, ['projector+llm']);
    assert.equal(a.seeds, 1);
    assert.equal(a.rounds, 5);
    assert.equal(a.maxSteps, DEFAULT_MAX_STEPS);
    assert.equal(a.json, false);
    assert.equal(a.reforgetPasses, 0);
  });

  it('sequential sustainability re-forgets as a new lineage does unless --reforget says otherwise', () => {
    assert.equal(parsePulseArgs(['sustainability']).reforgetPasses, 3);
    assert.equal(parsePulseArgs(['sustainability', '--strategy', 'cumulative']).reforgetPasses, 0);
    assert.equal(parsePulseArgs(['sustainability', '--reforget', '0']).reforgetPasses, 0);
  });

  it('--reforget: passes after each sequential request, only where sequential sustainability runs', () => {
    assert.equal(parsePulseArgs(['sustainability', '--strategy', 'sequential', '--reforget', '3']).reforgetPasses, 3);
    assert.equal(parsePulseArgs(['all', '--reforget', '0']).reforgetPasses, 0);
    rejects(['sustainability', '--reforget', '-1'], '--reforget', /non-negative integer, got "-1"/);
    rejects(['sustainability', '--reforget', 'two'], '--reforget', /non-negative integer/);
    rejects(['finetuned', '--reforget', '1'], '--reforget', /only sequential sustainability runs re-forget/);
    rejects(['sustainability', '--strategy', 'cumulative', '--reforget', '1'], '--reforget', /without --strategy cumulative/);
  });

  it('--reforget-above: whom a pass takes, a new lineage\'s 0.2 unless given, from 0 up to 1', () => {
    assert.equal(parsePulseArgs(['sustainability', '--reforget', '3']).reforgetAboveAccuracy, 0.2);
    assert.equal(parsePulseArgs(['sustainability', '--reforget', '3', '--reforget-above', '0.4']).reforgetAboveAccuracy, 0.4);
    assert.equal(parsePulseArgs(['sustainability', '--reforget', '3', '--reforget-above', '0.2']).reforgetAboveAccuracy, 0.2);
    assert.equal(parsePulseArgs(['sustainability', '--reforget-above', '0']).reforgetAboveAccuracy, 0);
    rejects(['sustainability', '--reforget-above', '1'], '--reforget-above', /from 0 up to \(not including\) 1, got "1"/);
    rejects(['sustainability', '--reforget-above', 'half'], '--reforget-above', /got "half"/);
    rejects(['sustainability', '--reforget-above', '-0.1'], '--reforget-above', /from 0 up to/);
  });

  it('"all" expands settings, methods and targets', () => {
    const a = parsePulseArgs(['all', '--method', 'all', '--targets', 'all']);
    assert.deepEqual(a.settings, ['finetuned', 'pretrained', 'sustainability']);
    assert.deepEqual(a.methods, ['ga', 'ga_klr', 'npo', 'graddiff', 'neverseen_kd']);
    assert.deepEqual(a.targets, ['llm', 'projector+llm']);
  });

  it('--from renders saved reports without a setting; --include adds earlier runs, optionally labelled', () => {
    const a = parsePulseArgs(['--from', 'a.json', '--from', 'b.json', '--include', 'c.json', '--include', 'd.json= hold at the parent (variant B)', '--docs', 'x.md']);
    assert.deepEqual(a.settings, []);
    assert.deepEqual(a.from, ['a.json', 'b.json']);
    assert.deepEqual(a.include, [{ file: 'c.json' }, { file: 'd.json', label: 'hold at the parent (variant B)' }]);
    assert.equal(a.docsFile, 'x.md');
    rejects(['--from', 'a.json', '--include', 'd.json='], '--include', /expected REPORT_JSON or REPORT_JSON=LABEL, got "d.json="/);
  });

  it('rejects an unknown setting, naming the allowed ones', () => {
    rejects(['forgetful'], 'setting', /unknown value "forgetful"; expected one of finetuned, pretrained, sustainability, all/);
  });

  it('rejects a missing or second setting', () => {
    rejects(['--json'], 'setting', /missing/);
    rejects(['finetuned', 'pretrained'], 'setting', /only one setting/);
  });

  it('rejects an unknown method, strategy or target', () => {
    rejects(['finetuned', '--method', 'sgd'], '--method', /unknown value "sgd"; expected one of ga, ga_klr, npo, graddiff, neverseen_kd, all/);
    rejects(['sustainability', '--strategy', 'parallel'], '--strategy', /unknown value "parallel"/);
    rejects(['finetuned', '--targets', 'vision'], '--targets', /unknown value "vision"/);
  });

  it('rejects unknown options, missing values and bad numbers', () => {
    rejects(['finetuned', '--verbose'], '--verbose', /unknown option/);
    rejects(['finetuned', '--method'], '--method', /missing value/);
    rejects(['finetuned', '--seeds', '0'], '--seeds', /positive integer, got "0"/);
    rejects(['finetuned', '--seeds', '2.5'], '--seeds', /positive integer/);
    rejects(['finetuned', '--hyper', '{"learningRate":"fast"}'], '--hyper', /learningRate must be a finite number/);
    rejects(['finetuned', '--hyper', '[1]'], '--hyper', /JSON object/);
    rejects(['finetuned', '--hyper', '{"ascentObjective":1}'], '--hyper', /ascentObjective must be a string/);
  });

  it('takes the word-valued hyper-parameters as words', () => {
    const a = parsePulseArgs(['finetuned', '--hyper', '{"klReference":"base","ascentObjective":"logOdds","ascentFloor":0.05}']);
    assert.deepEqual(a.hyperParameters, { klReference: 'base', ascentObjective: 'logOdds', ascentFloor: 0.05 });
  });
});
