#include "report/report_encoder_decoder.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <stdexcept>

#include "generate/exact_match.h"
#include "generate/seq2seq.h"
#include "report/pair_analysis.h"
#include "report/report_sections.h"
#include "report/report_svg.h"

namespace gpt {

namespace fs = std::filesystem;

namespace {

constexpr int64_t kCandidatesPerPosition = 5;  // section 4's table
constexpr int64_t kCandidatesLast = 12;        // section 4's chart of what follows the target
constexpr size_t kDefaultSourceTokens = 6;     // the source of the maps when there is no held-out example

// A target-side id as a short label: the tokenizer's token, or the decoder's bos/eos.
std::string label_of(const Tokenizer& tokenizer, const Seq2SeqVocabulary& vocabulary, int32_t id, size_t max_chars = 6) {
    if (id == vocabulary.bos()) return "⟨bos⟩";
    if (id == vocabulary.eos()) return "⟨eos⟩";
    if (id < 0 || id >= vocabulary.tokenizer_size) return "?" + std::to_string(id);
    return token_label(tokenizer.token_bytes(id), max_chars);
}

std::vector<std::string> labels_of(const Tokenizer& tokenizer, const Seq2SeqVocabulary& vocabulary,
                                   const std::vector<int32_t>& ids) {
    std::vector<std::string> labels;
    for (const int32_t id : ids) labels.push_back(label_of(tokenizer, vocabulary, id));
    return labels;
}

std::string text_of(const Tokenizer& tokenizer, const std::vector<int32_t>& ids) {
    return html_escape(decode_target(tokenizer, ids), false);
}

Seq2SeqOptions greedy_options(const EncoderDecoder& model, const Seq2SeqVocabulary& vocabulary) {
    Seq2SeqOptions options;
    options.bos = vocabulary.bos();
    options.eos = vocabulary.eos();
    options.max_new_tokens = model.config().target_block_size - 1;
    return options;
}

std::vector<int32_t> encode_option(const Tokenizer& tokenizer, const std::string& text, const std::string& option) {
    try {
        return tokenizer.encode(text);
    } catch (const std::exception& e) {
        throw std::invalid_argument(option + " cannot be encoded with the checkpoint's tokenizer: " + e.what());
    }
}

// The first few single-letter tokens of the vocabulary ("abcdef" for a char model of text), else id 0.
std::vector<int32_t> letters_of(const Tokenizer& tokenizer, int64_t most) {
    std::vector<int32_t> ids;
    for (int32_t id = 0; id < tokenizer.vocab_size() && static_cast<int64_t>(ids.size()) < most &&
                         ids.size() < kDefaultSourceTokens; ++id) {
        const std::string bytes = tokenizer.token_bytes(id);
        if (bytes.size() == 1 && std::isalpha(static_cast<unsigned char>(bytes[0]))) ids.push_back(id);
    }
    if (ids.empty()) ids.push_back(0);
    return ids;
}

struct ChosenPair {
    std::vector<int32_t> source, target;
    std::string how;  // HTML: where the pair comes from
};

// options.source/target, else the first held-out example, else a few letters; a missing target is the
// model's greedy translation.
ChosenPair choose_pair(const EncoderDecoder& model, const Tokenizer& tokenizer, const Seq2SeqVocabulary& vocabulary,
                       const HeldOutPairs& held_out, const TrainConfig& config, const ReportOptions& options) {
    const EncoderDecoderConfig& c = model.config();
    ChosenPair pair;
    if (options.source.empty()) {
        if (!options.target.empty()) throw std::invalid_argument("--target needs --source (the source it translates)");
        if (!held_out.examples.empty()) {
            const ParallelExample& e = held_out.examples.front();
            pair.source = e.source;
            pair.target = e.target;
            pair.how = "the run's first held-out example (line " + std::to_string(e.line) + " of <code>" +
                       html_escape(config.data, false) + "</code>)";
            return pair;
        }
        pair.source = letters_of(tokenizer, c.source_block_size);
        pair.how = "no held-out example to show (see section 5), so a few letters of the vocabulary";
    } else {
        pair.source = encode_option(tokenizer, options.source, "--source");
        const auto S = static_cast<int64_t>(pair.source.size());
        if (S > c.source_block_size)
            throw std::invalid_argument("--source is " + std::to_string(S) + " tokens, longer than the encoder's context (" +
                                        std::to_string(c.source_block_size) + " tokens, source_block_size)");
        pair.how = "--source";
    }
    if (options.target.empty()) {
        pair.target = greedy_decode(model, pair.source, greedy_options(model, vocabulary)).tokens;
        pair.how += "; the target is the model's greedy translation";
    } else {
        pair.target = encode_option(tokenizer, options.target, "--target");
        const auto n = static_cast<int64_t>(pair.target.size());
        if (n > c.target_block_size - 1)
            throw std::invalid_argument("--target is " + std::to_string(n) + " tokens; the decoder reads at most " +
                                        std::to_string(c.target_block_size - 1) + " after its bos (target_block_size " +
                                        std::to_string(c.target_block_size) + ")");
        pair.how += ", --target";
    }
    return pair;
}

// One group of maps (encoder, decoder or cross attention): a row of heads per layer. layers[l] is
// [1, H, rows, cols]; causal maps leave the masked upper triangle undrawn.
std::string map_group(const std::string& prefix, const std::vector<Tensor>& layers, const std::vector<std::string>& rows,
                      const std::vector<std::string>& cols, bool causal) {
    std::string html;
    const auto R = static_cast<int64_t>(rows.size()), C = static_cast<int64_t>(cols.size());
    for (size_t l = 0; l < layers.size(); ++l) {
        const Tensor& p = layers[l];
        const int64_t H = p.size(1);
        html += "<div class=\"layer-row\" data-layer=\"" + std::to_string(l) + "\">\n";
        for (int64_t h = 0; h < H; ++h) {
            AttentionMap map;
            map.id = prefix + "-L" + std::to_string(l) + "-H" + std::to_string(h);
            map.title = "layer " + std::to_string(l) + ", head " + std::to_string(h);
            map.layer = static_cast<int64_t>(l);
            map.head = h;
            map.per_row = H;
            map.row_labels = rows;
            map.col_labels = cols;
            map.values.assign(static_cast<size_t>(R * C), NAN);
            const float* weights = p.data() + h * R * C;
            for (int64_t i = 0; i < R; ++i)
                for (int64_t j = 0; j <= (causal ? i : C - 1); ++j)
                    map.values[static_cast<size_t>(i * C + j)] = weights[i * C + j];
            html += attention_map(map);
        }
        html += "</div>\n";
    }
    return html;
}

std::string pair_attention_section(const Tokenizer& tokenizer, const Seq2SeqVocabulary& vocabulary,
                                   const ChosenPair& pair, const PairAnalysis& a) {
    const std::vector<std::string> source = labels_of(tokenizer, vocabulary, pair.source);
    const std::vector<std::string> decoder = labels_of(tokenizer, vocabulary, a.decoder_input);
    std::string html = "<section id=\"attention\">\n<h2>3. Attention</h2>\n";
    html += "<p>Source (" + std::to_string(a.S) + " tokens): <code class=\"prompt\">" + text_of(tokenizer, pair.source) +
            "</code> · target (" + std::to_string(a.T - 1) + " tokens): <code class=\"prompt\">" +
            text_of(tokenizer, pair.target) + "</code> · " + pair.how + ".</p>\n";
    html += "<p>Row i of a map is what position i (a query) attends to (the keys): softmax(q·kᵀ/√hd), each row sums "
            "to 1, darker is more attention. The decoder reads ⟨bos⟩ followed by the target (teacher forcing, as in "
            "training). ␣ is a space, \\n a newline.</p>\n";
    html += "<div class=\"legend-bar\">0 <span class=\"ramp\"></span> 1</div>\n";
    html += "<h3>Encoder self-attention</h3>\n<p>Source tokens over source tokens, " + std::to_string(a.S) + "×" +
            std::to_string(a.S) + ": no mask, every source token sees the whole source.</p>\n";
    html += map_group("enc", a.attention.encoder_attention, source, source, false);
    html += "<h3>Decoder self-attention</h3>\n<p>Decoder inputs over decoder inputs, " + std::to_string(a.T) + "×" +
            std::to_string(a.T) + ": causal, position i sees 0..i only (the lower triangle).</p>\n";
    html += map_group("dec", a.attention.decoder_attention, decoder, decoder, true);
    html += "<h3>Cross attention</h3>\n<p>Decoder inputs (rows) over the encoder's output for each source token "
            "(columns), " + std::to_string(a.T) + "×" + std::to_string(a.S) +
            ": where in the source the decoder looks while it predicts the next target token.</p>\n";
    html += map_group("cross", a.attention.cross_attention, decoder, source, false);
    return html + "</section>\n";
}

std::string prediction_section(const Tokenizer& tokenizer, const Seq2SeqVocabulary& vocabulary, const PairAnalysis& a) {
    const auto label = [&](int32_t id) { return label_of(tokenizer, vocabulary, id, 8); };
    const int64_t V = static_cast<int64_t>(a.logits.size()) / a.T;
    std::string html = "<section id=\"next-token\">\n<h2>4. The decoder's predictions</h2>\n";
    html += "<p>At each decoder position, the model's distribution for the next target token given the source and "
            "the target so far: p = softmax(logits). The expected token is the target's next one (⟨eos⟩ after the "
            "last); green marks it among the candidates. Greedy decoding takes the first candidate.</p>\n";
    html += "<table id=\"predictions\">\n<tr><th>position</th><th>input</th><th>expected</th><th>top " +
            std::to_string(kCandidatesPerPosition) + " candidates</th></tr>\n";
    std::vector<Candidate> last;
    for (int64_t t = 0; t < a.T; ++t) {
        const std::vector<float> probs = softmax_with_temperature(std::span<const float>(a.row(t), static_cast<size_t>(V)), 1.0f);
        const int32_t expected = t + 1 < a.T ? a.decoder_input[static_cast<size_t>(t + 1)] : vocabulary.eos();
        html += "<tr data-position=\"" + std::to_string(t) + "\" data-expected=\"" + std::to_string(expected) +
                "\"><td class=\"num\">" + std::to_string(t) + "</td><td class=\"token\">" +
                label(a.decoder_input[static_cast<size_t>(t)]) + "</td><td class=\"token\">" + label(expected) +
                "</td><td>";
        for (const Candidate& c : top_candidates(probs, kCandidatesPerPosition))
            html += "<span class=\"candidate" + std::string(c.id == expected ? " hit" : "") + "\" data-id=\"" +
                    std::to_string(c.id) + "\" data-prob=\"" + exact_number(c.probability) + "\">" + label(c.id) +
                    " " + percent(c.probability) + "</span> ";
        html += "</td></tr>\n";
        if (t == a.T - 1) last = top_candidates(probs, kCandidatesLast);
    }
    html += "</table>\n<h3>After the whole target</h3>\n<div class=\"row\">\n";
    html += candidate_bars("prediction-last", "position " + std::to_string(a.T - 1) + ": after the target", last, label);
    return html + "</div>\n</section>\n";
}

// Section 5's last part: the first examples, greedy, with their exact match.
std::string translations_html(const EncoderDecoder& model, const Tokenizer& tokenizer,
                              const Seq2SeqVocabulary& vocabulary, const HeldOutPairs& held_out, int64_t count) {
    std::string html = "<h3>Held-out translations</h3>\n";
    if (held_out.examples.empty() || count <= 0) {
        const std::string why = !held_out.note.empty() ? held_out.note
                                : count <= 0           ? std::string("none asked for (translations = 0)")
                                                       : std::string("the run has no held-out examples");
        return html + "<p class=\"note\" id=\"translations-note\">No translations: " + html_escape(why) + "</p>\n";
    }
    const std::vector<ParallelExample> shown(
        held_out.examples.begin(),
        held_out.examples.begin() + std::min<int64_t>(count, static_cast<int64_t>(held_out.examples.size())));
    const ExactMatch match = exact_match(model, shown, vocabulary);
    html += "<p id=\"exact-match\" data-correct=\"" + std::to_string(match.correct) + "\" data-total=\"" +
            std::to_string(match.total) + "\">The first " + std::to_string(match.total) +
            " held-out examples, greedy decoding: " + std::to_string(match.correct) + " of " +
            std::to_string(match.total) + " exactly right (" + percent(match.accuracy()) +
            "; <code>gpt eval</code> gives the figure over all of them).</p>\n";
    html += "<table id=\"translations\">\n<tr><th>source</th><th>expected</th><th>greedy output</th><th></th></tr>\n";
    const Seq2SeqOptions options = greedy_options(model, vocabulary);
    for (const ParallelExample& e : shown) {
        const Hypothesis h = greedy_decode(model, e.source, options);
        const bool correct = h.tokens == e.target;
        html += "<tr data-correct=\"" + std::string(correct ? "1" : "0") + "\" data-line=\"" + std::to_string(e.line) +
                "\"><td><code>" + text_of(tokenizer, e.source) + "</code></td><td><code>" + text_of(tokenizer, e.target) +
                "</code></td><td><code>" + text_of(tokenizer, h.tokens) + "</code></td><td class=\"" +
                (correct ? "right\">✓" : "wrong\">✗") + "</td></tr>\n";
    }
    return html + "</table>\n";
}

std::string parameter_note(const EncoderDecoderConfig& c) {
    std::string note;
    if (c.share_embeddings) note += "wte embeds the source tokens too (shared embeddings). ";
    if (c.tie_embeddings) note += "wte is also the output projection (weight tying), counted once.";
    return note;
}

}  // namespace

HeldOutPairs read_held_out_pairs(const TrainConfig& config, const Tokenizer& tokenizer,
                                 const EncoderDecoderConfig& model) {
    if (config.data.empty()) return {{}, "the run's configuration names no data file"};
    try {
        std::vector<ParallelExample> examples =
            read_parallel_corpus(config.data, tokenizer, {model.source_block_size, model.target_block_size});
        return {split_held_out(std::move(examples), config.val_fraction, config.data).held_out, ""};
    } catch (const std::exception& e) {
        return {{}, std::string("the run's held-out examples cannot be read: ") + e.what()};
    }
}

std::string write_encoder_decoder_report(const fs::path& run_dir, EncoderDecoder& model, const Tokenizer& tokenizer,
                                         const TrainConfig& config, const HeldOutPairs& held_out,
                                         const ReportOptions& options) {
    EvalModeGuard eval_mode(model);  // no dropout in the maps; the caller's mode back afterwards

    const Seq2SeqVocabulary vocabulary{tokenizer.vocab_size()};
    const EncoderDecoderConfig& c = model.config();
    const ChosenPair pair = choose_pair(model, tokenizer, vocabulary, held_out, config, options);
    const PairAnalysis analysis = analyse_pair(model, vocabulary, pair.source, pair.target);
    const std::vector<MetricsRecord> records = run_metrics(run_dir);

    std::string html = report_page_start(
        run_dir.string(), "transformer (encoder–decoder): " + std::to_string(c.n_encoder_layer) + " encoder and " +
                              std::to_string(c.n_decoder_layer) + " decoder layers, " + std::to_string(c.n_head) +
                              " heads, n_embd " + std::to_string(c.n_embd) + ", source_block_size " +
                              std::to_string(c.source_block_size) + ", target_block_size " +
                              std::to_string(c.target_block_size) + ", vocabulary " +
                              std::to_string(vocabulary.tokenizer_size) + " + bos, eos (" +
                              html_escape(tokenizer.type()) + ") · " + std::to_string(model.parameter_count()) +
                              " parameters · " + std::to_string(records.size()) + " logged steps");
    const RunFacts facts{c.target_vocab_size, config.grad_clip, config.lr_schedule, config.warmup_iters};
    html += loss_section(records, facts);
    html += gradient_section(records, facts);
    html += pair_attention_section(tokenizer, vocabulary, pair, analysis);
    html += prediction_section(tokenizer, vocabulary, analysis);
    html += model_section(model, parameter_note(c), run_config_toml(run_dir, config),
                          "Model, configuration and held-out translations",
                          translations_html(model, tokenizer, vocabulary, held_out, options.translations));
    return write_report_page(run_dir, std::move(html));
}

std::string write_encoder_decoder_report_or_warn(const fs::path& run_dir, EncoderDecoder& model,
                                                 const Tokenizer& tokenizer, const TrainConfig& config,
                                                 const std::vector<ParallelExample>& held_out) {
    try {
        const ReportOptions options;
        HeldOutPairs shown;  // only the examples the page shows
        const auto n = std::min<int64_t>(std::max<int64_t>(options.translations, 1), static_cast<int64_t>(held_out.size()));
        shown.examples.assign(held_out.begin(), held_out.begin() + n);
        return "report: " + write_encoder_decoder_report(run_dir, model, tokenizer, config, shown, options);
    } catch (const std::exception& e) {
        return std::string("warning: report not written: ") + e.what();
    }
}

}  // namespace gpt
