// The operator's review queue: every request the gate held (NEEDS_REVIEW), each with its audit's reasons.
import { gql } from '../api';
import { ErrorBox, Loading, useLoad, when } from '../ui';
import { AUDIT_FIELDS, listRequests, ReviewForm, type AuditReportData } from './requests';

async function loadQueue() {
  const held = await listRequests({ status: ['NEEDS_REVIEW'] });
  return Promise.all(held.map(async (request) => ({
    request,
    report: (await gql<{ auditReport: AuditReportData | null }>(`query ($id: ID!) { auditReport(requestId: $id) { ${AUDIT_FIELDS} } }`, { id: request.id })).auditReport,
  })));
}

export function ReviewQueue() {
  const { data, error, reload } = useLoad(loadQueue, [], 5000);
  return (
    <section aria-labelledby="review-title">
      <h1 id="review-title">Review queue</h1>
      <ErrorBox error={error} />
      {!data ? <Loading /> : data.length === 0 ? <p class="muted">Nothing waits for a decision.</p> : data.map(({ request, report }) => (
        <article class="card" key={request.id} data-request-id={request.id}>
          <h2><a href={`#/requests/${request.id}`}>{request.subjectName ?? request.datasetSubjectId ?? request.id}</a></h2>
          <p class="muted">{request.lineage}, filed by {request.requester} on {when(request.createdAt)}, due {when(request.dueAt)}</p>
          <ReviewForm id={request.id} report={report} onDone={reload} />
        </article>
      ))}
    </section>
  );
}
