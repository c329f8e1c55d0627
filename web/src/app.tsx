/** The console's frame: header, navigation, the local identity switcher, and the current page. */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { CognitoSession } from './auth/cognito';
import { PageHeading } from './components/ui';
import { ComparePage } from './pages/compare';
import { HistoryPage } from './pages/history';
import { InboxPage } from './pages/inbox';
import { ModelPage } from './pages/model';
import { ModelsPage } from './pages/models';
import { VersionPage } from './pages/version';
import { href, parseRoute, type Route, useLocation } from './router';
import {
  type ConsoleConfig,
  cognitoSession,
  LOCAL_PEOPLE,
  localSession,
  localUserArn,
  personOf,
  SessionContext,
  storedIdentity,
  storeIdentity,
  useSession,
} from './session';

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'models':
      return <ModelsPage query={route.query} />;
    case 'inbox':
      return <InboxPage />;
    case 'model':
      return <ModelPage name={route.name} />;
    case 'version':
      return <VersionPage name={route.name} version={route.version} />;
    case 'compare':
      return <ComparePage name={route.name} versions={route.versions} />;
    case 'history':
      return <HistoryPage name={route.name} />;
    case 'not-found':
      return (
        <>
          <PageHeading title="Page not found" />
          <p>
            The console has no page here. <a href={href.models()}>See the models.</a>
          </p>
        </>
      );
  }
}

function IdentitySwitcher() {
  const { arn, switchIdentity } = useSession();
  const preset = LOCAL_PEOPLE.find((p) => localUserArn(p) === arn);
  const [choice, setChoice] = useState<string>(preset ?? 'other');
  const [custom, setCustom] = useState(preset ? '' : arn);
  const [invalid, setInvalid] = useState(false);
  return (
    <form
      class="identity"
      aria-label="Local identity"
      onSubmit={(event) => {
        event.preventDefault();
        const value = custom.trim();
        if (!personOf(value)) {
          setInvalid(true);
          return;
        }
        setInvalid(false);
        switchIdentity(value);
      }}
    >
      <label>
        Acting as <span class="muted small">(local mode)</span>
        <select
          value={choice}
          onChange={(e) => {
            const value = e.currentTarget.value;
            setChoice(value);
            if (value !== 'other') switchIdentity(localUserArn(value));
          }}
        >
          {LOCAL_PEOPLE.map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
          <option value="other">Another principal ARN…</option>
        </select>
      </label>
      {choice === 'other' && (
        <>
          <label>
            <span class="visually-hidden">Principal ARN</span>
            <input
              type="text"
              value={custom}
              placeholder="arn:aws:sts::000000000000:assumed-role/Role/name"
              aria-invalid={invalid}
              aria-describedby={invalid ? 'identity-error' : undefined}
              onInput={(e) => setCustom(e.currentTarget.value)}
            />
          </label>
          <button type="submit">Use</button>
          {invalid && (
            <span id="identity-error" class="field-error" role="alert">
              Not an IAM or STS principal ARN the registry recognizes.
            </span>
          )}
        </>
      )}
    </form>
  );
}

function SignedIn() {
  const { signedIn } = useSession();
  if (!signedIn) return null;
  return (
    <p class="identity">
      Signed in as <strong>{signedIn.name}</strong> <a href={signedIn.signOutUrl}>Sign out</a>
    </p>
  );
}

export function App({ config, user }: { config: ConsoleConfig; user?: CognitoSession }) {
  const [arn, setArn] = useState(storedIdentity);
  const session = useMemo(
    () =>
      config.auth.type === 'cognito' && user
        ? cognitoSession({ ...config, auth: config.auth }, user)
        : localSession(config, arn, (next) => {
            storeIdentity(next);
            setArn(next);
          }),
    [config, arn, user],
  );
  const location = useLocation();
  const route = useMemo(() => parseRoute(location.pathname, location.search), [location]);
  const first = useRef(true);
  useEffect(() => {
    // After a navigation, focus moves to the new page's heading (screen readers announce it).
    if (first.current) {
      first.current = false;
      return;
    }
    document.getElementById('page-heading')?.focus();
  }, [location.pathname]);

  return (
    <SessionContext.Provider value={session}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href={href.models()}>
          Model registry
        </a>
        <nav aria-label="Main">
          <a href={href.models()} aria-current={route.page === 'models' ? 'page' : undefined}>
            Models
          </a>
          <a href={href.inbox()} aria-current={route.page === 'inbox' ? 'page' : undefined}>
            Approval inbox
          </a>
        </nav>
        {session.local ? <IdentitySwitcher /> : <SignedIn />}
      </header>
      <main id="main" key={session.arn}>
        <Page route={route} />
      </main>
    </SessionContext.Provider>
  );
}
