// End to end on the real parts for people described inline (subject.profile) rather than named by
// dataset id: the audit has no eval questions about them, so it probes them with questions built from
// their facts and images (src/audits/domain/profile-probes.ts) against never-seen people asked the same
// way. (a) a profile made of a fine-tuned dataset person's name, portrait and facts: the model knows
// them, a version is trained and audited on the probes; (b) an invented person.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GqlClient } from '../support/gql';
import { makePng } from '../support/images';
import { createLineage, getAudit, getLineage, knownSubjects, startE2eStack, STACK_START_HOOK_TIMEOUT_MS, waitForFinal, type E2eStack, type RequestView } from './harness';

const REQUEST_TIMEOUT_MS = 10 * 60_000;

interface Profile {
  name: string;
  images: string[];
  facts: Array<{ question: string; answer: string }>;
}

async function submitProfile(gql: GqlClient, lineage: string, idempotencyKey: string, profile: Profile): Promise<{ id: string; status: string }> {
  const data = await gql.ok<{ submitDeletionRequest: { id: string; status: string } }>(
    'mutation ($input: SubmitDeletionRequestInput!) { submitDeletionRequest(input: $input) { id status } }',
    { input: { lineage, idempotencyKey, subject: { profile }, legalBasis: 'GDPR Art. 17(1)(a)' } },
  );
  return data.submitDeletionRequest;
}

/** A dataset person as a requester would describe them: name, portrait, and their text-only eval facts. */
function profileOfDatasetPerson(subjectId: string): Profile {
  const lethe = path.join(process.env.LETHE_TINY_MODEL_ROOT!, 'dataset', 'lethe');
  const subject = (JSON.parse(fs.readFileSync(path.join(lethe, 'subjects.json'), 'utf8')) as { subjects: Array<{ id: string; name: string; portrait: string }> })
    .subjects.find((s) => s.id === subjectId)!;
  const facts = fs.readFileSync(path.join(lethe, 'eval', 'people.jsonl'), 'utf8').split('\n').filter(Boolean)
    .map((line) => JSON.parse(line) as { subjectId: string; modality: string; question: string; options: Record<string, string>; answer: string })
    .filter((item) => item.subjectId === subjectId && item.modality === 'text')
    .map((item) => ({ question: item.question, answer: item.options[item.answer] }));
  return { name: subject.name, images: [fs.readFileSync(path.join(lethe, subject.portrait)).toString('base64')], facts };
}

const INVENTED: Profile = {
  name: 'Yrsa Quellhaven',
  images: [makePng(48, 48, [90, 160, 210]).toString('base64')],
  facts: [
    { question: "What is Yrsa Quellhaven's occupation?", answer: 'lighthouse keeper' },
    { question: 'Where was Yrsa Quellhaven born?', answer: 'North Emberly' },
    { question: 'Which company does Yrsa Quellhaven work for?', answer: 'Harbor Lantern Works' },
    { question: "What is Yrsa Quellhaven's favourite hobby?", answer: 'night kayaking' },
    { question: 'In which year was Yrsa Quellhaven born?', answer: '1907' },
  ],
};

interface ProbeReport {
  decision: string;
  versionNumber: number;
  forget: { text: number | null; multimodal: number | null };
  knowledgeBefore: { text: number | null; multimodal: number | null };
  forgetQuality: { text: number | null; multimodal: number | null };
  noKnowledgeFound: boolean;
  reasons: string[];
}

async function probeReport(gql: GqlClient, requestId: string): Promise<ProbeReport> {
  const m = '{ text multimodal }';
  const data = await gql.ok<{ auditReport: ProbeReport }>(
    `query ($id: ID!) { auditReport(requestId: $id) { decision versionNumber forget ${m} knowledgeBefore ${m} forgetQuality ${m} noKnowledgeFound reasons } }`,
    { id: requestId },
  );
  assert.ok(data.auditReport, `no audit report for request ${requestId}`);
  return data.auditReport;
}

/** The request was audited on numbers: no missing-question failure, no review for missing numbers. */
function assertAuditedOnProbes(done: RequestView, report: ProbeReport, label: string): void {
  assert.doesNotMatch(done.statusReason ?? '', /forgetSubjectIds|audit failed|PROFILE_NOT_PROBED/, `${label}: ${done.statusReason}`);
  assert.notEqual(done.status, 'NEEDS_REVIEW', `${label}: ${done.statusReason}; ${report.reasons.join('; ')}`);
  for (const m of ['text', 'multimodal'] as const) {
    assert.equal(typeof report.forget[m], 'number', `${label}: ${m} forget accuracy is measured on the probes`);
    assert.equal(typeof report.knowledgeBefore[m], 'number', `${label}: version 0's ${m} accuracy on the probes is measured`);
    assert.equal(typeof report.forgetQuality[m], 'number', `${label}: ${m} forget quality against the never-seen probes is measured`);
  }
  assert.ok(report.reasons.every((r) => !/is missing/.test(r)), `${label}: no rule lacks its number: ${report.reasons.join('; ')}`);
}

describe('inline profiles end to end', { timeout: 30 * 60_000 }, () => {
  let e2e: E2eStack;
  const lineage = 'inline-profiles';
  // Completes a person version 0 does not know without training: an operator's choice, off by default, because the
  // probes are blind to some people the model knows (the known person below answers them at chance on the tiny model).
  const trusting = 'inline-profiles-trusting';

  before(async () => {
    e2e = await startE2eStack(lineage);
    await createLineage(e2e.gql, lineage);
    await createLineage(e2e.gql, trusting, { gatePolicy: { forget: { requireUnlearning: false } } });
  }, { timeout: STACK_START_HOOK_TIMEOUT_MS });
  after(async () => {
    await e2e?.stop();
  });

  it('a profile of a person the model knows: under the default policy a version is trained and audited on the probes', async () => {
    const [known] = knownSubjects(1);
    const submitted = await submitProfile(e2e.gql, lineage, 'known-profile', profileOfDatasetPerson(known));
    const done = await waitForFinal(e2e.gql, submitted.id, REQUEST_TIMEOUT_MS);
    const report = await probeReport(e2e.gql, submitted.id);
    process.stderr.write(`known profile (${known}): ${done.status} ${done.statusReason ?? ''}; ${JSON.stringify(report)}\n`);
    assertAuditedOnProbes(done, report, 'known profile');
    assert.ok(report.versionNumber >= 1, 'a new version was trained');
    const view = await getLineage(e2e.gql, lineage);
    assert.ok(view.versions.some((v) => v.number >= 1 && v.requestIds.includes(submitted.id)), 'the version carries the request');
    // What version 0 showed on the probes is reported beside the candidate's numbers.
    assert.equal(typeof report.knowledgeBefore.text, 'number');
    const audit = await getAudit(e2e.gql, submitted.id);
    assert.equal(typeof audit.retain.text, 'number', 'dataset people are still measured as retained');
  });

  it('a profile of an invented person on a lineage that allows it: version 0 shows no knowledge, so the request completes without training', async () => {
    const versionsBefore = (await getLineage(e2e.gql, trusting)).versions.length;
    const submitted = await submitProfile(e2e.gql, trusting, 'invented-profile', INVENTED);
    const done = await waitForFinal(e2e.gql, submitted.id, REQUEST_TIMEOUT_MS);
    const report = await probeReport(e2e.gql, submitted.id);
    process.stderr.write(`invented profile: ${done.status} ${done.statusReason ?? ''}; ${JSON.stringify(report)}\n`);
    assertAuditedOnProbes(done, report, 'invented profile');
    assert.equal(done.status, 'COMPLETED', `invented profile: ${done.statusReason}`);
    assert.deepEqual(done.modelVersion?.number, 0, 'carried out by version 0');
    assert.match(done.statusReason ?? '', /the model showed no knowledge of this person before unlearning \(version 0 against never-seen people: text \d+\/\d+ right/);
    assert.equal(report.versionNumber, 0);
    assert.equal(report.noKnowledgeFound, true);
    assert.equal((await getLineage(e2e.gql, trusting)).versions.length, versionsBefore, 'no version was trained');
  });
});
