#include "cli/serve_command.h"

#include <CLI/CLI.hpp>

#include "cli/options.h"
#include "serve/server.h"

namespace gpt {

void add_serve_options(CLI::App& command, ServeOptions& options) {
    add_text_option(command, "path", options.path, "a checkpoint, a run folder or a folder of run folders")
        ->type_name("PATH")
        ->required();
    add_int_option(command, "--port", options.port, "TCP port; 0 = any free port (the printed URL says which)");
    add_text_option(command, "--host", options.host,
                    "address to listen on; anything but 127.0.0.1 makes the page reachable from other machines");
    add_int_option(command, "--threads", options.threads, "worker threads; 0 = OMP_NUM_THREADS or the physical cores");
}

}  // namespace gpt
