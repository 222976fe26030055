// `gpt serve PATH [--port 8080] [--host 127.0.0.1] [--threads N]`: a local web server over a checkpoint,
// a run folder or a folder of runs (serve/run_catalog.h): one page (serve/assets/) and the JSON API of
// serve/api.h.
//
//   GET  /, /app.js, /style.css   the page (compiled in)
//   GET  /api/runs                {"runs": [{"name", "checkpoint": bool, "metrics": bool}]}
//   GET  /api/metrics?run=NAME    training_view
//   GET  /api/model?run=NAME      model_view
//   POST /api/forward             {"run", "prompt", "temperature", "top_k", "top_p", "repetition_penalty",
//                                  "layers", "heads", "include", "fit", "position", "stage_layer", "stage_head"}
//   POST /api/generate            … and "n" (tokens to append), "seed"
//   POST /api/backprop            {"run", "prompt", "position", "target", "step", "optimizer", "lr"}
//   POST /api/translate           {"run", "source", "beam", "length_penalty", "max_new_tokens"} (model = transformer)
// A transformer run's /api/forward takes {"run", "source", "target", "position", "layers", "heads", "fit"};
// a bert run's also "mask"; a view the run's kind lacks is a 400 naming both (serve/api.h).
// Answers: 200 with JSON, never compressed; 400 {"error"} for a malformed or out-of-limit request (the
// message names the field or limit); 413 for a body over 64 KiB (any framing) or an answer over 8 MiB;
// 405 for other methods, 415 for multipart bodies; 404 {"error"} for an unknown route or run (a run folder removed while served);
// 500 {"error"} when a checkpoint cannot be read. Model work is serialised by one mutex; the checkpoint
// is reloaded when `gpt train` replaces it (serve/model_store.h).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace gpt {

struct ServeOptions {
    std::string path;  // checkpoint, run folder or folder of runs
    std::string host = "127.0.0.1";
    int64_t port = 8080;  // 0: any free port (the URL printed says which)
    int64_t threads = 0;  // model threads; 0 = OMP_NUM_THREADS or the physical cores

    void validate() const;  // throws std::invalid_argument naming the option
};

// Binds, prints "gpt serve: http://HOST:PORT/ (…)" to stdout, serves until the process is stopped.
// Throws std::runtime_error with one line when the port cannot be bound (in use) or PATH is not servable.
int run_serve(const ServeOptions& options);

}  // namespace gpt
