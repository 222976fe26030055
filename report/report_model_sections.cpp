// Sections 3-5 of the report: what the trained model does with a prompt, and what it is.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "report/report_sections.h"
#include "report/report_svg.h"
#include "data/masked_lm.h"
#include "generate/sampling.h"

namespace gpt {

namespace {

constexpr float kTemperatures[] = {0.5f, 1.0f, 1.5f};
constexpr int64_t kTopK = 5;
constexpr float kTopP = 0.9f;
constexpr int64_t kCandidatesShown = 12;

// A GPT's (or bert's) map of one head: causal models leave the masked upper triangle undrawn.
std::string prompt_attention_map(const Tokenizer& tokenizer, const std::vector<int32_t>& prompt,
                                 const PromptAnalysis& a, int64_t layer, int64_t head) {
    AttentionMap map;
    map.id = "attn-L" + std::to_string(layer) + "-H" + std::to_string(head);
    map.title = "layer " + std::to_string(layer) + ", head " + std::to_string(head);
    map.layer = layer;
    map.head = head;
    map.per_row = a.n_head;
    for (const int32_t id : prompt) map.row_labels.push_back(token_label(tokenizer.token_bytes(id), 6));
    map.col_labels = map.row_labels;
    map.values.assign(static_cast<size_t>(a.T * a.T), NAN);
    for (int64_t i = 0; i < a.T; ++i)
        for (int64_t j = 0; j <= (a.causal ? i : a.T - 1); ++j)
            map.values[static_cast<size_t>(i * a.T + j)] = a.weight(layer, head, i, j);
    return attention_map(map);
}

// One temperature: the top candidates as horizontal bars, marked by whether top-k and top-p keep them.
std::string candidate_chart(const Tokenizer& tokenizer, const std::vector<float>& logits, float temperature) {
    const std::vector<float> probs = softmax_with_temperature(logits, temperature);
    std::vector<float> after_k = probs, after_p = probs;
    keep_top_k(after_k, kTopK);
    keep_top_p(after_p, kTopP);
    const int64_t nucleus = std::count_if(after_p.begin(), after_p.end(), [](float p) { return p > 0.0f; });
    const std::vector<Candidate> top = top_candidates(probs, kCandidatesShown);

    char name[16];
    std::snprintf(name, sizeof name, "%g", static_cast<double>(temperature));
    const double row = 20, label_w = 64, bar_max = 190, top_margin = 40;
    const double height = top_margin + row * static_cast<double>(top.size()) + 10;
    std::string svg = "<svg id=\"next-token-t" + std::string(name) +
                      "\" class=\"next-token-chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"340\" height=\"" +
                      format_number(height, 6) + "\" data-temperature=\"" + name + "\" data-nucleus=\"" +
                      std::to_string(nucleus) + "\">\n";
    svg += "<text class=\"chart-title\" x=\"2\" y=\"14\">temperature " + std::string(name) + "</text>\n";
    svg += "<text class=\"tick\" x=\"2\" y=\"30\">top-p " + format_number(kTopP, 2) + " keeps " +
           std::to_string(nucleus) + " token" + (nucleus == 1 ? "" : "s") + " · k: in top-" + std::to_string(kTopK) +
           " · p: in top-p</text>\n";
    for (size_t r = 0; r < top.size(); ++r) {
        const Candidate& c = top[r];
        const bool in_k = after_k[static_cast<size_t>(c.id)] > 0.0f, in_p = after_p[static_cast<size_t>(c.id)] > 0.0f;
        const double y = top_margin + row * static_cast<double>(r);
        const double w = std::max(1.0, bar_max * c.probability);
        svg += "<text class=\"token\" text-anchor=\"end\" x=\"" + format_number(label_w - 4, 6) + "\" y=\"" +
               format_number(y + 14, 6) + "\">" + token_label(tokenizer.token_bytes(c.id), 8) + "</text>";
        svg += "<rect class=\"bar" + std::string(in_p ? " kept" : " dropped") + "\" x=\"" + format_number(label_w, 6) +
               "\" y=\"" + format_number(y + 3, 6) + "\" width=\"" + format_number(w, 6) + "\" height=\"" +
               format_number(row - 6, 6) + "\" data-id=\"" + std::to_string(c.id) + "\" data-prob=\"" +
               exact_number(c.probability) + "\" data-top-k=\"" + (in_k ? "1" : "0") + "\" data-top-p=\"" +
               (in_p ? "1" : "0") + "\"><title>" + token_label(tokenizer.token_bytes(c.id), 40) + ": " +
               percent(c.probability) + "</title></rect>";
        svg += "<text class=\"tick\" x=\"" + format_number(label_w + w + 4, 6) + "\" y=\"" + format_number(y + 14, 6) +
               "\">" + percent(c.probability) + "</text>";
        svg += "<text class=\"badge" + std::string(in_k ? " on" : " off") + "\" x=\"306\" y=\"" +
               format_number(y + 14, 6) + "\">k</text><text class=\"badge" + (in_p ? " on" : " off") +
               "\" x=\"322\" y=\"" + format_number(y + 14, 6) + "\">p</text>\n";
    }
    return svg + "</svg>\n";
}

// "h.0.attn.c_attn.weight" → "h.0", "encoder.h.1.linear1.bias" → "encoder.h.1", "encoder.ln_f.weight"
// → "encoder.ln_f", "wte.weight" → "wte": components up to the first that is not a container's name.
std::string group_of(const std::string& name) {
    size_t end = 0;
    for (;;) {
        const size_t dot = name.find('.', end);
        const std::string part = name.substr(end, dot == std::string::npos ? std::string::npos : dot - end);
        if (dot == std::string::npos || (part != "encoder" && part != "decoder" && part != "h"))
            return name.substr(0, dot);
        end = dot + 1;
    }
}

}  // namespace

std::string percent(double p) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, p >= 0.0995 ? "%.1f%%" : "%.2f%%", 100.0 * p);
    return buffer;
}

std::string attention_map(const AttentionMap& map) {
    HeatmapOptions o;
    o.id = map.id;
    o.css_class = "attention-map";
    o.title = map.title;
    o.ramp = blues;
    o.min = 0.0;
    o.max = 1.0;
    o.value_name = "attention";
    o.color_bar = false;
    // All maps of a row side by side in the page's ~1100 px where the cells stay at least 7 px.
    const auto longest = static_cast<int64_t>(std::max(map.row_labels.size(), map.col_labels.size()));
    o.cell_width = o.cell_height =
        static_cast<int>(std::clamp<int64_t>((1100 / std::max<int64_t>(1, map.per_row) - 40) / std::max<int64_t>(1, longest), 7, 16));
    o.label_font_px = o.cell_height < 10 ? 8 : 9;
    o.extra_attributes = "data-layer=\"" + std::to_string(map.layer) + "\" data-head=\"" + std::to_string(map.head) + "\"";
    o.row_labels = map.row_labels;
    o.col_labels = map.col_labels;
    return heatmap(o, map.values);
}

std::string candidate_bars(const std::string& id, const std::string& title, const std::vector<Candidate>& candidates,
                           const std::function<std::string(int32_t id)>& label) {
    const double row = 20, label_w = 64, bar_max = 190, top_margin = 24;
    const double height = top_margin + row * static_cast<double>(candidates.size()) + 10;
    std::string svg = "<svg id=\"" + id + "\" class=\"next-token-chart\" xmlns=\"http://www.w3.org/2000/svg\" "
                      "width=\"340\" height=\"" + format_number(height, 6) + "\">\n";
    svg += "<text class=\"chart-title\" x=\"2\" y=\"14\">" + html_escape(title) + "</text>\n";
    for (size_t r = 0; r < candidates.size(); ++r) {
        const Candidate& c = candidates[r];
        const double y = top_margin + row * static_cast<double>(r);
        const double w = std::max(1.0, bar_max * c.probability);
        svg += "<text class=\"token\" text-anchor=\"end\" x=\"" + format_number(label_w - 4, 6) + "\" y=\"" +
               format_number(y + 14, 6) + "\">" + label(c.id) + "</text>";
        svg += "<rect class=\"bar kept\" x=\"" + format_number(label_w, 6) + "\" y=\"" + format_number(y + 3, 6) +
               "\" width=\"" + format_number(w, 6) + "\" height=\"" + format_number(row - 6, 6) + "\" data-id=\"" +
               std::to_string(c.id) + "\" data-prob=\"" + exact_number(c.probability) + "\"><title>" + label(c.id) +
               ": " + percent(c.probability) + "</title></rect>";
        svg += "<text class=\"tick\" x=\"" + format_number(label_w + w + 4, 6) + "\" y=\"" + format_number(y + 14, 6) +
               "\">" + percent(c.probability) + "</text>\n";
    }
    return svg + "</svg>\n";
}

std::string attention_section(const Tokenizer& tokenizer, const std::vector<int32_t>& prompt,
                              const PromptAnalysis& analysis) {
    std::string prompt_text;
    for (const int32_t id : prompt) prompt_text += tokenizer.token_bytes(id);
    std::string html = "<section id=\"attention\">\n<h2>3. Attention</h2>\n";
    html += "<p>Prompt (" + std::to_string(analysis.T) + " tokens): <code class=\"prompt\">" +
            html_escape(prompt_text, false) + "</code></p>\n";
    html += analysis.causal
                ? "<p>Row i of a map is what the token at position i (a query) attends to among positions 0..i "
                  "(the keys): softmax(q·kᵀ/√hd) with the causal mask, so only the lower triangle is drawn; each row "
                  "sums to 1. Darker is more attention. ␣ is a space, \\n a newline.</p>\n"
                : "<p>Row i of a map is what the token at position i (a query) attends to among all positions "
                  "(the keys): softmax(q·kᵀ/√hd) without a mask (bert is bidirectional: every token sees the whole "
                  "input, [CLS] … [SEP]), so the full matrix is drawn; each row sums to 1. Darker is more attention. "
                  "␣ is a space, \\n a newline.</p>\n";
    html += "<div class=\"legend-bar\">0 <span class=\"ramp\"></span> 1</div>\n";
    for (int64_t layer = 0; layer < analysis.n_layer; ++layer) {
        html += "<div class=\"layer-row\" data-layer=\"" + std::to_string(layer) + "\">\n";
        for (int64_t head = 0; head < analysis.n_head; ++head)
            html += prompt_attention_map(tokenizer, prompt, analysis, layer, head);
        html += "</div>\n";
    }
    return html + "</section>\n";
}

std::string next_token_section(const Tokenizer& tokenizer, const std::vector<int32_t>& prompt,
                               const PromptAnalysis& analysis, int32_t hidden) {
    const auto label = [&](int32_t id) { return token_label(tokenizer.token_bytes(id), 8); };
    if (!analysis.causal) {  // bert: the logits at a position predict the token at that position
        std::string masked;
        for (size_t i = 0; i < prompt.size(); ++i)
            masked += static_cast<int64_t>(i) == analysis.position ? "[MASK]" : tokenizer.token_bytes(prompt[i]);
        std::string html = "<section id=\"next-token\">\n<h2>4. Fill-in</h2>\n";
        html += "<p>A bert model predicts the token at a position from both sides (masked language modelling), "
                "not the next one. Its distribution for the [MASK] at position " + std::to_string(analysis.position) +
                " of <code class=\"prompt\">" + html_escape(masked, false) + "</code>" +
                (hidden >= 0 ? " (it hides <code class=\"prompt\" id=\"hidden-token\">" +
                                   html_escape(tokenizer.token_bytes(hidden), false) + "</code>)"
                             : std::string()) +
                ": p = softmax(logits at that position); the most probable ordinary tokens, as <code>gpt fill</code> "
                "ranks them.</p>\n<div class=\"row\">\n";
        std::vector<float> probs = softmax_with_temperature(analysis.next_logits, 1.0f);
        const int32_t ordinary = MaskedLmTokens::of(tokenizer).ordinary;  // special tokens are not candidates
        std::fill(probs.begin() + std::min<int64_t>(ordinary, static_cast<int64_t>(probs.size())), probs.end(), 0.0f);
        html += candidate_bars("fill-chart", "[MASK] at position " + std::to_string(analysis.position),
                               top_candidates(probs, kCandidatesShown), label);
        return html + "</div>\n</section>\n";
    }
    std::string tail;
    for (size_t i = prompt.size() > 8 ? prompt.size() - 8 : 0; i < prompt.size(); ++i)
        tail += tokenizer.token_bytes(prompt[i]);
    std::string html = "<section id=\"next-token\">\n<h2>4. Next token</h2>\n";
    html += "<p>The model's distribution for the token after <code class=\"prompt\">…" + html_escape(tail, false) +
            "</code>: p = softmax(logits / temperature). Lower temperatures sharpen it, higher ones flatten it. "
            "Top-k " + std::to_string(kTopK) + " keeps the " + std::to_string(kTopK) +
            " most probable tokens; top-p " + format_number(kTopP, 2) +
            " keeps the smallest set whose probability reaches " + format_number(kTopP, 2) +
            " (filled bars; hollow bars are cut). Both then renormalise.</p>\n<div class=\"row\">\n";
    for (const float temperature : kTemperatures)
        html += candidate_chart(tokenizer, analysis.next_logits, temperature);
    return html + "</div>\n</section>\n";
}

std::vector<std::pair<std::string, int64_t>> parameter_counts(const Module& model) {
    std::vector<std::pair<std::string, int64_t>> counts;
    for (const auto& [name, tensor] : model.named_parameters()) {
        const std::string group = group_of(name);
        if (counts.empty() || counts.back().first != group) counts.emplace_back(group, 0);
        counts.back().second += tensor.numel();
    }
    return counts;
}

std::string model_section(const Module& model, const std::string& parameter_note, const std::string& config_toml,
                          const std::string& title, const std::string& shown_html) {
    const int64_t total = model.parameter_count();
    std::string html = "<section id=\"model\">\n<h2>5. " + html_escape(title) + "</h2>\n<div class=\"row\">\n";
    html += "<div><h3>Parameters per module</h3>\n<table id=\"param-counts\">\n<tr><th>module</th><th>parameters"
            "</th><th>share</th><th></th></tr>\n";
    for (const auto& [group, count] : parameter_counts(model)) {
        const double share = total > 0 ? double(count) / double(total) : 0.0;
        html += "<tr data-module=\"" + html_escape(group) + "\" data-count=\"" + std::to_string(count) + "\"><td>" +
                html_escape(group) + "</td><td class=\"num\">" + std::to_string(count) + "</td><td class=\"num\">" +
                percent(share) + "</td><td><svg width=\"120\" height=\"10\"><rect class=\"share\" width=\"" +
                format_number(std::max(1.0, 120 * share), 4) + "\" height=\"10\"/></svg></td></tr>\n";
    }
    html += "<tr class=\"total\"><td>total</td><td class=\"num\" id=\"param-total\">" + std::to_string(total) +
            "</td><td class=\"num\">100%</td><td></td></tr>\n</table>\n";
    if (!parameter_note.empty()) html += "<p class=\"note\">" + html_escape(parameter_note) + "</p>";
    html += "</div>\n<div><h3>Configuration</h3>\n<pre id=\"config\">" + html_escape(config_toml) +
            "</pre></div>\n</div>\n";
    return html + shown_html + "</section>\n";
}

std::string model_section(const GPT& model, const std::string& config_toml, const SampleShown& sample) {
    const std::string note = model.config().tie_embeddings
                                 ? "wte is also the output projection (weight tying), counted once."
                                 : "";
    return model_section(model, note, config_toml, "Model, configuration and a sample",
                         "<h3>Sample</h3>\n<p>" + html_escape(sample.how) + "</p>\n<pre id=\"sample\">" +
                             html_escape(sample.text) + "</pre>\n");
}

}  // namespace gpt
