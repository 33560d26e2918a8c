import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { it } from 'node:test';
import { mcPrompt, openPrompt, PROMPT_FORMATS, PromptFormat } from '../../../src/audits/runtime';
import { parseChatRequest } from '../../../src/serving/domain/chat-request';
import { REPO_ROOT } from './torch-reference';

const OPTIONS = { A: 'baker', B: 'pilot', C: 'lawyer', D: 'nurse' };

it('mcPrompt builds the shared prompt vectors byte for byte, in every named format', () => {
  const { cases } = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'contracts', 'vectors', 'prompts.json'), 'utf8'));
  const covered = new Set(cases.map((c: { format: string; modality: string }) => `${c.format}/${c.modality}`));
  assert.deepEqual([...covered].sort(), PROMPT_FORMATS.flatMap((f) => [`${f}/multimodal`, `${f}/text`]).sort());
  for (const c of cases) assert.equal(mcPrompt(c.question, c.options, c.modality === 'multimodal', c.format), c.prompt);
});

it('mcPrompt asks in the default format unless told otherwise, and refuses an unknown format', () => {
  assert.equal(mcPrompt('Q?', OPTIONS, true), mcPrompt('Q?', OPTIONS, true, 'mmbench'));
  assert.notEqual(mcPrompt('Q?', OPTIONS, true, 'mllmu'), mcPrompt('Q?', OPTIONS, true));
  assert.throws(() => mcPrompt('Q?', OPTIONS, true, 'llava-1.6' as PromptFormat), /prompt format must be one of mmbench, mllmu/);
});

it('openPrompt asks as the chat endpoint renders one user message, so the free-form probe sees what a user of the served model sees', () => {
  const question = 'Where was Ada Fictional born?';
  assert.equal(openPrompt(question), `USER: ${question} ASSISTANT:`);
  assert.equal(parseChatRequest({ model: 'default', messages: [{ role: 'user', content: question }], temperature: 0 }, 16).prompt, openPrompt(question));
});
