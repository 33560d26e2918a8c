// The probe builder for inline profiles, on a hand-made world: distractors of the same kind, text and
// image forms, the name question, the never-seen reference built the same way, determinism.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EvalItem, OPTION_LETTERS } from '../../src/audits/domain/eval-item';
import {
  buildProbeSet, isProbeSubjectId, NAME_QUESTION, neverSeenProbeProfiles, ProbeProfile, ProbeWorld, profileSubjectId, questionKind,
} from '../../src/audits/domain/profile-probes';

function personItem(id: string, subjectId: string, split: EvalItem['split'], modality: EvalItem['modality'], question: string, right: string, wrong: string[]): EvalItem {
  return { id, split, modality, subjectId, category: null, question, options: { A: right, B: wrong[0], C: wrong[1], D: wrong[2] }, answer: 'A', image: modality === 'multimodal' ? `images/${subjectId}.png` : null };
}

const WORLD: ProbeWorld = {
  subjects: [
    { id: 'p1', name: 'Ada Lind', knowledge: 'FINETUNED', portrait: '/d/images/p1.png' },
    { id: 'p2', name: 'Bo Strand', knowledge: 'FINETUNED', portrait: '/d/images/p2.png' },
    { id: 'p3', name: 'Cy Moor', knowledge: 'FINETUNED', portrait: '/d/images/p3.png' },
    { id: 'n1', name: 'Dee Fell', knowledge: 'NEVER_SEEN', portrait: '/d/images/n1.png' },
    { id: 'n2', name: 'Eli Voss', knowledge: 'NEVER_SEEN', portrait: null },
  ],
  evalItems: [
    personItem('p1-t1', 'p1', 'fictional', 'text', "What is Ada Lind's occupation?", 'baker', ['x1', 'x2', 'x3']),
    personItem('p1-m1', 'p1', 'fictional', 'multimodal', "What is this person's occupation?", 'baker', ['x1', 'x2', 'x3']),
    personItem('p2-t1', 'p2', 'fictional', 'text', "What is Bo Strand's occupation?", 'pilot', ['x1', 'x2', 'x3']),
    personItem('p3-t1', 'p3', 'fictional', 'text', "What is Cy Moor's occupation?", 'nurse', ['x1', 'x2', 'x3']),
    personItem('n1-t1', 'n1', 'never_seen', 'text', "What is Dee Fell's occupation?", 'lawyer', ['x1', 'x2', 'x3']),
    personItem('n1-m1', 'n1', 'never_seen', 'multimodal', "What is this person's occupation?", 'lawyer', ['x1', 'x2', 'x3']),
    personItem('n2-t1', 'n2', 'never_seen', 'text', "What is Eli Voss's occupation?", 'chemist', ['x1', 'x2', 'x3']),
    { id: 'g1', split: 'general', modality: 'text', subjectId: null, category: 'math', question: '1+1?', options: { A: '2', B: '3', C: '4', D: '5' }, answer: 'A', image: null },
  ],
};

const PROFILE: ProbeProfile = {
  subjectId: profileSubjectId('req-1'),
  name: 'Ada Lind',
  facts: [
    { question: "What is Ada Lind's occupation?", answer: 'baker' },
    { question: 'Where does Ada Lind live?', answer: 'Lyon' },
  ],
  images: ['/forget/req-1-0.png', '/forget/req-1-1.png'],
};

const rightOf = (item: EvalItem) => item.options[item.answer];

describe('profile probes', () => {
  it('normalises a question to its kind, name or "this person" alike', () => {
    assert.equal(questionKind("What is Ada Lind's occupation?", 'Ada Lind'), "what is {person}'s occupation?");
    assert.equal(questionKind("What is  this person's occupation?", 'Ada Lind'), "what is {person}'s occupation?");
    assert.equal(isProbeSubjectId(profileSubjectId('r')), true);
    assert.equal(isProbeSubjectId('probe:n1'), true);
    assert.equal(isProbeSubjectId('p1'), false);
  });

  it("asks each fact text-only and with each image, with three distractors of the fact's kind", () => {
    const { items, skippedFacts } = buildProbeSet([PROFILE], WORLD);
    const occupation = items.filter((i) => i.id.startsWith(`${PROFILE.subjectId}:fact-0-`));
    assert.deepEqual(occupation.map((i) => i.modality), ['text', 'multimodal', 'multimodal']);
    assert.equal(occupation[0].question, "What is Ada Lind's occupation?");
    assert.equal(occupation[0].imagePath, null);
    // The same words with the image, as the unlearning step trains on them.
    assert.equal(occupation[1].question, "What is Ada Lind's occupation?");
    assert.deepEqual(occupation.slice(1).map((i) => i.imagePath), PROFILE.images);
    for (const item of occupation) {
      assert.equal(rightOf(item), 'baker');
      assert.equal(item.split, 'profile');
      assert.equal(item.subjectId, PROFILE.subjectId);
      // Other people's occupations (the dataset's answers of the same kind), never the right one twice.
      assert.ok(Object.values(item.options).filter((o) => o !== 'baker').every((o) => ['chemist', 'lawyer', 'nurse', 'pilot'].includes(o)));
      assert.equal(new Set(Object.values(item.options)).size, 4);
    }
    // "Where does … live?" has no kind in the dataset and the profile only one other answer: too few distractors.
    assert.equal(items.some((i) => i.id.includes('fact-1')), false);
    assert.deepEqual(skippedFacts, { [PROFILE.subjectId]: 1 });
  });

  it('asks the name on each image against three other names', () => {
    const names = buildProbeSet([PROFILE], WORLD).items.filter((i) => i.question === NAME_QUESTION);
    assert.equal(names.length, 2);
    for (const item of names) {
      assert.equal(rightOf(item), 'Ada Lind');
      assert.equal(item.modality, 'multimodal');
      assert.equal(new Set(Object.values(item.options)).size, 4);
      assert.ok(Object.values(item.options).every((n) => WORLD.subjects.some((s) => s.name === n)));
    }
  });

  it("fills distractors from the profile's other answers when the dataset has none of the kind", () => {
    const profile: ProbeProfile = {
      subjectId: profileSubjectId('req-2'), name: 'Zed Q', images: [],
      facts: [{ question: 'Favourite colour?', answer: 'red' }, { question: 'Pet?', answer: 'cat' }, { question: 'Car?', answer: 'Volvo' }, { question: 'City?', answer: 'Oslo' }],
    };
    const { items } = buildProbeSet([profile], WORLD);
    assert.equal(items.length, 4, 'text-only: one question per fact, no name question without an image');
    assert.deepEqual(Object.values(items[0].options).sort(), ['Oslo', 'Volvo', 'cat', 'red']);
    assert.ok(items.every((i) => OPTION_LETTERS.includes(i.answer)));
  });

  it('builds the never-seen reference the same way from NEVER_SEEN people', () => {
    assert.deepEqual(neverSeenProbeProfiles(WORLD).map((p) => [p.subjectId, p.name, p.facts, p.images]), [
      ['probe:n1', 'Dee Fell', [{ question: "What is Dee Fell's occupation?", answer: 'lawyer' }], ['/d/images/n1.png']],
      ['probe:n2', 'Eli Voss', [{ question: "What is Eli Voss's occupation?", answer: 'chemist' }], []],
    ]);
    const { reference } = buildProbeSet([PROFILE], WORLD);
    assert.deepEqual(reference.map((i) => [i.subjectId, i.modality, i.split, i.question]), [
      ['probe:n1', 'text', 'never_seen', "What is Dee Fell's occupation?"],
      ['probe:n1', 'multimodal', 'never_seen', "What is Dee Fell's occupation?"],
      ['probe:n1', 'multimodal', 'never_seen', NAME_QUESTION],
      ['probe:n2', 'text', 'never_seen', "What is Eli Voss's occupation?"],
    ]);
    assert.deepEqual(buildProbeSet([], WORLD), { items: [], reference: [], skippedFacts: {} }, 'no profile, no reference to score');
  });

  it('is deterministic for a seed, and a profile keeps its options when another joins', () => {
    const one = buildProbeSet([PROFILE], WORLD, 7);
    assert.deepEqual(buildProbeSet([PROFILE], WORLD, 7), one);
    const other: ProbeProfile = { ...PROFILE, subjectId: profileSubjectId('req-0') };
    const two = buildProbeSet([other, PROFILE], WORLD, 7);
    assert.deepEqual(two.items.filter((i) => i.subjectId === PROFILE.subjectId), one.items);
    const seeds = [1, 2, 3, 4, 5, 6].map((s) => JSON.stringify(buildProbeSet([PROFILE], WORLD, s).items.map((i) => i.options)));
    assert.ok(new Set(seeds).size > 1, 'the seed moves the options');
  });
});
