/** A line per series over the same x values, as a self-contained SVG. */
export function lineChart(options: {
  title: string;
  xLabel: string;
  yLabel: string;
  xs: number[];
  series: { name: string; ys: number[] }[];
}): string {
  const { title, xLabel, yLabel, xs, series } = options;
  const width = 760;
  const height = 420;
  const margin = { left: 64, right: 220, top: 40, bottom: 56 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const all = series.flatMap((s) => s.ys);
  const yMin = Math.min(1, ...all);
  const yMax = Math.max(...all) * 1.05;
  // Thread counts double: an even spacing per doubling reads best.
  const xPos = (i: number) =>
    margin.left + (xs.length === 1 ? plotW / 2 : (i / (xs.length - 1)) * plotW);
  const yPos = (y: number) => margin.top + plotH - ((y - yMin) / (yMax - yMin || 1)) * plotH;
  const colors = ['#1f77b4', '#17becf', '#ff7f0e', '#9467bd', '#d62728', '#2ca02c', '#8c564b'];
  const grid = Array.from({ length: 6 }, (_, k) => yMin + ((yMax - yMin) * k) / 5).map(
    (y) =>
      `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${yPos(y).toFixed(1)}" y2="${yPos(y).toFixed(1)}" stroke="#eee"/><text x="${margin.left - 8}" y="${(yPos(y) + 4).toFixed(1)}" text-anchor="end">${y.toFixed(2)}</text>`,
  );
  const xTicks = xs.map(
    (x, i) =>
      `<text x="${xPos(i).toFixed(1)}" y="${margin.top + plotH + 18}" text-anchor="middle">${x}</text>`,
  );
  const lines = series.map((s, k) => {
    const color = colors[k % colors.length];
    const points = s.ys.map((y, i) => `${xPos(i).toFixed(1)},${yPos(y).toFixed(1)}`).join(' ');
    const dots = s.ys
      .map(
        (y, i) =>
          `<circle cx="${xPos(i).toFixed(1)}" cy="${yPos(y).toFixed(1)}" r="3" fill="${color}"/>`,
      )
      .join('');
    const legendY = margin.top + 10 + k * 20;
    return `<polyline fill="none" stroke="${color}" stroke-width="2" points="${points}"/>${dots}<line x1="${width - margin.right + 16}" x2="${width - margin.right + 36}" y1="${legendY}" y2="${legendY}" stroke="${color}" stroke-width="3"/><text x="${width - margin.right + 42}" y="${legendY + 4}">${s.name}</text>`;
  });
  const one =
    yMin <= 1
      ? `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${yPos(1).toFixed(1)}" y2="${yPos(1).toFixed(1)}" stroke="#333" stroke-dasharray="4 4"/>`
      : '';
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">
<title>${title}</title>
<rect width="100%" height="100%" fill="#fff"/>
<text x="${margin.left}" y="22" font-size="15" font-weight="600">${title}</text>
${grid.join('\n')}
${one}
${xTicks.join('')}
<text x="${margin.left + plotW / 2}" y="${height - 14}" text-anchor="middle">${xLabel}</text>
<text transform="translate(16 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">${yLabel}</text>
${lines.join('\n')}
</svg>
`;
}
