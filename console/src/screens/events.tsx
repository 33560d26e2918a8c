// The event log for auditors and operators: the whole log newest first (eventLog), and beside it the chain's
// verification (verifyEventChain recomputes every hash and names the first row that does not verify).
import { useState } from 'preact/hooks';
import { gql } from '../api';
import { ErrorBox, Field, fieldError, formError, Loading, useLoad, when } from '../ui';

interface Verification {
  valid: boolean;
  checkedEvents: number;
  firstInvalidSeq: number | null;
  headHash: string;
  problem: string | null;
}
interface LoggedEvent {
  seq: string;
  type: string;
  actor: string;
  entityType: string;
  entityId: string;
  reason: string | null;
  occurredAt: string;
  hash: string;
}

interface EventPage {
  totalCount: number;
  edges: { node: LoggedEvent }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}
interface Filter {
  entityType: string;
  entityId: string;
}

const EVENTS = 'query ($after: String, $entityType: String, $entityId: String) { eventLog(first: 50, after: $after, entityType: $entityType, entityId: $entityId) { totalCount edges { node { seq type actor entityType entityId reason occurredAt hash } } pageInfo { hasNextPage endCursor } } }';

const loadPage = async (filter: Filter, after: string | null) =>
  (await gql<{ eventLog: EventPage }>(EVENTS, { after, entityType: filter.entityType || null, entityId: filter.entityId.trim() || null })).eventLog;

/** The whole log (eventLog), newest first, a page at a time, narrowed to one kind of entity or one entity. */
function EventTable() {
  const [draft, setDraft] = useState<Filter>({ entityType: '', entityId: '' });
  const [filter, setFilter] = useState<Filter>(draft);
  const first = useLoad(() => loadPage(filter, null), [filter.entityType, filter.entityId]);
  const [older, setOlder] = useState<EventPage[]>([]);
  const [olderError, setOlderError] = useState<unknown>(null);
  const pages = first.data ? [first.data, ...older] : [];
  const last = pages.at(-1);
  const more = async () => {
    try {
      const page = await loadPage(filter, last!.pageInfo.endCursor);
      setOlder((current) => [...current, page]);
      setOlderError(null);
    } catch (err) {
      setOlderError(err);
    }
  };
  const apply = (e: Event) => {
    e.preventDefault();
    setOlder([]);
    setFilter(draft);
  };
  const error = first.error ?? olderError;
  return (
    <section class="card" aria-labelledby="log-title">
      <h2 id="log-title">The log</h2>
      <form class="inline-form" onSubmit={apply} aria-label="Filter the event log">
        <Field label="About" hint="the kind of entity, e.g. request or lineage; the service names the kinds it knows" error={fieldError(error, 'entityType')}>
          {({ id, describedBy, invalid }) => <input id={id} value={draft.entityType} onInput={(e) => setDraft({ ...draft, entityType: e.currentTarget.value })} aria-describedby={describedBy} aria-invalid={invalid} />}
        </Field>
        <Field label="Id" hint="a request id, lineage name, …" error={fieldError(error, 'entityId')}>
          {({ id, describedBy, invalid }) => <input id={id} value={draft.entityId} onInput={(e) => setDraft({ ...draft, entityId: e.currentTarget.value })} aria-describedby={describedBy} aria-invalid={invalid} />}
        </Field>
        <button type="submit">Show</button>
      </form>
      <ErrorBox error={formError(error, ['entityType', 'entityId'])} />
      {!first.data ? <Loading /> : (
        <>
          <p class="muted">{first.data.totalCount} event(s), newest first.</p>
          <div class="table-wrap">
            <table>
              <thead><tr><th scope="col">#</th><th scope="col">When</th><th scope="col">Event</th><th scope="col">Actor</th><th scope="col">About</th><th scope="col">Reason</th></tr></thead>
              <tbody>
                {pages.flatMap((p) => p.edges).map(({ node: e }) => (
                  <tr key={e.seq} data-seq={e.seq}>
                    <td>{e.seq}</td>
                    <td>{when(e.occurredAt)}</td>
                    <td>{e.type}</td>
                    <td>{e.actor}</td>
                    <td>{e.entityType === 'request' ? <a href={`#/requests/${e.entityId}`}><code>{e.entityId.slice(0, 8)}</code></a> : `${e.entityType} ${e.entityId}`}</td>
                    <td>{e.reason ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {last?.pageInfo.hasNextPage && <button type="button" class="secondary" onClick={more}>Older events</button>}
        </>
      )}
    </section>
  );
}

export function EventLog() {
  const [verification, setVerification] = useState<Verification | null>(null);
  const [verifyError, setVerifyError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const verify = async () => {
    setBusy(true);
    try {
      setVerification((await gql<{ verifyEventChain: Verification }>('{ verifyEventChain { valid checkedEvents firstInvalidSeq headHash problem } }')).verifyEventChain);
      setVerifyError(null);
    } catch (err) {
      setVerifyError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="events-title">
      <h1 id="events-title">Event log</h1>
      <section class="card" aria-labelledby="verify-title">
        <h2 id="verify-title">Chain verification</h2>
        <button type="button" onClick={verify} disabled={busy}>{busy ? 'Verifying…' : 'Verify the event chain'}</button>
        <ErrorBox error={verifyError} />
        {verification && (
          <div class={verification.valid ? 'ok' : 'error'} role="status">
            {verification.valid ? `Valid: ${verification.checkedEvents} events verified.` : `Broken at event ${verification.firstInvalidSeq}: ${verification.problem}`}
            <div>Head hash (publish it to anchor the log): <code class="hash">{verification.headHash}</code></div>
          </div>
        )}
      </section>
      <EventTable />
    </section>
  );
}
