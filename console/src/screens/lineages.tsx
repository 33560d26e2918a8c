// Lineages for operators (and read-only for auditors): settings and gate policy (edited with the API's
// validation beside the field), the version tree with the champion and each version's audit numbers,
// PULSE's sustainability curve, and rollback with the requests it will reopen named before it runs.
import { useState } from 'preact/hooks';
import { fetchReportFile, gql, listLineageNames, type Viewer } from '../api';
import { ErrorBox, Field, fieldError, formError, go, Loading, percent, Status, useLoad, when } from '../ui';

interface Version {
  number: number;
  status: string;
  parentNumber: number | null;
  method: string | null;
  requestIds: string[];
  createdAt: string;
  statusReason: string | null;
  adapterSha256: string | null;
}
interface Lineage {
  name: string;
  baseModelId: string;
  method: string;
  strategy: string;
  batchingWindowSeconds: number;
  reforgetPasses: number;
  reforgetAboveAccuracy: number;
  hyperParameters: Record<string, unknown>;
  lora: Record<string, unknown>;
  gatePolicy: Record<string, unknown>;
  gatePolicyVersion: number;
  championVersion: number | null;
  createdAt: string;
  versions: Version[];
}
type Pair = { multimodal: number | null; text: number | null };
interface SustainabilityPoint {
  version: number;
  status: string;
  cumulativeForget: Pair;
  retain: Pair;
  general: number | null;
}

const LINEAGE = `query ($name: String!) { modelLineage(name: $name) { name baseModelId method strategy batchingWindowSeconds reforgetPasses reforgetAboveAccuracy hyperParameters lora gatePolicy gatePolicyVersion championVersion createdAt versions { number status parentNumber method requestIds createdAt statusReason adapterSha256 } } }`;

async function loadLineage(name: string): Promise<{ lineage: Lineage; curve: SustainabilityPoint[] }> {
  const { modelLineage: lineage } = await gql<{ modelLineage: Lineage }>(LINEAGE, { name });
  // The champion's version report carries the lineage's sustainability curve (every version not rejected).
  const report = lineage.championVersion === null ? null : (JSON.parse(await (await fetchReportFile(`/reports/versions/${encodeURIComponent(name)}/${lineage.championVersion}.json`)).text()) as { sustainability: SustainabilityPoint[] });
  return { lineage, curve: report?.sustainability ?? [] };
}

/** Every lineage, as modelLineages lists them. */
export function LineageIndex() {
  const { data, error } = useLoad(listLineageNames, []);
  const [name, setName] = useState('');
  return (
    <section aria-labelledby="lineages-title">
      <h1 id="lineages-title">Model lineages</h1>
      <form class="inline-form" onSubmit={(e) => { e.preventDefault(); if (name.trim()) go('lineages', name.trim()); }}>
        <Field label="Open a lineage by name">{({ id }) => <input id={id} value={name} onInput={(e) => setName(e.currentTarget.value)} />}</Field>
        <button type="submit">Open</button>
      </form>
      <ErrorBox error={error} />
      {data ? <ul class="links">{data.map((n) => <li><a href={`#/lineages/${encodeURIComponent(n)}`}>{n}</a></li>)}</ul> : <Loading />}
    </section>
  );
}

const SERIES: Array<{ label: string; value: (p: SustainabilityPoint) => number | null; class: string }> = [
  { label: 'forgotten so far, with image', value: (p) => p.cumulativeForget.multimodal, class: 's1' },
  { label: 'forgotten so far, text only', value: (p) => p.cumulativeForget.text, class: 's2' },
  { label: 'retained people, with image', value: (p) => p.retain.multimodal, class: 's3' },
  { label: 'general benchmark', value: (p) => p.general, class: 's4' },
];

/** PULSE's sustainability curve: what each version still knows, one line per measure, accuracy 0..1 upwards. */
function SustainabilityChart({ points }: { points: SustainabilityPoint[] }) {
  if (points.length === 0) return <p class="muted">No audited versions yet.</p>;
  const width = 560;
  const height = 220;
  const pad = 36;
  const x = (i: number) => pad + (points.length === 1 ? (width - 2 * pad) / 2 : (i * (width - 2 * pad)) / (points.length - 1));
  const y = (v: number) => height - pad - v * (height - 2 * pad);
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-labelledby="chart-title chart-desc">
        <title id="chart-title">Sustainability curve</title>
        <desc id="chart-desc">Accuracy per version: {points.map((p) => `version ${p.version}: ${SERIES.map((s) => `${s.label} ${percent(s.value(p))}`).join(', ')}`).join('; ')}</desc>
        {[0, 0.25, 0.5, 0.75, 1].map((t) => (
          <g>
            <line x1={pad} x2={width - pad} y1={y(t)} y2={y(t)} class="grid" />
            <text x={pad - 6} y={y(t) + 4} text-anchor="end" class="axis">{Math.round(t * 100)}</text>
          </g>
        ))}
        {points.map((p, i) => <text x={x(i)} y={height - pad + 18} text-anchor="middle" class="axis">v{p.version}</text>)}
        {SERIES.map((s) => {
          const coords = points.map((p, i) => [x(i), s.value(p)] as const).filter(([, v]) => v !== null).map(([px, v]) => `${px},${y(v!)}`);
          return (
            <g class={`series ${s.class}`}>
              <polyline points={coords.join(' ')} />
              {coords.map((c) => <circle cx={c.split(',')[0]} cy={c.split(',')[1]} r={3} />)}
            </g>
          );
        })}
      </svg>
      <figcaption>
        <ul class="legend">{SERIES.map((s) => <li class={`series ${s.class}`}><span class="swatch" aria-hidden="true" /> {s.label}</li>)}</ul>
      </figcaption>
    </figure>
  );
}

function VersionTree({ lineage, curve }: { lineage: Lineage; curve: SustainabilityPoint[] }) {
  const audit = new Map(curve.map((p) => [p.version, p]));
  const children = (n: number | null) => lineage.versions.filter((v) => v.parentNumber === n && v.number !== n);
  // Cumulative retrains are trained from the base but record no parent: they stand beside version 0.
  const roots = lineage.versions.filter((v) => v.parentNumber === null);
  const node = (v: Version) => {
    const a = audit.get(v.number);
    return (
      <li key={v.number} data-version={v.number}>
        <div class={`version${v.number === lineage.championVersion ? ' champion' : ''}`}>
          <strong>version {v.number}</strong> <Status status={v.status} />
          {v.number === lineage.championVersion && <span class="badge" aria-label="champion">★ champion</span>}
          <span class="muted"> {v.method ?? 'base'}{v.parentNumber !== null ? `, from version ${v.parentNumber}` : ''}, {when(v.createdAt)}</span>
          {a && <div class="audit-line">forgotten so far {percent(a.cumulativeForget.multimodal)} / {percent(a.cumulativeForget.text)} (image / text), retained {percent(a.retain.multimodal)} / {percent(a.retain.text)}, general {percent(a.general)}</div>}
          {v.requestIds.length > 0 && <div class="muted">requests: {v.requestIds.map((id) => <a href={`#/requests/${id}`}><code>{id.slice(0, 8)}</code></a>)}</div>}
          {v.statusReason && <div class="reason">{v.statusReason}</div>}
        </div>
        {children(v.number).length > 0 && <ul>{children(v.number).map(node)}</ul>}
      </li>
    );
  };
  return <ul class="tree" aria-label="Version tree">{roots.map(node)}</ul>;
}

interface RollbackPreview {
  rolledBackVersions: number[];
  reopenedRequestIds: string[];
  conflict: string | null;
}

const PREVIEW = 'query ($lineage: String!, $to: Int!) { rollbackPreview(lineage: $lineage, toVersion: $to) { rolledBackVersions reopenedRequestIds conflict } }';

/** The confirmation names what the API says the rollback would do (rollbackPreview runs the rollback's own rules). */
function RollbackForm({ lineage, onDone }: { lineage: Lineage; onDone: () => void }) {
  const restorable = lineage.versions.filter((v) => v.number !== lineage.championVersion && (v.status === 'SUPERSEDED' || v.status === 'PROMOTED'));
  const [to, setTo] = useState<string>('');
  const [reason, setReason] = useState('');
  const [preview, setPreview] = useState<RollbackPreview | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  if (restorable.length === 0) return <p class="muted">No earlier champion to roll back to.</p>;
  const target = to === '' ? null : Number(to);
  const ask = async () => {
    setDone(null);
    try {
      setPreview((await gql<{ rollbackPreview: RollbackPreview }>(PREVIEW, { lineage: lineage.name, to: target })).rollbackPreview);
      setError(null);
    } catch (err) {
      setPreview(null);
      setError(err);
    }
  };
  const run = async () => {
    try {
      await gql('mutation ($lineage: String!, $to: Int!, $reason: String!) { rollbackModel(lineage: $lineage, toVersion: $to, reason: $reason) { championVersion } }', { lineage: lineage.name, to: target, reason });
      setError(null);
      setDone(`Rolled back to version ${target}; reopened ${preview?.reopenedRequestIds.length ?? 0} request(s).`);
      setPreview(null);
      onDone();
    } catch (err) {
      setPreview(null);
      setError(err);
    }
  };
  const reopened = preview?.reopenedRequestIds ?? [];
  return (
    <form class="card" aria-labelledby="rollback-title" onSubmit={(e) => { e.preventDefault(); void ask(); }}>
      <h2 id="rollback-title">Roll back</h2>
      <Field label="Restore version" error={fieldError(error, 'toVersion')}>
        {({ id, describedBy, invalid }) => (
          <select id={id} value={to} onChange={(e) => { setTo(e.currentTarget.value); setPreview(null); }} aria-describedby={describedBy} aria-invalid={invalid}>
            <option value="">choose…</option>
            {restorable.map((v) => <option value={String(v.number)}>version {v.number} ({v.status})</option>)}
          </select>
        )}
      </Field>
      <Field label="Reason for the rollback" error={fieldError(error, 'reason')}>
        {({ id, describedBy, invalid }) => <input id={id} value={reason} onInput={(e) => setReason(e.currentTarget.value)} aria-describedby={describedBy} aria-invalid={invalid} />}
      </Field>
      <ErrorBox error={formError(error, ['toVersion', 'reason'])} />
      {!preview && <button type="submit" class="danger" disabled={target === null}>Roll back…</button>}
      {preview && target !== null && preview.conflict !== null && (
        <div class="error" role="alert">
          Rolling back to version {target} is not possible: {preview.conflict}
          <div class="actions"><button type="button" class="secondary" onClick={() => setPreview(null)}>Keep the champion</button></div>
        </div>
      )}
      {preview && target !== null && preview.conflict === null && (
        <div class="confirm" role="alertdialog" aria-labelledby="confirm-title">
          <p id="confirm-title">
            Roll {lineage.name} back to version {target}? Versions {preview.rolledBackVersions.join(', ') || 'none'} become ROLLED_BACK and{' '}
            {reopened.length === 0 ? 'no request is reopened.' : `these ${reopened.length} request(s) are reopened and queued again:`}
          </p>
          {reopened.length > 0 && <ul class="reopened">{reopened.map((id) => <li><code>{id}</code></li>)}</ul>}
          <div class="actions">
            <button type="button" class="danger" onClick={run}>Confirm rollback</button>
            <button type="button" class="secondary" onClick={() => setPreview(null)}>Keep the champion</button>
          </div>
        </div>
      )}
      {done && <p class="ok" role="status">{done}</p>}
    </form>
  );
}

function GatePolicyForm({ lineage, onDone }: { lineage: Lineage; onDone: () => void }) {
  const [text, setText] = useState(() => JSON.stringify(lineage.gatePolicy, null, 2));
  const [reason, setReason] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const save = async (e: Event) => {
    e.preventDefault();
    setSaved(false);
    let policy: unknown;
    try {
      policy = JSON.parse(text);
    } catch (err) {
      setError(`gatePolicy: not JSON (${(err as Error).message})`);
      return;
    }
    try {
      await gql('mutation ($lineage: String!, $policy: JSON!, $reason: String) { updateGatePolicy(lineage: $lineage, gatePolicy: $policy, reason: $reason) { gatePolicyVersion } }', { lineage: lineage.name, policy, reason: reason || null });
      setError(null);
      setSaved(true);
      onDone();
    } catch (err) {
      setError(err);
    }
  };
  const policyError = typeof error === 'string' ? error : fieldError(error, 'gatePolicy');
  return (
    <form class="card" onSubmit={save} aria-labelledby="policy-title">
      <h2 id="policy-title">Gate policy <span class="muted">(revision {lineage.gatePolicyVersion})</span></h2>
      <Field label="Gate policy (JSON; omitted fields take the defaults)" error={policyError}>
        {({ id, describedBy, invalid }) => <textarea id={id} class="code" rows={14} value={text} onInput={(e) => setText(e.currentTarget.value)} aria-describedby={describedBy} aria-invalid={invalid} spellcheck={false} />}
      </Field>
      <Field label="Reason for the change" error={fieldError(error, 'reason')}>
        {({ id, describedBy, invalid }) => <input id={id} value={reason} onInput={(e) => setReason(e.currentTarget.value)} aria-describedby={describedBy} aria-invalid={invalid} />}
      </Field>
      <ErrorBox error={typeof error === 'string' ? null : formError(error, ['gatePolicy', 'reason'])} />
      <button type="submit">Save the policy</button>
      {saved && <p class="ok" role="status">Saved.</p>}
    </form>
  );
}

export function LineageDetail({ name, viewer }: { name: string; viewer: Viewer }) {
  const { data, error, reload } = useLoad(() => loadLineage(name), [name], 5000);
  if (error && !data) return <section><h1>Lineage {name}</h1><ErrorBox error={error} /></section>;
  if (!data) return <Loading />;
  const { lineage, curve } = data;
  const operator = viewer.role === 'OPERATOR';
  return (
    <section aria-labelledby="lineage-title">
      <p><a href="#/lineages">← Lineages</a></p>
      <h1 id="lineage-title">Lineage {lineage.name}</h1>
      <ErrorBox error={error} />
      <div class="grid-2">
        <section class="card" aria-labelledby="settings-title">
          <h2 id="settings-title">Settings</h2>
          <dl class="facts">
            <dt>Base model</dt><dd>{lineage.baseModelId}</dd>
            <dt>Champion</dt><dd>{lineage.championVersion === null ? '–' : `version ${lineage.championVersion}`}</dd>
            <dt>Method</dt><dd>{lineage.method}</dd>
            <dt>Strategy</dt><dd>{lineage.strategy}</dd>
            <dt>Batching window</dt><dd>{lineage.batchingWindowSeconds} s</dd>
            <dt>Re-forget passes</dt><dd>{lineage.reforgetPasses} (above {percent(lineage.reforgetAboveAccuracy)})</dd>
            <dt>Hyper-parameters</dt><dd><code>{JSON.stringify(lineage.hyperParameters)}</code></dd>
            <dt>LoRA</dt><dd><code>{JSON.stringify(lineage.lora)}</code></dd>
          </dl>
        </section>
        <section class="card" aria-labelledby="curve-title">
          <h2 id="curve-title">Sustainability</h2>
          <SustainabilityChart points={curve} />
        </section>
      </div>
      <section class="card" aria-labelledby="versions-title">
        <h2 id="versions-title">Versions</h2>
        <VersionTree lineage={lineage} curve={curve} />
      </section>
      {operator ? (
        <div class="grid-2">
          <RollbackForm lineage={lineage} onDone={reload} />
          <GatePolicyForm key={lineage.gatePolicyVersion} lineage={lineage} onDone={reload} />
        </div>
      ) : (
        <section class="card"><h2>Gate policy (revision {lineage.gatePolicyVersion})</h2><pre class="code">{JSON.stringify(lineage.gatePolicy, null, 2)}</pre></section>
      )}
    </section>
  );
}
