/**
 * The console end to end, in a real browser (Chromium driven by playwright-core) against a local
 * registry started here: find a model by a filter, open a version (lineage, files, a download,
 * its model card), compare two versions, request Production, have the requester's own approval
 * refused, approve as someone else and watch the model page update without a reload, find what
 * was in Production (and on an alias) before the promotion, and roll back. axe-core checks every
 * page. The browser and the registry are stopped whatever happens.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRegistry } from '../../local/registry';
import type { RegistryClient } from '../../sdk';
import { toDateTimeLocal } from '../../web/src/format';
import { launchChromium, seriousAxeViolations, type TestBrowser } from '../support/browser';
import { localRegistry } from '../support/engines';
import { arnOf, buildConsoleToTemp, clientAs, promote } from './support';

const STEP_TIMEOUT = 120_000;
const suffix = randomUUID().slice(0, 8);
const name = `churn-${suffix}`;
const model = Buffer.concat([Buffer.from('model weights '), randomBytes(200_000)]);
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let build: { dir: string; remove: () => void } | undefined;
let registry: LocalRegistry | undefined;
let browser: TestBrowser | undefined;
let work: string | undefined;
let alice: RegistryClient;
let tBefore: number;
/** Alice's page: it stays open, without reloads, from the approval on. */
let page: Page;

async function expectAccessible(p: Page) {
  expect(await seriousAxeViolations(p)).toEqual([]);
}

beforeAll(async () => {
  build = await buildConsoleToTemp();
  registry = await localRegistry({ consoleDir: build.dir });
  browser = await launchChromium();
  work = mkdtempSync(join(tmpdir(), 'console-e2e-'));
  const modelDir = join(work, 'model');
  mkdirSync(modelDir);
  writeFileSync(join(modelDir, 'model.bin'), model);
  writeFileSync(join(modelDir, 'config.json'), '{"threshold": 0.5}\n');

  alice = clientAs(registry, 'alice');
  const bob = clientAs(registry, 'bob');
  await alice.createRegisteredModel(name, { description: 'Churn classifier', tags: { team: 'growth' } });
  await alice.createRegisteredModel(`${name}-legacy`, { tags: { team: 'risk' } });
  await alice.uploadModel(name, modelDir, {
    runId: 'run-1',
    runLink: 'https://mlflow.example.com/#/runs/run-1',
    metrics: { accuracy: 0.91, f1: 0.85 },
    parameters: { max_depth: '6', learning_rate: '0.1' },
    dataset: { name: 'churn-2026-10', digest: 'sha256:aaa111', uri: 's3://data/churn/2026-10/' },
    stateDir: join(work, 'upload-state'),
    pollIntervalMs: 50,
  });
  await alice.createModelVersion(name, {
    source: 's3://models/churn/2/',
    run_id: 'run-2',
    metrics: { accuracy: 0.94, f1: 0.88 },
    parameters: { max_depth: '8', learning_rate: '0.1' },
    dataset: { name: 'churn-2026-11', digest: 'sha256:bbb222' },
  });
  await alice.setRegisteredModelAlias(name, 'candidate', 1);
  await promote(registry, name, 1, alice, bob, 'First release');
  // A moment (to the second, as a person types it) when version 1 was in Production and on @candidate.
  await new Promise((r) => setTimeout(r, 1100));
  tBefore = Date.now();
  await new Promise((r) => setTimeout(r, 1100));
  await alice.setRegisteredModelAlias(name, 'candidate', 2);
  await registry.settled();
}, STEP_TIMEOUT);

afterAll(async () => {
  await browser?.close();
  await registry?.stop();
  build?.remove();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the console', () => {
  it('finds a model by a filter and opens it from the keyboard', async () => {
    const context = await browser!.newContext();
    page = await context.newPage();
    await page.goto(`${registry!.url}/`);
    await expect.poll(() => page.locator('h1').textContent()).toBe('Models');
    await expectAccessible(page);

    await page.getByLabel('Search').fill(`name LIKE '${name}%' AND tags.team = 'growth'`);
    await page.getByLabel('Search').press('Enter');
    const row = page.locator(`tr[data-model="${name}"]`);
    await row.waitFor();
    expect(await page.locator(`tr[data-model="${name}-legacy"]`).count()).toBe(0);
    expect(page.url()).toContain('q=');

    await row.focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(`**/model/${name}`);
    await page.locator('tr[data-version="2"]').waitFor();
    expect(await page.locator('tr[data-version="1"] .stage').textContent()).toBe('Production');
    expect(await page.locator('tr[data-version="2"] .stage').textContent()).toBe('None');
    expect(await page.getByText('Churn classifier').count()).toBe(1);
    expect(await page.getByText('@candidate').count()).toBeGreaterThan(0);
    await expectAccessible(page);
  });

  it('opens a version: lineage, files with their SHA-256, a working download, its model card', async () => {
    // From the keyboard: ↓ moves between rows, Enter opens one.
    await page.locator('tr[data-version="2"]').focus();
    await page.keyboard.press('ArrowDown');
    expect(await page.evaluate(() => (globalThis as any).document.activeElement?.dataset.version)).toBe('1');
    await page.keyboard.press('Enter');
    await page.waitForURL(`**/model/${name}/versions/1`);
    // The new page's heading takes the focus (screen readers announce the page).
    await expect
      .poll(() => page.evaluate(() => (globalThis as any).document.activeElement?.id))
      .toBe('page-heading');
    await page.locator('#files').waitFor();
    const lineage = await page.locator('section[aria-labelledby="lineage"]').textContent();
    for (const text of ['run-1', 'churn-2026-10', 'sha256:aaa111', 'max_depth', 'accuracy', '0.91']) {
      expect(lineage).toContain(text);
    }
    expect(await page.getByRole('link', { name: 'run-1' }).getAttribute('href')).toBe(
      'https://mlflow.example.com/#/runs/run-1',
    );
    const files = await page.locator('section[aria-labelledby="files"]').textContent();
    expect(files).toContain('model.bin');
    expect(files).toContain(sha256(model));
    expect(files).toContain('195 KiB');

    await page.getByRole('button', { name: 'Get download links' }).click();
    const link = page.getByRole('link', { name: 'Download model.bin' });
    const url = await link.getAttribute('href');
    const downloaded = Buffer.from(await (await fetch(url!)).arrayBuffer());
    expect(sha256(downloaded)).toBe(sha256(model));

    // The model card: none yet (the registry answers RESOURCE_DOES_NOT_EXIST, not
    // ENDPOINT_NOT_FOUND, so the console offers to write one), written in the editor, saved
    // through PUT …/card and shown with the version.
    const cards = await fetch(`${registry!.url}/models/${name}/versions/1/card`);
    expect(cards.status).toBe(404);
    expect(((await cards.json()) as any).error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    const cardSection = page.locator('section[aria-labelledby="card"]');
    await cardSection.getByRole('button', { name: 'Write a model card' }).click();
    await cardSection.getByLabel('Overview').fill('Predicts churn within 30 days.');
    await cardSection.getByLabel('Primary uses').fill('Retention campaigns.');
    await cardSection.getByRole('button', { name: 'Add a row to metrics' }).click();
    await cardSection.getByLabel('Metric', { exact: true }).fill('recall');
    await cardSection.getByLabel('Value').fill('0.8');
    await cardSection.getByLabel('Slice (e.g. sex=female)').fill('sex=female');
    await cardSection.getByRole('button', { name: 'Save model card' }).click();
    await expect.poll(() => cardSection.textContent()).toContain('Model card saved');
    expect(await cardSection.textContent()).toContain('Predicts churn within 30 days.');
    expect(await cardSection.textContent()).toContain('sex=female');
    expect(await cardSection.getByRole('button', { name: 'Edit model card' }).count()).toBe(1);
    const saved = (await alice.getModelVersion(name, 1)) as any;
    expect(saved.model_card).toEqual({
      model_details: { overview: 'Predicts churn within 30 days.' },
      intended_use: { primary_uses: 'Retention campaigns.' },
      metrics: [{ name: 'recall', value: 0.8, slice: 'sex=female' }],
    });
    // The edit is audited as alice's.
    const audit = await alice.getAuditLog(name, { version: 1, max_results: 1 });
    expect(audit.entries[0]).toMatchObject({
      event_type: 'ModelCardUpdated',
      person: arnOf('alice'),
      data: { created: true, changed_sections: ['model_details', 'intended_use', 'metrics'] },
    });
    await expectAccessible(page);
  });

  it('compares two versions, differences marked, with a chart of a chosen metric', async () => {
    await page.getByRole('link', { name, exact: true }).click();
    await page.waitForURL(`**/model/${name}`);
    await page.getByLabel('Compare version 1').check();
    await page.getByLabel('Compare version 2').check();
    await page.getByRole('button', { name: 'Compare selected (2)' }).click();
    await page.waitForURL(`**/model/${name}/compare?v=1&v=2`);
    const accuracy = page.locator('tr[data-row="accuracy"]');
    await accuracy.waitFor();
    expect(await accuracy.getAttribute('class')).toBe('differs');
    expect(await accuracy.textContent()).toContain('(+0.03)');
    expect(await page.locator('tr[data-row="learning_rate"]').getAttribute('class')).toBeNull();
    expect(await page.locator('tr[data-row="max_depth"]').getAttribute('class')).toBe('differs');
    const chart = page.getByRole('img', { name: /by version/ });
    expect(await chart.getAttribute('aria-label')).toBe('accuracy by version. v1: 0.91, v2: 0.94');
    await page.getByRole('combobox', { name: /^Metric/ }).selectOption('f1');
    await expect.poll(() => chart.getAttribute('aria-label')).toBe('f1 by version. v1: 0.85, v2: 0.88');
    await expectAccessible(page);
  });

  it("requests Production for version 2; the requester's own approval is refused with a clear message", async () => {
    await page.goto(`${registry!.url}/model/${name}/versions/2`);
    const form = page.getByRole('form', { name: 'Change the stage' });
    await form.getByLabel('Move to').selectOption('Production');
    await form.getByLabel('Comment').fill('Better on every metric');
    await form.getByRole('button', { name: 'Request stage change' }).click();
    await expect.poll(() => form.textContent()).toMatch(/Production is guarded: request tr-\S+ was filed/);
    await registry!.settled();

    await page.getByRole('link', { name: 'Approval inbox', exact: true }).click();
    const request = page.locator('article.request', { hasText: `${name} version 2` });
    await request.waitFor();
    expect(await request.textContent()).toContain('Yours');
    expect(await request.textContent()).toContain('You filed this request.');
    await expect.poll(() => request.textContent()).toContain('The gates passed');
    await request.getByRole('button', { name: 'Approve' }).click();
    const alert = request.getByRole('alert');
    await alert.waitFor();
    const message = (await alert.textContent()) ?? '';
    expect(message).toContain('You cannot approve this request');
    expect(message).toContain('separation of duties');
    expect(message).toContain('PERMISSION_DENIED');
    expect(message).not.toMatch(/\n\s+at |Error:|\.ts:\d+/);
    await expectAccessible(page);
  });

  it('another person approves; the model page shows the promotion and the archive without a reload', async () => {
    await page.getByRole('link', { name: `${name} version 2` }).click();
    await page.getByRole('link', { name, exact: true }).click();
    await page.locator('tr[data-version="2"]').waitFor();
    await page.evaluate(() => {
      (globalThis as any).__sameDocument = true;
    });

    const bobContext = await browser!.newContext();
    const bobPage = await bobContext.newPage();
    await bobPage.goto(`${registry!.url}/inbox`);
    await bobPage.getByLabel('Acting as').selectOption('bob');
    const request = bobPage.locator('article.request', { hasText: `${name} version 2` });
    await request.waitFor();
    expect(await request.textContent()).not.toContain('Yours');
    await request.getByLabel('Comment').fill('LGTM');
    await request.getByRole('button', { name: 'Approve' }).click();
    await expect
      .poll(() => bobPage.getByRole('status').allTextContents())
      .toContain(`Approved ${name} version 2 → Production. The registry applies it now.`);
    await expectAccessible(bobPage);
    await bobContext.close();

    await expect
      .poll(() => page.locator('tr[data-version="2"] .stage').textContent(), { timeout: 20_000 })
      .toBe('Production');
    await expect
      .poll(() => page.locator('tr[data-version="1"] .stage').textContent(), { timeout: 20_000 })
      .toBe('Archived');
    expect(await page.evaluate(() => (globalThis as any).__sameDocument)).toBe(true);
  });

  it('finds what was in Production, and on an alias, before the promotion', async () => {
    await page.getByRole('link', { name: 'Audit timeline and rollback' }).click();
    await page.waitForURL(`**/model/${name}/history`);
    const form = page.getByRole('form', { name: 'What was live at a time' });
    await form.getByLabel('Stage or alias').selectOption('stage:Production');
    await form.getByLabel('At (your local time)').fill(toDateTimeLocal(tBefore));
    await form.getByRole('button', { name: 'Show' }).click();
    const answer = page.locator('[data-live-at]');
    await expect.poll(() => answer.getAttribute('data-live-at')).toBe('1');
    expect(await answer.textContent()).toContain('Production held version 1');

    await form.getByLabel('Stage or alias').selectOption('alias:candidate');
    await expect.poll(() => answer.textContent()).toContain('@candidate pointed at version 1');

    // From the timeline: the moment version 2 entered Production.
    await form.getByLabel('Stage or alias').selectOption('stage:Production');
    await page
      .locator('li[data-event="ModelVersionStageChanged"]', {
        hasText: 'Version 2 moved from None to Production',
      })
      .getByRole('button', { name: 'What was live after this?' })
      .click();
    await expect.poll(() => answer.getAttribute('data-live-at')).toBe('2');
    await expectAccessible(page);
  });

  it('rolls back after a confirmation naming both versions', async () => {
    const section = page.locator('section[aria-labelledby="rollback"]');
    await expect
      .poll(() => section.textContent())
      .toContain('In Production: version 2. Before it: version 1');
    await section.getByRole('button', { name: 'Roll back to version 1…' }).click();
    const dialog = page.getByRole('dialog', { name: `Roll back ${name}?` });
    await dialog.waitFor();
    const text = await dialog.textContent();
    expect(text).toContain('Version 2 leaves Production and is archived; version 1 returns to Production');
    await expectAccessible(page);
    await dialog.getByLabel('Why (recorded in the audit log)').fill('Latency regression');
    await dialog.getByRole('button', { name: 'Roll back to version 1' }).click();
    await expect
      .poll(() => section.textContent())
      .toContain('Rolled back: version 1 is in Production again and version 2 is archived.');
    const [v1, v2] = await Promise.all([alice.getModelVersion(name, 1), alice.getModelVersion(name, 2)]);
    expect([v1.current_stage, v2.current_stage]).toEqual(['Production', 'Archived']);
    await page
      .locator('li[data-event="ModelVersionStageChanged"]', {
        hasText: 'Version 1 moved from Archived to Production (rollback)',
      })
      .waitFor();
  });

  it('edits the policy: a strengthening applies, a weakening waits as a policy change request', async () => {
    await page.getByRole('link', { name, exact: true }).first().click();
    await page.waitForURL(`**/model/${name}`);
    const section = page.locator('section[aria-labelledby="policy"]');
    await section.getByRole('button', { name: 'Edit policy' }).click();
    await section.getByLabel(/Quality gates/).fill('accuracy >= 0.5');
    await section.getByLabel('Why (recorded in the audit log)').fill('Guard against broken builds');
    await section.getByRole('button', { name: 'Save policy' }).click();
    await expect.poll(() => section.textContent()).toContain('The policy change was applied.');
    expect(await section.textContent()).toContain('accuracy >= 0.5');
    await expectAccessible(page);

    await section.getByRole('button', { name: 'Edit policy' }).click();
    await section.getByRole('checkbox', { name: 'Production' }).uncheck();
    await section.getByRole('button', { name: 'Save policy' }).click();
    await expect.poll(() => section.textContent()).toContain('The change waits for approval');
    const text = (await section.textContent()) ?? '';
    expect(text).toMatch(/stage Production no longer guarded/);
    expect(text).toMatch(/policy change request pr-\S+/);
    await expect.poll(() => section.textContent()).toContain('Pending policy changes');
    expect((await alice.getGovernancePolicy(name)).effective.guarded_stages).toEqual(['Production']);
  });

  it('acts as any principal typed into the identity switcher', async () => {
    const arn = 'arn:aws:sts::000000000000:assumed-role/MLEngineers/dana';
    await page.getByLabel('Acting as').selectOption('other');
    await page.getByLabel('Principal ARN', { exact: true }).fill('not an arn');
    await page.getByRole('button', { name: 'Use' }).click();
    expect(await page.getByRole('alert').textContent()).toContain('Not an IAM or STS principal ARN');
    await page.getByLabel('Principal ARN', { exact: true }).fill(arn);
    await page.getByRole('button', { name: 'Use' }).click();
    await page.getByRole('button', { name: 'Edit description' }).click();
    await page.getByLabel('Description', { exact: true }).fill('Churn classifier, owned by the ML engineers');
    await page.getByRole('button', { name: 'Save description' }).click();
    await expect.poll(() => page.locator('main').textContent()).toContain('owned by the ML engineers');
    const audit = await alice.getAuditLog(name, { max_results: 1 });
    expect(audit.entries[0]).toMatchObject({ event_type: 'RegisteredModelUpdated', actor: arn });
  });
});
