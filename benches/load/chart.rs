//! A self-contained SVG chart: throughput bars per scenario and target (top), and latency
//! p50 / p99 / p99.9 per scenario and target (bottom, log scale). Hand-written so the bench
//! needs no plotting dependency; any browser shows it.

use crate::report::ScenarioResult;
use std::fmt::Write;

const WIDTH: f64 = 960.0;
const PANEL_HEIGHT: f64 = 260.0;
const LEFT: f64 = 70.0;
const TOP: f64 = 40.0;
const GAP: f64 = 90.0;
const COLORS: [(&str, &str); 3] = [
    ("direct", "#8c8c8c"),
    ("pingora", "#4e79a7"),
    ("imgate", "#f28e2b"),
];

pub fn svg(results: &[ScenarioResult], title: &str) -> String {
    let height = TOP + 2.0 * PANEL_HEIGHT + GAP + 60.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{LEFT}" y="20" font-size="14" font-weight="bold">{}</text>"#,
        escape(title)
    );
    legend(&mut s);
    throughput(&mut s, results, TOP);
    latency(&mut s, results, TOP + PANEL_HEIGHT + GAP);
    s.push_str("</svg>\n");
    s
}

fn legend(s: &mut String) {
    for (i, (name, color)) in COLORS.iter().enumerate() {
        let x = WIDTH - 300.0 + i as f64 * 90.0;
        let _ = writeln!(
            s,
            r#"<rect x="{x}" y="10" width="12" height="12" fill="{color}"/><text x="{}" y="20">{name}</text>"#,
            x + 16.0
        );
    }
}

/// Group geometry: one group per scenario, one bar per target.
fn groups(results: &[ScenarioResult]) -> (f64, f64) {
    let group_w = (WIDTH - LEFT - 20.0) / results.len().max(1) as f64;
    let bar_w = (group_w * 0.8) / COLORS.len() as f64;
    (group_w, bar_w)
}

fn throughput(s: &mut String, results: &[ScenarioResult], top: f64) {
    let max = results
        .iter()
        .flat_map(|r| r.measurements.iter().map(|m| m.rps()))
        .fold(1.0, f64::max);
    let scale = nice_ceiling(max);
    let bottom = top + PANEL_HEIGHT;
    let _ = writeln!(
        s,
        r#"<text x="{LEFT}" y="{}" font-weight="bold">Throughput (req/s, higher is better); label: imgate / pingora</text>"#,
        top - 8.0
    );
    for i in 0..=4 {
        let v = scale * f64::from(i) / 4.0;
        let y = bottom - PANEL_HEIGHT * f64::from(i) / 4.0;
        axis_line(s, y, &format!("{v:.0}"));
    }
    let (group_w, bar_w) = groups(results);
    for (g, r) in results.iter().enumerate() {
        let x0 = LEFT + g as f64 * group_w + group_w * 0.1;
        for (b, (name, color)) in COLORS.iter().enumerate() {
            let Some(m) = r.measurements.iter().find(|m| m.target == *name) else {
                continue;
            };
            let h = PANEL_HEIGHT * m.rps() / scale;
            let x = x0 + b as f64 * bar_w;
            let _ = writeln!(
                s,
                r#"<rect x="{x:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" fill="{color}"><title>{name}: {:.0} req/s</title></rect>"#,
                bottom - h,
                bar_w - 2.0,
                m.rps()
            );
            let _ = writeln!(
                s,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="9">{:.0}</text>"#,
                x + bar_w / 2.0,
                bottom - h - 3.0,
                m.rps()
            );
        }
        let ratio = r
            .ratio("pingora")
            .map_or(String::new(), |v| format!(" ({v:.2})"));
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}{ratio}</text>"#,
            x0 + group_w * 0.4,
            bottom + 16.0,
            r.id
        );
    }
}

fn latency(s: &mut String, results: &[ScenarioResult], top: f64) {
    let quantiles = [(0.5, 1.0), (0.99, 0.65), (0.999, 0.35)];
    let max_us = results
        .iter()
        .flat_map(|r| {
            r.measurements
                .iter()
                .map(|m| m.tally.latency.value_at_quantile(0.999) as f64 / 1_000.0)
        })
        .fold(10.0, f64::max);
    let decades = max_us.log10().ceil().max(2.0);
    let bottom = top + PANEL_HEIGHT;
    let y_of = |us: f64| bottom - PANEL_HEIGHT * (us.max(1.0).log10() / decades);
    let _ = writeln!(
        s,
        r#"<text x="{LEFT}" y="{}" font-weight="bold">Latency (µs, log scale, lower is better): p50 solid, p99 and p99.9 lighter on top</text>"#,
        top - 8.0
    );
    for d in 0..=decades as i32 {
        axis_line(s, y_of(10f64.powi(d)), &format!("{}", 10u64.pow(d as u32)));
    }
    let (group_w, bar_w) = groups(results);
    for (g, r) in results.iter().enumerate() {
        let x0 = LEFT + g as f64 * group_w + group_w * 0.1;
        for (b, (name, color)) in COLORS.iter().enumerate() {
            let Some(m) = r.measurements.iter().find(|m| m.target == *name) else {
                continue;
            };
            let x = x0 + b as f64 * bar_w;
            // Tallest first, so the shorter bars stay visible in front.
            for (q, opacity) in quantiles.iter().rev() {
                let us = m.tally.latency.value_at_quantile(*q) as f64 / 1_000.0;
                let y = y_of(us);
                let _ = writeln!(
                    s,
                    r#"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{color}" fill-opacity="{opacity}"><title>{name} p{}: {us:.0} µs</title></rect>"#,
                    bar_w - 2.0,
                    bottom - y,
                    q * 100.0
                );
            }
            let p50 = m.tally.latency.value_at_quantile(0.5) as f64 / 1_000.0;
            let _ = writeln!(
                s,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="9">{p50:.0}</text>"#,
                x + bar_w / 2.0,
                bottom + 11.0
            );
        }
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            x0 + group_w * 0.4,
            bottom + 26.0,
            r.id
        );
    }
}

fn axis_line(s: &mut String, y: f64, label: &str) {
    let _ = writeln!(
        s,
        r##"<line x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{label}</text>"##,
        WIDTH - 20.0,
        LEFT - 6.0,
        y + 4.0
    );
}

/// The smallest 1, 2 or 5 times a power of ten at or above `v`, for a readable axis.
fn nice_ceiling(v: f64) -> f64 {
    let p = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * p)
        .find(|c| *c >= v)
        .unwrap_or(10.0 * p)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
