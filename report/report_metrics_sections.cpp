// Sections 1 and 2 of the report: what metrics.jsonl says about the run over time.
#include <algorithm>
#include <cmath>
#include <map>

#include "report/report_sections.h"
#include "report/report_svg.h"

namespace gpt {

namespace {

// At most this many logged steps become heatmap columns (evenly spaced, the last one always kept), so
// a long run's page stays a few MB.
constexpr size_t kMaxHeatmapColumns = 240;

std::string tokens_text(double tokens) {
    if (tokens >= 1e9) return format_number(tokens / 1e9, 3) + "G";
    if (tokens >= 1e6) return format_number(tokens / 1e6, 3) + "M";
    if (tokens >= 1e3) return format_number(tokens / 1e3, 3) + "k";
    return format_number(tokens, 4);
}

// Tokens seen at step x, by linear interpolation between logged steps (tokens per step is constant
// within a run, so this is exact at every step).
double tokens_at(const std::vector<MetricsRecord>& records, double step) {
    for (size_t i = 0; i < records.size(); ++i) {
        if (records[i].step < step && i + 1 < records.size()) continue;
        if (i == 0 || records[i].step == records[i - 1].step)
            return static_cast<double>(records[i].tokens_seen) * step / std::max<double>(1.0, double(records[i].step));
        const MetricsRecord &a = records[i - 1], &b = records[i];
        const double f = (step - double(a.step)) / double(b.step - a.step);
        return double(a.tokens_seen) + f * double(b.tokens_seen - a.tokens_seen);
    }
    return 0.0;
}

std::string parameter_heatmap(const std::vector<MetricsRecord>& records, bool ratios, const std::string& id) {
    std::vector<const MetricsRecord*> logged;
    for (const MetricsRecord& r : records)
        if (!(ratios ? r.update_ratios : r.grad_norms).empty()) logged.push_back(&r);
    if (logged.empty()) return "<p class=\"empty\">no per-parameter values in metrics.jsonl</p>\n";
    std::vector<const MetricsRecord*> columns;
    const size_t n = logged.size(), keep = std::min(n, kMaxHeatmapColumns);
    for (size_t c = 0; c < keep; ++c) columns.push_back(logged[keep == 1 ? n - 1 : c * (n - 1) / (keep - 1)]);

    // Rows: parameter names in the order of the last record (named_parameters order).
    const auto& names = ratios ? columns.back()->update_ratios : columns.back()->grad_norms;
    HeatmapOptions o;
    o.id = id;
    o.css_class = ratios ? "update-ratio-heatmap" : "grad-norm-heatmap";
    o.title = ratios ? "update-to-weight ratio ‖Δw‖/‖w‖ per parameter tensor (≈1e-3 is healthy)"
                     : "gradient norm ‖∇w‖ per parameter tensor (before clipping)";
    o.log_scale = true;
    if (ratios) o.marks = {1e-3};
    o.value_name = ratios ? "‖Δw‖/‖w‖" : "‖∇w‖";
    o.cell_height = 11;
    o.cell_width = std::clamp(static_cast<int>(760 / columns.size()), 2, 24);
    o.col_label_every = std::max(1, static_cast<int>(std::ceil(columns.size() / 25.0)));
    for (const auto& [name, value] : names) o.row_labels.push_back(html_escape(name, false));
    for (const MetricsRecord* r : columns) o.col_labels.push_back(std::to_string(r->step));
    std::vector<double> values(names.size() * columns.size(), NAN);
    for (size_t c = 0; c < columns.size(); ++c) {
        std::map<std::string, double> by_name(  // a record of a resumed run may list names in another order
            (ratios ? columns[c]->update_ratios : columns[c]->grad_norms).begin(),
            (ratios ? columns[c]->update_ratios : columns[c]->grad_norms).end());
        for (size_t r = 0; r < names.size(); ++r) {
            const auto found = by_name.find(names[r].first);
            values[r * columns.size() + c] = found == by_name.end() ? NAN : found->second;
        }
    }
    return heatmap(o, values);
}

}  // namespace

std::string loss_section(const std::vector<MetricsRecord>& records, const RunFacts& run) {
    ChartSeries train{"train loss", "series-train", "#1f77b4", {}, {}, false};
    ChartSeries val{"val loss", "series-val", "#d62728", {}, {}, true};
    ChartSeries lr{"learning rate", "series-lr", "#2ca02c", {}, {}, false};
    for (const MetricsRecord& r : records) {
        const double step = static_cast<double>(r.step);
        train.x.push_back(step), train.y.push_back(r.train_loss);
        lr.x.push_back(step), lr.y.push_back(r.lr);
        if (std::isfinite(r.val_loss)) val.x.push_back(step), val.y.push_back(r.val_loss);
    }
    ChartOptions loss;
    loss.id = "loss-chart";
    loss.title = "cross-entropy loss (nats per token)";
    loss.x_label = "optimizer step";
    loss.y_label = "loss";
    loss.height = 320;
    loss.top_tick_label = [&records](double step) { return tokens_text(tokens_at(records, step)); };
    loss.top_label = "tokens seen";
    if (run.vocab_size > 1)
        loss.reference_lines.push_back({std::log(static_cast<double>(run.vocab_size)),
                                        "uniform guess, ln " + std::to_string(run.vocab_size), "uniform-guess"});
    const int64_t last_step = records.empty() ? 0 : records.back().step;
    ChartOptions lr_options;
    lr_options.id = "lr-chart";
    const bool warmed_up = last_step > run.warmup_iters;
    lr_options.title = run.warmup_iters > 0 && !warmed_up ? "learning rate (linear warm-up; the run ended inside it)"
                       : run.lr_schedule == "cosine"      ? (run.warmup_iters > 0 ? "learning rate (warm-up, then cosine decay)"
                                                                                  : "learning rate (cosine decay)")
                       : run.lr_schedule == "trapezoidal" ? "learning rate (trapezoidal: warm-up, stable, linear decay)"
                       : run.warmup_iters > 0             ? "learning rate (warm-up, then constant)"
                                                          : "learning rate (constant)";
    lr_options.x_label = "optimizer step";
    lr_options.y_label = "lr";
    lr_options.height = 180;

    std::string html = "<section id=\"loss\">\n<h2>1. Loss and learning rate</h2>\n";
    html += "<p>Training loss at every logged step (the mean over that step's batch) and validation loss at each "
            "evaluation (dots). The top axis gives the tokens seen. A gap between the curves is overfitting; "
            "the dashed line at ln(vocabulary size) is the loss of a uniform guess.</p>\n";
    html += line_chart(loss, {train, val}) + line_chart(lr_options, {lr});
    if (!records.empty()) {
        const MetricsRecord& last = records.back();
        double best_val = INFINITY;
        for (const MetricsRecord& r : records)
            if (std::isfinite(r.val_loss)) best_val = std::min(best_val, r.val_loss);
        html += "<p class=\"summary\">last logged step " + std::to_string(last.step) + ": train loss " +
                format_number(last.train_loss, 5) + ", best val loss " + format_number(best_val, 5) + ", " +
                tokens_text(double(last.tokens_seen)) + " tokens, " + tokens_text(last.tokens_per_s) +
                " tokens/s, " + format_number(last.elapsed_s, 4) + " s</p>\n";
    }
    return html + "</section>\n";
}

std::string gradient_section(const std::vector<MetricsRecord>& records, const RunFacts& run) {
    ChartSeries norm{"global gradient norm", "series-grad-norm", "#9467bd", {}, {}, false};
    for (const MetricsRecord& r : records) norm.x.push_back(double(r.step)), norm.y.push_back(r.grad_norm);
    ChartOptions o;
    o.id = "grad-norm-chart";
    o.title = "global gradient norm before clipping (log scale)";
    o.x_label = "optimizer step";
    o.y_label = "‖∇‖";
    o.height = 220;
    o.log_y = true;
    if (run.grad_clip > 0)
        o.reference_lines.push_back({run.grad_clip, "clip at " + format_number(run.grad_clip, 4), "clip"});
    size_t clipped = 0;
    for (const MetricsRecord& r : records) clipped += run.grad_clip > 0 && r.grad_norm > run.grad_clip;
    std::string html = "<section id=\"gradients\">\n<h2>2. Gradient flow</h2>\n";
    html += "<p>How much gradient reaches each parameter tensor, from the loss (bottom rows: the last layers; "
            "an encoder–decoder lists its encoder before its decoder) back to the embeddings (top rows), at every "
            "logged step; and how large each AdamW update "
            "was relative to the weight. Dark rows among the early layers would mean backpropagation is not "
            "reaching them. Colours are on a log scale. Biases start at zero, so their first update ratios are large; "
            "LayerNorm gains start at one and move slowly.</p>\n";
    if (run.grad_clip > 0)
        html += "<p class=\"note\">" + std::to_string(clipped) + " of " + std::to_string(records.size()) +
                " logged steps had a norm above the clipping threshold " + format_number(run.grad_clip, 4) +
                " (dashed line) and were scaled down to it.</p>\n";
    html += line_chart(o, {norm});
    html += "<div class=\"scroll\">" + parameter_heatmap(records, false, "grad-norm-heatmap") + "</div>\n";
    html += "<div class=\"scroll\">" + parameter_heatmap(records, true, "update-ratio-heatmap") + "</div>\n";
    return html + "</section>\n";
}

}  // namespace gpt
