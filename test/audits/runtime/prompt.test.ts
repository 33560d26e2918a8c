import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { it } from 'node:test';
import { mcPrompt } from '../../../src/audits/runtime';
import { REPO_ROOT } from './torch-reference';

it('mcPrompt builds the shared prompt vectors byte for byte', () => {
  const { cases } = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'contracts', 'vectors', 'prompts.json'), 'utf8'));
  assert.ok(cases.length >= 2);
  for (const c of cases) assert.equal(mcPrompt(c.question, c.options, c.modality === 'multimodal'), c.prompt);
});
