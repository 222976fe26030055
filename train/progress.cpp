#include "train/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace gpt {

static double now_s() {
    using clock = std::chrono::steady_clock;
    return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

std::string format_duration(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) return "?";
    const auto s = static_cast<int64_t>(seconds + 0.5);
    char buffer[32];
    if (s >= 3600) std::snprintf(buffer, sizeof buffer, "%lldh%02lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
    else if (s >= 60) std::snprintf(buffer, sizeof buffer, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
    else std::snprintf(buffer, sizeof buffer, "%llds", (long long)s);
    return buffer;
}

ProgressDisplay::ProgressDisplay(int64_t total_steps, bool silent)
    : silent_(silent), terminal_(!silent && isatty(STDERR_FILENO) != 0), total_(total_steps) {}

int terminal_columns() {
    winsize size{};
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
    const char* env = std::getenv("COLUMNS");
    return env && std::atoi(env) > 0 ? std::atoi(env) : 80;
}

std::string progress_line(int64_t step, int64_t total, double train_loss, double val_loss, double tokens_per_s,
                          double eta_s, int columns) {
    char val[32] = "-";
    if (std::isfinite(val_loss)) std::snprintf(val, sizeof val, "%.4f", val_loss);
    char numbers[160];
    std::snprintf(numbers, sizeof numbers, "%lld/%lld loss %.4f val %s %.0f tok/s ETA %s", (long long)step,
                  (long long)total, train_loss, val, tokens_per_s, format_duration(eta_s).c_str());
    // One column is kept free: writing into the last one makes some terminals wrap at once.
    const int room = columns - 1 - static_cast<int>(std::string(numbers).size()) - 3;  // "[" bar "] "
    if (room < 8) return std::string(numbers).substr(0, static_cast<size_t>(std::max(0, columns - 1)));
    const int width = std::min(room, 40);
    const int filled = total > 0 ? static_cast<int>(width * std::clamp<int64_t>(step, 0, total) / total) : width;
    std::string bar(static_cast<size_t>(filled), '#');
    bar.resize(static_cast<size_t>(width), '.');
    return "[" + bar + "] " + numbers;
}

void ProgressDisplay::update(int64_t step, double train_loss, double val_loss, double tokens_per_s, double eta_s) {
    if (!terminal_) return;
    const double t = now_s();
    if (step < total_ && t - last_draw_ < 0.1) return;
    last_draw_ = t;
    const std::string text =
        progress_line(step, total_, train_loss, val_loss, tokens_per_s, eta_s, terminal_columns());
    std::fprintf(stderr, "\r\033[K%s", text.c_str());
    std::fflush(stderr);
    drawn_ = true;
}

void ProgressDisplay::line(const std::string& text) {
    if (silent_) return;
    if (terminal_ && drawn_) std::fprintf(stderr, "\r\033[K");
    std::fprintf(stderr, "%s\n", text.c_str());
    std::fflush(stderr);
    last_draw_ = -1.0;  // redraw the bar right away under the new line
}

void ProgressDisplay::finish() {
    if (terminal_ && drawn_) std::fprintf(stderr, "\n");
    drawn_ = false;
}

}  // namespace gpt
