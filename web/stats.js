// The statistics page (supervisor and above): calls per category per hour, the
// share of problem calls, and the top repeat callers, drawn with Chart.js
// (installed from npm and served by spoofex at /vendor/chart.js, never a CDN).
import { h, fill, byId, percent } from './dom.js';
import { api } from './api.js';
import { categoryLabel } from './labels.js';
import { notify } from './ui.js';

// Colours match the board's category badges (style.css); the legend and the
// table beside each chart carry the same information in words.
const SERIES = [
  { key: 'emergency', colour: '#ff6b6b' },
  { key: 'inquiry', colour: '#58a6ff' },
  { key: 'complaint', colour: '#e3b341' },
  { key: 'spam', colour: '#c297ff' },
  { key: 'blank', colour: '#8b949e' },
  { key: 'other', colour: '#3fb9a5' },
];
const SHARES = [
  { key: 'blank', label: 'Blank (silent)' },
  { key: 'spam', label: 'Spam' },
  { key: 'spoofed', label: 'Spoofed caller ID' },
  { key: 'machine', label: 'Machine / robocall' },
];

const charts = { hourly: null, shares: null };
let loadSeq = 0;

export function initStats() {
  byId('stats-hours').addEventListener('change', loadStats);
  byId('stats-refresh').addEventListener('click', loadStats);
}

export function showStats() {
  loadStats();
}

export function stopStats() {
  for (const name of Object.keys(charts)) {
    charts[name]?.destroy();
    charts[name] = null;
  }
}

async function loadStats() {
  const seq = ++loadSeq;
  const hours = Number(byId('stats-hours').value) || 24;
  try {
    const stats = await api.stats(hours);
    if (seq !== loadSeq) return;
    render(stats);
  } catch (e) {
    if (seq === loadSeq) notify(e.message, 'error');
  }
}

function hourLabel(iso, spansDays) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false });
  return spansDays ? `${d.toLocaleDateString([], { day: 'numeric', month: 'short' })} ${time}` : time;
}

// The API lists only hours that had calls; the chart shows every hour of the period,
// so a quiet hour reads as zero instead of vanishing from the time axis.
function everyHour(perHour, hours) {
  const byHour = new Map(perHour.map((row) => [Date.parse(row.hour), row]));
  const now = new Date();
  now.setUTCMinutes(0, 0, 0);
  const rows = [];
  for (let i = hours - 1; i >= 0; i--) {
    const t = now.getTime() - i * 3600 * 1000;
    rows.push(byHour.get(t) || { hour: new Date(t).toISOString() });
    byHour.delete(t);
  }
  // Hours the server counted that fall outside our clock's window (clock skew) still show.
  return [...byHour.values(), ...rows].sort((a, b) => Date.parse(a.hour) - Date.parse(b.hour));
}

function render(stats) {
  const hours = stats.hours || 24;
  const perHour = everyHour(stats.per_hour || [], hours);
  const spansDays = hours > 24;
  const labels = perHour.map((row) => hourLabel(row.hour, spansDays));
  fill(
    byId('stats-total'),
    h('strong', {}, String(stats.total ?? 0)),
    ` calls in the last ${stats.hours || 24} hours`,
  );
  drawHourly(labels, perHour);
  drawShares(stats.shares || {});
  renderHourlyTable(labels, perHour);
  renderTopCallers(stats.top_callers || []);
}

function chartLib() {
  if (!window.Chart) throw new Error('The charting library did not load.');
  const Chart = window.Chart;
  // Readable on a dark control-room screen from a few steps away.
  Chart.defaults.color = '#e6edf3';
  Chart.defaults.borderColor = 'rgba(230, 237, 243, 0.15)';
  Chart.defaults.font.size = 14;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  return Chart;
}

function drawHourly(labels, perHour) {
  const Chart = chartLib();
  const datasets = SERIES.map((s) => ({
    label: s.key === 'other' ? 'Other / undecided' : categoryLabel(s.key),
    data: perHour.map((row) => row[s.key] || 0),
    backgroundColor: s.colour,
    borderWidth: 0,
    maxBarThickness: 48,
  }));
  charts.hourly?.destroy();
  const canvas = byId('chart-hourly');
  const total = perHour.reduce((n, row) => n + SERIES.reduce((m, s) => m + (row[s.key] || 0), 0), 0);
  canvas.setAttribute('aria-label', `Stacked bar chart of ${total} calls per hour by category; the same figures are in the table below it.`);
  charts.hourly = new Chart(canvas, {
    type: 'bar',
    data: { labels, datasets },
    options: {
      animation: false, // a status screen, not a show: draw at once
      maintainAspectRatio: false,
      responsive: true,
      scales: {
        x: { stacked: true, ticks: { maxRotation: 0, autoSkip: true, autoSkipPadding: 12 } },
        y: { stacked: true, beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: 'Calls' } },
      },
      plugins: { legend: { position: 'bottom', labels: { boxWidth: 16, padding: 14 } } },
    },
  });
}

function drawShares(shares) {
  const Chart = chartLib();
  charts.shares?.destroy();
  const canvas = byId('chart-shares');
  const values = SHARES.map((s) => Math.round((shares[s.key] || 0) * 1000) / 10);
  canvas.setAttribute(
    'aria-label',
    `Bar chart of the share of calls: ${SHARES.map((s, i) => `${s.label} ${values[i]}%`).join(', ')}.`,
  );
  // A call can be both spoofed and spam, so the shares need not add up to 100%:
  // bars, not a doughnut, say that honestly.
  charts.shares = new Chart(canvas, {
    type: 'bar',
    data: {
      labels: SHARES.map((s) => s.label),
      datasets: [
        {
          label: 'Share of all calls (%)',
          data: values,
          backgroundColor: ['#8b949e', '#c297ff', '#ff9e64', '#3fb9a5'],
          borderWidth: 0,
        },
      ],
    },
    options: {
      animation: false,
      indexAxis: 'y',
      maintainAspectRatio: false,
      responsive: true,
      scales: { x: { beginAtZero: true, suggestedMax: 100, ticks: { callback: (v) => `${v}%` } } },
      plugins: {
        legend: { display: false },
        tooltip: { callbacks: { label: (ctx) => `${ctx.parsed.x}% of calls` } },
      },
    },
  });
  fill(
    byId('shares-list'),
    SHARES.map((s) => h('li', {}, h('span', {}, s.label), h('strong', {}, percent(shares[s.key] || 0)))),
  );
}

function renderHourlyTable(labels, perHour) {
  fill(
    byId('hourly-table'),
    h(
      'table',
      { class: 'data compact' },
      h('caption', { class: 'visually-hidden' }, 'Calls per hour by category'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Hour'), SERIES.map((s) => h('th', { scope: 'col' }, s.key === 'other' ? 'Other' : categoryLabel(s.key))))),
      h(
        'tbody',
        {},
        perHour.map((row, i) =>
          h('tr', {}, h('th', { scope: 'row' }, labels[i]), SERIES.map((s) => h('td', { class: 'num' }, String(row[s.key] || 0)))),
        ),
      ),
    ),
  );
}

function renderTopCallers(callers) {
  fill(
    byId('top-callers'),
    callers.length
      ? callers.map((c) => h('tr', {}, h('td', { class: 'mono' }, c.number || 'Withheld'), h('td', { class: 'num' }, String(c.calls))))
      : h('tr', {}, h('td', { colspan: '2', class: 'muted' }, 'No repeat callers in this period.')),
  );
}
