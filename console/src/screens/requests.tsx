// Deletion requests: the list (every role; a REQUESTER's API answers only its own), one request with its
// progress, timeline, model version and compliance report, and what the role may do with it.
import { useState } from 'preact/hooks';
import { fetchReportFile, gql, type Viewer } from '../api';
import { daysLeft, ErrorBox, Field, fieldError, formError, go, Loading, percent, Status, useLoad, when } from '../ui';

export const STATUSES = ['RECEIVED', 'QUEUED', 'UNLEARNING', 'AUDITING', 'NEEDS_REVIEW', 'COMPLETED', 'REJECTED', 'FAILED', 'CANCELED', 'REOPENED'] as const;
/** Statuses nothing moves on from by itself: polling stops there. */
const SETTLED = new Set(['COMPLETED', 'REJECTED', 'FAILED', 'CANCELED']);
/** Where a request may still be withdrawn (src/requests/domain/request-status.ts CANCELABLE). */
const CANCELABLE = new Set(['RECEIVED', 'QUEUED', 'REOPENED']);
const PHASES = ['RECEIVED', 'QUEUED', 'UNLEARNING', 'AUDITING', 'COMPLETED'];
const POLL_MS = 2000;

export interface RequestRow {
  id: string;
  status: string;
  statusReason: string | null;
  lineage: string;
  requester: string;
  subjectName: string | null;
  datasetSubjectId: string | null;
  createdAt: string;
  dueAt: string;
}
const ROW = 'id status statusReason lineage requester subjectName datasetSubjectId createdAt dueAt';

export async function listRequests(filter: { status?: string[]; lineage?: string }): Promise<RequestRow[]> {
  const rows: RequestRow[] = [];
  let after: string | null = null;
  // Every page: the list filters and counts on the client (a console's lists are short; the API pages by 100).
  do {
    const page: { deletionRequests: { edges: { node: RequestRow }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } = await gql(
      `query ($filter: DeletionRequestFilter, $after: String) { deletionRequests(first: 100, after: $after, filter: $filter) { edges { node { ${ROW} } } pageInfo { hasNextPage endCursor } } }`,
      { filter, after },
    );
    rows.push(...page.deletionRequests.edges.map((e) => e.node));
    after = page.deletionRequests.pageInfo.hasNextPage ? page.deletionRequests.pageInfo.endCursor : null;
  } while (after);
  return rows;
}

function subjectOf(r: Pick<RequestRow, 'subjectName' | 'datasetSubjectId'>): string {
  if (r.subjectName && r.datasetSubjectId) return `${r.subjectName} (${r.datasetSubjectId})`;
  return r.subjectName ?? r.datasetSubjectId ?? '(purged)';
}

function DaysLeft({ row }: { row: RequestRow }) {
  if (SETTLED.has(row.status)) return <span class="muted">–</span>;
  const days = daysLeft(row.dueAt);
  return <span class={days < 0 ? 'overdue' : days <= 5 ? 'soon' : ''}>{days < 0 ? `${-days} overdue` : `${days}`}</span>;
}

export function RequestList({ viewer }: { viewer: Viewer }) {
  const [status, setStatus] = useState('');
  const [lineage, setLineage] = useState('');
  const [text, setText] = useState('');
  const filter = { ...(status ? { status: [status] } : {}), ...(lineage.trim() ? { lineage: lineage.trim() } : {}) };
  const { data, error } = useLoad(() => listRequests(filter), [status, lineage], POLL_MS * 2);
  const needle = text.trim().toLowerCase();
  const rows = (data ?? []).filter((r) => !needle || [r.id, r.subjectName, r.datasetSubjectId, r.requester].some((v) => v?.toLowerCase().includes(needle))).reverse();
  return (
    <section aria-labelledby="requests-title">
      <div class="title-row">
        <h1 id="requests-title">{viewer.role === 'REQUESTER' ? 'My deletion requests' : 'Deletion requests'}</h1>
        {viewer.role !== 'AUDITOR' && <a class="button" href="#/new">File a request</a>}
      </div>
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter requests">
        <Field label="Status">
          {({ id }) => (
            <select id={id} value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
              <option value="">any</option>
              {STATUSES.map((s) => <option value={s}>{s}</option>)}
            </select>
          )}
        </Field>
        <Field label="Lineage">{({ id }) => <input id={id} value={lineage} onChange={(e) => setLineage(e.currentTarget.value)} placeholder="all" />}</Field>
        <Field label="Search">{({ id }) => <input id={id} type="search" value={text} onInput={(e) => setText(e.currentTarget.value)} placeholder="person, id, requester" />}</Field>
      </form>
      <ErrorBox error={error} />
      {!data ? <Loading /> : rows.length === 0 ? <p class="muted">No requests.</p> : (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">{rows.length} requests, newest first</caption>
            <thead><tr><th scope="col">Person</th><th scope="col">Status</th><th scope="col">Lineage</th>{viewer.role !== 'REQUESTER' && <th scope="col">Requester</th>}<th scope="col">Received</th><th scope="col">Due</th><th scope="col">Days left</th></tr></thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.id} data-request-id={r.id}>
                  <td><a href={`#/requests/${r.id}`}>{subjectOf(r)}</a></td>
                  <td><Status status={r.status} /></td>
                  <td>{r.lineage}</td>
                  {viewer.role !== 'REQUESTER' && <td>{r.requester}</td>}
                  <td>{when(r.createdAt)}</td>
                  <td>{when(r.dueAt)}</td>
                  <td><DaysLeft row={r} /></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

interface EventRow {
  seq: string;
  type: string;
  actor: string;
  reason: string | null;
  occurredAt: string;
  data: Record<string, unknown>;
}
interface RequestDetailData extends RequestRow {
  legalBasis: string;
  note: string | null;
  updatedAt: string;
  events: EventRow[];
  modelVersion: { number: number; status: string; parentNumber: number | null; method: string | null } | null;
  progress: StepProgress | null;
}
interface StepProgress {
  phase: string;
  attempt: number;
  reforgetPass: number;
  activity: string | null;
  step: number | null;
  total: number | null;
}
/** What each activity's heartbeat counts. */
const ACTIVITY_TEXT: Record<string, { doing: string; unit: string }> = {
  unlearn: { doing: 'Training', unit: 'step' },
  export_onnx: { doing: 'Exporting the model for the audit', unit: 'step' },
  audit: { doing: 'Auditing', unit: 'question' },
};
const M = '{ text multimodal }';
export interface AuditReportData {
  decision: string;
  reasons: string[];
  versionNumber: number;
  attempt: number;
  gatePolicyVersion: number | null;
  forget: { text: number | null; multimodal: number | null };
  retain: { text: number | null; multimodal: number | null };
  cumulativeForget: { text: number | null; multimodal: number | null };
  knowledgeBefore: { text: number | null; multimodal: number | null };
  general: number | null;
  noKnowledgeFound: boolean;
  baseline: { forget: { text: number | null; multimodal: number | null }; retain: { text: number | null; multimodal: number | null }; general: number | null } | null;
  htmlUrl: string;
  jsonUrl: string;
}
export const AUDIT_FIELDS = `decision reasons versionNumber attempt gatePolicyVersion forget ${M} retain ${M} cumulativeForget ${M} knowledgeBefore ${M} general noKnowledgeFound baseline { forget ${M} retain ${M} general } htmlUrl jsonUrl`;

async function loadRequest(id: string): Promise<{ request: RequestDetailData; report: AuditReportData | null }> {
  const data = await gql<{ deletionRequest: RequestDetailData; auditReport: AuditReportData | null }>(
    `query ($id: ID!) { deletionRequest(id: $id) { ${ROW} legalBasis note updatedAt events { seq type actor reason occurredAt data } modelVersion { number status parentNumber method } progress { phase attempt reforgetPass activity step total } } auditReport(requestId: $id) { ${AUDIT_FIELDS} } }`,
    { id },
  );
  return { request: data.deletionRequest, report: data.auditReport };
}

/** The running step from the worker's heartbeat: "Training: step 3 of 12". */
function StepLine({ progress }: { progress: StepProgress }) {
  const text = progress.activity ? ACTIVITY_TEXT[progress.activity] : undefined;
  const extra = [progress.attempt > 1 ? `attempt ${progress.attempt}` : '', progress.reforgetPass > 0 ? `re-forget pass ${progress.reforgetPass}` : ''].filter(Boolean).join(', ');
  const counted = progress.step !== null && progress.total !== null && progress.total > 0;
  return (
    <p class="step-line">
      {text ? text.doing : progress.phase.toLowerCase()}
      {counted && `: ${text?.unit ?? 'step'} ${progress.step} of ${progress.total} `}
      {counted && <progress max={progress.total!} value={progress.step!} aria-label={`${text?.doing ?? progress.phase} progress`} />}
      {extra && <span class="muted"> ({extra})</span>}
    </p>
  );
}

function Progress({ request }: { request: RequestDetailData }) {
  const at = PHASES.indexOf(request.status);
  const last = request.events.filter((e) => e.type === 'request.status_changed').at(-1);
  return (
    <div class="progress" aria-live="polite">
      <ol class="phases" aria-label="Progress">
        {PHASES.map((p, i) => (
          <li class={at < 0 ? '' : i < at ? 'done' : i === at ? 'current' : ''} aria-current={i === at ? 'step' : undefined}>{p}</li>
        ))}
      </ol>
      <p>
        Phase: <Status status={request.status} />
        {!SETTLED.has(request.status) && <span class="muted"> (updates every {POLL_MS / 1000} s)</span>}
      </p>
      {request.progress && <StepLine progress={request.progress} />}
      {(request.statusReason ?? last?.reason) && <p class="reason">{request.statusReason ?? last?.reason}</p>}
    </div>
  );
}

async function download(url: string, name: string): Promise<void> {
  const blob = await fetchReportFile(url);
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

async function openHtml(url: string): Promise<void> {
  const blob = await fetchReportFile(url);
  open(URL.createObjectURL(new Blob([blob], { type: 'text/html' })), '_blank', 'noopener');
}

function Pair({ label, value, base }: { label: string; value: { text: number | null; multimodal: number | null }; base?: { text: number | null; multimodal: number | null } }) {
  return (
    <tr>
      <th scope="row">{label}</th>
      <td>{percent(value.multimodal)}</td>
      <td>{percent(value.text)}</td>
      <td class="muted">{base ? `${percent(base.multimodal)} / ${percent(base.text)}` : ''}</td>
    </tr>
  );
}

export function ReportSummary({ report, requestId }: { report: AuditReportData; requestId: string }) {
  const [error, setError] = useState<unknown>(null);
  return (
    <section class="card" aria-labelledby="report-title">
      <h2 id="report-title">Compliance report</h2>
      <p>
        Version {report.versionNumber} (attempt {report.attempt}), gate decision <Status status={report.decision} />
        {report.gatePolicyVersion !== null && <span class="muted"> under gate policy revision {report.gatePolicyVersion}</span>}
      </p>
      <table class="numbers">
        <thead><tr><th scope="col">Accuracy</th><th scope="col">with image</th><th scope="col">text only</th><th scope="col">version 0 (image / text)</th></tr></thead>
        <tbody>
          <Pair label="This request's person (lower is better)" value={report.forget} base={report.baseline?.forget} />
          <Pair label="Everyone forgotten so far" value={report.cumulativeForget} />
          <Pair label="Retained people (higher is better)" value={report.retain} base={report.baseline?.retain} />
          <Pair label="Known before unlearning" value={report.knowledgeBefore} />
          <tr><th scope="row">General benchmark</th><td colSpan={2}>{percent(report.general)}</td><td class="muted">{report.baseline ? percent(report.baseline.general) : ''}</td></tr>
        </tbody>
      </table>
      {report.noKnowledgeFound && <p>Version 0 answered this person like people it never saw.</p>}
      <h3>Gate reasons</h3>
      <ul class="reasons">{report.reasons.map((r) => <li>{r}</li>)}</ul>
      <div class="actions">
        <button type="button" onClick={() => download(report.jsonUrl, `lethe-report-${requestId}.json`).catch(setError)}>Export report as JSON</button>
        <button type="button" class="secondary" onClick={() => openHtml(report.htmlUrl).catch(setError)}>Open the full report</button>
      </div>
      <ErrorBox error={error} />
    </section>
  );
}

function CancelForm({ id, onDone }: { id: string; onDone: () => void }) {
  const [reason, setReason] = useState('');
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      await gql('mutation ($id: ID!, $reason: String!) { cancelDeletionRequest(id: $id, reason: $reason) { id status } }', { id, reason });
      setError(null);
      onDone();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form class="card" onSubmit={submit} aria-labelledby="cancel-title">
      <h2 id="cancel-title">Cancel this request</h2>
      <Field label="Reason for cancelling" error={fieldError(error, 'reason')}>
        {({ id: fid, describedBy, invalid }) => <input id={fid} value={reason} onInput={(e) => setReason(e.currentTarget.value)} aria-describedby={describedBy} aria-invalid={invalid} />}
      </Field>
      <ErrorBox error={formError(error, ['reason'])} />
      <button type="submit" class="danger">Cancel request</button>
    </form>
  );
}

/** An operator's decision on a request the gate held, with the audit's reasons in view. */
export function ReviewForm({ id, report, onDone }: { id: string; report: AuditReportData | null; onDone: () => void }) {
  const [reason, setReason] = useState('');
  const [error, setError] = useState<unknown>(null);
  const decide = async (decision: 'APPROVE' | 'REJECT') => {
    try {
      await gql('mutation ($id: ID!, $decision: ReviewDecision!, $reason: String!) { reviewDeletionRequest(id: $id, decision: $decision, reason: $reason) { id status } }', { id, decision, reason });
      setError(null);
      onDone();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form class="card review" onSubmit={(e) => e.preventDefault()} aria-label={`Review request ${id}`}>
      <h3>The gate held this candidate{report ? ` (version ${report.versionNumber})` : ''}</h3>
      {report ? <ul class="reasons">{report.reasons.map((r) => <li>{r}</li>)}</ul> : <p class="muted">No audit recorded.</p>}
      <Field label="Reason for the decision" error={fieldError(error, 'reason')}>
        {({ id: fid, describedBy, invalid }) => <input id={fid} value={reason} onInput={(e) => setReason(e.currentTarget.value)} aria-describedby={describedBy} aria-invalid={invalid} />}
      </Field>
      <ErrorBox error={formError(error, ['reason'])} />
      <div class="actions">
        <button type="button" onClick={() => decide('APPROVE')}>Approve and promote</button>
        <button type="button" class="danger" onClick={() => decide('REJECT')}>Reject</button>
      </div>
    </form>
  );
}

export function RequestDetail({ id, viewer }: { id: string; viewer: Viewer }) {
  const { data, error, reload } = useLoad(() => loadRequest(id), [id], POLL_MS);
  if (error && !data) {
    return (
      <section>
        <h1>Request {id}</h1>
        <ErrorBox error={error} />
        <p><a href="#/requests">Back to the list</a></p>
      </section>
    );
  }
  if (!data) return <Loading />;
  const { request, report } = data;
  return (
    <section aria-labelledby="request-title">
      <p><a href="#/requests">← All requests</a></p>
      <h1 id="request-title">{subjectOf(request)}</h1>
      <dl class="facts">
        <dt>Request</dt><dd><code>{request.id}</code></dd>
        <dt>Lineage</dt><dd>{request.lineage}</dd>
        <dt>Requester</dt><dd>{request.requester}</dd>
        <dt>Legal basis</dt><dd>{request.legalBasis}</dd>
        <dt>Received</dt><dd>{when(request.createdAt)}</dd>
        <dt>Due</dt><dd>{when(request.dueAt)} <span class="muted">({SETTLED.has(request.status) ? 'settled' : `${daysLeft(request.dueAt)} days left`})</span></dd>
        <dt>Model version</dt>
        <dd>{request.modelVersion ? <>version {request.modelVersion.number} <Status status={request.modelVersion.status} />{request.modelVersion.parentNumber !== null && <span class="muted"> (from version {request.modelVersion.parentNumber})</span>}</> : '–'}</dd>
      </dl>
      <Progress request={request} />
      <ErrorBox error={error} />
      {request.status === 'NEEDS_REVIEW' && viewer.role === 'OPERATOR' && <ReviewForm id={request.id} report={report} onDone={reload} />}
      {CANCELABLE.has(request.status) && viewer.role !== 'AUDITOR' && <CancelForm id={request.id} onDone={reload} />}
      {report ? <ReportSummary report={report} requestId={request.id} /> : <p class="muted">No audit yet: the report appears once a candidate has been audited.</p>}
      <section class="card" aria-labelledby="timeline-title">
        <h2 id="timeline-title">Timeline</h2>
        <ol class="timeline">
          {request.events.map((e) => (
            <li key={e.seq}>
              <time dateTime={e.occurredAt}>{when(e.occurredAt)}</time> <strong>{e.type}</strong>
              {typeof e.data.from === 'string' && <span> {String(e.data.from)} → {String(e.data.to)}</span>}
              <span class="muted"> by {e.actor}</span>
              {e.reason && <div class="reason">{e.reason}</div>}
            </li>
          ))}
        </ol>
      </section>
    </section>
  );
}

export function openRequest(id: string): void {
  go('requests', id);
}
