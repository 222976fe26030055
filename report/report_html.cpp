#include "report/report_html.h"

#include "common/output_path.h"
#include "io/atomic_write.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "data/token_file.h"
#include "train/checkpoint.h"
#include "data/masked_lm.h"
#include "generate/fill.h"
#include "generate/generate.h"
#include "report/report_data.h"
#include "report/report_encoder_decoder.h"
#include "report/report_sections.h"
#include "report/report_svg.h"
#include "train/training_model.h"

namespace gpt {

namespace fs = std::filesystem;

namespace {

// System fonts only (no web fonts: the page must open offline).
constexpr const char* kStyle = R"(
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #222;
       margin: 0 auto; max-width: 1160px; padding: 12px 20px 40px; background: #fff; }
h1 { font-size: 22px; margin: 8px 0 2px; } h2 { font-size: 18px; margin: 28px 0 6px; border-bottom: 1px solid #ddd; }
h3 { font-size: 15px; margin: 12px 0 6px; }
p { margin: 4px 0 8px; max-width: 980px; } .meta { color: #666; }
code, pre, .tick, .row-label, .col-label, .token, .badge { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
pre { background: #f6f6f6; border: 1px solid #e2e2e2; padding: 8px; white-space: pre-wrap; overflow-wrap: anywhere; font-size: 12px; }
code.prompt { background: #f1f1f1; padding: 1px 4px; white-space: pre-wrap; }
svg { display: block; margin: 4px 0; overflow: visible; } svg.chart { height: auto; }
svg text { font-size: 11px; fill: #333; } .chart-title { font-weight: 600; font-size: 12px; }
.tick, .row-label, .col-label, .token { font-size: 10px; } .axis-label { font-size: 11px; fill: #555; }
.plot-area { fill: #fcfcfc; stroke: #bbb; } .grid { stroke: #e8e8e8; }
.attention-map { margin: 4px 0 8px 0; }
.layer-row { display: flex; flex-wrap: wrap; gap: 0 10px; }
.row { display: flex; flex-wrap: wrap; gap: 12px 28px; align-items: flex-start; }
.scroll { overflow-x: auto; }
.bar.kept { fill: #4e79a7; } .bar.dropped { fill: #fff; stroke: #4e79a7; }
.badge.on { fill: #2a7d2a; font-weight: 700; } .badge.off { fill: #ccc; }
table { border-collapse: collapse; font-size: 13px; } td, th { padding: 2px 10px 2px 0; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; } tr.total td { border-top: 1px solid #aaa; font-weight: 600; }
rect.share { fill: #59a14f; } .candidate { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace;
  font-size: 12px; margin-right: 8px; white-space: pre; } .candidate.hit, td.right { color: #2a7d2a; font-weight: 700; }
td.wrong { color: #b22; font-weight: 700; } .note, .empty { color: #777; font-size: 12px; }
.legend-bar { font-size: 11px; color: #555; } .legend-bar .ramp { display: inline-block; width: 120px; height: 10px;
  vertical-align: middle; background: linear-gradient(to right, #fff, #c6dbef, #6baed6, #2171b5, #08306b); border: 1px solid #ccc; }
)";

std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return "";
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}


SampleShown make_sample(const GPT& model, const Tokenizer& tokenizer, const TrainConfig& config, int64_t tokens) {
    if (tokens <= 0) return {"", "no sample (sample_tokens = 0)"};
    if (model.config().bidirectional())
        return {"", "no sample: a bert model does not generate text (gpt fill fills in [MASK] tokens)"};
    GenerateOptions options;
    options.max_new_tokens = tokens;
    options.sampling.temperature = 0.8f;
    options.sampling.top_k = 40;
    Generator generator(static_cast<uint64_t>(config.seed));
    const GenerateResult result = generate(model, tokenizer, default_prompt(tokenizer), options, generator);
    return {result.text, std::to_string(result.tokens.size()) + " tokens from the start of a line (" +
                             "temperature 0.8, top-k 40, seed " + std::to_string(config.seed) + ")"};
}

// model = bert's prompt: [CLS] text [SEP] with one [MASK], whose logits the analysis keeps (the model's
// prediction of the token there). --prompt: its (first) [MASK], else one after it; the default: the
// validation line of report_prompt with its middle token hidden behind the [MASK] (`hidden`: that token).
struct BertPrompt {
    std::vector<int32_t> ids;
    int64_t mask_position = 0;
    int32_t hidden = -1;
};

BertPrompt bert_prompt(const Tokenizer& tokenizer, const fs::path& run_dir, const ReportOptions& options,
                       int64_t block_size) {
    const MaskedLmTokens special = MaskedLmTokens::of(tokenizer);
    BertPrompt out;
    if (options.prompt.empty()) {
        std::vector<int32_t> text = report_prompt(tokenizer, run_dir, "", options.max_prompt_tokens, block_size);
        if (static_cast<int64_t>(text.size()) > block_size - 2)
            text.resize(static_cast<size_t>(std::max<int64_t>(1, block_size - 2)));
        const size_t middle = text.size() / 2;
        out.hidden = text[middle];
        text[middle] = special.mask;
        out.ids.push_back(special.cls);
        out.ids.insert(out.ids.end(), text.begin(), text.end());
        out.ids.push_back(special.sep);
    } else {
        const bool has_mask = options.prompt.find(kMaskToken) != std::string::npos;
        out.ids = encode_masked_text(tokenizer, has_mask ? options.prompt : options.prompt + std::string(kMaskToken),
                                     "--prompt");
        if (static_cast<int64_t>(out.ids.size()) > block_size)
            throw std::invalid_argument("--prompt is " + std::to_string(out.ids.size()) + " tokens with [CLS], [SEP]" +
                                        (has_mask ? "" : " and the [MASK] after it") +
                                        ", more than the model's block_size " + std::to_string(block_size));
    }
    out.mask_position = std::find(out.ids.begin(), out.ids.end(), special.mask) - out.ids.begin();
    return out;
}

}  // namespace

std::string report_page_start(const std::string& run_dir, const std::string& meta_html) {
    return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
           "<title>GPT training report: " + html_escape(run_dir, false) + "</title>\n<style>" + kStyle +
           "</style>\n</head>\n<body>\n<h1>Training report</h1>\n<p class=\"meta\">run <code>" +
           html_escape(run_dir, false) + "</code> · " + meta_html + "</p>\n";
}

std::vector<MetricsRecord> run_metrics(const fs::path& run_dir) {
    return fs::exists(run_dir / "metrics.jsonl") ? read_metrics((run_dir / "metrics.jsonl").string())
                                                 : std::vector<MetricsRecord>{};
}

std::string run_config_toml(const fs::path& run_dir, const TrainConfig& config) {
    const std::string text = read_text(run_dir / "config.toml");
    return text.empty() ? config_to_toml(config) : text;
}

std::string write_report_page(const fs::path& run_dir, std::string html) {
    html += "</body>\n</html>\n";
    const fs::path path = run_dir / "report.html";
    check_output_file(path, "report");
    write_bytes_atomically(path.string(), html);
    return path.string();
}

std::vector<int32_t> report_prompt(const Tokenizer& tokenizer, const fs::path& run_dir, const std::string& text,
                                   int64_t max_tokens, int64_t block_size) {
    if (!text.empty()) return encode_prompt(tokenizer, text, block_size);
    const int64_t cap = std::min(max_tokens, block_size), wanted = std::min(kMinReportPromptTokens, cap);
    std::vector<int32_t> line, longest;  // the line being read (at most cap tokens), the longest so far
    if (fs::exists(run_dir / "val.bin")) {
        const TokenFile val(run_dir / "val.bin");
        for (int64_t i = 0; i < std::min(val.size(), kReportPromptScan); ++i) {
            const int32_t id = val[i];
            if (id < 0 || id >= tokenizer.vocab_size()) break;
            if (tokenizer.token_bytes(id).find('\n') == std::string::npos) {
                if (static_cast<int64_t>(line.size()) < cap) line.push_back(id);
                continue;
            }
            if (static_cast<int64_t>(line.size()) >= wanted) return line;
            if (line.size() > longest.size()) longest = line;
            line.clear();
        }
    }
    if (static_cast<int64_t>(line.size()) >= wanted || line.size() > longest.size()) longest = line;
    return longest.empty() ? default_prompt(tokenizer) : longest;
}

std::string write_report(const fs::path& run_dir, GPT& model, const Tokenizer& tokenizer, const TrainConfig& config,
                         const ReportOptions& options) {
    EvalModeGuard eval_mode(model);  // no dropout in the maps; the caller's mode back afterwards

    const std::vector<MetricsRecord> records = run_metrics(run_dir);
    const std::string config_toml = run_config_toml(run_dir, config);
    const GPTConfig& m = model.config();
    std::vector<int32_t> prompt;
    int64_t position = -1;  // the last token's logits: the next token
    int32_t hidden = -1;
    if (m.bidirectional()) {
        BertPrompt bert = bert_prompt(tokenizer, run_dir, options, m.block_size);
        prompt = std::move(bert.ids);
        position = bert.mask_position;
        hidden = bert.hidden;
    } else {
        prompt = report_prompt(tokenizer, run_dir, options.prompt, options.max_prompt_tokens, m.block_size);
    }
    const PromptAnalysis analysis = analyse_prompt(model, prompt, position);

    std::string html = report_page_start(
        run_dir.string(), (m.bidirectional() ? "bert, " : "") + std::to_string(m.n_layer) + " layers, " +
                              std::to_string(m.n_head) + " heads (" + std::to_string(m.kv_heads()) +
                              " key/value), n_embd " + std::to_string(m.n_embd) + ", block_size " +
                              std::to_string(m.block_size) + ", vocabulary " + std::to_string(m.vocab_size) + " (" +
                              html_escape(tokenizer.type()) + ") · " + std::to_string(model.parameter_count()) +
                              " parameters · " + std::to_string(records.size()) + " logged steps");
    const RunFacts facts{m.vocab_size, config.grad_clip, config.lr_schedule, config.warmup_iters};
    html += loss_section(records, facts);
    html += gradient_section(records, facts);
    html += attention_section(tokenizer, prompt, analysis);
    html += next_token_section(tokenizer, prompt, analysis, hidden);
    html += model_section(model, config_toml, make_sample(model, tokenizer, config, options.sample_tokens));
    return write_report_page(run_dir, std::move(html));
}

std::string write_report_or_warn(const fs::path& run_dir, GPT& model, const Tokenizer& tokenizer,
                                 const TrainConfig& config) {
    try {
        return "report: " + write_report(run_dir, model, tokenizer, config, ReportOptions{});
    } catch (const std::exception& e) {
        return std::string("warning: report not written: ") + e.what();
    }
}

TrainHooks report_hooks() {
    TrainHooks hooks;
    hooks.write_report = [](const fs::path& run_dir, TrainingModel& model, const TrainConfig& config) -> std::string {
        if (GPT* gpt = model.gpt()) return write_report_or_warn(run_dir, *gpt, model.tokenizer(), config);
        EncoderDecoder* encoder_decoder = model.encoder_decoder();
        const std::vector<ParallelExample>* held_out = model.held_out_examples();
        if (encoder_decoder && held_out)
            return write_encoder_decoder_report_or_warn(run_dir, *encoder_decoder, model.tokenizer(), config, *held_out);
        return "report: not written (no report for model = " + config.model_kind + ")";
    };
    return hooks;
}

std::string write_report(const std::string& run_dir_or_checkpoint, const ReportOptions& options) {
    const std::string checkpoint = resolve_checkpoint_path(run_dir_or_checkpoint);
    const fs::path parent = fs::path(checkpoint).parent_path();
    const fs::path run_dir = parent.empty() ? fs::path(".") : parent;
    if (checkpoint_model_kind(checkpoint) == "transformer") {
        if (!options.prompt.empty())
            throw std::invalid_argument("--prompt is for model = gpt and bert runs; " + checkpoint +
                                        " is model = transformer: give --source (and --target)");
        LoadedEncoderDecoder loaded = load_encoder_decoder(checkpoint);
        const TrainConfig config = stored_train_config(loaded.train_config_toml, checkpoint);
        return write_encoder_decoder_report(run_dir, *loaded.model, *loaded.tokenizer, config,
                                            read_held_out_pairs(config, *loaded.tokenizer, loaded.config), options);
    }
    if (!options.source.empty() || !options.target.empty())
        throw std::invalid_argument("--source and --target are for model = transformer runs; " + checkpoint +
                                    " is not one (its attention prompt is --prompt)");
    LoadedCheckpoint loaded = load_checkpoint(checkpoint);
    return write_report(run_dir, *loaded.model, *loaded.tokenizer, stored_train_config(loaded, checkpoint), options);
}

}  // namespace gpt
