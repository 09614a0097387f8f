/**
 * A horizontal SVG bar chart: one row per datum, label left, bar, value right. Sized in CSS pixels
 * from the number of rows; the bars scale to the largest value. Each bar has a <title> tooltip and
 * the figure a text summary for screen readers.
 */

export interface BarDatum {
  label: string;
  value: number;
}

const ROW_HEIGHT = 20;
const BAR_HEIGHT = 13;
const LABEL_WIDTH = 170;
const VALUE_WIDTH = 72;
const WIDTH = 560;

export function BarChart(props: {
  title: string;
  data: readonly BarDatum[];
  format?: (value: number) => string;
  testId?: string;
}): React.JSX.Element {
  const { title, data, testId } = props;
  const format = props.format ?? ((v: number) => String(v));
  const max = Math.max(0, ...data.map((d) => d.value));
  const barSpace = WIDTH - LABEL_WIDTH - VALUE_WIDTH;
  const height = Math.max(ROW_HEIGHT, data.length * ROW_HEIGHT);
  const summary = data.map((d) => `${d.label} ${format(d.value)}`).join(', ');
  return (
    <figure className="chart" {...(testId ? { 'data-testid': testId } : {})}>
      <figcaption className="chart__title">{title}</figcaption>
      {data.length === 0 ? (
        <p className="muted">No data.</p>
      ) : (
        <svg
          className="chart__svg"
          viewBox={`0 0 ${WIDTH} ${height}`}
          width="100%"
          style={{ maxWidth: WIDTH }}
          role="img"
          aria-label={`${title}: ${summary}`}
        >
          {data.map((d, index) => {
            const y = index * ROW_HEIGHT;
            const width = max > 0 ? Math.max(d.value > 0 ? 2 : 0, (d.value / max) * barSpace) : 0;
            return (
              <g key={d.label} transform={`translate(0 ${y})`}>
                <title>{`${d.label}: ${format(d.value)}`}</title>
                <text
                  className="chart__label"
                  x={LABEL_WIDTH - 8}
                  y={ROW_HEIGHT / 2}
                  dominantBaseline="central"
                  textAnchor="end"
                >
                  {d.label.length > 26 ? `${d.label.slice(0, 25)}…` : d.label}
                </text>
                <rect
                  className="chart__track"
                  x={LABEL_WIDTH}
                  y={(ROW_HEIGHT - BAR_HEIGHT) / 2}
                  width={barSpace}
                  height={BAR_HEIGHT}
                  rx={2}
                />
                <rect
                  className="chart__bar"
                  x={LABEL_WIDTH}
                  y={(ROW_HEIGHT - BAR_HEIGHT) / 2}
                  width={width}
                  height={BAR_HEIGHT}
                  rx={2}
                />
                <text
                  className="chart__value"
                  x={LABEL_WIDTH + barSpace + 8}
                  y={ROW_HEIGHT / 2}
                  dominantBaseline="central"
                >
                  {format(d.value)}
                </text>
              </g>
            );
          })}
        </svg>
      )}
    </figure>
  );
}
