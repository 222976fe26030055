// SVG and HTML pieces for the training report (report/report_html.cpp assembles them): text escaping,
// colour ramps, a line chart and a heatmap. Every function returns markup as a string; every piece of
// text that reaches the markup goes through html_escape or token_label first.
//
// Numbers a test (or a reader with the browser's inspector) may want to check are carried on the
// elements as data-* attributes with 9 significant digits, the precision metrics.jsonl is written in.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace gpt {

// Text for an HTML text node or attribute value: & < > " ' become entities, bytes that are not valid
// UTF-8 become "\xNN", control characters other than '\n' and '\t' become "\xNN" (so the page is valid
// UTF-8 and shows what the bytes were). keep_newlines = false shows '\n' as "\n" and '\t' as "\t".
std::string html_escape(std::string_view text, bool keep_newlines = true);

// A token's bytes as a short one-line label, then html_escape'd: ' ' → '␣', '\n' → '\n' (two
// characters), invalid UTF-8 → \xNN; labels longer than max_chars code points end in '…'.
std::string token_label(std::string_view bytes, size_t max_chars = 10);

std::string format_number(double value, int significant = 4);  // "%.{significant}g"; NaN/inf → "-"
std::string exact_number(double value);                         // "%.9g", for data-* attributes

// t in [0, 1] (clamped) → "#rrggbb". viridis: dark purple → yellow; blues: white → dark blue.
std::string viridis(double t);
std::string blues(double t);

// "Nice" axis ticks covering [low, high]: about `count` values at 1, 2 or 5 × 10^k spacing.
std::vector<double> nice_ticks(double low, double high, int count);

struct ChartSeries {
    std::string name;       // legend text
    std::string css_class;  // class of the series group, e.g. "series-train"
    std::string color;
    std::vector<double> x, y;  // non-finite y values are skipped
    bool markers = false;      // visible circles at the points (e.g. the sparse validation losses)
};

// A horizontal line across a chart at y (a uniform-guess loss, a clipping threshold), labelled at its
// right end; drawn as <line class="ref-line css_class" data-y> and included in the y range.
struct ReferenceLine {
    double y = 0.0;
    std::string label, css_class;
};

struct ChartOptions {
    std::string id;  // id of the <svg>
    std::string title, x_label, y_label;
    int width = 1000, height = 280;
    bool log_y = false;
    // Optional secondary axis along the top: the text of each x tick there (e.g. tokens seen at that step).
    std::function<std::string(double x)> top_tick_label;
    std::string top_label;
    std::vector<ReferenceLine> reference_lines;
};

// One <svg class="chart"> with axes, a polyline per series and one <circle class="pt" data-x data-y>
// per point (transparent unless markers), each with a <title> tooltip. width/height set the viewBox;
// the chart scales down with the window (width 100%, max-width its natural width).
std::string line_chart(const ChartOptions& options, const std::vector<ChartSeries>& series);

struct HeatmapOptions {
    std::string id, css_class;  // of the <svg>
    std::string title;
    std::vector<std::string> row_labels, col_labels;  // already escaped (token_label / html_escape)
    int cell_width = 12, cell_height = 12;
    int col_label_every = 1;  // label every n-th column
    int label_font_px = 10;   // row and column labels (monospace)
    bool log_scale = false;   // colour by log10(value); values <= 0 are drawn grey
    double min = 0.0, max = 0.0;  // colour range; min == max: the range of the finite values
    std::function<std::string(double t)> ramp = viridis;
    std::string value_name = "value";  // for the tooltip
    bool color_bar = true;
    // Values the colour range must include and the bar must label (e.g. 1e-3 for update ratios, the
    // ratio Karpathy's rule of thumb calls healthy); besides them the bar labels every power of ten
    // (log scale) or about five nice values (linear).
    std::vector<double> marks;
    std::string extra_attributes;  // appended to the <svg> tag, e.g. data-layer="0"
};

// rows × cols values, row-major; NaN = no cell drawn (e.g. the masked upper triangle of attention).
// Each drawn cell is <rect class="cell" data-row data-col data-value> with a tooltip.
std::string heatmap(const HeatmapOptions& options, const std::vector<double>& values);

}  // namespace gpt
