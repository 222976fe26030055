// The HTTP side of gpt serve (serve/server.h): routes, limits, status codes. The only file that
// includes httplib.h.
#include "serve/server.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "common/untrusted_text.h"
#include "serve/api.h"
#include "serve/assets.h"
#include "serve/metrics_follower.h"
#include "serve/model_store.h"
#include "serve/run_catalog.h"
#include "common/threads.h"
#include "serve/tcp_bytes.h"

namespace gpt {

using nlohmann::json;

namespace {

struct HttpError : std::runtime_error {
    HttpError(int status_code, const std::string& message) : std::runtime_error(message), status(status_code) {}
    int status;
};

// Every answer's bytes go out through a content provider of known length. Debian's cpp-httplib is built
// with Brotli and zlib (cpp-httplib.pc), and httplib compresses a body set with set_content whenever the
// request's Accept-Encoding allows it -- which every browser's does: Brotli at its default quality took
// 12-19 s for a 1.8 MB forward view (issue 28). httplib never compresses a provider's content, and on
// loopback sending the bytes as they are is the fastest answer. (Undefining CPPHTTPLIB_BROTLI_SUPPORT
// here would not help: the choice is made inside the compiled library.)
void send_body(httplib::Response& res, int status, std::string body, const char* content_type) {
    res.status = status;
    if (body.empty()) {
        res.set_content("", content_type);
        return;
    }
    auto shared = std::make_shared<const std::string>(std::move(body));
    res.set_content_provider(shared->size(), content_type,
                             [shared](size_t offset, size_t length, httplib::DataSink& sink) {
                                 return sink.write(shared->data() + offset, length);
                             });
}

void send_json(httplib::Response& res, int status, const json& body) {
    // Invalid UTF-8 cannot reach here (token text is escaped); replace rather than throw if it ever does.
    send_body(res, status, body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

// ---- the request deadline ----
// cpp-httplib 0.11 calls nothing of ours before a request's headers are read, and its timeouts bound each
// read, not the request: a client that sends one byte every few seconds would hold a worker thread for
// as long as it likes. RequestDeadlines gives every connection kRequestDeadlineSeconds to deliver its
// whole request (headers and body): the task queue below registers each accepted socket (found by its
// socket inode among the process's descriptors, since httplib passes the socket only inside its job)
// under a duplicate descriptor, the handlers mark the request received, and a watchdog shuts down the
// sockets of requests past their deadline. The duplicate keeps the socket (and its inode) alive until
// the job has finished, so the watchdog can never shut down another connection that reused the number.
struct Connection {
    int dup_fd = -1;
    ino_t inode = 0;
    std::chrono::steady_clock::time_point deadline;
    std::atomic<bool> received{false};
    bool shut = false;  // guarded by RequestDeadlines::mutex_
};

thread_local Connection* current_connection = nullptr;

// Called by the handlers once a request has been read whole: its deadline no longer applies.
void mark_request_received() {
    if (current_connection) current_connection->received = true;
}

class RequestDeadlines {
public:
    explicit RequestDeadlines(int port) : port_(port), watchdog_([this] { watch(); }) {}
    ~RequestDeadlines() {
        {
            std::lock_guard lock(mutex_);
            stop_ = true;
        }
        wake_.notify_all();
        watchdog_.join();
    }

    // The socket just accepted (on the listening thread, before its job runs), or null when it cannot be
    // told apart (then it has no deadline; the read timeouts still bound each read).
    std::shared_ptr<Connection> adopt() {
        std::lock_guard lock(mutex_);
        int found = -1;
        ino_t found_inode = 0;
        std::error_code error;
        for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", error)) {
            const int fd = std::atoi(entry.path().filename().c_str());
            struct stat st {};
            if (::fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode) || inodes_.count(st.st_ino)) continue;
            int listening = 0;
            socklen_t length = sizeof listening;
            if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) != 0 || listening) continue;
            sockaddr_storage address{};
            socklen_t address_length = sizeof address;
            if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &address_length) != 0) continue;
            int local_port = -1;
            if (address.ss_family == AF_INET) local_port = ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port);
            if (address.ss_family == AF_INET6) local_port = ntohs(reinterpret_cast<sockaddr_in6*>(&address)->sin6_port);
            if (local_port != port_) continue;
            if (found >= 0) return nullptr;  // two unknown connections: cannot tell which is new
            found = fd;
            found_inode = st.st_ino;
        }
        if (found < 0) return nullptr;
        auto connection = std::make_shared<Connection>();
        connection->dup_fd = ::fcntl(found, F_DUPFD_CLOEXEC, 0);
        if (connection->dup_fd < 0) {  // out of descriptors: this one goes without a deadline, and is
            inodes_.insert(found_inode);  // remembered so that later scans still find the new socket
            return nullptr;
        }
        connection->inode = found_inode;
        connection->deadline = std::chrono::steady_clock::now() + std::chrono::seconds(kRequestDeadlineSeconds);
        inodes_.insert(found_inode);
        live_.insert(connection);
        return connection;
    }

    void release(const std::shared_ptr<Connection>& connection) {
        std::lock_guard lock(mutex_);
        ::close(connection->dup_fd);
        inodes_.erase(connection->inode);
        live_.erase(connection);
    }

private:
    // Every 50 ms: a request past its deadline, or one that has sent more than kMaxRequestBytes before
    // it was read whole, is cut off. (httplib 0.11 keeps a request line or header lines in memory however
    // long they are: 400 MB of 'A' without a newline grew the server to 418 MB. Counting the bytes the
    // kernel received bounds that to what arrives in 50 ms.)
    void watch() {
        std::unique_lock lock(mutex_);
        while (!stop_) {
            wake_.wait_for(lock, std::chrono::milliseconds(50));
            const auto now = std::chrono::steady_clock::now();
            for (const auto& c : live_)
                if (!c->received && !c->shut &&
                    (now > c->deadline || tcp_bytes_received(c->dup_fd) > static_cast<int64_t>(kMaxRequestBytes))) {
                    ::shutdown(c->dup_fd, SHUT_RDWR);  // httplib's next read sees the end of the stream
                    c->shut = true;
                }
        }
    }

    const int port_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stop_ = false;
    std::set<std::shared_ptr<Connection>> live_;
    std::set<ino_t> inodes_;
    std::thread watchdog_;  // last: started once the members above exist
};

// httplib's thread pool, with every connection's job run under its request deadline.
class DeadlineTaskQueue : public httplib::TaskQueue {
public:
    DeadlineTaskQueue(size_t threads, int port) : deadlines_(port), pool_(threads) {}
    void enqueue(std::function<void()> job) override {
        std::shared_ptr<Connection> connection = deadlines_.adopt();
        pool_.enqueue([this, connection, job = std::move(job)] {
            current_connection = connection.get();
            job();
            current_connection = nullptr;
            if (connection) deadlines_.release(connection);
        });
    }
    void shutdown() override { pool_.shutdown(); }

private:
    RequestDeadlines deadlines_;
    httplib::ThreadPool pool_;
};

// A request body as JSON. The body is at most kMaxBodyBytes, but nested arrays that deep would still be
// walked recursively by any copy or dump of the value: refused before parsing.
inline constexpr size_t kMaxRequestDepth = 32;

json parse_request(const std::string& body) {
    if (json_nesting_depth(body) > kMaxRequestDepth)
        throw BadRequest("the request nests arrays or objects more than " + std::to_string(kMaxRequestDepth) + " deep");
    return json::parse(body);
}

class Server {
public:
    explicit Server(const std::string& path) : catalog_(path) {}

    void install(httplib::Server& http) {
        // Request bodies: at most kMaxBodyBytes, whatever their framing. A declared Content-Length over
        // the limit is answered before the body is read; chunked bodies, bodies without a length and
        // decoded (Content-Encoding) bodies are counted as they are read by the POST routes' content
        // receivers, which stop reading at the limit (cpp-httplib 0.11 reads a chunked body whole
        // otherwise, whatever set_payload_max_length says). Routes that take no body must not read one:
        // any other method, or a POST to another path, is answered from its headers alone. Every
        // connection carries one request (set in run_serve), so the unread rest of a refused body is
        // never parsed as a next request.
        http.set_payload_max_length(kMaxBodyBytes);
        http.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
            // Received whole, unless a POST body is still to come (its handler marks it once read).
            if (req.method != "POST" || !is_post_route(req.path)) mark_request_received();
            if (req.method == "GET" || req.method == "HEAD") return httplib::Server::HandlerResponse::Unhandled;
            if (req.method != "POST") {
                send_json(res, 405, {{"error", "method " + excerpt(req.method) + " is not allowed (GET and POST only)"}});
                return httplib::Server::HandlerResponse::Handled;
            }
            if (!is_post_route(req.path)) {
                send_json(res, 404, {{"error", "no such route: POST " + excerpt(req.path)}});
                return httplib::Server::HandlerResponse::Handled;
            }
            if (req.get_header_value("Content-Type").rfind("multipart/", 0) == 0) {
                send_json(res, 415, {{"error", "the request body must be a JSON object, not multipart data"}});
                return httplib::Server::HandlerResponse::Handled;
            }
            const auto length = req.get_header_value<uint64_t>("Content-Length");
            if (length > kMaxBodyBytes) {
                send_json(res, 413, {{"error", "request body of " + std::to_string(length) + " bytes; the limit is " +
                                                   std::to_string(kMaxBodyBytes) + " bytes"}});
                return httplib::Server::HandlerResponse::Handled;
            }
            return httplib::Server::HandlerResponse::Unhandled;
        });
        for (const std::string_view page : asset_paths())
            http.Get(std::string(page), [](const httplib::Request& req, httplib::Response& res) {
                const Asset asset = find_asset(req.path);
                send_body(res, 200, std::string(asset.content), std::string(asset.content_type).c_str());
            });
        http.Get("/api/runs", get_handler([this](const httplib::Request&, const std::string&) { return runs(); }));
        http.Get("/api/metrics", get_handler([this](const httplib::Request& req, const std::string&) { return metrics(req); }, false));  // a run's whole history
        http.Get("/api/model", get_handler([this](const httplib::Request& req, const std::string&) { return model(req); }));
        // Each run's kind has its views (serve/api.h); one it lacks is a 400 naming both.
        post(http, "/api/forward", [](ModelStore::Entry& e, const json& r) {
            if (e.kind == "transformer") return translate_forward_view(*e.encoder_decoder, r);
            return forward_view(*e.checkpoint, r, &e.forward_cache);
        });
        post(http, "/api/generate", [](ModelStore::Entry& e, const json& r) {
            if (e.kind == "bert")
                throw BadRequest("a bert model does not generate text; it predicts the token at each position (the "
                                 "forward view's bars, or a [MASK] there with \"mask\": true; `gpt fill`)");
            if (e.kind == "transformer")
                throw BadRequest("a transformer model does not continue a prompt; it translates a source: "
                                 "POST /api/translate (this run is model = transformer)");
            return generate_view(*e.checkpoint, r);
        });
        post(http, "/api/backprop", [](ModelStore::Entry& e, const json& r) {
            if (e.kind != "gpt") throw BadRequest("the backprop view is for model = gpt; this run is model = " + e.kind);
            return backprop_view(*e.checkpoint, r);
        });
        post(http, "/api/translate", [](ModelStore::Entry& e, const json& r) {
            if (e.kind != "transformer")
                throw BadRequest("translate is for model = transformer; this run is model = " + e.kind);
            return translate_view(*e.encoder_decoder, r);
        });
        http.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
            if (res.has_header("Content-Type")) return;  // an answer of ours
            if (res.status == 404)
                send_json(res, 404, {{"error", "no such route: " + req.method + " " + excerpt(req.path)}});
            else if (res.status == 413)
                send_json(res, 413, {{"error", "request body over the limit of " + std::to_string(kMaxBodyBytes) + " bytes"}});
            else
                send_json(res, res.status, {{"error", "HTTP " + std::to_string(res.status)}});
        });
    }

private:
    using View = std::function<json(const httplib::Request&, const std::string& body)>;

    static bool is_post_route(const std::string& path) {
        return path == "/api/forward" || path == "/api/generate" || path == "/api/backprop" || path == "/api/translate";
    }

    // Every API answer goes through here: exceptions become status codes with {"error": message}. POST
    // bodies are read here, through a receiver that stops at kMaxBodyBytes (413).
    static httplib::Server::HandlerWithContentReader handler(View view, bool bounded = true) {
        return [view = std::move(view), bounded](const httplib::Request& req, httplib::Response& res,
                                        const httplib::ContentReader& reader) {
            std::string body;
            bool over_limit = false;
            if (req.method == "POST") {
                const bool complete = reader([&](const char* data, size_t length) {
                    if (length > kMaxBodyBytes - body.size()) {
                        over_limit = true;
                        return false;  // stop reading: the rest of the body is never received
                    }
                    body.append(data, length);
                    return true;
                });
                mark_request_received();
                if (over_limit) {
                    send_json(res, 413, {{"error", "request body over the limit of " + std::to_string(kMaxBodyBytes) +
                                                       " bytes"}});
                    return;
                }
                if (!complete) {
                    send_json(res, 400, {{"error", "the request body could not be read (malformed chunked framing, "
                                                   "or the client stopped sending)"}});
                    return;
                }
            }
            try {
                json answer = view(req, body);
                std::string text = answer.dump(-1, ' ', false, json::error_handler_t::replace);
                answer = json();  // the tree is several times the text's size: free it before sending
                if (bounded && text.size() > kMaxResponseBytes)  // a backstop: the views refuse such requests first
                    throw HttpError(413, "the answer would be " + std::to_string(text.size()) +
                                             " bytes; the limit is " + std::to_string(kMaxResponseBytes) + " bytes");
                send_body(res, 200, std::move(text), "application/json");
            } catch (const HttpError& e) {
                send_json(res, e.status, {{"error", e.what()}});
            } catch (const json::exception& e) {  // malformed JSON, or a field of the wrong JSON type
                send_json(res, 400, {{"error", std::string("malformed request: ") + e.what()}});
            } catch (const BadRequest& e) {
                send_json(res, 400, {{"error", e.what()}});
            } catch (const ResponseTooLarge& e) {
                send_json(res, 413, {{"error", e.what()}});
            } catch (const std::exception& e) {
                send_json(res, 500, {{"error", e.what()}});
            }
        };
    }

    static httplib::Server::Handler get_handler(View view, bool bounded = true) {
        return [h = handler(std::move(view), bounded)](const httplib::Request& req, httplib::Response& res) {
            h(req, res, httplib::ContentReader(nullptr, nullptr));
        };
    }

    // A model view: the run's loaded checkpoint (and its forward cache) and the request object.
    using ModelView = json (*)(ModelStore::Entry&, const json&);
    void post(httplib::Server& http, const char* route, ModelView view) {
        http.Post(route, handler([this, view](const httplib::Request&, const std::string& body) {
                      const json request = parse_request(body);
                      if (!request.is_object()) throw BadRequest("the request body must be a JSON object");
                      if (!request.contains("run") || !request["run"].is_string())
                          throw BadRequest("\"run\" (a run's name from /api/runs) is required");
                      const ServedRun entry = run(request["run"].get<std::string>());
                      std::lock_guard lock(model_mutex_);
                      return view(loaded(entry), request);
                  }));
    }

    json metrics(const httplib::Request& req) {
        const std::string since = req.get_param_value("since");
        if (since.find_first_not_of("0123456789") != std::string::npos || since.size() > 12)
            throw BadRequest("since must be a record count (a non-negative integer), got " + excerpt(since));
        const ServedRun entry = run(req.get_param_value("run"));
        std::error_code error;
        std::lock_guard lock(metrics_mutex_);
        const bool logged = !entry.metrics.empty() && std::filesystem::exists(entry.metrics, error);
        static const std::vector<MetricsRecord> none;  // a run that has not logged yet: empty charts
        MetricsFollower& follower = metrics_[entry.name];
        json out = training_view(entry.name, logged ? follower.read(entry.metrics) : none,
                                 since.empty() ? 0 : std::stoll(since));
        out["skipped_lines"] = logged ? follower.skipped() : 0;  // invalid lines of metrics.jsonl, left out
        if (logged && follower.skipped() > 0) out["first_skipped"] = follower.first_skipped();
        return out;
    }

    json model(const httplib::Request& req) {
        const ServedRun entry = run(req.get_param_value("run"));
        std::lock_guard lock(model_mutex_);
        ModelStore::Entry& e = loaded(entry);
        json out = e.kind == "transformer" ? model_view(*e.encoder_decoder) : model_view(*e.checkpoint);
        out["run"] = entry.name;
        out["loads"] = e.loads;
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
        if (!entry) throw HttpError(404, "no run named " + excerpt(name) + " (was its folder removed?)");
        return *entry;
    }

    // Holds model_mutex_.
    ModelStore::Entry& loaded(const ServedRun& entry) {
        std::error_code error;
        if (entry.checkpoint.empty() || !std::filesystem::exists(entry.checkpoint, error))
            throw HttpError(404, "run " + excerpt(entry.name) + " has no checkpoint yet (ckpt.h5 is written at the first "
                                 "checkpoint interval or when training ends)");
        return store_.get(entry.name, entry.checkpoint);
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
    int port = static_cast<int>(options.port);  // the port actually bound, once bound (the queue reads it)
    // Slow and idle clients (docs/reliability.md): each connection holds a worker thread while it is open,
    // so the pool is large (kServeThreads; idle threads cost nothing), a connection carries one request
    // (no idle keep-alive connection holds a thread; a refused body's unread rest is never parsed as a
    // next request), every wait for the client is bounded -- kReadTimeoutSeconds for each read,
    // kWriteTimeoutSeconds for each write -- and each request must arrive whole (headers and body) within
    // kRequestDeadlineSeconds of its connection (DeadlineTaskQueue above).
    http.new_task_queue = [&port] { return new DeadlineTaskQueue(kServeThreads, static_cast<int>(port)); };
    http.set_read_timeout(kReadTimeoutSeconds, 0);
    http.set_write_timeout(kWriteTimeoutSeconds, 0);
    http.set_keep_alive_max_count(1);
    http.set_keep_alive_timeout(kReadTimeoutSeconds);
    // httplib's default also sets SO_REUSEPORT, which lets a second server bind a port already in use and
    // steal half its connections: SO_REUSEADDR alone (a restart need not wait out TIME_WAIT).
    http.set_socket_options([](auto sock) {
        int yes = 1;
        ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    server.install(http);
    const bool bound = port == 0 ? (port = http.bind_to_any_port(options.host)) > 0 : http.bind_to_port(options.host, port);
    if (!bound)
        throw std::runtime_error("cannot listen on " + options.host + ":" + std::to_string(options.port) +
                                 " (the port is in use, or the host is not an address of this machine); "
                                 "choose another with --port");
    if (options.host != "127.0.0.1" && options.host != "localhost" && options.host != "::1")
        std::fprintf(stderr, "warning: --host %s: the server is reachable from other machines; it has no "
                     "authentication and shows your runs' data to anyone who can connect\n", options.host.c_str());
    // An IPv6 address goes in brackets in a URL (RFC 3986): http://[::1]:8080/.
    const std::string url_host = options.host.find(':') != std::string::npos ? "[" + options.host + "]" : options.host;
    std::printf("gpt serve: http://%s:%d/  (serving %s; Ctrl-C stops)\n", url_host.c_str(), port,
                options.path.c_str());
    std::fflush(stdout);
    if (!http.listen_after_bind()) throw std::runtime_error("the server stopped unexpectedly");
    return 0;
}

}  // namespace gpt
