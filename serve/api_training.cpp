// training_view and model_view (serve/api.h).
#include <cmath>
#include <map>

#include <nlohmann/json.hpp>

#include "report/report_data.h"
#include "serve/api.h"
#include "serve/request.h"

namespace gpt {

using nlohmann::json;

namespace {

// NaN (not evaluated on this step) as null, which is what JSON has for "no value".
json value_or_null(double value) { return std::isfinite(value) ? json(value) : json(nullptr); }

// Per-parameter series as one matrix [steps, names] over the records from `from` on that logged them;
// the names are those of every record, so that rows sent in later polls line up with earlier ones.
json heatmap(const std::vector<MetricsRecord>& records, size_t from,
             const std::vector<std::pair<std::string, double>> MetricsRecord::*field) {
    std::vector<std::string> names;
    std::map<std::string, size_t> column;
    for (const MetricsRecord& r : records)
        for (const auto& [name, value] : r.*field)
            if (column.emplace(name, names.size()).second) names.push_back(name);
    json steps = json::array(), rows = json::array();
    for (size_t i = from; i < records.size(); ++i) {
        const MetricsRecord& r = records[i];
        if ((r.*field).empty()) continue;
        json row(names.size(), nullptr);
        for (const auto& [name, value] : r.*field) row[column[name]] = compact_number(value);  // 4 digits: a colour
        steps.push_back(r.step);
        rows.push_back(std::move(row));
    }
    return {{"names", names}, {"steps", steps}, {"values", rows}};
}

}  // namespace

json training_view(const std::string& run_name, const std::vector<MetricsRecord>& records, int64_t since) {
    // `since` past the end: the file was rewritten (a resume from an older checkpoint drops the later
    // lines), so everything is sent again.
    const size_t from = since >= 0 && static_cast<size_t>(since) <= records.size() ? static_cast<size_t>(since) : 0;
    json step = json::array(), train = json::array(), val = json::array(), lr = json::array(), norm = json::array();
    json samples = json::array();  // [{step, text}] of the evaluations that sampled (eval_sample_tokens)
    for (size_t i = from; i < records.size(); ++i) {
        const MetricsRecord& r = records[i];
        if (!r.sample.empty()) samples.push_back({{"step", r.step}, {"text", r.sample}});
        step.push_back(r.step);
        train.push_back(value_or_null(r.train_loss));
        val.push_back(value_or_null(r.val_loss));
        lr.push_back(value_or_null(r.lr));
        norm.push_back(value_or_null(r.grad_norm));
    }
    return {{"run", run_name},
            {"records", records.size()},
            {"from", from},
            {"step", std::move(step)},
            {"train_loss", std::move(train)},
            {"val_loss", std::move(val)},
            {"lr", std::move(lr)},
            {"grad_norm", std::move(norm)},
            {"samples", std::move(samples)},
            {"grad_norms", heatmap(records, from, &MetricsRecord::grad_norms)},
            {"update_ratios", heatmap(records, from, &MetricsRecord::update_ratios)}};
}

json model_view(const LoadedCheckpoint& checkpoint) {
    const GPTConfig& c = checkpoint.model_config;
    json parameters = json::array();
    for (const auto& [name, tensor] : checkpoint.model->named_parameters())
        parameters.push_back({{"name", name}, {"shape", tensor.shape()}});
    return {{"model", c.bidirectional() ? "bert" : "gpt"},
            {"config",
             {{"vocab_size", c.vocab_size}, {"tokens", c.tokens()}, {"block_size", c.block_size},
              {"n_layer", c.n_layer}, {"n_head", c.n_head}, {"n_kv_head", c.kv_heads()}, {"n_embd", c.n_embd},
              {"pos_encoding", c.pos_encoding}, {"bias", c.bias}, {"norm", c.norm}, {"mlp", c.mlp},
              {"mlp_hidden", c.mlp_hidden_dim()}, {"qk_norm", c.qk_norm}, {"tie_embeddings", c.tie_embeddings},
              {"attention", c.attention}, {"kv_latent_dim", c.kv_latent_dim}, {"q_latent_dim", c.q_latent_dim},
              {"rope_head_dim", c.mla_rope_dim()}, {"head_dim", c.head_dim()}}},
            {"tokenizer", checkpoint.tokenizer->type()},
            {"parameter_count", checkpoint.model->parameter_count()},
            {"parameters", parameters}};
}

}  // namespace gpt
