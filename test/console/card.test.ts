/** The model card editor's output: only what was written, trimmed; incomplete rows left out. */
import { describe, expect, it } from 'vitest';
import { compactCard } from '../../web/src/card';

describe('compactCard', () => {
  it('keeps what was written, trimmed, and drops empty fields, rows and sections', () => {
    expect(
      compactCard({
        model_details: {
          overview: '  Predicts churn. ',
          owners: [
            { name: 'Growth ML', contact: 'ml@example.com' },
            { name: ' ', contact: '' },
          ],
          license: '',
          references: ['https://example.com/paper', '  ', ''],
        },
        intended_use: { primary_uses: '', out_of_scope_uses: '' },
        training_data: { name: 'subscriptions-2026-10', digest: ' sha256:abc ', uri: '' },
        evaluation_data: { description: '   ' },
        metrics: [
          { name: 'recall', value: 0.8, slice: 'sex=female', description: '' },
          { name: 'precision', value: Number.NaN },
          { name: ' ', value: 1 },
        ],
        limitations: 'Trained on EU customers only.',
        known_failure_modes: '',
        ethical_considerations: [
          { name: 'Fairness', mitigation: 'Recall checked per sex' },
          { name: '', mitigation: 'orphan' },
        ],
        caveats: ' ',
      }),
    ).toEqual({
      model_details: {
        overview: 'Predicts churn.',
        owners: [{ name: 'Growth ML', contact: 'ml@example.com' }],
        references: ['https://example.com/paper'],
      },
      training_data: { name: 'subscriptions-2026-10', digest: 'sha256:abc' },
      metrics: [{ name: 'recall', value: 0.8, slice: 'sex=female' }],
      limitations: 'Trained on EU customers only.',
      ethical_considerations: [{ name: 'Fairness', mitigation: 'Recall checked per sex' }],
    });
  });

  it('turns an empty form into an empty card', () => {
    expect(compactCard({ model_details: { overview: '' }, metrics: [] })).toEqual({});
  });
});
