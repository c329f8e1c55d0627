/** Starts the console: reads its configuration, then renders. */
import { render } from 'preact';
import { App } from './app';
import { followLink } from './router';
import type { ConsoleConfig } from './session';
import './styles.css';

async function start(root: HTMLElement) {
  let config: ConsoleConfig;
  try {
    const response = await fetch('/console-config.json', { headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    config = (await response.json()) as ConsoleConfig;
    if (config.auth?.type !== 'local') throw new Error(`unsupported sign-in '${String(config.auth?.type)}'`);
  } catch (err) {
    root.textContent = `The console could not read its configuration (/console-config.json): ${(err as Error).message}.`;
    return;
  }
  // Links within the console navigate in the page.
  document.addEventListener('click', followLink);
  root.textContent = '';
  render(<App config={config} />, root);
}

void start(document.getElementById('app')!);
