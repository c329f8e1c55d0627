/** Starts the console: reads its configuration, signs in when deployed, then renders. */
import { render } from 'preact';
import { App } from './app';
import { type AuthEnvironment, beginSignIn, CognitoSession, completeSignIn } from './auth/cognito';
import { followLink } from './router';
import type { ConsoleConfig } from './session';
import './styles.css';

async function readConfig(): Promise<ConsoleConfig> {
  const response = await fetch('/console-config.json', { headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const config = (await response.json()) as ConsoleConfig;
  const type = config.auth?.type;
  if (type !== 'local' && type !== 'cognito') throw new Error(`unsupported sign-in '${String(type)}'`);
  return config;
}

const browserEnvironment = (): AuthEnvironment => ({
  fetch: (input, init) => fetch(input, init),
  storage: sessionStorage,
  now: () => Date.now(),
  random: (length) => crypto.getRandomValues(new Uint8Array(length)),
});

/**
 * Deployed: completes the hosted UI's redirect back, or goes to the hosted UI. Undefined while the
 * browser navigates away to sign in.
 */
async function signIn(config: ConsoleConfig): Promise<CognitoSession | undefined> {
  if (config.auth.type !== 'cognito') return undefined;
  const env = browserEnvironment();
  const done = await completeSignIn(config.auth, env, new URL(location.href));
  if (!done) {
    location.assign(await beginSignIn(config.auth, env, location.pathname + location.search));
    return undefined;
  }
  history.replaceState(null, '', done.returnTo);
  const user = new CognitoSession(config.auth, env, done.tokens);
  await user.credentials(); // fails here, with its reason, rather than on the first page
  return user;
}

async function start(root: HTMLElement) {
  let config: ConsoleConfig;
  try {
    config = await readConfig();
  } catch (err) {
    root.textContent = `The console could not read its configuration (/console-config.json): ${(err as Error).message}.`;
    return;
  }
  let user: CognitoSession | undefined;
  if (config.auth.type === 'cognito') {
    root.textContent = 'Signing in…';
    try {
      user = await signIn(config);
    } catch (err) {
      root.textContent = `${(err as Error).message} Reload the page to try again.`;
      return;
    }
    if (!user) return;
  }
  // Links within the console navigate in the page.
  document.addEventListener('click', followLink);
  root.textContent = '';
  render(<App config={config} {...(user ? { user } : {})} />, root);
}

void start(document.getElementById('app')!);
