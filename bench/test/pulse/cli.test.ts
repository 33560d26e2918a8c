// The command end to end on the real tiny LLaVA: worker subprocess (unlearn + export_onnx), the
// audit scorer on onnxruntime-node, JSON line, report files and PNG charts. Kept small (2 rounds
// of 2 people, 1 training step, one re-forget pass and the goal passes) so it runs in a minute or two on 2 cores.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { peopleAbove, type ModalityAccuracy } from '../../../src/orchestration/domain/passes';

const CLI = path.resolve(__dirname, '..', '..', 'pulse', 'cli.js');

function pulse(args: string[], env: NodeJS.ProcessEnv = process.env) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env, timeout: 600_000 });
}

describe('npm run pulse', () => {
  it('exits 2 with a clear message on an unknown setting or method', () => {
    const bad = pulse(['finetunde']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /pulse: setting: unknown value "finetunde"; expected one of finetuned, pretrained, sustainability, all/);
    assert.match(bad.stderr, /usage: npm run pulse/);
    const method = pulse(['finetuned', '--method', 'sgd']);
    assert.equal(method.status, 2);
    assert.match(method.stderr, /--method: unknown value "sgd"/);
  });

  it('names the missing model root', () => {
    const r = pulse(['finetuned', '--model', '/nonexistent-pulse-root']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--model: \/nonexistent-pulse-root has no model\/ directory/);
  });

  it('sustainability on the tiny LLaVA prints one JSON line of the report shape and writes the report', () => {
    assert.ok(process.env.LETHE_TINY_MODEL_ROOT, 'LETHE_TINY_MODEL_ROOT must be set (npm test sets it)');
    assert.ok(process.env.LETHE_PYTHON, 'LETHE_PYTHON must be set (npm test sets it)');
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-pulse-'));
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-pulse-cache-'));
    try {
      const r = pulse(
        ['sustainability', '--method', 'ga', '--strategy', 'sequential', '--rounds', '2', '--max-people', '2', '--max-steps', '1', '--reforget', '1', '--json', '--out', out],
        { ...process.env, LETHE_CACHE: cache },
      );
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /round 2\/2: unlearn step 1\/1/, 'progress is shown while it runs');
      const lines = r.stdout.trim().split('\n');
      const o = JSON.parse(lines[lines.length - 1]);
      assert.equal(o.setting, 'sustainability');
      assert.equal(o.method, 'ga');
      assert.equal(o.strategy, 'sequential');
      assert.deepEqual(Object.keys(o.baseline), ['forget', 'retain', 'general']);
      assert.equal(o.rounds.length, 2);
      const acc = (v: unknown) => typeof v === 'number' && v >= 0 && v <= 1;
      for (const [i, round] of o.rounds.entries()) {
        assert.equal(round.round, i + 1);
        assert.deepEqual(Object.keys(round), ['round', 'forget', 'cumulativeForget', 'retain', 'general', 'forgetting']);
        for (const set of ['forget', 'cumulativeForget', 'retain'] as const) {
          assert.ok(acc(round[set].multimodal) && acc(round[set].text), `round ${i + 1} ${set}: ${JSON.stringify(round[set])}`);
        }
        assert.ok(acc(round.general));
        // This request's people against the 50 never-seen people of the tiny dataset (their questions are scored too).
        for (const m of ['multimodal', 'text'] as const) {
          const e = round.forgetting[m];
          assert.ok(e.n > 0 && e.referenceN > 0, `round ${i + 1} ${m}: ${JSON.stringify(e)}`);
          assert.ok(acc(e.forgetQuality) && acc(e.miaAuc) && acc(e.belowChance), `round ${i + 1} ${m}: ${JSON.stringify(e)}`);
          assert.deepEqual(Object.keys(e.passes).sort(), ['BELOW_CHANCE', 'FORGET_QUALITY', 'MIA_AUC']);
        }
      }
      assert.ok(o.baselineForgetting.multimodal.referenceN > 0);
      // Round 1 forgets one person, so its request and everyone-so-far are the same people.
      assert.deepEqual(o.rounds[0].forget, o.rounds[0].cumulativeForget);
      const report = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8'));
      const run = report.runs[0];
      assert.deepEqual(Object.keys(run.rounds[1].forgottenSubjects).sort(), [...run.split.forget].sort());
      // One step forgets nobody, so each round's pass re-forgets everyone forgotten so far above the re-forget line (0.2), a step per person; goal
      // passes follow while someone is above 0.4, and only one that leaves fewer above is listed.
      type Round = { reforgotten: string[][]; steps: number; forgottenSubjects: Record<string, ModalityAccuracy> };
      const rounds: Round[] = run.rounds;
      assert.deepEqual(rounds.map((x) => x.reforgotten[0]), [[run.split.forget[0]], [...run.split.forget].sort()]);
      assert.match(r.stderr, /round 2\/2 re-forget 1\/1 \(2 above 0\.2\): unlearn step 2\/2/);
      for (const [i, round] of rounds.entries()) {
        assert.ok(round.steps >= [1 + 1, 1 + 2][i], `round ${i + 1}: ${round.steps} steps`);
        // Goal passes stop early only when nobody is left above the goal.
        if (peopleAbove(round.forgottenSubjects, 0.4).length > 0) assert.match(r.stderr, new RegExp(`round ${i + 1}/2 goal pass 3/3`));
        else assert.ok(round.reforgotten.length > 1 || !r.stderr.includes(`round ${i + 1}/2 goal pass`), 'no goal pass without someone above the goal');
      }
      const png = fs.readFileSync(path.join(out, 'figure5-rounds.png'));
      assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      assert.match(fs.readFileSync(path.join(out, 'report.html'), 'utf8'), /<img src="figure5-rounds.png"/);

      // Re-rendered from the saved file, with the same run listed again as a labelled earlier run.
      const docs = path.join(out, 'results.md');
      const saved = path.join(out, 'report.json');
      const rendered = pulse(['--from', saved, '--include', `${saved}=one step a round`, '--docs', docs]);
      assert.equal(rendered.status, 0, rendered.stderr);
      const markdown = fs.readFileSync(docs, 'utf8');
      assert.match(markdown.split('## Strategy search')[0], /- Re-forgetting \(--reforget N\): after a sequential request's operation and audit, up to N more operations/);
      const search = markdown.split('## Strategy search')[1] ?? '';
      assert.match(search, /\*\*ga sequential \(projector\+llm\), re-forgetting \(≤ 1 passes a request, above 0\.2\), one step a round\*\* \(learningRate=/);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
      fs.rmSync(cache, { recursive: true, force: true });
    }
  });
});
