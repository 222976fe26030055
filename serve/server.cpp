// The HTTP side of gpt serve (serve/server.h): routes, limits, status codes. The only file that
// includes httplib.h.
#include "serve/server.h"

#include <cstdio>
#include <map>
#include <mutex>
#include <stdexcept>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "serve/api.h"
#include "serve/assets.h"
#include "serve/metrics_follower.h"
#include "serve/model_store.h"
#include "serve/run_catalog.h"
#include "common/threads.h"

namespace gpt {

using nlohmann::json;

namespace {

struct HttpError : std::runtime_error {
    HttpError(int status_code, const std::string& message) : std::runtime_error(message), status(status_code) {}
    int status;
};

void send_json(httplib::Response& res, int status, const json& body) {
    res.status = status;
    // Invalid UTF-8 cannot reach here (token text is escaped); replace rather than throw if it ever does.
    res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

class Server {
public:
    explicit Server(const std::string& path) : catalog_(path) {}

    void install(httplib::Server& http) {
        http.set_payload_max_length(kMaxBodyBytes);  // a chunked body past the limit: 413 from httplib
        // A declared body over the limit is answered before it is read.
        http.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
            const auto length = req.get_header_value<uint64_t>("Content-Length");
            if (length <= kMaxBodyBytes) return httplib::Server::HandlerResponse::Unhandled;
            send_json(res, 400, {{"error", "request body of " + std::to_string(length) + " bytes; the limit is " +
                                               std::to_string(kMaxBodyBytes) + " bytes"}});
            res.set_header("Connection", "close");
            return httplib::Server::HandlerResponse::Handled;
        });
        for (const std::string_view page : asset_paths())
            http.Get(std::string(page), [](const httplib::Request& req, httplib::Response& res) {
                const Asset asset = find_asset(req.path);
                res.set_content(std::string(asset.content), std::string(asset.content_type).c_str());
            });
        http.Get("/api/runs", handler([this](const httplib::Request&) { return runs(); }));
        http.Get("/api/metrics", handler([this](const httplib::Request& req) { return metrics(req); }));
        http.Get("/api/model", handler([this](const httplib::Request& req) { return model(req); }));
        post(http, "/api/forward", forward_view);
        post(http, "/api/generate", generate_view);
        post(http, "/api/backprop", backprop_view);
        http.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
            if (res.status == 404 && res.body.empty())
                send_json(res, 404, {{"error", "no such route: " + req.method + " " + req.path}});
            else if (res.body.empty())
                send_json(res, res.status, {{"error", "HTTP " + std::to_string(res.status)}});
        });
    }

private:
    using View = std::function<json(const httplib::Request&)>;

    // Every API answer goes through here: exceptions become status codes with {"error": message}.
    static httplib::Server::Handler handler(View view) {
        return [view = std::move(view)](const httplib::Request& req, httplib::Response& res) {
            try {
                send_json(res, 200, view(req));
            } catch (const HttpError& e) {
                send_json(res, e.status, {{"error", e.what()}});
            } catch (const json::exception& e) {  // malformed JSON, or a field of the wrong JSON type
                send_json(res, 400, {{"error", std::string("malformed request: ") + e.what()}});
            } catch (const BadRequest& e) {
                send_json(res, 400, {{"error", e.what()}});
            } catch (const std::exception& e) {
                send_json(res, 500, {{"error", e.what()}});
            }
        };
    }

    void post(httplib::Server& http, const char* route, json (*view)(const LoadedCheckpoint&, const json&)) {
        http.Post(route, handler([this, view](const httplib::Request& req) {
                      const json request = json::parse(req.body);
                      if (!request.is_object()) throw BadRequest("the request body must be a JSON object");
                      if (!request.contains("run") || !request["run"].is_string())
                          throw BadRequest("\"run\" (a run's name from /api/runs) is required");
                      const ServedRun entry = run(request["run"].get<std::string>());
                      std::lock_guard lock(model_mutex_);
                      return view(*checkpoint(entry), request);
                  }));
    }

    json metrics(const httplib::Request& req) {
        const std::string since = req.get_param_value("since");
        if (since.find_first_not_of("0123456789") != std::string::npos || since.size() > 12)
            throw BadRequest("since must be a record count (a non-negative integer), got '" + since + "'");
        const ServedRun entry = run(req.get_param_value("run"));
        std::error_code error;
        std::lock_guard lock(metrics_mutex_);
        const bool logged = !entry.metrics.empty() && std::filesystem::exists(entry.metrics, error);
        static const std::vector<MetricsRecord> none;  // a run that has not logged yet: empty charts
        return training_view(entry.name, logged ? metrics_[entry.name].read(entry.metrics) : none,
                             since.empty() ? 0 : std::stoll(since));
    }

    json model(const httplib::Request& req) {
        const ServedRun entry = run(req.get_param_value("run"));
        std::lock_guard lock(model_mutex_);
        json out = model_view(*checkpoint(entry));
        out["run"] = entry.name;
        out["loads"] = store_.get(entry.name, entry.checkpoint).loads;
        return out;
    }

    json runs() const {
        json list = json::array();
        std::error_code error;
        for (const ServedRun& r : catalog_.list())
            list.push_back({{"name", r.name},
                            {"checkpoint", !r.checkpoint.empty() && std::filesystem::exists(r.checkpoint, error)},
                            {"metrics", !r.metrics.empty() && std::filesystem::exists(r.metrics, error)}});
        return {{"runs", list}};
    }

    ServedRun run(const std::string& name) const {
        if (name.empty()) throw BadRequest("the run parameter is required (a name from /api/runs)");
        std::optional<ServedRun> entry = catalog_.find(name);
        if (!entry) throw HttpError(404, "no run named '" + name + "' (was its folder removed?)");
        return *entry;
    }

    // Holds model_mutex_.
    const LoadedCheckpoint* checkpoint(const ServedRun& entry) {
        std::error_code error;
        if (entry.checkpoint.empty() || !std::filesystem::exists(entry.checkpoint, error))
            throw HttpError(404, "run '" + entry.name + "' has no checkpoint yet (ckpt.h5 is written at the first "
                                 "checkpoint interval or when training ends)");
        return store_.get(entry.name, entry.checkpoint).checkpoint.get();
    }

    RunCatalog catalog_;
    std::mutex metrics_mutex_;  // guards metrics_
    std::map<std::string, MetricsFollower> metrics_;
    std::mutex model_mutex_;
    ModelStore store_;
};

}  // namespace

void ServeOptions::validate() const {
    if (path.empty()) throw std::invalid_argument("PATH is required: a checkpoint, a run folder or a folder of runs");
    if (port < 0 || port > 65535) throw std::invalid_argument("--port must be in [0, 65535], got " + std::to_string(port));
    if (host.empty()) throw std::invalid_argument("--host must not be empty");
    if (threads < 0) throw std::invalid_argument("--threads must not be negative, got " + std::to_string(threads));
}

int run_serve(const ServeOptions& options) {
    options.validate();
    configure_threads(options.threads);
    Server server(options.path);
    httplib::Server http;
    // httplib's default also sets SO_REUSEPORT, which lets a second server bind a port already in use and
    // steal half its connections: SO_REUSEADDR alone (a restart need not wait out TIME_WAIT).
    http.set_socket_options([](auto sock) {
        int yes = 1;
        ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    server.install(http);
    int port = static_cast<int>(options.port);
    const bool bound = port == 0 ? (port = http.bind_to_any_port(options.host)) > 0 : http.bind_to_port(options.host, port);
    if (!bound)
        throw std::runtime_error("cannot listen on " + options.host + ":" + std::to_string(options.port) +
                                 " (the port is in use, or the host is not an address of this machine); "
                                 "choose another with --port");
    if (options.host != "127.0.0.1" && options.host != "localhost" && options.host != "::1")
        std::fprintf(stderr, "warning: --host %s: the server is reachable from other machines; it has no "
                     "authentication and shows your runs' data to anyone who can connect\n", options.host.c_str());
    std::printf("gpt serve: http://%s:%d/  (serving %s; Ctrl-C stops)\n", options.host.c_str(), port,
                options.path.c_str());
    std::fflush(stdout);
    if (!http.listen_after_bind()) throw std::runtime_error("the server stopped unexpectedly");
    return 0;
}

}  // namespace gpt
