// The dashboard's charts: one Chart.js chart per canvas, created once and updated in place
// (Chart.js animates the change instead of redrawing from nothing on every refresh).

const PALETTE = ["#1e88e5", "#43a047", "#fb8c00", "#8e24aa", "#e53935", "#00897b", "#6d4c41", "#3949ab"];

export function minuteLabel(iso) {
  return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function colour(index) {
  return PALETTE[index % PALETTE.length];
}

/** A dataset list from [{label, data, axis?}], coloured in order. */
export function datasets(series, { fill = false } = {}) {
  return series.map((s, i) => ({
    label: s.label,
    data: s.data,
    yAxisID: s.axis || "y",
    borderColor: colour(i),
    backgroundColor: fill ? PALETTE.map((_, j) => colour(i + j)) : colour(i),
    tension: 0.25,
    pointRadius: 2,
    spanGaps: true,
  }));
}

export class Charts {
  constructor() {
    this.charts = new Map();
  }

  /** Create or update the chart on canvas `id`. */
  draw(id, { type = "line", labels, series, options = {} }) {
    const data = { labels, datasets: datasets(series, { fill: type === "doughnut" }) };
    const existing = this.charts.get(id);
    if (existing) {
      existing.data = data;
      existing.update();
      return existing;
    }
    const chart = new window.Chart(document.getElementById(id), {
      type,
      data,
      options: { responsive: true, maintainAspectRatio: false, animation: { duration: 300 }, ...options },
    });
    this.charts.set(id, chart);
    return chart;
  }
}
