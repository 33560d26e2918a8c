// Filing a deletion request: a person of the lineage's dataset (a picker searching the dataset's people
// through the API) or a person described inline (name, facts, images with previews). The service validates; its
// messages appear next to the field they name.
import { useState } from 'preact/hooks';
import { gql, listLineageNames } from '../api';
import { ErrorBox, Field, fieldError, formError, go, useLoad } from '../ui';

const DEFAULT_LEGAL_BASIS = 'GDPR Art. 17(1)(a)';
const F = {
  lineage: 'input.lineage',
  legalBasis: 'input.legalBasis',
  note: 'input.note',
  subject: 'input.subject',
  profile: 'input.subject.profile',
  datasetSubjectId: 'input.subject.datasetSubjectId',
  name: 'input.subject.profile.name',
  facts: 'input.subject.profile.facts',
  images: 'input.subject.profile.images',
};

interface Subject {
  id: string;
  name: string;
  knowledge: string;
}

const SUBJECTS = 'query ($lineage: String!, $search: String) { datasetSubjects(lineage: $lineage, search: $search, first: 20) { totalCount edges { node { id name knowledge } } } }';

/**
 * Dataset people matching the search, as the API finds them: it decides who may list and who must
 * search, and which people a role is shown; its message about the search appears beside the field.
 */
function SubjectPicker({ lineage, value, onChange, error }: { lineage: string; value: string; onChange: (id: string) => void; error: string | null }) {
  const [search, setSearch] = useState('');
  const needle = search.trim();
  const { data, error: listError } = useLoad(
    async () => (lineage ? (await gql<{ datasetSubjects: { totalCount: number; edges: { node: Subject }[] } }>(SUBJECTS, { lineage, search: needle || null })).datasetSubjects : null),
    [lineage, needle],
  );
  const matches = data?.edges.map((e) => e.node) ?? [];
  const searchError = fieldError(listError, 'search');
  return (
    <fieldset class="picker">
      <legend>Person of the dataset</legend>
      <Field label="Search people" hint="by name or id" error={needle ? searchError : null}>
        {({ id, describedBy, invalid }) => <input id={id} type="search" value={search} onInput={(e) => setSearch(e.currentTarget.value)} aria-describedby={describedBy} aria-invalid={invalid} />}
      </Field>
      <ErrorBox error={formError(listError, ['search'])} />
      <Field label="Person" error={error} hint={data ? `${matches.length} of ${data.totalCount} shown` : undefined}>
        {({ id, describedBy, invalid }) => (
          <select id={id} size={Math.min(8, Math.max(2, matches.length))} value={value} onChange={(e) => onChange(e.currentTarget.value)} aria-describedby={describedBy} aria-invalid={invalid}>
            {matches.map((s) => <option value={s.id}>{s.name} ({s.id}, {s.knowledge.toLowerCase()})</option>)}
          </select>
        )}
      </Field>
    </fieldset>
  );
}

function readBase64(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ''));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

interface Upload {
  name: string;
  url: string;
  base64: string;
}

export function NewRequest() {
  const [lineage, setLineage] = useState('default');
  const [legalBasis, setLegalBasis] = useState(DEFAULT_LEGAL_BASIS);
  const [note, setNote] = useState('');
  const [kind, setKind] = useState<'dataset' | 'profile'>('dataset');
  const [subjectId, setSubjectId] = useState('');
  const [name, setName] = useState('');
  const [facts, setFacts] = useState([{ question: '', answer: '' }]);
  const [images, setImages] = useState<Upload[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  // One key per form: resubmitting after a network failure cannot file the request twice.
  const [idempotencyKey] = useState(() => crypto.randomUUID());
  const lineages = useLoad(listLineageNames, []);

  const addImages = async (files: FileList | null) => {
    const added = await Promise.all([...(files ?? [])].map(async (file) => ({ name: file.name, url: URL.createObjectURL(file), base64: await readBase64(file) })));
    setImages((current) => [...current, ...added]);
  };
  const removeImage = (index: number) => setImages((current) => current.filter((_, i) => i !== index));

  const submit = async (e: Event) => {
    e.preventDefault();
    const subject = kind === 'dataset'
      ? { datasetSubjectId: subjectId.trim() }
      : { profile: { name, facts: facts.filter((f) => f.question.trim() || f.answer.trim()), images: images.map((i) => i.base64) } };
    setBusy(true);
    try {
      const data = await gql<{ submitDeletionRequest: { id: string } }>(
        'mutation ($input: SubmitDeletionRequestInput!) { submitDeletionRequest(input: $input) { id status } }',
        { input: { lineage, idempotencyKey: `console-${idempotencyKey}`, legalBasis, ...(note.trim() ? { note } : {}), subject } },
      );
      go('requests', data.submitDeletionRequest.id);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const err = (field: string) => fieldError(error, field);
  // What the API says of the subject as a whole ("exactly one of ...", "nothing to forget"), beside the choice.
  const subjectError = fieldError(error, F.subject, true) ?? fieldError(error, F.profile, true);
  return (
    <section aria-labelledby="new-title">
      <h1 id="new-title">File a deletion request</h1>
      <form class="card form" onSubmit={submit} noValidate>
        <Field label="Lineage (the model)" error={err(F.lineage)}>
          {({ id, describedBy, invalid }) => <input id={id} list="lineage-names" value={lineage} onInput={(e) => setLineage(e.currentTarget.value)} aria-describedby={describedBy} aria-invalid={invalid} required />}
        </Field>
        <datalist id="lineage-names">{(lineages.data ?? []).map((n) => <option value={n} />)}</datalist>
        <Field label="Legal basis" error={err(F.legalBasis)}>
          {({ id, describedBy, invalid }) => <input id={id} value={legalBasis} onInput={(e) => setLegalBasis(e.currentTarget.value)} aria-describedby={describedBy} aria-invalid={invalid} required />}
        </Field>
        <fieldset class="kind">
          <legend>Who is to be forgotten</legend>
          <label><input type="radio" name="kind" checked={kind === 'dataset'} onChange={() => setKind('dataset')} /> A person of the dataset</label>
          <label><input type="radio" name="kind" checked={kind === 'profile'} onChange={() => setKind('profile')} /> A person described here</label>
          {subjectError && <p class="field-error" role="alert">{subjectError}</p>}
        </fieldset>
        {kind === 'dataset' && <SubjectPicker lineage={lineage} value={subjectId} onChange={setSubjectId} error={err(F.datasetSubjectId)} />}
        {kind === 'profile' && (
          <fieldset class="profile">
            <legend>The person</legend>
            <Field label="Name" error={err(F.name)}>
              {({ id, describedBy, invalid }) => <input id={id} value={name} onInput={(e) => setName(e.currentTarget.value)} aria-describedby={describedBy} aria-invalid={invalid} />}
            </Field>
            <fieldset class="facts-list">
              <legend>Facts the model may know</legend>
              {facts.map((fact, i) => (
                <div class="fact-row">
                  <Field label={`Question ${i + 1}`}>
                    {({ id }) => <input id={id} value={fact.question} onInput={(e) => setFacts(facts.map((f, j) => (j === i ? { ...f, question: e.currentTarget.value } : f)))} />}
                  </Field>
                  <Field label={`Answer ${i + 1}`}>
                    {({ id }) => <input id={id} value={fact.answer} onInput={(e) => setFacts(facts.map((f, j) => (j === i ? { ...f, answer: e.currentTarget.value } : f)))} />}
                  </Field>
                  <button type="button" class="secondary" aria-label={`Remove fact ${i + 1}`} onClick={() => setFacts(facts.filter((_, j) => j !== i))}>Remove</button>
                </div>
              ))}
              <button type="button" class="secondary" onClick={() => setFacts([...facts, { question: '', answer: '' }])}>Add a fact</button>
              {err(F.facts) && <p class="field-error" role="alert">{err(F.facts)}</p>}
            </fieldset>
            <Field label="Images (PNG or JPEG)" hint="at most 10, each at most 5 MB" error={err(F.images)}>
              {({ id, describedBy, invalid }) => <input id={id} type="file" accept="image/png,image/jpeg" multiple onChange={(e) => addImages(e.currentTarget.files).catch(setError)} aria-describedby={describedBy} aria-invalid={invalid} />}
            </Field>
            {images.length > 0 && (
              <ul class="previews" aria-label="Selected images">
                {images.map((img, i) => (
                  <li>
                    <img src={img.url} alt={`preview of ${img.name}`} />
                    <button type="button" class="secondary" aria-label={`Remove image ${img.name}`} onClick={() => removeImage(i)}>Remove</button>
                  </li>
                ))}
              </ul>
            )}
          </fieldset>
        )}
        <Field label="Note (stored encrypted)" error={err(F.note)}>
          {({ id, describedBy, invalid }) => <textarea id={id} value={note} onInput={(e) => setNote(e.currentTarget.value)} aria-describedby={describedBy} aria-invalid={invalid} />}
        </Field>
        <ErrorBox error={formError(error, Object.values(F))} />
        <button type="submit" disabled={busy}>{busy ? 'Filing…' : 'File the request'}</button>
      </form>
    </section>
  );
}
