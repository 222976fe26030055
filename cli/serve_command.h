// `gpt serve PATH [--port 8080] [--host 127.0.0.1] [--threads N]`: the interactive explainer in the
// browser (serve/server.h).
#pragma once

namespace CLI {
class App;
}

namespace gpt {

struct ServeOptions;

void add_serve_options(CLI::App& command, ServeOptions& options);

}  // namespace gpt
