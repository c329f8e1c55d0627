/**
 * `npm run screenshots`: the console's main pages as PNGs in docs/images/console-*.png (shown in
 * the README). Starts an in-memory local registry, registers a few models through the SDK as
 * alice, bob and carol (versions with files, metrics and lineage, promotions approved by another
 * person, a pending request, a quality gate), and photographs each page in Chromium. Everything
 * it starts is stopped at the end, also on failure.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { buildConsoleToTemp, clientAs, promote } from '../test/console/support';
import { launchChromium, type TestBrowser } from '../test/support/browser';

const OUT = join(__dirname, '..', 'docs', 'images');
// Before the functions' logger loads (it reads its level once): warnings and errors only.
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';

async function main() {
  const { startLocalRegistry } = await import('../local/registry');
  const build = await buildConsoleToTemp();
  const work = mkdtempSync(join(tmpdir(), 'console-shots-'));
  const registry = await startLocalRegistry({ inMemory: true, port: 0, consoleDir: build.dir });
  let browser: TestBrowser | undefined;
  try {
    const [alice, bob, carol] = ['alice', 'bob', 'carol'].map((who) => clientAs(registry, who)) as [
      ReturnType<typeof clientAs>,
      ReturnType<typeof clientAs>,
      ReturnType<typeof clientAs>,
    ];
    const modelDir = join(work, 'model');
    mkdirSync(modelDir);
    writeFileSync(join(modelDir, 'model.onnx'), Buffer.alloc(3 * 1024 * 1024, 7));
    writeFileSync(join(modelDir, 'preprocess.json'), '{"scaler": "standard", "features": 42}\n');

    const churn = 'churn-classifier';
    await alice.createRegisteredModel(churn, {
      description: 'Predicts which subscribers cancel within 30 days. Used by the retention campaigns.',
      tags: { team: 'growth', domain: 'subscriptions' },
    });
    const runs = [
      { accuracy: 0.912, auc: 0.951, f1: 0.861, latency_ms: 14 },
      { accuracy: 0.927, auc: 0.962, f1: 0.874, latency_ms: 15 },
      { accuracy: 0.934, auc: 0.968, f1: 0.889, latency_ms: 12 },
    ];
    for (const [i, metrics] of runs.entries()) {
      await alice.uploadModel(churn, modelDir, {
        runId: `4f1c2a${i}`,
        runLink: `https://mlflow.example.com/#/experiments/7/runs/4f1c2a${i}`,
        metrics,
        parameters: { max_depth: String(6 + i), learning_rate: '0.05', n_estimators: String(300 + 100 * i) },
        dataset: {
          name: `subscriptions-2026-${9 + i}`,
          digest: `sha256:9b1e${i}c0ffee`,
          uri: `s3://datasets/subscriptions/2026-${9 + i}/`,
        },
        tags: { framework: 'xgboost' },
        stateDir: join(work, `state-${i}`),
        pollIntervalMs: 50,
      });
    }
    await alice.setGovernancePolicy(churn, { quality_gates: ['accuracy >= 0.9', 'auc >= 0.95'] });
    await promote(registry, churn, 1, alice, bob, 'First release');
    await promote(registry, churn, 2, carol, bob, 'Better AUC on October data');
    await alice.setRegisteredModelAlias(churn, 'candidate', 3);
    await alice.transitionModelVersionStage(churn, 3, {
      stage: 'Production',
      archive_existing_versions: true,
      comment: 'Lower latency, better F1',
    });

    const others = [
      ['fraud-detector', 'risk', 'Scores card payments for fraud in real time.'],
      ['search-ranker', 'search', 'Ranks catalogue results for a query.'],
      ['demand-forecast-eu', 'supply', 'Daily demand per warehouse, Europe.'],
      ['demand-forecast-us', 'supply', 'Daily demand per warehouse, United States.'],
      ['support-triage', 'care', 'Routes support tickets to a queue.'],
      ['image-moderation', 'trust', 'Flags images that break the content policy.'],
    ] as const;
    for (const [name, team, description] of others) {
      await carol.createRegisteredModel(name, { description, tags: { team } });
      for (let v = 1; v <= 2; v++) {
        await carol.createModelVersion(name, {
          source: `s3://models/${name}/${v}/`,
          run_id: `${name.slice(0, 3)}${v}`,
          metrics: { accuracy: 0.85 + v / 50, auc: 0.9 + v / 60 },
          parameters: { epochs: String(10 * v) },
        });
      }
    }
    await carol.transitionModelVersionStage('fraud-detector', 2, { stage: 'Staging' });
    await carol.transitionModelVersionStage('fraud-detector', 2, {
      stage: 'Production',
      archive_existing_versions: true,
      comment: 'Recall up 4 points on the holdout',
    });
    await registry.settled();

    browser = await launchChromium();
    const context = await browser.newContext();
    const page = await context.newPage();
    mkdirSync(OUT, { recursive: true });
    const shot = async (p: Page, file: string) => {
      await p.waitForLoadState('networkidle');
      await p.screenshot({ path: join(OUT, `console-${file}.png`), fullPage: true });
      console.log(`docs/images/console-${file}.png`);
    };

    await page.goto(`${registry.url}/`);
    await page.locator('tr[data-model]').first().waitFor();
    await shot(page, 'models');

    await page.goto(`${registry.url}/model/${churn}`);
    await page.locator('tr[data-version="3"]').waitFor();
    await page.getByText('Stages that need approval').waitFor();
    await shot(page, 'model');

    await page.goto(`${registry.url}/model/${churn}/versions/3`);
    await page.locator('#files').waitFor();
    await page.getByRole('button', { name: 'Get download links' }).click();
    await page.getByRole('link', { name: 'Download model.onnx' }).waitFor();
    await shot(page, 'version');

    await page.goto(`${registry.url}/model/${churn}/compare?v=1&v=2&v=3`);
    await page.locator('tr[data-row="accuracy"]').waitFor();
    await shot(page, 'compare');

    await inbox(context, registry.url, 'bob', async (p) => shot(p, 'inbox'));
    await inbox(context, registry.url, 'alice', async (p) => {
      const request = p.locator('article.request', { hasText: `${churn} version 3` });
      await request.getByRole('button', { name: 'Approve' }).click();
      await request.getByRole('alert').waitFor();
      await request.scrollIntoViewIfNeeded();
      await p.screenshot({ path: join(OUT, 'console-refused.png') });
      console.log('docs/images/console-refused.png');
    });

    await page.goto(`${registry.url}/model/${churn}/history`);
    await page.locator('li[data-event]').first().waitFor();
    await page
      .locator('li[data-event="ModelVersionStageChanged"]', {
        hasText: 'Version 1 moved from None to Production',
      })
      .getByRole('button', { name: 'What was live after this?' })
      .click();
    await page.locator('[data-live-at]').waitFor();
    await shot(page, 'history');
  } finally {
    await browser?.close();
    await registry.stop();
    build.remove();
    rmSync(work, { recursive: true, force: true });
  }
}

async function inbox(context: BrowserContext, url: string, who: string, then: (page: Page) => Promise<void>) {
  const page = await context.newPage();
  await page.goto(`${url}/inbox`);
  await page.getByLabel('Acting as').selectOption(who);
  await page.locator('article.request').first().waitFor();
  await page.getByText('The gates passed').first().waitFor();
  await then(page);
  await page.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
