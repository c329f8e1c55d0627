/** A bar chart of one metric across versions, drawn as SVG (the values are in the table too). */
import { formatNumber } from '../format';

export function MetricChart({
  metric,
  points,
}: {
  metric: string;
  points: { label: string; value?: number }[];
}) {
  const width = 560;
  const barArea = 300;
  const rowHeight = 36;
  const left = 90;
  const present = points.filter((p): p is { label: string; value: number } => p.value !== undefined);
  const max = Math.max(...present.map((p) => Math.abs(p.value)), 0);
  const height = points.length * rowHeight + 10;
  const summary = points
    .map((p) => `${p.label}: ${p.value === undefined ? 'no value' : formatNumber(p.value)}`)
    .join(', ');
  return (
    <figure class="chart">
      <svg
        viewBox={`0 0 ${width} ${height}`}
        width="100%"
        role="img"
        aria-label={`${metric} by version. ${summary}`}
      >
        {points.map((p, i) => {
          const y = 5 + i * rowHeight;
          const w = p.value === undefined || max === 0 ? 0 : (Math.abs(p.value) / max) * barArea;
          return (
            <g key={p.label}>
              <text x={left - 10} y={y + rowHeight / 2 + 5} text-anchor="end" class="chart-label">
                {p.label}
              </text>
              <rect x={left} y={y + 6} width={Math.max(w, 1)} height={rowHeight - 12} class="chart-bar" />
              <text x={left + w + 8} y={y + rowHeight / 2 + 5} class="chart-value">
                {p.value === undefined ? 'no value' : formatNumber(p.value)}
              </text>
            </g>
          );
        })}
      </svg>
      <figcaption>{metric} across the compared versions</figcaption>
    </figure>
  );
}
