// The Lethe console: sign in with a token, then the screens the token's role may use.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { gql, storedToken, storeToken, type Role, type Viewer } from './api';
import { ErrorBox, Field, go, useRoute } from './ui';
import { EventLog } from './screens/events';
import { LineageDetail, LineageIndex } from './screens/lineages';
import { NewRequest } from './screens/new-request';
import { RequestDetail, RequestList } from './screens/requests';
import { ReviewQueue } from './screens/review';
import { Tokens } from './screens/tokens';
import './style.css';

const NAV: Array<{ path: string; label: string; roles: Role[] }> = [
  { path: 'requests', label: 'Requests', roles: ['REQUESTER', 'OPERATOR', 'AUDITOR'] },
  { path: 'new', label: 'File a request', roles: ['REQUESTER', 'OPERATOR'] },
  { path: 'review', label: 'Review queue', roles: ['OPERATOR'] },
  { path: 'lineages', label: 'Lineages', roles: ['OPERATOR', 'AUDITOR'] },
  { path: 'events', label: 'Event log', roles: ['OPERATOR', 'AUDITOR'] },
  { path: 'tokens', label: 'Tokens', roles: ['OPERATOR'] },
];

function SignIn({ onSignedIn }: { onSignedIn: (viewer: Viewer) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      const { viewer } = await gql<{ viewer: Viewer }>('{ viewer { role owner } }', {}, token.trim());
      storeToken(token.trim());
      onSignedIn(viewer);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <main id="main" class="sign-in">
      <h1>Lethe console</h1>
      <form class="card form" onSubmit={submit}>
        <Field label="API token" hint="Kept for this tab only (session storage); closing the tab signs you out." error={null}>
          {({ id, describedBy }) => <input id={id} type="password" autoComplete="off" value={token} onInput={(e) => setToken(e.currentTarget.value)} aria-describedby={describedBy} />}
        </Field>
        <ErrorBox error={error} />
        <button type="submit">Sign in</button>
      </form>
    </main>
  );
}

function Screen({ viewer, route }: { viewer: Viewer; route: string[] }) {
  const [first, second] = route;
  const allowed = NAV.find((n) => n.path === first)?.roles.includes(viewer.role) ?? false;
  if (first === 'requests' && second) return <RequestDetail id={second} viewer={viewer} />;
  if (!allowed) return <RequestList viewer={viewer} />;
  if (first === 'new') return <NewRequest />;
  if (first === 'review') return <ReviewQueue />;
  if (first === 'lineages') return second ? <LineageDetail name={second} viewer={viewer} /> : <LineageIndex />;
  if (first === 'events') return <EventLog />;
  if (first === 'tokens') return <Tokens />;
  return <RequestList viewer={viewer} />;
}

function App() {
  const route = useRoute();
  const [viewer, setViewer] = useState<Viewer | null>(null);
  const [checking, setChecking] = useState(Boolean(storedToken()));
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    if (!storedToken()) return;
    gql<{ viewer: Viewer }>('{ viewer { role owner } }').then(
      ({ viewer: v }) => setViewer(v),
      (err) => {
        storeToken(null);
        setError(err);
      },
    ).finally(() => setChecking(false));
  }, []);
  const signOut = () => {
    storeToken(null);
    setViewer(null);
    go('requests');
  };
  if (checking) return <p class="muted">Signing in…</p>;
  if (!viewer) return <><ErrorBox error={error} /><SignIn onSignedIn={(v) => { setError(null); setViewer(v); }} /></>;
  const current = route[0] ?? 'requests';
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>Skip to content</a>
      <header class="top">
        <span class="brand">Lethe</span>
        <nav aria-label="Main">
          <ul>
            {NAV.filter((n) => n.roles.includes(viewer.role)).map((n) => (
              <li><a href={`#/${n.path}`} aria-current={current === n.path ? 'page' : undefined}>{n.label}</a></li>
            ))}
          </ul>
        </nav>
        <span class="who" data-role={viewer.role}>{viewer.owner} · {viewer.role}</span>
        <button type="button" class="secondary small" onClick={signOut}>Sign out</button>
      </header>
      <main id="main" tabIndex={-1}>
        <Screen viewer={viewer} route={route} />
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
