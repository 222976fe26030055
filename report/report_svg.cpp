#include "report/report_svg.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

#include "data/utf8.h"

namespace gpt {

namespace {

std::string hex_byte(unsigned char byte) {
    char buffer[8];
    std::snprintf(buffer, sizeof buffer, "\\x%02x", static_cast<unsigned>(byte));
    return buffer;
}

std::string px(double value) {  // coordinates: one decimal is plenty, none when it is 0
    char buffer[32];
    const int n = std::snprintf(buffer, sizeof buffer, "%.1f", value);
    if (n > 2 && buffer[n - 1] == '0' && buffer[n - 2] == '.') buffer[n - 2] = '\0';
    return buffer;
}

std::string ramp(double t, const std::array<std::array<double, 3>, 5>& stops) {
    t = std::isfinite(t) ? std::clamp(t, 0.0, 1.0) : 0.0;
    const double scaled = t * (stops.size() - 1);
    const size_t i = std::min(static_cast<size_t>(scaled), stops.size() - 2);
    const double f = scaled - static_cast<double>(i);
    char buffer[8];
    int rgb[3];
    for (int c = 0; c < 3; ++c) rgb[c] = static_cast<int>(std::lround(stops[i][c] + f * (stops[i + 1][c] - stops[i][c])));
    std::snprintf(buffer, sizeof buffer, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
    return buffer;
}

// Approximate width in pixels of an escaped label in a monospace font of font_px pixels.
double label_width(const std::string& escaped, int font_px) {
    size_t chars = 0;
    for (size_t i = 0; i < escaped.size(); ++i) {
        if (escaped[i] == '&') i = escaped.find(';', i);  // an entity is one character
        else if ((static_cast<unsigned char>(escaped[i]) & 0xC0) == 0x80) continue;
        ++chars;
        if (i == std::string::npos) break;
    }
    return 0.62 * font_px * static_cast<double>(chars);
}

// Ticks of a log axis spanning log10 values [low, high]: 1-2-5 × 10^k when the range is within about
// one decade (powers of ten alone would leave one tick or none), else the powers of ten.
std::vector<double> log_ticks(double low, double high) {
    std::vector<double> ticks;
    if (high - low < 1.5) {
        for (double v : nice_ticks(std::pow(10.0, low), std::pow(10.0, high), 6))
            if (v > 0) ticks.push_back(v);
        return ticks;
    }
    const int step = static_cast<int>(std::ceil((high - low) / 6));
    for (int e = static_cast<int>(std::ceil(low)); e <= static_cast<int>(std::floor(high)); e += step)
        ticks.push_back(std::pow(10.0, e));
    return ticks;
}

}  // namespace

std::string html_escape(std::string_view text, bool keep_newlines) {
    std::string out;
    out.reserve(text.size());
    for (size_t pos = 0; pos < text.size();) {
        const auto byte = static_cast<unsigned char>(text[pos]);
        char32_t code_point = 0;
        const int length = utf8::sequence_length(text, pos, code_point);
        if (length == 0) {
            out += hex_byte(byte);
            ++pos;
            continue;
        }
        if (length > 1) {
            out.append(text.substr(pos, static_cast<size_t>(length)));
            pos += static_cast<size_t>(length);
            continue;
        }
        switch (byte) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            case '\n': out += keep_newlines ? "\n" : "\\n"; break;
            case '\t': out += keep_newlines ? "\t" : "\\t"; break;
            default: out += (byte < 0x20 || byte == 0x7F) ? hex_byte(byte) : std::string(1, static_cast<char>(byte));
        }
        ++pos;
    }
    return out;
}

std::string token_label(std::string_view bytes, size_t max_chars) {
    std::string shown;
    size_t chars = 0;
    for (size_t pos = 0; pos < bytes.size();) {
        if (chars == max_chars) {
            shown += "…";
            break;
        }
        char32_t code_point = 0;
        const int length = utf8::sequence_length(bytes, pos, code_point);
        if (length == 1 && bytes[pos] == ' ') shown += "␣";
        else if (length == 1 && bytes[pos] == '\\') shown += "\\\\";
        else shown.append(bytes.substr(pos, length > 0 ? static_cast<size_t>(length) : 1));
        pos += length > 0 ? static_cast<size_t>(length) : 1;
        ++chars;
    }
    return html_escape(shown, false);
}

std::string format_number(double value, int significant) {
    if (!std::isfinite(value)) return "-";
    char buffer[40];
    std::snprintf(buffer, sizeof buffer, "%.*g", significant, value);
    return buffer;
}

std::string exact_number(double value) {
    if (!std::isfinite(value)) return "NaN";
    char buffer[40];
    std::snprintf(buffer, sizeof buffer, "%.9g", value);
    return buffer;
}

std::string viridis(double t) {
    return ramp(t, {{{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}}});
}

std::string blues(double t) {
    return ramp(t, {{{255, 255, 255}, {198, 219, 239}, {107, 174, 214}, {33, 113, 181}, {8, 48, 107}}});
}

std::vector<double> nice_ticks(double low, double high, int count) {
    if (!std::isfinite(low) || !std::isfinite(high)) return {};
    if (high <= low) return {low};
    const double raw = (high - low) / std::max(1, count);
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    const double fraction = raw / magnitude;
    const double step = (fraction <= 1.0 ? 1.0 : fraction <= 2.0 ? 2.0 : fraction <= 5.0 ? 5.0 : 10.0) * magnitude;
    std::vector<double> ticks;
    for (double t = std::ceil(low / step - 1e-9) * step; t <= high + step * 1e-9; t += step)
        ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
    return ticks;
}

std::string line_chart(const ChartOptions& o, const std::vector<ChartSeries>& series) {
    const double left = 64, right = 150, top = o.top_tick_label ? 52 : 28, bottom = 40;
    const double plot_w = o.width - left - right, plot_h = o.height - top - bottom;
    auto y_of = [&](double v) { return o.log_y ? std::log10(v) : v; };
    double x_min = INFINITY, x_max = -INFINITY, y_min = INFINITY, y_max = -INFINITY;
    bool any_point = false;
    for (const ChartSeries& s : series)
        for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
            if (!std::isfinite(s.y[i]) || (o.log_y && s.y[i] <= 0)) continue;
            x_min = std::min(x_min, s.x[i]), x_max = std::max(x_max, s.x[i]);
            y_min = std::min(y_min, y_of(s.y[i])), y_max = std::max(y_max, y_of(s.y[i]));
            any_point = true;
        }
    for (const ReferenceLine& line : o.reference_lines)
        if (any_point && std::isfinite(line.y) && (!o.log_y || line.y > 0))
            y_min = std::min(y_min, y_of(line.y)), y_max = std::max(y_max, y_of(line.y));
    std::string svg = "<svg id=\"" + o.id + "\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"100%\" " +
                      "style=\"max-width:" + std::to_string(o.width) + "px\" viewBox=\"0 0 " + std::to_string(o.width) +
                      " " + std::to_string(o.height) + "\" preserveAspectRatio=\"xMinYMin meet\">\n";
    svg += "<text class=\"chart-title\" x=\"" + px(left) + "\" y=\"14\">" + html_escape(o.title) + "</text>\n";
    if (!std::isfinite(x_min)) return svg + "<text x=\"" + px(left) + "\" y=\"60\">no data</text></svg>\n";
    if (x_max == x_min) x_max = x_min + 1;
    if (y_max == y_min) y_max = y_min + (y_min == 0 ? 1 : std::abs(y_min) * 0.1), y_min -= (y_max - y_min);
    const double pad = (y_max - y_min) * 0.05;
    y_min -= pad, y_max += pad;
    auto sx = [&](double x) { return left + (x - x_min) / (x_max - x_min) * plot_w; };
    auto sy = [&](double y) { return top + (1.0 - (y_of(y) - y_min) / (y_max - y_min)) * plot_h; };

    svg += "<g class=\"axes\">\n<rect class=\"plot-area\" x=\"" + px(left) + "\" y=\"" + px(top) + "\" width=\"" +
           px(plot_w) + "\" height=\"" + px(plot_h) + "\"/>\n";
    for (double t : nice_ticks(x_min, x_max, 8)) {
        svg += "<line class=\"grid\" x1=\"" + px(sx(t)) + "\" x2=\"" + px(sx(t)) + "\" y1=\"" + px(top) + "\" y2=\"" +
               px(top + plot_h) + "\"/><text class=\"tick\" text-anchor=\"middle\" x=\"" + px(sx(t)) + "\" y=\"" +
               px(top + plot_h + 14) + "\">" + format_number(t, 6) + "</text>\n";
        if (o.top_tick_label)
            svg += "<text class=\"tick top-tick\" text-anchor=\"middle\" x=\"" + px(sx(t)) + "\" y=\"" + px(top - 6) +
                   "\">" + html_escape(o.top_tick_label(t)) + "</text>\n";
    }
    for (double value : o.log_y ? log_ticks(y_min, y_max) : nice_ticks(y_min, y_max, 5)) {
        svg += "<line class=\"grid\" x1=\"" + px(left) + "\" x2=\"" + px(left + plot_w) + "\" y1=\"" + px(sy(value)) +
               "\" y2=\"" + px(sy(value)) + "\"/><text class=\"tick\" text-anchor=\"end\" x=\"" + px(left - 6) +
               "\" y=\"" + px(sy(value) + 4) + "\">" + format_number(value, 3) + "</text>\n";
    }
    svg += "<text class=\"axis-label\" text-anchor=\"middle\" x=\"" + px(left + plot_w / 2) + "\" y=\"" +
           px(o.height - 6) + "\">" + html_escape(o.x_label) + "</text>\n";
    svg += "<text class=\"axis-label\" text-anchor=\"middle\" transform=\"rotate(-90 14 " + px(top + plot_h / 2) +
           ")\" x=\"14\" y=\"" + px(top + plot_h / 2) + "\">" + html_escape(o.y_label) + "</text>\n";
    if (o.top_tick_label)
        svg += "<text class=\"axis-label\" x=\"" + px(left + plot_w + 24) + "\" y=\"" + px(top - 6) + "\">" +
               html_escape(o.top_label) + "</text>\n";
    for (const ReferenceLine& line : o.reference_lines) {
        if (!std::isfinite(line.y) || (o.log_y && line.y <= 0)) continue;
        const std::string y = px(sy(line.y));
        svg += "<line class=\"ref-line " + line.css_class + "\" data-y=\"" + exact_number(line.y) + "\" x1=\"" +
               px(left) + "\" x2=\"" + px(left + plot_w) + "\" y1=\"" + y + "\" y2=\"" + y +
               "\" stroke=\"#888\" stroke-dasharray=\"5 4\"/><text class=\"ref-label\" x=\"" + px(left + plot_w + 6) +
               "\" y=\"" + px(sy(line.y) + 4) + "\">" + html_escape(line.label) + "</text>\n";
    }
    svg += "</g>\n";

    for (size_t s = 0; s < series.size(); ++s) {
        const ChartSeries& one = series[s];
        std::string points, dots;
        for (size_t i = 0; i < one.x.size() && i < one.y.size(); ++i) {
            if (!std::isfinite(one.y[i]) || (o.log_y && one.y[i] <= 0)) continue;
            const std::string cx = px(sx(one.x[i])), cy = px(sy(one.y[i]));
            points += cx + "," + cy + " ";
            dots += "<circle class=\"pt\" cx=\"" + cx + "\" cy=\"" + cy + "\" r=\"" + (one.markers ? "3" : "2.5") +
                    "\" data-x=\"" + exact_number(one.x[i]) + "\" data-y=\"" + exact_number(one.y[i]) + "\"" +
                    (one.markers ? " fill=\"" + one.color + "\"" : " fill=\"transparent\"") + "><title>" +
                    html_escape(one.name) + " at " + format_number(one.x[i], 9) + ": " + format_number(one.y[i], 6) +
                    "</title></circle>";
        }
        svg += "<g class=\"series " + one.css_class + "\" data-name=\"" + html_escape(one.name) + "\">\n";
        svg += "<polyline fill=\"none\" stroke=\"" + one.color + "\" stroke-width=\"1.6\" points=\"" + points + "\"/>\n";
        svg += dots + "\n</g>\n";
        const double ly = top + 12 + 18 * static_cast<double>(s + o.reference_lines.size());
        svg += "<g class=\"legend\"><line x1=\"" + px(left + plot_w + 10) + "\" x2=\"" + px(left + plot_w + 28) +
               "\" y1=\"" + px(ly) + "\" y2=\"" + px(ly) + "\" stroke=\"" + one.color +
               "\" stroke-width=\"3\"/><text x=\"" + px(left + plot_w + 32) + "\" y=\"" + px(ly + 4) + "\">" +
               html_escape(one.name) + "</text></g>\n";
    }
    return svg + "</svg>\n";
}

std::string heatmap(const HeatmapOptions& o, const std::vector<double>& values) {
    const size_t rows = o.row_labels.size(), cols = o.col_labels.size();
    auto transform = [&](double v) { return o.log_scale ? (v > 0 ? std::log10(v) : NAN) : v; };
    double lo = o.min, hi = o.max;
    if (lo == hi) {
        lo = INFINITY, hi = -INFINITY;
        for (double v : values)
            if (std::isfinite(transform(v))) lo = std::min(lo, transform(v)), hi = std::max(hi, transform(v));
        if (!std::isfinite(lo)) lo = 0, hi = 1;
    } else if (o.log_scale) {
        lo = std::log10(lo), hi = std::log10(hi);
    }
    for (double mark : o.marks)
        if (std::isfinite(transform(mark))) lo = std::min(lo, transform(mark)), hi = std::max(hi, transform(mark));
    if (hi <= lo) hi = lo + 1e-12;

    double row_label_w = 0, col_label_h = 0;
    for (const auto& label : o.row_labels) row_label_w = std::max(row_label_w, label_width(label, o.label_font_px));
    for (const auto& label : o.col_labels) col_label_h = std::max(col_label_h, label_width(label, o.label_font_px));
    const std::string font = o.label_font_px == 10 ? "" : " style=\"font-size:" + std::to_string(o.label_font_px) + "px\"";
    const double left = row_label_w + 8, top = 22 + col_label_h + 6;
    const double grid_w = static_cast<double>(cols) * o.cell_width, grid_h = static_cast<double>(rows) * o.cell_height;
    const double bar_w = o.color_bar ? 70 : 0;
    // At least as wide as its title (12 px bold: about 7 px per character), so small maps side by side
    // (a 3-token pair's) do not print their titles over each other.
    const double title_w = 7.0 * static_cast<double>(o.title.size()) + 4;
    const double width = std::max(left + grid_w + bar_w + 8, title_w);
    const double height = std::max(top + grid_h + 8, o.color_bar ? top + 130 : 0.0);

    std::string svg = "<svg id=\"" + o.id + "\" class=\"heatmap " + o.css_class +
                      "\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" + px(width) + "\" height=\"" + px(height) +
                      "\" data-rows=\"" + std::to_string(rows) + "\" data-cols=\"" + std::to_string(cols) + "\"" +
                      (o.extra_attributes.empty() ? "" : " " + o.extra_attributes) + ">\n";
    svg += "<text class=\"chart-title\" x=\"2\" y=\"14\">" + html_escape(o.title) + "</text>\n";
    for (size_t r = 0; r < rows; ++r)
        svg += "<text class=\"row-label\"" + font + " text-anchor=\"end\" x=\"" + px(left - 4) + "\" y=\"" +
               px(top + (static_cast<double>(r) + 0.5) * o.cell_height + 0.35 * o.label_font_px) + "\">" +
               o.row_labels[r] + "</text>\n";
    for (size_t c = 0; c < cols; ++c) {
        if (c % static_cast<size_t>(std::max(1, o.col_label_every)) != 0) continue;
        const double x = left + (static_cast<double>(c) + 0.5) * o.cell_width + 0.35 * o.label_font_px, y = top - 4;
        svg += "<text class=\"col-label\"" + font + " x=\"" + px(x) + "\" y=\"" + px(y) + "\" transform=\"rotate(-90 " + px(x) +
               " " + px(y) + ")\">" + o.col_labels[c] + "</text>\n";
    }
    svg += "<g class=\"cells\">\n";
    for (size_t r = 0; r < rows; ++r)
        for (size_t c = 0; c < cols && r * cols + c < values.size(); ++c) {
            const double v = values[r * cols + c];
            if (std::isnan(v)) continue;
            const double t = transform(v);
            const std::string fill = std::isfinite(t) ? o.ramp((t - lo) / (hi - lo)) : "#bbbbbb";
            svg += "<rect class=\"cell\" x=\"" + px(left + static_cast<double>(c) * o.cell_width) + "\" y=\"" +
                   px(top + static_cast<double>(r) * o.cell_height) + "\" width=\"" + std::to_string(o.cell_width) +
                   "\" height=\"" + std::to_string(o.cell_height) + "\" fill=\"" + fill + "\" data-row=\"" +
                   std::to_string(r) + "\" data-col=\"" + std::to_string(c) + "\" data-value=\"" + exact_number(v) +
                   "\"><title>" + o.row_labels[r] + " · " + o.col_labels[c] + ": " + o.value_name + " " +
                   format_number(v, 4) + "</title></rect>\n";
        }
    svg += "</g>\n";
    if (o.color_bar) {
        const double bx = left + grid_w + 12, bh = 100;
        svg += "<g class=\"color-bar\">\n";
        for (int i = 0; i < 20; ++i)
            svg += "<rect x=\"" + px(bx) + "\" y=\"" + px(top + bh - (i + 1) * bh / 20) + "\" width=\"12\" height=\"" +
                   px(bh / 20 + 0.5) + "\" fill=\"" + o.ramp((i + 0.5) / 20.0) + "\"/>";
        // Labels: both ends, every power of ten (log) or nice value (linear) between, and the marks;
        // a label too close to one already placed is left out, marks first so they always show.
        std::vector<double> labels = {hi, lo};
        for (double mark : o.marks)
            if (std::isfinite(transform(mark))) labels.insert(labels.begin(), transform(mark));
        if (o.log_scale)
            for (int e = static_cast<int>(std::ceil(lo)); e <= static_cast<int>(std::floor(hi)); ++e) labels.push_back(e);
        else
            for (double t : nice_ticks(lo, hi, 4)) labels.push_back(t);
        std::vector<double> placed;
        for (double t : labels) {
            const double y = top + bh - (t - lo) / (hi - lo) * bh;
            if (std::any_of(placed.begin(), placed.end(), [&](double p) { return std::abs(p - y) < 11; })) continue;
            placed.push_back(y);
            const bool mark = std::any_of(o.marks.begin(), o.marks.end(), [&](double m) { return transform(m) == t; });
            svg += "<line x1=\"" + px(bx + 12) + "\" x2=\"" + px(bx + 15) + "\" y1=\"" + px(y) + "\" y2=\"" + px(y) +
                   "\" stroke=\"#333\"/><text class=\"tick" + std::string(mark ? " mark" : "") + "\" x=\"" + px(bx + 17) +
                   "\" y=\"" + px(y + 3.5) + "\" data-tick=\"" + exact_number(o.log_scale ? std::pow(10.0, t) : t) +
                   "\">" + format_number(o.log_scale ? std::pow(10.0, t) : t, 2) + "</text>";
        }
        if (o.log_scale)
            svg += "<text class=\"tick\" x=\"" + px(bx) + "\" y=\"" + px(top + bh + 16) + "\">log scale</text>";
        svg += "\n</g>\n";
    }
    return svg + "</svg>\n";
}

}  // namespace gpt
