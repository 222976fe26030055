// The live progress line on a terminal (step/total, loss, val loss, tokens/s, ETA, redrawn in place),
// plain log lines when stderr is not a terminal (CI logs, files).
#pragma once

#include <cstdint>
#include <string>

namespace gpt {

class ProgressDisplay {
public:
    // silent: prints nothing (the ranks other than 0 of a data-parallel run).
    explicit ProgressDisplay(int64_t total_steps, bool silent = false);
    // Called every step; draws at most ~10 times a second on a terminal.
    void update(int64_t step, double train_loss, double val_loss, double tokens_per_s, double eta_s);
    // A line that stays (log interval, evaluation, checkpoint messages).
    void line(const std::string& text);
    void finish();

private:
    bool silent_;
    bool terminal_;
    int64_t total_;
    double last_draw_ = -1.0;
    bool drawn_ = false;
};

std::string format_duration(double seconds);  // "1h02m", "3m05s", "12s"

// The bar line fitted to `columns` characters (the text after "\r\033[K"): the numbers first, the bar
// takes what is left (none below 8 columns of room), the text is cut when even it does not fit.
std::string progress_line(int64_t step, int64_t total, double train_loss, double val_loss, double tokens_per_s,
                          double eta_s, int columns);

// Width of the terminal on stderr (TIOCGWINSZ, asked at every draw so a resize takes effect at the
// next one), else $COLUMNS, else 80.
int terminal_columns();

}  // namespace gpt
