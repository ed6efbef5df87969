// Consumption per period as an inline SVG bar chart (no library): one bar per counted reading that has a
// previous one, height = consumption since it, label = the period's end date.
import { fmtNumber, fmtShort, fmtDate } from "./ui.js";

const NS = "http://www.w3.org/2000/svg";

function s(tag, attrs = {}, text) {
  const n = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
  if (text !== undefined) n.textContent = text;
  return n;
}

/** 1, 2, 5 x 10^k step giving about `n` ticks up to max. */
function niceStep(max, n = 4) {
  const raw = max / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

/**
 * Draw into `container`. rows: history rows of one register ({date, consumption, days, per_day,
 * counted, status}); unit: "m³" / "kWh". Returns the number of bars drawn.
 */
export function consumptionChart(container, rows, { unit = "", maxBars = 12 } = {}) {
  const points = rows.filter((r) => r.counted && r.consumption !== null && r.consumption !== undefined).slice(-maxBars);
  container.replaceChildren();
  if (!points.length) {
    const p = document.createElement("p");
    p.className = "chart-empty";
    p.textContent = "The chart of your consumption appears after two counted readings.";
    container.append(p);
    return 0;
  }
  const W = 640;
  const H = 240;
  const pad = { l: 52, r: 12, t: 22, b: 34 };
  const iw = W - pad.l - pad.r;
  const ih = H - pad.t - pad.b;
  const max = Math.max(...points.map((p) => p.consumption), 0) || 1;
  const step = niceStep(max);
  const top = Math.ceil(max / step) * step;
  const y = (v) => pad.t + ih - (v / top) * ih;

  const svg = s("svg", {
    viewBox: `0 0 ${W} ${H}`,
    class: "chart",
    role: "img",
    "aria-label": `Consumption per period in ${unit}, ${points.length} period${points.length > 1 ? "s" : ""}`,
    preserveAspectRatio: "xMidYMid meet",
  });
  for (let v = 0; v <= top + 1e-9; v += step) {
    svg.append(s("line", { x1: pad.l, x2: W - pad.r, y1: y(v), y2: y(v), class: v === 0 ? "axis" : "grid" }));
    svg.append(s("text", { x: pad.l - 8, y: y(v) + 4, class: "tick", "text-anchor": "end" }, fmtNumber(v, 2)));
  }
  svg.append(s("text", { x: pad.l - 8, y: 12, class: "unit", "text-anchor": "end" }, unit));
  const slot = iw / points.length;
  const bw = Math.min(56, slot * 0.64);
  const labelEvery = Math.ceil(points.length / 8);
  points.forEach((p, i) => {
    const cx = pad.l + slot * i + slot / 2;
    const h = Math.max(1, pad.t + ih - y(p.consumption));
    const g = s("g", { class: `bar bar-${p.status}` });
    const title = `${fmtDate(p.date)}: ${fmtNumber(p.consumption)} ${unit}` +
      (p.days ? ` in ${p.days} day${p.days > 1 ? "s" : ""}` : "") +
      (p.per_day !== null && p.per_day !== undefined ? ` (${fmtNumber(p.per_day, 2)} ${unit}/day)` : "");
    g.append(s("title", {}, title));
    g.append(s("rect", { x: cx - bw / 2, y: pad.t + ih - h, width: bw, height: h, rx: 3 }));
    if (slot > 34) {
      g.append(s("text", { x: cx, y: pad.t + ih - h - 6, class: "value", "text-anchor": "middle" }, fmtNumber(p.consumption, 1)));
    }
    if (i % labelEvery === 0 || i === points.length - 1) {
      g.append(s("text", { x: cx, y: H - pad.b + 18, class: "tick", "text-anchor": "middle" }, fmtShort(p.date)));
    }
    svg.append(g);
  });
  container.append(svg);
  return points.length;
}
