// The decoding rules of the runtime's generation path, on hand-made logits.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { logSoftmax, TokenChooser } from '../../../src/audits/runtime';

const options = { maxTokens: 1, minTokens: 0, temperature: 1, topP: 1, seed: 1, topLogprobs: 0 };
const logits = Float32Array.from([1, 3, 2, 3, -5]);

describe('token choice', () => {
  it('log-probabilities are a normalised distribution', () => {
    const lp = logSoftmax(logits);
    assert.ok(Math.abs(lp.reduce((s, v) => s + Math.exp(v), 0) - 1) < 1e-12);
    assert.ok(Math.abs(lp[1] - lp[3]) < 1e-12);
  });

  it('greedy takes the first maximum (as torch.argmax), and reports the alternatives best first', () => {
    const chosen = new TokenChooser({ ...options, temperature: 0, topLogprobs: 3 }).choose(logits);
    assert.equal(chosen.tokenId, 1);
    assert.deepEqual(chosen.top.map((t) => t.tokenId), [1, 3, 2]);
    assert.equal(chosen.logprob, logSoftmax(logits)[1]);
  });

  it('the same seed samples the same tokens; another seed may not', () => {
    const draw = (seed: number) => {
      const chooser = new TokenChooser({ ...options, seed });
      return Array.from({ length: 40 }, () => chooser.choose(logits).tokenId);
    };
    assert.deepEqual(draw(7), draw(7));
    assert.notDeepEqual(draw(7), draw(8));
  });

  it('top_p keeps only the nucleus: the two tied best tokens hold most of the mass', () => {
    const chooser = new TokenChooser({ ...options, topP: 0.5, seed: 3 });
    const seen = new Set(Array.from({ length: 200 }, () => chooser.choose(logits).tokenId));
    assert.ok([...seen].every((id) => id === 1 || id === 3), `sampled ${[...seen]}`);
    assert.equal(seen.size, 2);
  });

  it('a low temperature concentrates on the best tokens, a high one spreads', () => {
    const share = (temperature: number) => {
      const chooser = new TokenChooser({ ...options, temperature, seed: 5 });
      return Array.from({ length: 400 }, () => chooser.choose(logits).tokenId).filter((id) => id === 0 || id === 2 || id === 4).length / 400;
    };
    assert.ok(share(0.1) < 0.01, `t=0.1: ${share(0.1)}`);
    assert.ok(share(5) > 0.3, `t=5: ${share(5)}`);
  });
});
