//! Charts as inline SVG, drawn by hand from the data a check put in a
//! [`Chart`] (funnel, histogram, timeline, heat strip, bars) and from a
//! score's contributions. Drawing only: axes, ticks and layout are chosen
//! here, every plotted number comes from the chart data.
//!
//! Hand-written SVG (rather than plotters' SVG backend) keeps text as real
//! `<text>` that the browser sets in a CJK font and prints sharply, and lets
//! every label pass through the report's single escape function: `label`
//! is that function (it also masks ID numbers) and is applied to all text
//! that comes from input data.

use std::fmt::Write;

use crate::checks::Chart;
use crate::report::i18n::Text;

/// Escapes (and masks) a piece of input-derived text for the page.
pub type Label<'a> = &'a dyn Fn(&str) -> String;

const W: f64 = 640.0;
const H: f64 = 300.0;
const ML: f64 = 58.0; // margins: left, right, top, bottom
const MR: f64 = 18.0;
const MT: f64 = 50.0;
const MB: f64 = 44.0;

pub const RED: &str = "#c0392b";
const BLUE: &str = "#2f5d8a";
const GREY: &str = "#9aa5b1";
const INK: &str = "#2d3436";

/// Heat-strip rows and columns drawn at most; the rest is summarised.
const HEAT_MAX_ROWS: usize = 40;
const HEAT_MAX_COLS: usize = 62;

/// Renders one chart as an `<svg>` element.
pub fn chart(c: &Chart, t: &Text, label: Label) -> String {
    match c {
        Chart::Funnel { title, points, highlight, target, limits } => {
            funnel(title, points, highlight, *target, limits, t, label)
        }
        Chart::Histogram { title, bin_edges, this, peers, marker } => {
            histogram(title, bin_edges, this, peers, *marker, t, label)
        }
        Chart::Timeline { title, start_label, minutes, highlight, window_end } => {
            timeline(title, start_label, minutes, highlight, *window_end, t, label)
        }
        Chart::HeatStrip { title, row_labels, col_labels, values } => {
            heat_strip(title, row_labels, col_labels, values, t, label)
        }
        Chart::Bars { title, bars } => {
            let bars: Vec<(String, f64, &str)> = bars.iter().map(|(l, v)| (label(l), *v, BLUE)).collect();
            hbars(&label(title), &bars, num, "")
        }
    }
}

/// Horizontal bars. Labels are already escaped (and are shortened on screen,
/// entity-safe, with the full label in the tooltip); `fmt` formats values and
/// `unit` follows each value.
pub fn hbars(title_html: &str, bars: &[(String, f64, &str)], fmt: fn(f64) -> String, unit: &str) -> String {
    let row = 26.0;
    let left = 250.0;
    let top = 32.0;
    let h = top + row * bars.len().max(1) as f64 + 12.0;
    let mut s = open_svg(W, h, title_html);
    let max = bars.iter().map(|b| b.1).filter(|v| v.is_finite()).fold(0.0f64, f64::max);
    let scale = if max > 0.0 { (W - left - 90.0) / max } else { 0.0 };
    if bars.is_empty() {
        empty_note(&mut s, W, h, "—");
    }
    for (i, (l, v, colour)) in bars.iter().enumerate() {
        let y = top + row * i as f64;
        let bw = if v.is_finite() { (v * scale).max(0.0) } else { 0.0 };
        let _ = write!(
            s,
            r#"<g><title>{l} {}</title><text x="{:.1}" y="{:.1}" text-anchor="end" class="lbl">{}</text><rect x="{left:.1}" y="{:.1}" width="{bw:.1}" height="{:.1}" fill="{colour}"/><text x="{:.1}" y="{:.1}" class="val">{}{}</text></g>"#,
            fmt(*v),
            left - 8.0,
            y + row * 0.62,
            shorten_html(l, left - 16.0),
            y + 4.0,
            row - 8.0,
            left + bw + 6.0,
            y + row * 0.62,
            fmt(*v),
            unit
        );
    }
    s.push_str("</svg>");
    s
}

/// Rough width of a character at 12 px (CJK and other wide scripts wider).
fn char_width(c: char) -> f64 {
    if c.is_ascii() {
        6.8
    } else {
        12.0
    }
}

/// Cuts escaped text to about `max_px` wide with `…`, never inside an
/// entity such as `&amp;`.
pub fn shorten_html(s: &str, max_px: f64) -> String {
    let mut out = String::new();
    let mut width = 0.0;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let mut unit = c.to_string();
        if c == '&' {
            while let Some(&d) = chars.peek() {
                unit.push(d);
                chars.next();
                if d == ';' {
                    break;
                }
            }
        }
        width += char_width(c);
        if width > max_px {
            out.push('…');
            return out;
        }
        out.push_str(&unit);
    }
    out
}

fn funnel(
    title: &str,
    points: &[(String, f64, f64)],
    highlight: &str,
    target: f64,
    limits: &[(f64, f64, f64, f64, f64)],
    t: &Text,
    label: Label,
) -> String {
    let mut s = open_svg(W, H, &label(title));
    let finite = |v: &f64| v.is_finite();
    let ns = points.iter().map(|p| p.1).chain(limits.iter().map(|l| l.0)).filter(finite);
    let x_max = ns.fold(1.0f64, f64::max) * 1.04;
    let ys: Vec<f64> = points
        .iter()
        .map(|p| p.2)
        .chain(limits.iter().flat_map(|l| [l.1, l.2, l.3, l.4]))
        .chain([target])
        .filter(finite)
        .collect();
    let (mut y_lo, mut y_hi) = ys.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    if !(y_lo.is_finite() && y_hi.is_finite()) {
        (y_lo, y_hi) = (0.0, 1.0);
    }
    let pad = ((y_hi - y_lo) * 0.05).max(0.01);
    let (y_lo, y_hi) = ((y_lo - pad).max(0.0), (y_hi + pad).min(1.0).max(y_lo + 0.02));
    let ax = Axes::new(0.0, x_max, y_lo, y_hi);
    ax.draw(&mut s, t.chart_n, t.chart_rate, true);
    let mut lim: Vec<&(f64, f64, f64, f64, f64)> = limits.iter().filter(|l| l.0.is_finite()).collect();
    lim.sort_by(|a, b| a.0.total_cmp(&b.0));
    let line = |s: &mut String, pick: fn(&(f64, f64, f64, f64, f64)) -> f64, colour: &str, dash: &str| {
        let pts: Vec<String> = lim
            .iter()
            .filter(|l| pick(l).is_finite())
            .map(|l| format!("{:.1},{:.1}", ax.x(l.0), ax.y(pick(l).clamp(y_lo, y_hi))))
            .collect();
        if pts.len() > 1 {
            let _ = write!(
                s,
                r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="1.4" stroke-dasharray="{dash}"/>"#,
                pts.join(" ")
            );
        }
    };
    line(&mut s, |l| l.1, BLUE, "5 3");
    line(&mut s, |l| l.2, BLUE, "5 3");
    line(&mut s, |l| l.3, INK, "");
    line(&mut s, |l| l.4, INK, "");
    if target.is_finite() {
        let y = ax.y(target.clamp(y_lo, y_hi));
        let _ = write!(
            s,
            r##"<line x1="{:.1}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}" stroke="#27ae60" stroke-width="1.2"/>"##,
            ax.x0, ax.x1
        );
    }
    let mut hl = None;
    for p in points.iter().filter(|p| p.1.is_finite() && p.2.is_finite()) {
        if p.0 == highlight {
            hl = Some(p);
            continue;
        }
        let _ = write!(
            s,
            r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{GREY}" fill-opacity="0.75"><title>{} n={} {}</title></circle>"#,
            ax.x(p.1),
            ax.y(p.2.clamp(y_lo, y_hi)),
            label(&p.0),
            num(p.1),
            pct(p.2)
        );
    }
    if let Some(p) = hl {
        let (cx, cy) = (ax.x(p.1), ax.y(p.2.clamp(y_lo, y_hi)));
        let anchor = if cx > W * 0.7 { "end" } else { "start" };
        let dx = if anchor == "end" { -10.0 } else { 10.0 };
        let _ = write!(
            s,
            r#"<circle cx="{cx:.1}" cy="{cy:.1}" r="6.5" fill="{RED}" stroke="white" stroke-width="1.5"/><text x="{:.1}" y="{:.1}" text-anchor="{anchor}" class="hl">{} ({}, n={})</text>"#,
            cx + dx,
            cy + 4.0,
            label(&p.0),
            pct(p.2),
            num(p.1)
        );
    }
    let mut entries = vec![(GREY, "dot", t.chart_peers)];
    if hl.is_some() {
        entries.push((RED, "dot", t.chart_this));
    }
    entries.extend([
        ("#27ae60", "line", t.chart_target),
        (BLUE, "dash", t.chart_limit95),
        (INK, "line", t.chart_limit998),
    ]);
    legend(&mut s, &entries);
    s.push_str("</svg>");
    s
}

fn histogram(
    title: &str,
    edges: &[f64],
    this: &[f64],
    peers: &[f64],
    marker: Option<f64>,
    t: &Text,
    label: Label,
) -> String {
    let mut s = open_svg(W, H, &label(title));
    let bins = edges.len().saturating_sub(1).min(this.len().max(peers.len()));
    if bins == 0 || !edges.iter().all(|e| e.is_finite()) {
        empty_note(&mut s, W, H, t.chart_empty);
        s.push_str("</svg>");
        return s;
    }
    let y_max = this.iter().chain(peers).copied().filter(|v| v.is_finite()).fold(0.0f64, f64::max).max(1e-9) * 1.1;
    let ax = Axes::new(edges[0], edges[bins], 0.0, y_max);
    ax.draw(&mut s, "", t.chart_share, y_max <= 1.0);
    for i in 0..bins {
        let (x0, x1) = (ax.x(edges[i]), ax.x(edges[i + 1]));
        let w = ((x1 - x0) / 2.0 - 1.0).max(0.5);
        for (k, (vals, colour)) in [(peers, GREY), (this, RED)].into_iter().enumerate() {
            let v = vals.get(i).copied().filter(|v| v.is_finite()).unwrap_or(0.0);
            let y = ax.y(v);
            let _ = write!(
                s,
                r#"<rect x="{:.1}" y="{y:.1}" width="{w:.1}" height="{:.1}" fill="{colour}"><title>[{}, {}) {}</title></rect>"#,
                x0 + 0.5 + k as f64 * (w + 1.0),
                (ax.y0 - y).max(0.0),
                num(edges[i]),
                num(edges[i + 1]),
                pct(v)
            );
        }
    }
    if let Some(m) = marker.filter(|m| m.is_finite() && *m >= edges[0] && *m <= edges[bins]) {
        let x = ax.x(m);
        let _ = write!(
            s,
            r#"<line x1="{x:.1}" x2="{x:.1}" y1="{:.1}" y2="{:.1}" stroke="{INK}" stroke-width="1.6" stroke-dasharray="6 3"/><text x="{:.1}" y="{:.1}" class="hl">{} {}</text>"#,
            ax.y1,
            ax.y0,
            x + 4.0,
            ax.y1 + 12.0,
            t.chart_marker,
            num(m)
        );
    }
    legend(&mut s, &[(GREY, "box", t.chart_peers), (RED, "box", t.chart_this)]);
    s.push_str("</svg>");
    s
}

fn timeline(
    title: &str,
    start_label: &str,
    minutes: &[f64],
    highlight: &[bool],
    window_end: f64,
    t: &Text,
    label: Label,
) -> String {
    let h = 200.0;
    let mut s = open_svg(W, h, &label(title));
    let x_max = minutes.iter().copied().chain([window_end]).filter(|v| v.is_finite()).fold(1.0f64, f64::max);
    let x_min = minutes.iter().copied().filter(|v| v.is_finite()).fold(0.0f64, f64::min);
    let (x0, x1, base) = (ML, W - MR, h - MB);
    let sx = |v: f64| x0 + (v - x_min) / (x_max - x_min).max(1e-9) * (x1 - x0);
    let _ = write!(s, r#"<line x1="{x0}" x2="{x1}" y1="{base}" y2="{base}" stroke="{INK}"/>"#);
    for tk in nice_ticks(x_min, x_max, 8) {
        let x = sx(tk);
        let _ = write!(
            s,
            r#"<line x1="{x:.1}" x2="{x:.1}" y1="{base}" y2="{:.1}" stroke="{INK}"/><text x="{x:.1}" y="{:.1}" text-anchor="middle" class="tick">{}</text>"#,
            base + 4.0,
            base + 16.0,
            num(tk)
        );
    }
    let _ = write!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" class="axis">{}</text><text x="{x0}" y="{:.1}" class="tick">{}</text>"#,
        (x0 + x1) / 2.0,
        h - 8.0,
        t.chart_minutes,
        MT - 6.0,
        label(start_label)
    );
    // A dot plot: events in the same pixel column are stacked upwards.
    let col_w = 6.0;
    let mut stack: std::collections::HashMap<i64, u32> = std::collections::HashMap::new();
    let mut order: Vec<usize> = (0..minutes.len()).filter(|&i| minutes[i].is_finite()).collect();
    order.sort_by(|&a, &b| minutes[a].total_cmp(&minutes[b]));
    let max_stack = ((base - MT - 6.0) / col_w).floor().max(1.0) as u32;
    for i in order {
        let x = sx(minutes[i]);
        let k = stack.entry((x / col_w).round() as i64).or_insert(0);
        let level = (*k).min(max_stack - 1);
        *k += 1;
        let flagged = highlight.get(i).copied().unwrap_or(false);
        let _ = write!(
            s,
            r#"<circle cx="{x:.1}" cy="{:.1}" r="2.8" fill="{}"><title>{}</title></circle>"#,
            base - 4.0 - level as f64 * col_w,
            if flagged { RED } else { BLUE },
            num(minutes[i])
        );
    }
    if window_end.is_finite() {
        let x = sx(window_end);
        let _ = write!(
            s,
            r#"<line x1="{x:.1}" x2="{x:.1}" y1="{MT}" y2="{base}" stroke="{INK}" stroke-dasharray="4 3"/><text x="{:.1}" y="{:.1}" text-anchor="end" class="tick">{} {}</text>"#,
            x - 3.0,
            MT + 10.0,
            t.chart_window_end,
            num(window_end)
        );
    }
    legend(&mut s, &[(BLUE, "dot", t.chart_this), (RED, "dot", t.chart_flagged)]);
    s.push_str("</svg>");
    s
}

fn heat_strip(
    title: &str,
    row_labels: &[String],
    col_labels: &[String],
    values: &[Vec<f64>],
    t: &Text,
    label: Label,
) -> String {
    let rows = values.len().min(HEAT_MAX_ROWS);
    let cols = values.iter().map(Vec::len).max().unwrap_or(0).max(col_labels.len()).min(HEAT_MAX_COLS);
    let left = 150.0;
    let top = MT + 46.0;
    let cell_w = ((W - left - MR) / cols.max(1) as f64).min(28.0);
    let cell_h = 16.0;
    let omitted = values.len() > rows || values.iter().any(|r| r.len() > cols);
    let h = top + cell_h * rows.max(1) as f64 + if omitted { 30.0 } else { 12.0 };
    let mut s = open_svg(W, h, &label(title));
    if rows == 0 || cols == 0 {
        empty_note(&mut s, W, h, t.chart_empty);
        s.push_str("</svg>");
        return s;
    }
    let max = values.iter().flatten().copied().filter(|v| v.is_finite()).fold(0.0f64, f64::max);
    for (j, c) in col_labels.iter().take(cols).enumerate() {
        let x = left + cell_w * (j as f64 + 0.5);
        let _ = write!(
            s,
            r#"<text transform="translate({x:.1},{:.1}) rotate(-60)" class="tick">{}</text>"#,
            top - 4.0,
            label(c)
        );
    }
    for (i, row) in values.iter().take(rows).enumerate() {
        let y = top + cell_h * i as f64;
        let name = row_labels.get(i).map(|l| label(l)).unwrap_or_default();
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end" class="tick">{}</text>"#,
            left - 6.0,
            y + cell_h * 0.72,
            shorten_html(&name, left - 12.0)
        );
        for (j, v) in row.iter().take(cols).enumerate() {
            let x = left + cell_w * j as f64;
            let (fill, tip) = if v.is_finite() {
                let a = if max > 0.0 { (v / max).clamp(0.0, 1.0) } else { 0.0 };
                (heat_colour(a), num(*v))
            } else {
                ("#ffffff".to_string(), "—".to_string())
            };
            let _ = write!(
                s,
                r##"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{fill}" stroke="#ffffff" stroke-width="1"><title>{name} {} {tip}</title></rect>"##,
                cell_w,
                cell_h,
                col_labels.get(j).map(|c| label(c)).unwrap_or_default()
            );
        }
    }
    if omitted {
        let _ = write!(s, r#"<text x="{left}" y="{:.1}" class="tick">… {}</text>"#, h - 10.0, t.chart_rows_omitted);
    }
    let _ = write!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="end" class="tick">max {}</text>"#,
        W - MR,
        MT - 8.0,
        num(max)
    );
    s.push_str("</svg>");
    s
}

/// White (0) to deep blue (1).
fn heat_colour(a: f64) -> String {
    let lerp = |lo: f64, hi: f64| (lo + (hi - lo) * a).round() as u8;
    format!("#{:02x}{:02x}{:02x}", lerp(240.0, 31.0), lerp(244.0, 78.0), lerp(248.0, 121.0))
}

/// A linear plot area with its data ranges.
struct Axes {
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
    xl: f64,
    xh: f64,
    yl: f64,
    yh: f64,
}

impl Axes {
    fn new(xl: f64, xh: f64, yl: f64, yh: f64) -> Axes {
        let xh = if xh > xl { xh } else { xl + 1.0 };
        let yh = if yh > yl { yh } else { yl + 1.0 };
        Axes { x0: ML, x1: W - MR, y0: H - MB, y1: MT, xl, xh, yl, yh }
    }
    fn x(&self, v: f64) -> f64 {
        self.x0 + (v - self.xl) / (self.xh - self.xl) * (self.x1 - self.x0)
    }
    fn y(&self, v: f64) -> f64 {
        self.y0 - (v - self.yl) / (self.yh - self.yl) * (self.y0 - self.y1)
    }
    /// Frame, grid, ticks and axis titles; `y_pct` prints y ticks as percent.
    fn draw(&self, s: &mut String, x_title: &str, y_title: &str, y_pct: bool) {
        for tk in nice_ticks(self.yl, self.yh, 6) {
            let y = self.y(tk);
            let text = if y_pct { pct(tk) } else { num(tk) };
            let _ = write!(
                s,
                r##"<line x1="{:.1}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}" stroke="#e3e7eb"/><text x="{:.1}" y="{:.1}" text-anchor="end" class="tick">{text}</text>"##,
                self.x0,
                self.x1,
                self.x0 - 5.0,
                y + 4.0
            );
        }
        for tk in nice_ticks(self.xl, self.xh, 8) {
            let x = self.x(tk);
            let _ = write!(
                s,
                r#"<line x1="{x:.1}" x2="{x:.1}" y1="{:.1}" y2="{:.1}" stroke="{INK}"/><text x="{x:.1}" y="{:.1}" text-anchor="middle" class="tick">{}</text>"#,
                self.y0,
                self.y0 + 4.0,
                self.y0 + 16.0,
                num(tk)
            );
        }
        let _ = write!(
            s,
            r#"<polyline points="{x0:.1},{y1:.1} {x0:.1},{y0:.1} {x1:.1},{y0:.1}" fill="none" stroke="{INK}"/><text x="{:.1}" y="{:.1}" text-anchor="middle" class="axis">{x_title}</text><text transform="translate(14,{:.1}) rotate(-90)" text-anchor="middle" class="axis">{y_title}</text>"#,
            (self.x0 + self.x1) / 2.0,
            H - 8.0,
            (self.y0 + self.y1) / 2.0,
            x0 = self.x0,
            x1 = self.x1,
            y0 = self.y0,
            y1 = self.y1,
        );
    }
}

fn open_svg(w: f64, h: f64, title_html: &str) -> String {
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {w:.0} {h:.0}" width="{w:.0}" height="{h:.0}" role="img"><title>{title_html}</title><text x="{ML}" y="18" class="ctitle">{title_html}</text>"#
    )
}

fn empty_note(s: &mut String, w: f64, h: f64, note: &str) {
    let _ = write!(s, r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" class="tick">{note}</text>"#, w / 2.0, h / 2.0);
}

/// A legend in the top-right corner; entries are (colour, shape, text).
fn legend(s: &mut String, entries: &[(&str, &str, &str)]) {
    let mut x = W - MR;
    // Laid out right to left with a rough width per character (CJK wider).
    for (colour, shape, text) in entries.iter().rev() {
        let width: f64 = text.chars().map(|c| char_width(c) * 0.92).sum::<f64>() + 22.0;
        x -= width;
        let sym = match *shape {
            "dot" => format!(r#"<circle cx="{:.1}" cy="34" r="4" fill="{colour}"/>"#, x + 6.0),
            "box" => format!(r#"<rect x="{:.1}" y="29" width="10" height="10" fill="{colour}"/>"#, x + 1.0),
            "dash" => format!(
                r#"<line x1="{:.1}" x2="{:.1}" y1="34" y2="34" stroke="{colour}" stroke-width="1.6" stroke-dasharray="4 2"/>"#,
                x,
                x + 13.0
            ),
            _ => format!(
                r#"<line x1="{:.1}" x2="{:.1}" y1="34" y2="34" stroke="{colour}" stroke-width="1.8"/>"#,
                x,
                x + 13.0
            ),
        };
        let _ = write!(s, r#"{sym}<text x="{:.1}" y="38" class="leg">{text}</text>"#, x + 16.0);
    }
}

/// Round tick positions covering [lo, hi] (about `n` of them).
pub fn nice_ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo || n == 0 {
        return vec![];
    }
    let raw = (hi - lo) / n as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(10.0 * mag);
    let first = (lo / step - 1e-9).ceil() as i64;
    (first..first + 50).map(|k| k as f64 * step).take_while(|v| *v <= hi + step * 1e-9).collect()
}

/// A number for display: integers plainly, others with up to 3 decimals.
pub fn num(v: f64) -> String {
    if !v.is_finite() {
        return "—".into();
    }
    if (v - v.round()).abs() < 1e-9 && v.abs() < 1e15 {
        return format!("{}", v.round() as i64);
    }
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A share as a percentage.
pub fn pct(v: f64) -> String {
    if !v.is_finite() {
        return "—".into();
    }
    let s = format!("{:.1}", v * 100.0);
    format!("{}%", s.strip_suffix(".0").unwrap_or(&s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(s: &str) -> String {
        crate::report::html::esc(s)
    }

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        let shown = |v: Vec<f64>| v.into_iter().map(num).collect::<Vec<_>>().join(" ");
        assert_eq!(shown(nice_ticks(0.0, 1.0, 5)), "0 0.2 0.4 0.6 0.8 1");
        assert_eq!(shown(nice_ticks(0.0, 120.0, 6)), "0 20 40 60 80 100 120");
        assert_eq!(shown(nice_ticks(0.43, 0.97, 6)), "0.5 0.6 0.7 0.8 0.9");
        assert!(nice_ticks(1.0, 1.0, 5).is_empty());
    }

    #[test]
    fn long_labels_are_shortened_without_breaking_entities() {
        assert_eq!(shorten_html("abc", 100.0), "abc");
        assert_eq!(shorten_html("&lt;&lt;&lt;&lt;", 14.0), "&lt;&lt;…");
        assert_eq!(shorten_html("学时不足学时不足", 50.0), "学时不足…");
    }

    #[test]
    fn numbers_format() {
        assert_eq!(num(3.0), "3");
        assert_eq!(num(0.12345), "0.123");
        assert_eq!(pct(0.5), "50%");
        assert_eq!(pct(0.123), "12.3%");
        assert_eq!(num(f64::NAN), "—");
    }

    #[test]
    fn every_chart_kind_draws_and_escapes_labels() {
        let t = crate::report::i18n::Lang::Zh.text();
        let charts = [
            Chart::Funnel {
                title: "<b>".into(),
                points: vec![("A".into(), 10.0, 0.5), ("<i>".into(), 40.0, 0.95)],
                highlight: "<i>".into(),
                target: 0.6,
                limits: vec![(5.0, 0.2, 0.9, 0.1, 1.0), (50.0, 0.45, 0.75, 0.4, 0.8)],
            },
            Chart::Histogram {
                title: "h".into(),
                bin_edges: vec![0.0, 50.0, 80.0, 100.0],
                this: vec![0.1, 0.2, 0.7],
                peers: vec![0.3, 0.4, 0.3],
                marker: Some(80.0),
            },
            Chart::Timeline {
                title: "t".into(),
                start_label: "08:00".into(),
                minutes: vec![31.0, 31.5, 32.0, 90.0],
                highlight: vec![true, true, true, false],
                window_end: 120.0,
            },
            Chart::HeatStrip {
                title: "hs".into(),
                row_labels: vec!["<x>".into()],
                col_labels: vec!["07-01".into(), "07-02".into()],
                values: vec![vec![8.0, f64::NAN]],
            },
            Chart::Bars { title: "b".into(), bars: vec![("<y>".into(), 2.0)] },
        ];
        for c in &charts {
            let s = chart(c, t, &plain);
            assert!(s.starts_with("<svg") && s.ends_with("</svg>"), "{s}");
            assert!(!s.contains("<b>") && !s.contains("<i>") && !s.contains("<x>") && !s.contains("<y>"), "{s}");
            assert!(!s.contains("NaN") && !s.contains("inf"), "{s}");
        }
    }

    #[test]
    fn degenerate_charts_do_not_panic() {
        let t = crate::report::i18n::Lang::En.text();
        let empty = [
            Chart::Funnel {
                title: "f".into(),
                points: vec![],
                highlight: "x".into(),
                target: f64::NAN,
                limits: vec![],
            },
            Chart::Histogram { title: "h".into(), bin_edges: vec![], this: vec![], peers: vec![], marker: None },
            Chart::Timeline {
                title: "t".into(),
                start_label: String::new(),
                minutes: vec![],
                highlight: vec![],
                window_end: f64::NAN,
            },
            Chart::HeatStrip { title: "hs".into(), row_labels: vec![], col_labels: vec![], values: vec![] },
            Chart::Bars { title: "b".into(), bars: vec![] },
        ];
        for c in &empty {
            let s = chart(c, t, &plain);
            assert!(s.ends_with("</svg>") && !s.contains("NaN"), "{s}");
        }
    }
}
