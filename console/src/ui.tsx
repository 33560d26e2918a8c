// Small pieces every screen uses: labelled fields with the API's error beside them, status badges,
// polling, and the hash route.
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, describeError } from './api';

/** The current hash route, e.g. "#/requests/abc" -> ["requests", "abc"]. */
export function useRoute(): string[] {
  const parse = () => location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const [route, setRoute] = useState(parse);
  useEffect(() => {
    const onChange = () => setRoute(parse());
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

export function go(...parts: string[]): void {
  location.hash = '#/' + parts.map(encodeURIComponent).join('/');
}

/**
 * Loads with `load` and reloads every `everyMs` while the tab is open (long-running work shows its
 * progress without a page reload); `reload` reloads now.
 */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[], everyMs: number | null = null): { data: T | null; error: unknown; reload: () => void } {
  const [state, setState] = useState<{ data: T | null; error: unknown }>({ data: null, error: null });
  const current = useRef(0);
  const reload = useCallback(() => {
    const ticket = ++current.current;
    load().then(
      (data) => ticket === current.current && setState({ data, error: null }),
      (error) => ticket === current.current && setState((s) => ({ data: s.data, error })),
    );
  }, deps);
  useEffect(() => {
    setState({ data: null, error: null });
    reload();
    if (everyMs === null) return;
    const timer = setInterval(reload, everyMs);
    return () => clearInterval(timer);
  }, [reload, everyMs]);
  return { ...state, reload };
}

/** The error for a form field: the API's error when it names this field (or, unless `exact`, an element of it). */
export function fieldError(error: unknown, field: string, exact = false): string | null {
  if (!(error instanceof ApiError) || !error.field) return null;
  const within = !exact && (error.field.startsWith(field + '[') || error.field.startsWith(field + '.'));
  return error.field === field || within ? describeError(error) : null;
}

/** An error no field of the form claims. */
export function formError(error: unknown, fields: string[]): string | null {
  if (!error) return null;
  return fields.some((f) => fieldError(error, f)) ? null : describeError(error);
}

let nextId = 0;
function useId(prefix: string): string {
  const [id] = useState(() => `${prefix}-${++nextId}`);
  return id;
}

/** A labelled control with its hint and its error beside it (aria-describedby ties them to the control). */
export function Field(props: { label: string; hint?: string; error?: string | null; children: (ids: { id: string; describedBy: string | undefined; invalid: boolean }) => ComponentChildren }) {
  const id = useId('f');
  const hintId = props.hint ? `${id}-hint` : undefined;
  const errorId = props.error ? `${id}-error` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(' ') || undefined;
  return (
    <div class={`field${props.error ? ' invalid' : ''}`}>
      <label for={id}>{props.label}</label>
      {props.children({ id, describedBy, invalid: Boolean(props.error) })}
      {props.hint && <p class="hint" id={hintId}>{props.hint}</p>}
      {props.error && <p class="field-error" id={errorId} role="alert">{props.error}</p>}
    </div>
  );
}

export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  return <p class="error" role="alert">{typeof error === 'string' ? error : describeError(error)}</p>;
}

export function Status({ status }: { status: string }) {
  return <span class={`status status-${status.toLowerCase()}`}>{status.replace(/_/g, ' ')}</span>;
}

export function Loading() {
  return <p class="muted" aria-live="polite">Loading…</p>;
}

export function percent(value: number | null | undefined): string {
  return value === null || value === undefined ? '–' : `${(value * 100).toFixed(1)} %`;
}

export function when(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : '–';
}

export function daysLeft(dueAt: string, now = Date.now()): number {
  return Math.ceil((new Date(dueAt).getTime() - now) / 86_400_000);
}
