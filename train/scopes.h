// Scope guards of a training run: what the run turns on is turned off on every way out of it —
// return, stop request, non-finite step, or an exception (a full disk in save_checkpoint).
#pragma once

#include "autograd/profile.h"
#include "common/signals.h"

namespace gpt {

// The stop handlers (common/signals.h) for the scope's life; SIGINT and SIGTERM back to SIG_DFL after.
class StopHandlersScope {
public:
    StopHandlersScope() { install_stop_handlers(); }
    ~StopHandlersScope() { restore_default_handlers(); }
    StopHandlersScope(const StopHandlersScope&) = delete;
    StopHandlersScope& operator=(const StopHandlersScope&) = delete;
};

// The op profiler on (when asked) for the scope's life, off after.
class ProfilingScope {
public:
    explicit ProfilingScope(bool on) { profile::set_enabled(on); }
    ~ProfilingScope() { profile::set_enabled(false); }
    ProfilingScope(const ProfilingScope&) = delete;
    ProfilingScope& operator=(const ProfilingScope&) = delete;
};

}  // namespace gpt
