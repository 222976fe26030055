#include "common/signals.h"

#include <csignal>
#include <unistd.h>

namespace gpt {
namespace {

volatile std::sig_atomic_t requested_signal = 0;

extern "C" void on_stop_signal(int signal_number) {
    if (requested_signal != 0 && signal_number == SIGINT) {
        static const char message[] = "\nsecond interrupt: aborting without a checkpoint\n";
        (void)!write(STDERR_FILENO, message, sizeof message - 1);
        _exit(130);
    }
    requested_signal = signal_number;
}

}  // namespace

void install_stop_handlers() {
    requested_signal = 0;
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
}

void restore_default_handlers() {
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
}

int stop_signal() { return requested_signal; }

}  // namespace gpt
