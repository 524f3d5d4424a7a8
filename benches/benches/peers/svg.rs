//! A log-log line chart as a hand-written SVG: one polyline with markers
//! per series, decade ticks on both axes, a legend on the right, and notes
//! under the x-axis label. An x value of 0 is drawn half a decade left of
//! the smallest nonzero one, behind an axis break; a missing y value is
//! drawn as a `×` at the top of the plot (one row per series that has one).

use std::fmt::Write as _;

/// The shape of a series' markers.
#[derive(Clone, Copy, Debug)]
pub enum Marker {
    /// A circle.
    Circle,
    /// A regular polygon: corners, and the angle of the first one (degrees,
    /// 0 pointing right, clockwise on screen).
    Polygon(u32, f64),
}

impl Marker {
    /// Six shapes that can be told apart.
    pub const ALL: [Marker; 6] = [
        Marker::Polygon(4, 45.0),
        Marker::Polygon(4, 0.0),
        Marker::Polygon(3, -90.0),
        Marker::Polygon(3, 90.0),
        Marker::Polygon(5, -90.0),
        Marker::Circle,
    ];
}

/// One line of the chart.
#[derive(Clone, Debug)]
pub struct Series {
    /// The legend text.
    pub name: String,
    /// A CSS colour.
    pub colour: &'static str,
    /// The markers' shape.
    pub marker: Marker,
    /// Drawn thicker than the others.
    pub bold: bool,
    /// `(x, y)`, in increasing `x`; `None` where the point is missing.
    pub points: Vec<(f64, Option<f64>)>,
}

/// A log-log chart.
#[derive(Clone, Debug)]
pub struct Chart {
    /// The title, above the plot.
    pub title: String,
    /// The x-axis label.
    pub x_label: String,
    /// The y-axis label.
    pub y_label: String,
    /// Formats an x tick (a power of ten).
    pub x_tick: fn(f64) -> String,
    /// Formats a y tick (a power of ten).
    pub y_tick: fn(f64) -> String,
    /// The lines.
    pub series: Vec<Series>,
    /// Lines of small print under the x-axis label.
    pub notes: Vec<String>,
}

/// The viewBox's width.
const WIDTH: f64 = 800.0;
/// The plot area's edges.
const LEFT: f64 = 84.0;
/// The plot area's right edge; the legend is to its right.
const RIGHT: f64 = 600.0;
/// The plot area's top edge.
const TOP: f64 = 52.0;
/// The plot area's bottom edge.
const BOTTOM: f64 = 392.0;
/// The height of a line of notes.
const NOTE_LINE: f64 = 15.0;

/// `text` with XML's special characters escaped.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A log10 axis: the range it spans and where it goes on the page.
struct Axis {
    /// The log10 at the axis' start.
    lo: f64,
    /// The log10 at the axis' end.
    hi: f64,
    /// Page coordinates of `lo` and `hi`.
    from: f64,
    /// See `from`.
    to: f64,
    /// The log10 position of the value 0, if the axis shows one.
    zero: Option<f64>,
    /// The log10 where the positive values begin (`lo` without a 0).
    first: f64,
}

/// Tolerance for comparing logarithms.
const EPS: f64 = 1e-9;

impl Axis {
    /// An axis over `values`: from decade to decade, or with `tight` from a
    /// tenth of a decade below the smallest positive value to a tenth above
    /// the largest. With `tight`, a 0 among the values gets its own place
    /// half a decade below the smallest positive one, behind a break;
    /// otherwise values are clamped to the axis.
    fn new(values: impl Iterator<Item = f64> + Clone, from: f64, to: f64, tight: bool) -> Axis {
        let positive = values.clone().filter(|&v| v > 0.0);
        let min = positive.clone().fold(f64::INFINITY, f64::min);
        let max = positive.fold(0.0, f64::max);
        let (min, max) = if min.is_finite() {
            (min.log10(), max.log10())
        } else {
            (0.0, 1.0)
        };
        let (first, hi) = if tight {
            (min - 0.1, max.max(min + 0.5) + 0.1)
        } else {
            (min.floor(), max.ceil().max(min.floor() + 1.0))
        };
        let zero = (tight && values.into_iter().any(|v| v <= 0.0)).then_some(min - 0.5);
        Axis {
            lo: zero.map_or(first, |zero| zero - 0.1),
            hi,
            from,
            to,
            zero,
            first,
        }
    }

    /// The page coordinate of `log10(value)`.
    fn at_log(&self, log: f64) -> f64 {
        self.from + (log - self.lo) / (self.hi - self.lo) * (self.to - self.from)
    }

    /// The page coordinate of `value`.
    fn at(&self, value: f64) -> f64 {
        match self.zero {
            Some(zero) if value <= 0.0 => self.at_log(zero),
            _ => self.at_log(value.max(10f64.powf(self.first)).log10()),
        }
    }

    /// Where the break between 0 and the positive values goes, if any.
    fn gap(&self) -> Option<f64> {
        self.zero
            .map(|zero| self.at_log((zero + self.first + 0.1) / 2.0))
    }

    /// The decades to label, and the minor ticks (2 to 9 times each), from
    /// `first` to `hi`.
    fn ticks(&self) -> (Vec<f64>, Vec<f64>) {
        let within = |log: f64| log >= self.first - EPS && log <= self.hi + EPS;
        let decades: Vec<f64> = (self.first.floor() as i32..=self.hi.ceil() as i32)
            .map(f64::from)
            .collect();
        let major = decades.iter().copied().filter(|&d| within(d)).collect();
        let minor = decades
            .iter()
            .flat_map(|&d| (2..10).map(move |m| d + f64::from(m).log10()))
            .filter(|&log| within(log))
            .collect();
        (major, minor)
    }
}

/// A marker centred at `(x, y)`.
fn marker(out: &mut String, shape: Marker, x: f64, y: f64, colour: &str) {
    match shape {
        Marker::Circle => {
            let _ = write!(
                out,
                r#"<circle cx="{x:.1}" cy="{y:.1}" r="4.2" fill="{colour}"/>"#
            );
        }
        Marker::Polygon(corners, angle) => {
            let r = if corners == 3 { 5.6 } else { 5.0 };
            let points: Vec<String> = (0..corners)
                .map(|k| {
                    let a = (angle + 360.0 * f64::from(k) / f64::from(corners)).to_radians();
                    format!("{:.1},{:.1}", x + r * a.cos(), y + r * a.sin())
                })
                .collect();
            let _ = write!(
                out,
                r#"<polygon points="{}" fill="{colour}"/>"#,
                points.join(" ")
            );
        }
    }
    out.push('\n');
}

/// The chart as an SVG document.
pub fn render(chart: &Chart) -> String {
    let xs = chart
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|&(x, _)| x));
    let ys = chart
        .series
        .iter()
        .flat_map(|s| s.points.iter().filter_map(|&(_, y)| y));
    let x_axis = Axis::new(xs, LEFT, RIGHT, true);
    let y_axis = Axis::new(ys, BOTTOM, TOP, false);
    let height = BOTTOM + 62.0 + NOTE_LINE * chart.notes.len() as f64;

    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        out,
        r#"<rect width="{WIDTH}" height="{height}" fill="white"/>"#
    );
    let _ = writeln!(
        out,
        r#"<text x="{}" y="28" text-anchor="middle" font-size="16" font-weight="bold">{}</text>"#,
        (LEFT + RIGHT) / 2.0,
        escape(&chart.title)
    );

    // Grid, ticks and tick labels.
    let (x_major, x_minor) = x_axis.ticks();
    let (y_major, y_minor) = y_axis.ticks();
    let zero_label = x_axis.zero.map(|zero| (zero, "0".to_string()));
    let x_labels = x_major
        .iter()
        .map(|&log| (log, (chart.x_tick)(10f64.powf(log))))
        .chain(zero_label);
    for (log, label) in x_labels {
        let x = x_axis.at_log(log);
        let _ = writeln!(
            out,
            r##"<line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{BOTTOM}" stroke="#e4e4e4"/><line x1="{x:.1}" y1="{BOTTOM}" x2="{x:.1}" y2="{}" stroke="#333"/><text x="{x:.1}" y="{}" text-anchor="middle">{}</text>"##,
            BOTTOM + 6.0,
            BOTTOM + 20.0,
            escape(&label)
        );
    }
    for &log in &x_minor {
        let x = x_axis.at_log(log);
        let _ = writeln!(
            out,
            r##"<line x1="{x:.1}" y1="{BOTTOM}" x2="{x:.1}" y2="{}" stroke="#333"/>"##,
            BOTTOM + 3.0
        );
    }
    for &log in &y_major {
        let y = y_axis.at_log(log);
        let _ = writeln!(
            out,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{RIGHT}" y2="{y:.1}" stroke="#e4e4e4"/><line x1="{}" y1="{y:.1}" x2="{LEFT}" y2="{y:.1}" stroke="#333"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            LEFT - 6.0,
            LEFT - 9.0,
            y + 4.0,
            escape(&(chart.y_tick)(10f64.powf(log)))
        );
    }
    for &log in &y_minor {
        let y = y_axis.at_log(log);
        let _ = writeln!(
            out,
            r##"<line x1="{}" y1="{y:.1}" x2="{LEFT}" y2="{y:.1}" stroke="#333"/>"##,
            LEFT - 3.0
        );
    }
    // The frame, over the grid; then the break in the x axis between 0
    // and the first decade: a gap with two slanted strokes.
    let _ = writeln!(
        out,
        r##"<rect x="{LEFT}" y="{TOP}" width="{}" height="{}" fill="none" stroke="#333"/>"##,
        RIGHT - LEFT,
        BOTTOM - TOP
    );
    if let Some(gap) = x_axis.gap() {
        let _ = writeln!(
            out,
            r##"<rect x="{:.1}" y="{}" width="6" height="4" fill="white"/><path d="M{:.1},{} l4,-10 M{:.1},{} l4,-10" stroke="#333"/>"##,
            gap - 3.0,
            BOTTOM - 2.0,
            gap - 7.0,
            BOTTOM + 5.0,
            gap + 3.0,
            BOTTOM + 5.0
        );
    }
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{}" text-anchor="middle" font-size="13">{}</text>"#,
        (LEFT + RIGHT) / 2.0,
        BOTTOM + 40.0,
        escape(&chart.x_label)
    );
    let _ = writeln!(
        out,
        r#"<text transform="translate(20 {}) rotate(-90)" text-anchor="middle" font-size="13">{}</text>"#,
        (TOP + BOTTOM) / 2.0,
        escape(&chart.y_label)
    );

    // The series.
    let mut missing_row = 0.0;
    for series in &chart.series {
        let width = if series.bold { 3.0 } else { 1.8 };
        let mut run: Vec<String> = Vec::new();
        let mut runs: Vec<Vec<String>> = Vec::new();
        for &(x, y) in &series.points {
            match y {
                Some(y) => run.push(format!("{:.1},{:.1}", x_axis.at(x), y_axis.at(y))),
                None => runs.push(std::mem::take(&mut run)),
            }
        }
        runs.push(run);
        for run in runs.iter().filter(|run| run.len() > 1) {
            let _ = writeln!(
                out,
                r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="{width}" stroke-linejoin="round"/>"#,
                run.join(" "),
                series.colour
            );
        }
        for &(x, y) in &series.points {
            let px = x_axis.at(x);
            match y {
                Some(y) => marker(&mut out, series.marker, px, y_axis.at(y), series.colour),
                None => {
                    let _ = writeln!(
                        out,
                        r#"<path d="M{:.1},{:.1} l8,8 m0,-8 l-8,8" stroke="{}" stroke-width="2.2"/>"#,
                        px - 4.0,
                        TOP + 4.0 + 12.0 * missing_row,
                        series.colour
                    );
                }
            }
        }
        if series.points.iter().any(|&(_, y)| y.is_none()) {
            missing_row += 1.0;
        }
    }

    // The legend.
    let legend_x = RIGHT + 18.0;
    for (k, series) in chart.series.iter().enumerate() {
        let y = TOP + 12.0 + 22.0 * k as f64;
        let width = if series.bold { 3.0 } else { 1.8 };
        let _ = writeln!(
            out,
            r#"<line x1="{legend_x}" y1="{y}" x2="{}" y2="{y}" stroke="{}" stroke-width="{width}"/>"#,
            legend_x + 28.0,
            series.colour
        );
        marker(&mut out, series.marker, legend_x + 14.0, y, series.colour);
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}">{}</text>"#,
            legend_x + 36.0,
            y + 4.0,
            escape(&series.name)
        );
    }
    if chart
        .series
        .iter()
        .any(|s| s.points.iter().any(|&(_, y)| y.is_none()))
    {
        let y = TOP + 12.0 + 22.0 * chart.series.len() as f64;
        let _ = writeln!(
            out,
            r##"<path d="M{:.1},{:.1} l8,8 m0,-8 l-8,8" stroke="#333" stroke-width="2.2"/><text x="{}" y="{}">no figure (see notes)</text>"##,
            legend_x + 10.0,
            y - 4.0,
            legend_x + 36.0,
            y + 4.0
        );
    }

    for (k, note) in chart.notes.iter().enumerate() {
        let _ = writeln!(
            out,
            r##"<text x="{}" y="{}" font-size="11" fill="#444">{}</text>"##,
            LEFT - 60.0,
            BOTTOM + 64.0 + NOTE_LINE * k as f64,
            escape(note)
        );
    }
    out.push_str("</svg>\n");
    out
}
