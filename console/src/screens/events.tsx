// The event log for auditors and operators: every request's events in chain order, and the chain's
// verification (verifyEventChain recomputes every hash and names the first row that does not verify).
import { useState } from 'preact/hooks';
import { gql } from '../api';
import { ErrorBox, Loading, useLoad, when } from '../ui';

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

async function loadEvents(): Promise<LoggedEvent[]> {
  const events = new Map<string, LoggedEvent>();
  let after: string | null = null;
  do {
    const page: { deletionRequests: { edges: { node: { events: LoggedEvent[] } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } = await gql(
      'query ($after: String) { deletionRequests(first: 100, after: $after) { edges { node { events { seq type actor entityType entityId reason occurredAt hash } } } pageInfo { hasNextPage endCursor } } }',
      { after },
    );
    for (const edge of page.deletionRequests.edges) for (const e of edge.node.events) events.set(e.seq, e);
    after = page.deletionRequests.pageInfo.hasNextPage ? page.deletionRequests.pageInfo.endCursor : null;
  } while (after);
  return [...events.values()].sort((a, b) => Number(b.seq) - Number(a.seq));
}

export function EventLog() {
  const { data, error } = useLoad(loadEvents, []);
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
      <ErrorBox error={error} />
      <p class="muted">The events of every deletion request, newest first.</p>
      {!data ? <Loading /> : (
        <div class="table-wrap">
          <table>
            <thead><tr><th scope="col">#</th><th scope="col">When</th><th scope="col">Event</th><th scope="col">Actor</th><th scope="col">About</th><th scope="col">Reason</th></tr></thead>
            <tbody>
              {data.map((e) => (
                <tr key={e.seq}>
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
      )}
    </section>
  );
}
